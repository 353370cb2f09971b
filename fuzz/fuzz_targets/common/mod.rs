//! Shared by the fuzz targets: byte-driven builders of [`RawMessage`]s (dictionaries of what
//! real servers send, mixed with arbitrary bytes), the flavours under test, and the trace
//! round-trip check.
#![allow(dead_code)]

use std::sync::OnceLock;

use idsync_ldap::flavour::{Flavour, FlavourKind, FlavourSettings};
use idsync_ldap::sync::{
    SyncDoneValue, SyncInfoValue, SyncState, SyncStateValue, SYNC_DONE_OID, SYNC_INFO_OID,
    SYNC_STATE_OID,
};
use idsync_ldap::trace::{SearchHeader, TraceReader, TraceWriter};
use idsync_ldap::{RawAttribute, RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};
use libfuzzer_sys::arbitrary::{Result, Unstructured};

pub const DNS: &[&str] = &[
    "uid=alice,ou=people,dc=example,dc=org",
    "uid=bob,ou=people,dc=example,dc=org",
    "cn=staff,ou=groups,dc=example,dc=org",
    "cn=admins,ou=groups,dc=example,dc=org",
    "UID=Alice, OU=People, DC=Example, DC=Org",
    "dc=example,dc=org",
    "ou=people,dc=example,dc=org",
    "uid=alice,cn=users,cn=accounts,dc=example,dc=org",
    "cn=admins,cn=groups,cn=accounts,dc=example,dc=org",
    "cn=ipausers,cn=groups,cn=accounts,dc=example,dc=org",
    "cn=eng,cn=groups,cn=accounts,dc=example,dc=org",
    "uid=x\\,y,ou=people,dc=example,dc=org",
    "cn=a+uid=b,ou=people,dc=example,dc=org",
    "uid=z,dc=other,dc=org",
    "",
];

pub const ATTRIBUTES: &[&str] = &[
    "objectClass",
    "uid",
    "cn",
    "sn",
    "givenName",
    "displayName",
    "mail",
    "member",
    "uniqueMember",
    "memberUid",
    "entryUUID",
    "nsUniqueId",
    "nsAccountLock",
    "pwdAccountLockedTime",
    "shadowExpire",
    "uidNumber",
    "gidNumber",
    "memberOf",
    "description",
    "OBJECTCLASS",
    "UID",
    "uid;lang-de",
];

pub const VALUES: &[&str] = &[
    "top",
    "person",
    "inetOrgPerson",
    "inetorgperson",
    "posixAccount",
    "posixGroup",
    "groupOfNames",
    "groupOfUniqueNames",
    "ipaUserGroup",
    "ipausergroup",
    "alice",
    "bob",
    "staff",
    "admins",
    "TRUE",
    "FALSE",
    "true",
    "000001010000Z",
    "20260101000000Z",
    "0",
    "-1",
    "20454",
    "99999999999999999999",
    "-9223372036854775808",
    "uid=alice,ou=people,dc=example,dc=org",
    "cn=staff,ou=groups,dc=example,dc=org",
    "uid=bob,ou=people,dc=example,dc=org#'0101'B",
    "uid=alice,cn=users,cn=accounts,dc=example,dc=org",
    "cn=admins,cn=groups,cn=accounts,dc=example,dc=org",
    "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
    "796a8a91-e76311f1-81758cdf-7223d497",
    "",
    " ",
];

pub const OIDS: &[&str] = &[
    SYNC_STATE_OID,
    SYNC_INFO_OID,
    SYNC_DONE_OID,
    "1.2.840.113556.1.4.319",
    "1.3.6.1.4.1.4203.1.9.1.1",
];

pub const COOKIES: &[&[u8]] = &[
    b"rid=000,csn=20260101000000.000000Z#000000#000#000000",
    b"rid=001,csn=20260102000000.000000Z#000000#000#000000",
    b"localhost:389#cn=sync:dc=example,dc=org:(objectClass=*)#12",
    b"localhost:389#cn=sync:dc=example,dc=org:(objectClass=*)#4294967295",
    b"",
];

pub const MESSAGES: &[&str] = &[
    "",
    "consumer state is newer than provider",
    "Newer cookie",
    "invalid cookie",
];

