//! idsync's LDAP sources: `ldap` (inetOrgPerson, groupOfNames), `rfc2307` (posixAccount,
//! posixGroup/memberUid, rfc2307bis) and `freeipa` (389-ds), all over RFC 4533 content sync,
//! plus the `replay` source that feeds a recorded trace through the same code.
//!
//! The layers, bottom up:
//! * [`sync`]: our own fallible codecs for the RFC 4533 control and syncInfo values (ldap3
//!   0.12 panics on malformed ones);
//! * [`raw`]: one search message as the server sent it — the unit of traces;
//! * [`conn`]: connecting (ldap/ldaps/ldapi, StartTLS, CA file, verification on by default),
//!   binding (simple, SASL EXTERNAL) and reading the root DSE;
//! * [`flavour`]: what a user and a group are in each directory flavour, and how an entry maps
//!   to the [`idsync_core::Entry`] model;
//! * [`protocol`]: the RFC 4533 state machine turning raw messages into engine events, with
//!   the workarounds for what real servers send;
//! * [`live`]: the [`idsync_core::Source`] that drives a real server;
//! * [`trace`] and [`replay`]: recording the raw messages as idiotrace LDIF, and replaying them.

pub mod config;
pub mod conn;
pub mod flavour;
pub mod live;
pub mod protocol;
pub mod raw;
pub mod replay;
pub mod sync;
pub mod trace;

pub use config::{EntrySearch, LdapSourceConfig, ReplaySourceConfig, Scope};
pub use raw::{RawAttribute, RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};
