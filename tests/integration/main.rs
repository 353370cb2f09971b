//! The one integration-test binary: the real `idsync` binary, the real plugins, real files and
//! databases (servers started by idsync-testkit in temp dirs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod cli;
mod compliance;
mod db_servers;
mod ds389_servers;
mod e2e;
mod ldap_e2e_389;
mod ldap_e2e_restart;
mod ldap_e2e_slapd;
mod ldap_e2e_support;
mod ldap_servers;
mod mediawiki_e2e;
mod mw_kit;
mod support;
mod trace_replay;
