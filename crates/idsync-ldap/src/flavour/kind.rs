//! The three LDAP directory flavours, by name.

use std::fmt;
use std::str::FromStr;

/// Which kind of directory the source reads: decides the defaults of bases, filters, the
/// attribute mapping, the id attribute and how a disabled account is recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlavourKind {
    /// `ldap`: inetOrgPerson users, groupOfNames / groupOfUniqueNames groups, entryUUID.
    Ldap,
    /// `rfc2307`: posixAccount users, posixGroup groups with memberUid (and member DNs, for
    /// rfc2307bis), entryUUID.
    Rfc2307,
    /// `freeipa`: 389-ds; nsUniqueId, nsAccountLock, ipaUserGroup, under `cn=accounts`.
    FreeIpa,
}

impl FlavourKind {
    /// Every flavour, in documentation order.
    pub const ALL: [FlavourKind; 3] = [
        FlavourKind::Ldap,
        FlavourKind::Rfc2307,
        FlavourKind::FreeIpa,
    ];

    /// The configuration name: `"ldap"`, `"rfc2307"` or `"freeipa"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlavourKind::Ldap => "ldap",
            FlavourKind::Rfc2307 => "rfc2307",
            FlavourKind::FreeIpa => "freeipa",
        }
    }
}

impl fmt::Display for FlavourKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown flavour name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown LDAP flavour `{0}` (expected `ldap`, `rfc2307` or `freeipa`)")]
pub struct UnknownFlavour(pub String);

impl FromStr for FlavourKind {
    type Err = UnknownFlavour;

    /// Parses a flavour name; ASCII case is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FlavourKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFlavour(s.to_owned()))
    }
}
