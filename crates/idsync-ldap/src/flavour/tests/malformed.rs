//! Entries a server (or a hand-edited trace) may send that cannot be mapped: errors that name
//! the DN and the attribute, never panics.

use super::*;

fn ldap() -> Flavour {
    flavour(FlavourKind::Ldap, &with_base("dc=example,dc=org"))
}

fn with_bytes(mut raw: RawEntry, name: &str, value: &[u8]) -> RawEntry {
    raw.attributes.push(RawAttribute {
        name: name.to_owned(),
        values: vec![value.to_vec()],
    });
    raw
}

fn person(dn: &str) -> RawEntry {
    entry(dn, &[("objectClass", &["inetOrgPerson"])])
}

#[test]
fn non_utf8_values_are_errors_naming_dn_and_attribute() {
    let f = ldap();
    let raw = with_bytes(person("uid=a,dc=example,dc=org"), "uid", b"a\xff");
    assert_eq!(
        map_error(&f, &raw).to_string(),
        "entry `uid=a,dc=example,dc=org`: a value of `uid` is not valid UTF-8"
    );
    let raw = with_bytes(
        with_bytes(person("uid=a,dc=example,dc=org"), "uid", b"a"),
        "displayName",
        b"\xc3(",
    );
    assert!(matches!(
        map_error(&f, &raw),
        MapError::NotUtf8 { attribute, .. } if attribute == "displayName"
    ));
    let group = with_bytes(
        entry(
            "cn=g,dc=example,dc=org",
            &[("objectClass", &["groupOfNames"]), ("cn", &["g"])],
        ),
        "Member",
        b"uid=\xfe,dc=example,dc=org",
    );
    assert!(matches!(
        map_error(&f, &group),
        MapError::NotUtf8 { attribute, .. } if attribute == "Member"
    ));
    // Binary attributes the mapping does not read are ignored.
    let raw = with_bytes(
        with_bytes(person("uid=a,dc=example,dc=org"), "uid", b"a"),
        "jpegPhoto",
        b"\xff\xd8\xff",
    );
    assert_eq!(mapped(&f, &raw).name, "a");
    // A non-UTF-8 objectClass value just does not match.
    let raw = with_bytes(
        with_bytes(person("uid=a,dc=example,dc=org"), "uid", b"a"),
        "objectClass",
        b"\xff",
    );
    assert_eq!(mapped(&f, &raw).name, "a");
}

#[test]
fn missing_names_are_errors() {
    let f = ldap();
    let error = map_error(&f, &person("uid=a,dc=example,dc=org"));
    assert_eq!(
        error.to_string(),
        "user `uid=a,dc=example,dc=org` has no `uid` (the attribute its name comes from)"
    );
    let blank = entry(
        "uid=a,dc=example,dc=org",
        &[("objectClass", &["inetOrgPerson"]), ("uid", &["  "])],
    );
    assert!(matches!(
        map_error(&f, &blank),
        MapError::MissingName { .. }
    ));
    let group = entry(
        "cn=g,dc=example,dc=org",
        &[("objectClass", &["groupOfNames"]), ("member", &["uid=a"])],
    );
    assert!(matches!(
        map_error(&f, &group),
        MapError::MissingName {
            kind: idsync_core::EntryKind::Group,
            ..
        }
    ));
    let empty_values = RawEntry {
        dn: "uid=a,dc=example,dc=org".to_owned(),
        attributes: vec![
            RawAttribute {
                name: "objectClass".to_owned(),
                values: vec![b"inetOrgPerson".to_vec()],
            },
            RawAttribute {
                name: "uid".to_owned(),
                values: Vec::new(),
            },
        ],
        controls: Vec::new(),
    };
    assert!(matches!(
        map_error(&f, &empty_values),
        MapError::MissingName { .. }
    ));
}

#[test]
fn entries_without_attributes_are_unclassified() {
    // A delete carries no attributes; the protocol machine must not map it, and if it does it
    // gets an error, not a user.
    let f = ldap();
    let error = map_error(&f, &entry("uid=a,dc=example,dc=org", &[]));
    assert!(
        matches!(error, MapError::Unclassified { ref object_classes, .. } if object_classes == "none")
    );
}

#[test]
fn odd_dns_do_not_panic() {
    let f = ldap();
    for odd in [
        "",
        ",",
        "=",
        "\\",
        "uid=a\\",
        "uid=a,",
        ",dc=example,dc=org",
        "dc=example,dc=org",
    ] {
        let raw = entry(
            odd,
            &[("objectClass", &["inetOrgPerson"]), ("uid", &["a", "b"])],
        );
        match f.map_at(id(1), &raw, now()) {
            Ok(Mapped::Entry(user)) => assert_eq!(user.name, "a", "{odd:?}"),
            Ok(Mapped::OutOfView) | Err(_) => {}
        }
    }
}

#[test]
fn bad_ids_in_non_sync_searches() {
    let f = ldap();
    for bad in [&b"x"[..], b"\xff", b""] {
        let raw = with_bytes(person("uid=a,dc=example,dc=org"), "entryUUID", bad);
        assert!(
            matches!(f.id_of(&raw), Err(MapError::BadId { .. })),
            "{bad:?}"
        );
    }
}
