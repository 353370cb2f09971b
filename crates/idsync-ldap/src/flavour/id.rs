//! Entry ids from the id attribute (for searches without the sync control) and from the
//! syncUUID.

use idsync_core::EntryId;
use uuid::Uuid;

/// The attribute that holds an entry's permanent id, in the form the server's syncUUID has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdAttribute {
    /// `entryUUID` (OpenLDAP; RFC 4530): an RFC 4122 string whose 16 bytes are the syncUUID.
    EntryUuid,
    /// `nsUniqueId` (389-ds, FreeIPA): four groups of 8 hex digits
    /// (`796a8a91-e76311f1-81758cdf-7223d497`); the syncUUID is those 32 hex digits as bytes.
    NsUniqueId,
}

impl IdAttribute {
    /// The attribute name, as requested from the server.
    pub fn name(self) -> &'static str {
        match self {
            IdAttribute::EntryUuid => "entryUUID",
            IdAttribute::NsUniqueId => "nsUniqueId",
        }
    }

    /// The id attribute named `name` (case-insensitive), if it is one of the two.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [IdAttribute::EntryUuid, IdAttribute::NsUniqueId]
            .into_iter()
            .find(|id| id.name().eq_ignore_ascii_case(name.trim()))
    }

    /// What a value must look like, for error messages.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            IdAttribute::EntryUuid => "a UUID (8-4-4-4-12 hex digits)",
            IdAttribute::NsUniqueId => "an nsUniqueId (8-8-8-8 hex digits)",
        }
    }

    /// Parses one value of the attribute; `None` when it is not in the attribute's format.
    pub fn parse(self, value: &[u8]) -> Option<EntryId> {
        let text = std::str::from_utf8(value).ok()?.trim();
        match self {
            IdAttribute::EntryUuid => {
                // Only the hyphenated form servers write (Uuid::parse_str also takes braces,
                // URNs and bare hex, which no entryUUID has).
                (text.len() == 36)
                    .then(|| Uuid::parse_str(text).ok())
                    .flatten()
                    .map(EntryId)
            }
            IdAttribute::NsUniqueId => parse_ns_unique_id(text),
        }
    }
}

/// `796a8a91-e76311f1-81758cdf-7223d497` → the 16 bytes `796a8a91e76311f181758cdf7223d497`.
fn parse_ns_unique_id(text: &str) -> Option<EntryId> {
    let mut bytes = [0u8; 16];
    let mut groups = text.split('-');
    for chunk in bytes.chunks_exact_mut(4) {
        let group = groups.next()?;
        if group.len() != 8 || !group.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let word = u32::from_str_radix(group, 16).ok()?;
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    groups
        .next()
        .is_none()
        .then_some(EntryId::from_bytes(bytes))
}

/// The entry id a syncUUID (RFC 4533: 16 octets, network order) stands for. The same bytes
/// as [`IdAttribute::parse`] gives for the entry's id attribute, for both id attributes.
pub fn id_from_sync_uuid(sync_uuid: [u8; 16]) -> EntryId {
    crate::sync::entry_id(sync_uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_uuid_strings_are_the_sync_uuid_bytes() {
        let id = IdAttribute::EntryUuid.parse(b"baf2f634-7bb0-1041-8f86-cdab19b76679");
        let bytes = [
            0xba, 0xf2, 0xf6, 0x34, 0x7b, 0xb0, 0x10, 0x41, 0x8f, 0x86, 0xcd, 0xab, 0x19, 0xb7,
            0x66, 0x79,
        ];
        assert_eq!(id, Some(id_from_sync_uuid(bytes)));
        assert_eq!(
            IdAttribute::EntryUuid.parse(b"BAF2F634-7BB0-1041-8F86-CDAB19B76679"),
            Some(id_from_sync_uuid(bytes))
        );
    }

    #[test]
    fn ns_unique_id_is_regrouped_hex() {
        // The 389-ds probe: nsUniqueId 796a8a91-e76311f1-81758cdf-7223d497 arrives as the
        // syncUUID 796a8a91e76311f181758cdf7223d497.
        let id = IdAttribute::NsUniqueId.parse(b"796a8a91-e76311f1-81758cdf-7223d497");
        let bytes = [
            0x79, 0x6a, 0x8a, 0x91, 0xe7, 0x63, 0x11, 0xf1, 0x81, 0x75, 0x8c, 0xdf, 0x72, 0x23,
            0xd4, 0x97,
        ];
        assert_eq!(id, Some(id_from_sync_uuid(bytes)));
        assert_eq!(
            id.map(|id| id.to_string()).as_deref(),
            Some("796a8a91-e763-11f1-8175-8cdf7223d497")
        );
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            &b""[..],
            b"not-a-uuid",
            b"796a8a91-e76311f1-81758cdf",
            b"796a8a91-e76311f1-81758cdf-7223d497-00000000",
            b"796a8a91-e76311f1-81758cdf-7223d49g",
            b"796a8a91-e76311f1-81758cdf-+223d497",
            b"796a8a91e76311f181758cdf7223d497",
            b"\xff\xfe",
        ] {
            assert_eq!(IdAttribute::NsUniqueId.parse(bad), None, "{bad:?}");
        }
        for bad in [
            &b""[..],
            b"baf2f634-7bb0-1041-8f86-cdab19b7667",
            b"baf2f6347bb010418f86cdab19b76679",
            b"{baf2f634-7bb0-1041-8f86-cdab19b76679}",
            b"796a8a91-e76311f1-81758cdf-7223d497",
            b"\xff",
        ] {
            assert_eq!(IdAttribute::EntryUuid.parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            IdAttribute::from_name("nsuniqueid"),
            Some(IdAttribute::NsUniqueId)
        );
        assert_eq!(
            IdAttribute::from_name("EntryUUID"),
            Some(IdAttribute::EntryUuid)
        );
        assert_eq!(IdAttribute::from_name("objectGUID"), None);
    }
}
