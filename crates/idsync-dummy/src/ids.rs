//! Ids and locators of dummy entries.
//!
//! An entry without an explicit `id` gets a version 5 UUID of its kind and name in
//! [`DUMMY_NAMESPACE`]: `user:<name>` for users, `group:<name>` for groups (so a user and a
//! group may share a name). The name is hashed exactly as written, so renaming such an entry
//! (even changing the case of a letter) gives it a new id: the engine sees a delete and a
//! create. Give entries explicit ids to make renames real renames.

use idsync_core::{EntryId, EntryKind};
use uuid::Uuid;

/// The namespace of the version 5 UUIDs derived from entry names:
/// `5b0d5c52-6f6b-4b9e-9a53-3d1f0c1d7e2a`. Never change it: every id derived from a name
/// (and so every synced entry of every dummy deployment) would change.
pub const DUMMY_NAMESPACE: Uuid = Uuid::from_u128(0x5b0d_5c52_6f6b_4b9e_9a53_3d1f_0c1d_7e2a);

/// The id the dummy source derives from an entry's kind and name when the file gives none.
pub fn derived_id(kind: EntryKind, name: &str) -> EntryId {
    let prefix = match kind {
        EntryKind::User => "user:",
        EntryKind::Group => "group:",
    };
    let mut key = Vec::with_capacity(prefix.len() + name.len());
    key.extend_from_slice(prefix.as_bytes());
    key.extend_from_slice(name.as_bytes());
    EntryId(Uuid::new_v5(&DUMMY_NAMESPACE, &key))
}

/// The pseudo-DN of a dummy entry: `uid=<name>,ou=users,dc=dummy` for users,
/// `cn=<name>,ou=groups,dc=dummy` for groups (the name escaped as RFC 4514 asks).
pub fn locator(kind: EntryKind, name: &str) -> String {
    let escaped = escape_dn_value(name);
    match kind {
        EntryKind::User => format!("uid={escaped},ou=users,dc=dummy"),
        EntryKind::Group => format!("cn={escaped},ou=groups,dc=dummy"),
    }
}

/// Escapes an attribute value for use in a DN (RFC 4514, section 2.4).
fn escape_dn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.chars().count().saturating_sub(1);
    for (position, ch) in value.chars().enumerate() {
        match ch {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '#' | ' ' if position == 0 => {
                out.push('\\');
                out.push(ch);
            }
            ' ' if position == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_pinned_and_differ_by_kind() {
        // Pinned: these values must never change (they identify synced entries).
        assert_eq!(
            derived_id(EntryKind::User, "alice").to_string(),
            "51569366-ed41-524c-b546-d60386686673"
        );
        assert_eq!(
            derived_id(EntryKind::Group, "alice").to_string(),
            "080116ac-9fcb-5a7a-a270-5a723b804cb6"
        );
        assert_eq!(
            derived_id(EntryKind::Group, "staff").to_string(),
            "089380cb-f075-5bd5-81a5-280ba3959eed"
        );
        assert_ne!(
            derived_id(EntryKind::User, "alice"),
            derived_id(EntryKind::User, "Alice")
        );
    }

    #[test]
    fn locators_escape_special_characters() {
        assert_eq!(
            locator(EntryKind::User, "alice"),
            "uid=alice,ou=users,dc=dummy"
        );
        assert_eq!(
            locator(EntryKind::Group, "R&D, Berlin"),
            "cn=R&D\\, Berlin,ou=groups,dc=dummy"
        );
        assert_eq!(
            locator(EntryKind::Group, "#a+b "),
            "cn=\\#a\\+b\\ ,ou=groups,dc=dummy"
        );
    }
}
