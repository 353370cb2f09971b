//! idsync's LDAP sources.
//!
//! This crate will hold the directory sources that speak LDAP: the generic `ldap` flavour, the
//! `rfc2307` (posixAccount/posixGroup) flavour and the `freeipa` (389-ds) flavour, with their
//! connection handling, paging and trace recording/replay.
//!
//! Today it holds their foundation: [`sync`], our own fallible codecs for the RFC 4533 (LDAP
//! Content Synchronization) controls and the syncInfo intermediate response. ldap3 0.12 panics
//! on malformed sync controls, so idsync decodes the raw BER bytes of those values itself, and
//! every decoder here returns a [`sync::DecodeError`] instead of panicking, whatever the input.

pub mod sync;