/// A few syncUUIDs (so that entries, id sets and re-reads refer to each other), or any.
pub fn uuid(u: &mut Unstructured) -> Result<[u8; 16]> {
    let pick: u8 = u.int_in_range(0..=4)?;
    if pick == 4 {
        return u.arbitrary();
    }
    Ok([pick + 1; 16])
}

/// One of `dictionary`, or arbitrary.
pub fn text(u: &mut Unstructured, dictionary: &[&str]) -> Result<String> {
    if u.ratio(7, 8)? {
        Ok((*u.choose(dictionary)?).to_owned())
    } else {
        u.arbitrary()
    }
}

/// Bytes: one of `dictionary`, or arbitrary.
pub fn bytes(u: &mut Unstructured, dictionary: &[&str]) -> Result<Vec<u8>> {
    if u.ratio(7, 8)? {
        Ok(u.choose(dictionary)?.as_bytes().to_vec())
    } else {
        u.arbitrary()
    }
}

pub fn cookie(u: &mut Unstructured) -> Result<Option<Vec<u8>>> {
    match u.int_in_range(0u8..=3)? {
        0 => Ok(None),
        1 => Ok(Some(u.arbitrary()?)),
        _ => Ok(Some(u.choose(COOKIES)?.to_vec())),
    }
}

/// A control value: well formed (by our encoder) most of the time, otherwise any bytes.
fn value_or_garbage(
    u: &mut Unstructured,
    good: impl FnOnce(&mut Unstructured) -> Result<Vec<u8>>,
) -> Result<Option<Vec<u8>>> {
    match u.int_in_range(0u8..=9)? {
        0 => Ok(None),
        1 => Ok(Some(u.arbitrary()?)),
        2 => {
            // a well-formed value, cut short or with a byte flipped
            let mut value = good(u)?;
            let at: usize = u.arbitrary()?;
            if u.arbitrary()? {
                value.truncate(at % (value.len() + 1));
            } else {
                let len = value.len().max(1);
                let flipped: u8 = u.arbitrary()?;
                if let Some(byte) = value.get_mut(at % len) {
                    *byte = flipped;
                }
            }
            Ok(Some(value))
        }
        _ => good(u).map(Some),
    }
}

pub fn state_control(u: &mut Unstructured) -> Result<RawControl> {
    let oid = if u.ratio(15, 16)? {
        SYNC_STATE_OID.to_owned()
    } else {
        text(u, OIDS)?
    };
    let value = value_or_garbage(u, |u| {
        let state = *u.choose(&[
            SyncState::Present,
            SyncState::Add,
            SyncState::Modify,
            SyncState::Delete,
        ])?;
        Ok(SyncStateValue {
            state,
            entry_uuid: uuid(u)?,
            cookie: cookie(u)?,
        }
        .encode())
    })?;
    Ok(RawControl {
        oid,
        critical: u.arbitrary()?,
        value,
    })
}

pub fn any_control(u: &mut Unstructured) -> Result<RawControl> {
    Ok(RawControl {
        oid: text(u, OIDS)?,
        critical: u.arbitrary()?,
        value: u.arbitrary()?,
    })
}

pub fn attribute(u: &mut Unstructured) -> Result<RawAttribute> {
    let name = text(u, ATTRIBUTES)?;
    let count = u.int_in_range(0usize..=3)?;
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        values.push(bytes(u, VALUES)?);
    }
    Ok(RawAttribute { name, values })
}

/// An entry without controls.
pub fn bare_entry(u: &mut Unstructured) -> Result<RawEntry> {
    let dn = text(u, DNS)?;
    let count = u.int_in_range(0usize..=8)?;
    let mut attributes = Vec::with_capacity(count);
    for _ in 0..count {
        attributes.push(attribute(u)?);
    }
    Ok(RawEntry {
        dn,
        attributes,
        controls: Vec::new(),
    })
}

pub fn entry(u: &mut Unstructured) -> Result<RawEntry> {
    let mut entry = bare_entry(u)?;
    if u.ratio(15, 16)? {
        entry.controls.push(state_control(u)?);
    }
    if u.ratio(1, 16)? {
        entry.controls.push(any_control(u)?);
    }
    Ok(entry)
}

