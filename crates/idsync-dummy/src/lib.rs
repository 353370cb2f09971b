//! idsync's dummy source: users and groups from a file, or a synthetic directory.
//!
//! Configured as `[source] type = "dummy"` with either a directory file:
//!
//! ```toml
//! [source]
//! type = "dummy"
//! path = "examples/directory.yaml"   # .yaml, .yml or .toml; relative to the current directory
//! ```
//!
//! or, for benchmarks, a synthetic directory (see [`generate()`] for what it holds):
//!
//! ```toml
//! [source]
//! type = "dummy"
//! [source.generate]
//! users = 100000
//! groups = 10000
//! memberships = 1000000   # distinct (group, user) pairs, exactly
//! nested = 10             # optional: groups that contain 2–3 other groups
//! seed = 42               # optional (0): same parameters and seed, same directory
//! ```
//!
//! # The directory file
//!
//! YAML (`.yaml`, `.yml`) or TOML (`.toml`), at most [`MAX_FILE_SIZE`] bytes of UTF-8:
//!
//! ```yaml
//! users:
//!   - name: alice                    # required: the login name
//!     id: 6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f   # optional explicit UUID (see "Ids")
//!     enabled: true                  # optional, default true
//!     attributes:                    # optional: canonical attribute names only
//!       displayName: Alice Liddell   # a value is a string (or an integer) …
//!       mail: [alice@example.org]    # … or a list of them
//!       uidNumber: 10001
//!   - name: bob
//! groups:
//!   - name: staff                    # required
//!     id: 0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a   # optional
//!     description: Staff             # optional: the canonical attribute `description`
//!     attributes: { gidNumber: 20001 }   # optional, as for users
//!     members: [alice, bob, admins]  # optional: names of users or groups of this file
//! ```
//!
//! The same in TOML is a `[[users]]` / `[[groups]]` array of tables with the same keys. The
//! crate's `examples/directory.yaml` and `examples/directory.toml` are complete samples (the
//! tests check that both parse to the same directory).
//!
//! * **Attributes** use the canonical names of
//!   [`idsync_core::model::CANONICAL_ATTRIBUTES`] (`uid`, `commonName`, `displayName`,
//!   `givenName`, `surname`, `initials`, `mail`, `mobile`, `telephoneNumber`, `title`,
//!   `employeeNumber`, `description`, `uidNumber`, `gidNumber`). Any other name is an error,
//!   so a typo (`email`) is never silently dropped. Integers are written in decimal (quote a
//!   value to keep leading zeros: `employeeNumber: "007"`); an empty list or `null` is the
//!   same as leaving the attribute out; an empty string is an error.
//! * **Names** are compared case-insensitively, as LDAP does: two users (or two groups)
//!   whose names differ only in case are an error. A user and a group may share a name. A
//!   name must not be empty, start or end with white space, or contain control characters.
//! * **Members** name users or groups of the same file. When a user and a group share the
//!   name, the user is meant. A name that names nothing in the file is passed on unresolved
//!   (a warning is logged; the engine leaves the member out until such an entry appears). A
//!   member listed twice is an error.
//! * **Locators** (pseudo-DNs) are `uid=<name>,ou=users,dc=dummy` and
//!   `cn=<name>,ou=groups,dc=dummy`.
//! * **Errors** name the file and the item, indexes counting from 0
//!   (`` `dir.yaml`: users[3].id: invalid UUID `xyz` ``); every problem of a file is reported
//!   at once. An empty file, or one with neither `users` nor `groups`, is refused (an empty
//!   directory is written `users: []`), so a half-written file never empties the directory.
//!
//! # Ids
//!
//! An entry's id is its `id` when given, else a version 5 UUID of `user:<name>` or
//! `group:<name>` (the name exactly as written) in [`DUMMY_NAMESPACE`].
//!
//! **Renaming an entry that has no explicit `id` is a delete and a create**: the new name
//! gives a new id, and the sinks remove the old account and make a new one (or disable it,
//! by policy). Give entries explicit ids to make renames real renames, as they are in a real
//! directory.
//!
//! # Events
//!
//! Every start is a full refresh: all entries as `Changed` (users, then groups, in file
//! order), then `Cookie(b"dummy:v1:" + hex SHA-256 of the file)`, then
//! `RefreshDone { delete_unmentioned: true }`: the engine removes whatever the file no longer
//! holds. The dummy keeps no change log, so a stored cookie is not used (the fingerprint,
//! `dummy:file:<canonical absolute path>` or
//! `dummy:generate:<users>:<groups>:<memberships>:<nested>:<seed>`, still ties the stored
//! state to the file or the parameters).
//!
//! When following (not `--once`), the file source watches the file's directory and, a short
//! quiet period (150 ms) after an edit, re-reads the file, compares every entry by id with the
//! last good version and sends `Deleted` for entries gone, `Changed` for entries new or
//! different in any way (name, enabled, attributes, members), then a new `Cookie`: an edit
//! reaches the engine well within a second. A file that does not parse, or has disappeared,
//! changes nothing: the error is logged and the source waits for the next edit. The source
//! returns when the engine stops listening.

mod config;
mod diff;
mod error;
mod file;
mod format;
mod generate;
mod ids;
mod parse;
mod rng;
mod source;
mod watch;

#[cfg(test)]
mod tests;

pub use config::{
    ConfigProblem, DummyConfig, GenerateConfig, GenerateParams, DEFAULT_NESTED, MAX_GROUPS,
    MAX_MEMBERSHIPS, MAX_USERS,
};
pub use error::DummyError;
pub use file::{read_directory, MAX_FILE_SIZE};
pub use format::Format;
pub use generate::{generate, generate_yaml, write_yaml, GeneratedEntries};
pub use ids::{derived_id, locator, DUMMY_NAMESPACE};
pub use parse::{parse_directory, Directory};
pub use source::DummySource;
