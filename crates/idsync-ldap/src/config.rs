//! The `[source]` table of the LDAP source types (`ldap`, `rfc2307`, `freeipa`) and of
//! `replay`.
//!
//! ```toml
//! [source]
//! type = "freeipa"                     # or "ldap", "rfc2307"
//! url = "ldaps://ipa.example.org"      # ldap://, ldaps://, ldapi://%2Frun%2Fslapd%2Fldapi
//! domain = "example.org"               # base = dc=example,dc=org (or set `base`)
//! bind_dn = "uid=idsync,cn=sysaccounts,cn=etc,dc=example,dc=org"
//! password_file = "/etc/idsync/ldap.pw" # or `password`, or `password_env`
//! ca_file = "/etc/ipa/ca.crt"
//! starttls = false
//! tls_verify = true                    # the default; false is logged as a warning at every start
//! reconcile_every = "6h"               # optional periodic full refresh with sweep
//!
//! [source.users]                       # optional overrides of the flavour's defaults
//! base = "cn=users,cn=accounts,dc=example,dc=org"
//! scope = "one"                        # "base" | "one" | "sub"
//! filter = "(objectClass=person)"
//!
//! [source.groups]
//! base = "cn=groups,cn=accounts,dc=example,dc=org"
//!
//! [source.attributes]                  # canonical name → directory attribute
//! displayName = "cn"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The search scope of the users or the groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The base entry only.
    Base,
    /// The entries directly below the base.
    One,
    /// The base and everything below it.
    Sub,
}

/// `[source.users]` / `[source.groups]`: where the entries of one kind live. Every key is
/// optional; an absent key takes the flavour's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySearch {
    /// Base DN of this kind of entry (default: the flavour's, below `base`).
    #[serde(default)]
    pub base: Option<String>,
    /// Scope below that base (default: `sub`).
    #[serde(default)]
    pub scope: Option<Scope>,
    /// An LDAP filter the server applies (default: the flavour's object classes). Filter on
    /// attributes that never change (objectClass): some servers silently leave entries that
    /// stop matching out of an incremental refresh.
    #[serde(default)]
    pub filter: Option<String>,
}

/// Configuration of an LDAP source: the `[source]` table without its `type`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSourceConfig {
    /// Server URL: `ldap://host:port`, `ldaps://host:port` or `ldapi://<percent-encoded socket
    /// path>`.
    pub url: String,
    /// Base DN of the view (users and groups are searched below it).
    #[serde(default)]
    pub base: Option<String>,
    /// A DNS domain; when `base` is not given, the base becomes `dc=…` of its labels.
    #[serde(default)]
    pub domain: Option<String>,
    /// DN to bind as (simple bind). Absent with `sasl_mechanism` unset: anonymous.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// The bind password, inline (prefer `password_file` or `password_env`).
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the bind password (trailing newline ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the bind password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// `"EXTERNAL"` for SASL EXTERNAL (over ldapi, or with a TLS client certificate);
    /// `"GSSAPI"` when built with the `gssapi` feature.
    #[serde(default)]
    pub sasl_mechanism: Option<String>,
    /// PEM file of the CA certificates to trust (default: the system's roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain for TLS client authentication (SASL EXTERNAL over TLS).
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of `client_cert_file`.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// Upgrade an `ldap://` connection with StartTLS.
    #[serde(default)]
    pub starttls: bool,
    /// Verify the server's certificate (default true). `false` is logged as a warning at every
    /// start.
    #[serde(default)]
    pub tls_verify: Option<bool>,
    /// Seconds to wait for the TCP/TLS connection and for each non-streaming operation.
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Where and what the users are.
    #[serde(default)]
    pub users: EntrySearch,
    /// Where and what the groups are.
    #[serde(default)]
    pub groups: EntrySearch,
    /// Canonical attribute name, or one of `user_name` (alias `name`), `group_name`,
    /// `member`, `member_uid`, `enabled`, `id` → directory attribute(s), overriding the
    /// flavour's mapping.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// `freeipa`: also sync FreeIPA's internal groups (`admins`, `ipausers`, `editors`,
    /// `trust admins`, …). Default false.
    #[serde(default)]
    pub include_internal_groups: bool,
    /// A periodic full refresh with sweep, e.g. `"6h"` (humantime format). Off by default.
    #[serde(default)]
    pub reconcile_every: Option<String>,
}

/// Configuration of the `replay` source: a recorded trace fed through the same decoders.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySourceConfig {
    /// The trace file (idiotrace LDIF, as `idsync trace` writes).
    pub path: PathBuf,
    /// The flavour whose mapping applies: `"ldap"`, `"rfc2307"` or `"freeipa"`.
    pub flavour: String,
    /// The same overrides as for a live source.
    #[serde(default)]
    pub users: EntrySearch,
    /// The same overrides as for a live source.
    #[serde(default)]
    pub groups: EntrySearch,
    /// The same overrides as for a live source.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Base DN of the traced view (not derived from the trace: give it, or `domain`, as
    /// for the traced source).
    #[serde(default)]
    pub base: Option<String>,
    /// A DNS domain standing for the base (`example.org` → `dc=example,dc=org`).
    #[serde(default)]
    pub domain: Option<String>,
    /// `freeipa`: also sync FreeIPA's internal groups.
    #[serde(default)]
    pub include_internal_groups: bool,
}