pub fn info_value(u: &mut Unstructured) -> Result<Vec<u8>> {
    let value = match u.int_in_range(0u8..=3)? {
        0 => SyncInfoValue::NewCookie(cookie(u)?.unwrap_or_default()),
        1 => SyncInfoValue::RefreshDelete {
            cookie: cookie(u)?,
            refresh_done: u.arbitrary()?,
        },
        2 => SyncInfoValue::RefreshPresent {
            cookie: cookie(u)?,
            refresh_done: u.arbitrary()?,
        },
        _ => {
            let count = u.int_in_range(0usize..=4)?;
            let mut sync_uuids = Vec::with_capacity(count);
            for _ in 0..count {
                sync_uuids.push(uuid(u)?);
            }
            SyncInfoValue::SyncIdSet {
                cookie: cookie(u)?,
                refresh_deletes: u.arbitrary()?,
                sync_uuids,
            }
        }
    };
    Ok(value.encode())
}

pub fn intermediate(u: &mut Unstructured) -> Result<RawIntermediate> {
    let name = match u.int_in_range(0u8..=7)? {
        0 => None,
        1 => Some(text(u, OIDS)?),
        _ => Some(SYNC_INFO_OID.to_owned()),
    };
    let value = value_or_garbage(u, info_value)?;
    let controls = if u.ratio(1, 16)? {
        vec![any_control(u)?]
    } else {
        Vec::new()
    };
    Ok(RawIntermediate {
        name,
        value,
        controls,
    })
}

pub fn done(u: &mut Unstructured) -> Result<RawDone> {
    let any_code: u32 = u.arbitrary()?;
    let result_code = *u.choose(&[0, 0, 0, 0, 4096, 53, 1, 32, any_code])?;
    let mut controls = Vec::new();
    if u.ratio(3, 4)? {
        let oid = if u.ratio(15, 16)? {
            SYNC_DONE_OID.to_owned()
        } else {
            text(u, OIDS)?
        };
        let value = value_or_garbage(u, |u| {
            Ok(SyncDoneValue {
                cookie: cookie(u)?,
                refresh_deletes: u.arbitrary()?,
            }
            .encode())
        })?;
        controls.push(RawControl {
            oid,
            critical: u.arbitrary()?,
            value,
        });
    }
    Ok(RawDone {
        result_code,
        matched_dn: text(u, DNS)?,
        message: text(u, MESSAGES)?,
        controls,
    })
}

pub fn message(u: &mut Unstructured) -> Result<RawMessage> {
    Ok(match u.int_in_range(0u8..=15)? {
        0..=8 => RawMessage::Entry(entry(u)?),
        9..=13 => RawMessage::Intermediate(intermediate(u)?),
        14 => RawMessage::Done(done(u)?),
        _ => {
            let count = u.int_in_range(0usize..=2)?;
            let mut urls = Vec::with_capacity(count);
            for _ in 0..count {
                urls.push(text(u, &["ldap://other.example.org/dc=example,dc=org"])?);
            }
            RawMessage::Reference(urls)
        }
    })
}

