//! The entry model shared by every source, the engine and every sink.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The permanent identity of a directory entry (entryUUID, nsUniqueId, objectGUID, or a v5
/// UUID of the name for the dummy source). Never a DN or a name: both change.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId(pub Uuid);

impl EntryId {
    /// The raw 16 bytes of the id.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Builds an id from 16 raw bytes (RFC 4533 syncUUID order).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryId({})", self.0.hyphenated())
    }
}

impl std::str::FromStr for EntryId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Whether an entry is a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A person or service account.
    User,
    /// A group of users and/or other groups.
    Group,
}

impl EntryKind {
    /// `"user"` or `"group"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::User => "user",
            EntryKind::Group => "group",
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference from a group to one of its members, as the directory states it.
///
/// The engine resolves references to [`EntryId`]s whatever the arrival order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberRef {
    /// A member DN (`member`, `uniqueMember`); compared after [`normalize_dn`].
    Dn(String),
    /// A member name (`memberUid`); compared case-insensitively against entry names.
    Name(String),
    /// A member id, when the source already knows it (dummy source).
    Id(EntryId),
}

/// One user or group, in its full current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Permanent identity.
    pub id: EntryId,
    /// User or group.
    pub kind: EntryKind,
    /// Where the entry lives in the directory (its DN; a pseudo-DN for the dummy source).
    pub locator: String,
    /// The entry's name (uid, cn, sAMAccountName): what applications show and log in with.
    pub name: String,
    /// False when the directory marks the account disabled or locked.
    pub enabled: bool,
    /// Canonical attribute name → values (see [`crate::model::CANONICAL_ATTRIBUTES`]).
    pub attrs: BTreeMap<String, Vec<String>>,
    /// Direct members as the directory states them (groups only).
    pub members: Vec<MemberRef>,
}

impl Entry {
    /// First value of a canonical attribute, if any.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

/// The canonical attribute vocabulary that sources map to and sinks map from.
pub const CANONICAL_ATTRIBUTES: &[&str] = &[
    "uid",
    "commonName",
    "displayName",
    "givenName",
    "surname",
    "initials",
    "mail",
    "mobile",
    "telephoneNumber",
    "title",
    "employeeNumber",
    "description",
    "uidNumber",
    "gidNumber",
];

/// Normalises a DN for comparison: lower case, no blanks around `,`, `=` and `+`.
///
/// This is not full RFC 4514 matching, but it makes the DNs a server writes into member values
/// compare equal to the DNs it reports for entries. Surrounding white space is trimmed; inside,
/// a run of spaces next to a separator (or at the start) is dropped and any other run becomes
/// one space.
pub fn normalize_dn(dn: &str) -> String {
    let dn = dn.trim();
    if !dn.is_ascii() {
        return normalize_dn_general(dn);
    }
    // ASCII (nearly every DN): bytes, no Unicode case mapping.
    if !dn.as_bytes().contains(&b' ') {
        return dn.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(dn.len());
    let mut pending_space = false;
    for byte in dn.bytes() {
        if byte == b' ' {
            pending_space = true;
            continue;
        }
        if pending_space
            && !matches!(byte, b',' | b'=' | b'+')
            && !matches!(out.as_bytes().last(), Some(b',' | b'=' | b'+') | None)
        {
            out.push(' ');
        }
        pending_space = false;
        out.push(char::from(byte.to_ascii_lowercase()));
    }
    out
}

/// [`normalize_dn`] for any text (the path taken for non-ASCII DNs).
fn normalize_dn_general(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut pending_space = false;
    for ch in dn.trim().chars() {
        if ch == ' ' {
            pending_space = true;
            continue;
        }
        let separator = matches!(ch, ',' | '=' | '+');
        let last_separator = matches!(out.chars().last(), Some(',' | '=' | '+') | None);
        if pending_space && !separator && !last_separator {
            out.push(' ');
        }
        pending_space = false;
        out.extend(ch.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_normalisation_ignores_case_and_blanks_around_separators() {
        assert_eq!(
            normalize_dn(" UID=Alice , ou=People,  DC=Example,dc=org "),
            "uid=alice,ou=people,dc=example,dc=org"
        );
        assert_eq!(normalize_dn("cn=Ann Lee,dc=x"), "cn=ann lee,dc=x");
    }

    #[test]
    fn the_ascii_fast_path_agrees_with_the_general_one() {
        let cases = [
            "",
            " ",
            "   ",
            "uid=alice,ou=people,dc=example,dc=org",
            "UID=Alice,OU=People,DC=Example,DC=Org",
            " UID=Alice , ou=People,  DC=Example,dc=org ",
            "cn=Ann Lee,dc=x",
            "cn=Ann    Lee , dc = x",
            "cn = a + sn = b,dc=x",
            "  ,  = + ",
            " leading space",
            "trailing space ",
            "\tcn=tab\t",
            "\u{b}cn=vertical tab\u{b}",
            "cn=a\\, b,dc=x",
            "cn=a\tb , dc=x",
            "CN=Mixed Case + UID=X1 ,DC=Ex",
            "=,+",
            "a  ,b",
            "a,  b",
            "a  b  c",
        ];
        for dn in cases {
            assert!(dn.is_ascii());
            assert_eq!(normalize_dn(dn), normalize_dn_general(dn), "{dn:?}");
        }
    }

    #[test]
    fn non_ascii_dns_keep_the_general_rules() {
        assert_eq!(
            normalize_dn(" CN=Ärger Öl , OU=Straße,DC=Ex "),
            "cn=ärger öl,ou=straße,dc=ex"
        );
        assert_eq!(normalize_dn("\u{a0}cn=NBSP\u{a0}"), "cn=nbsp");
        assert_eq!(normalize_dn("CN=İ , dc=x"), "cn=i\u{307},dc=x");
        assert_eq!(normalize_dn("cn=Ω  Ω,dc=x"), "cn=ω ω,dc=x");
    }
}