/// The flavours under test: each kind with its defaults, and variants with overrides.
pub fn flavours() -> &'static [Flavour] {
    static FLAVOURS: OnceLock<Vec<Flavour>> = OnceLock::new();
    FLAVOURS.get_or_init(|| {
        let base = |base: &str| FlavourSettings {
            base: Some(base.to_owned()),
            ..FlavourSettings::default()
        };
        let attributes = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let mut rfc2307bis = base("dc=example,dc=org");
        rfc2307bis.users.base = Some("ou=people,dc=example,dc=org".to_owned());
        rfc2307bis.users.scope = Some(idsync_ldap::Scope::One);
        rfc2307bis.groups.base = Some("ou=groups,dc=example,dc=org".to_owned());
        rfc2307bis.attributes = attributes(&[
            ("enabled", "shadowExpire, nsAccountLock"),
            ("displayName", "gecos"),
            ("member", "member,uniqueMember"),
        ]);
        let mut ldap_filters = base("dc=example,dc=org");
        ldap_filters.users.filter = Some(
            "(&(objectClass=person)(!(uid=svc-*))(|(mail=*@example.org)(uidNumber>=1000)))"
                .to_owned(),
        );
        ldap_filters.groups.filter = Some("(|(cn=*staff*)(objectClass=groupOfNames))".to_owned());
        ldap_filters.attributes = attributes(&[
            ("user_name", "mail"),
            ("group_name", "description"),
            ("id", "nsUniqueId"),
            ("member_uid", "memberUid"),
        ]);
        let mut ipa_all = FlavourSettings {
            domain: Some("example.org".to_owned()),
            ..FlavourSettings::default()
        };
        ipa_all.include_internal_groups = true;
        let settings = [
            (FlavourKind::Ldap, base("dc=example,dc=org")),
            (FlavourKind::Rfc2307, base("dc=example,dc=org")),
            (
                FlavourKind::FreeIpa,
                FlavourSettings {
                    domain: Some("example.org".to_owned()),
                    ..FlavourSettings::default()
                },
            ),
            (FlavourKind::Rfc2307, rfc2307bis),
            (FlavourKind::Ldap, ldap_filters),
            (FlavourKind::FreeIpa, ipa_all),
        ];
        settings
            .iter()
            .map(|(kind, settings)| match Flavour::new(*kind, settings) {
                Ok(flavour) => flavour,
                Err(problems) => panic!("fuzz flavour {kind} does not build: {problems:?}"),
            })
            .collect()
    })
}

/// What a trace can promise to keep of a message: entry attributes in (stable) name order,
/// same-named attributes merged, attributes without values dropped; an intermediate's empty
/// responseName is no responseName.
pub fn traceable(message: &RawMessage) -> RawMessage {
    let mut message = message.clone();
    match &mut message {
        RawMessage::Entry(entry) => {
            entry.attributes.sort_by(|a, b| a.name.cmp(&b.name));
            let mut merged: Vec<RawAttribute> = Vec::new();
            for attribute in std::mem::take(&mut entry.attributes) {
                if attribute.values.is_empty() {
                    continue;
                }
                match merged.last_mut() {
                    Some(last) if last.name == attribute.name => {
                        last.values.extend(attribute.values)
                    }
                    _ => merged.push(attribute),
                }
            }
            entry.attributes = merged;
        }
        RawMessage::Intermediate(intermediate) => {
            if intermediate.name.as_deref() == Some("") {
                intermediate.name = None;
            }
        }
        RawMessage::Reference(_) | RawMessage::Done(_) => {}
    }
    message
}

/// A trace of `messages` (after a search header) reads back as what a trace keeps of them —
/// or the writer refuses a message it cannot record faithfully. Returns how many were written.
pub fn check_trace_round_trip(messages: &[RawMessage]) -> usize {
    let mut writer = TraceWriter::new(Vec::new());
    writer.begin_search(SearchHeader::new(
        "ldap://localhost:389",
        "dc=example,dc=org".to_owned(),
        "sub",
        "(objectClass=*)".to_owned(),
        vec!["*".to_owned()],
        true,
        false,
    ));
    let mut written = Vec::new();
    for message in messages {
        if writer.write(message).is_ok() {
            written.push(message);
        }
    }
    let Ok(text) = writer.into_inner() else {
        panic!("writing into a Vec failed");
    };
    let mut reader = TraceReader::new(text.as_slice());
    for (index, original) in written.iter().enumerate() {
        match reader.next_message() {
            Some(Ok(traced)) => assert_eq!(
                traceable(&traced.message),
                traceable(original),
                "message {index} changed in a trace:\n{}",
                String::from_utf8_lossy(&text)
            ),
            Some(Err(error)) => panic!(
                "message {index} ({original:?}) wrote an unreadable trace: {error}\n{}",
                String::from_utf8_lossy(&text)
            ),
            None => panic!(
                "message {index} ({original:?}) is missing from the trace:\n{}",
                String::from_utf8_lossy(&text)
            ),
        }
    }
    if let Some(extra) = reader.next_message() {
        panic!(
            "the trace of {} messages holds more: {extra:?}\n{}",
            written.len(),
            String::from_utf8_lossy(&text)
        );
    }
    written.len()
}
