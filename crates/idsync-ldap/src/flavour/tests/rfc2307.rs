//! The `rfc2307` flavour: posixAccount users, posixGroup groups by memberUid, rfc2307bis.

use super::*;

const BASE: &str = "dc=example,dc=org";

fn rfc2307() -> Flavour {
    flavour(FlavourKind::Rfc2307, &with_base(BASE))
}

fn posix_user(uid: &str, extra: &[(&str, &[&str])]) -> RawEntry {
    let dn = format!("uid={uid},ou=people,dc=example,dc=org");
    let mut attributes: Vec<(&str, &[&str])> = vec![
        (
            "objectClass",
            &["top", "account", "posixAccount", "shadowAccount"],
        ),
        ("cn", &["Posix User"]),
        ("uidNumber", &["10001"]),
        ("gidNumber", &["10001"]),
        ("homeDirectory", &["/home/x"]),
        ("gecos", &["Posix User,,,"]),
    ];
    attributes.extend_from_slice(extra);
    let mut raw = entry(&dn, &attributes);
    raw.attributes.push(RawAttribute {
        name: "uid".to_owned(),
        values: vec![uid.as_bytes().to_vec()],
    });
    raw
}

#[test]
fn sync_search_parameters() {
    let f = rfc2307();
    assert_eq!(f.sync_base(), BASE);
    assert_eq!(
        f.sync_filter(),
        "(|(objectClass=posixAccount)(objectClass=posixGroup))"
    );
    assert_eq!(f.id_attribute().name(), "entryUUID");
    assert!(!f.quirks_389());
    for needed in [
        "memberUid",
        "member",
        "uniqueMember",
        "shadowExpire",
        "pwdAccountLockedTime",
        "uidNumber",
        "gidNumber",
    ] {
        assert!(f.sync_attributes().iter().any(|a| a == needed), "{needed}");
    }
    assert_eq!(
        f.light_attributes(),
        strings(&[
            "objectClass",
            "entryUUID",
            "uid",
            "cn",
            "member",
            "uniqueMember",
            "memberUid"
        ])
    );
}

#[test]
fn posix_users() {
    let user = mapped(&rfc2307(), &posix_user("ann", &[]));
    assert_eq!(user.kind, idsync_core::EntryKind::User);
    assert_eq!(user.name, "ann");
    assert!(user.enabled);
    assert_eq!(user.attr("uidNumber"), Some("10001"));
    assert_eq!(user.attr("gidNumber"), Some("10001"));
    assert_eq!(user.attr("commonName"), Some("Posix User"));
    assert_eq!(user.attr("mail"), None);
}

#[test]
fn posix_groups_reference_members_by_name() {
    let group = mapped(
        &rfc2307(),
        &entry(
            "cn=devs,ou=groups,dc=example,dc=org",
            &[
                ("objectClass", &["top", "posixGroup"]),
                ("cn", &["devs"]),
                ("gidNumber", &["5000"]),
                ("memberUid", &["ann", "Bob", ""]),
            ],
        ),
    );
    assert_eq!(group.kind, idsync_core::EntryKind::Group);
    assert_eq!(group.name, "devs");
    assert_eq!(group.attr("gidNumber"), Some("5000"));
    assert_eq!(group.members, vec![name("ann"), name("Bob")]);
}

#[test]
fn rfc2307bis_groups_take_both_kinds_of_reference() {
    let f = rfc2307();
    // groupOfNames with the posixGroup auxiliary class (rfc2307bis schema).
    let group = mapped(
        &f,
        &entry(
            "cn=ops,ou=groups,dc=example,dc=org",
            &[
                ("objectClass", &["groupOfNames", "posixGroup"]),
                ("cn", &["ops"]),
                ("gidNumber", &["5001"]),
                (
                    "member",
                    &[
                        "uid=ann,ou=people,dc=example,dc=org",
                        "cn=devs,ou=groups,dc=example,dc=org",
                    ],
                ),
                ("memberUid", &["carl"]),
            ],
        ),
    );
    assert_eq!(
        group.members,
        vec![
            dn("uid=ann,ou=people,dc=example,dc=org"),
            dn("cn=devs,ou=groups,dc=example,dc=org"),
            name("carl"),
        ]
    );
    // A structural posixGroup carrying uniqueMember.
    let group = mapped(
        &f,
        &entry(
            "cn=qa,ou=groups,dc=example,dc=org",
            &[
                ("objectClass", &["posixGroup"]),
                ("cn", &["qa"]),
                (
                    "uniqueMember",
                    &["uid=bob,ou=people,dc=example,dc=org#'1'B"],
                ),
            ],
        ),
    );
    assert_eq!(
        group.members,
        vec![dn("uid=bob,ou=people,dc=example,dc=org")]
    );
    // A plain groupOfNames is not an rfc2307 group.
    let error = map_error(
        &f,
        &entry(
            "cn=gon,dc=example,dc=org",
            &[("objectClass", &["groupOfNames"]), ("cn", &["gon"])],
        ),
    );
    assert!(matches!(error, MapError::Unclassified { .. }), "{error}");
}

#[test]
fn shadow_expire_and_ppolicy_disable() {
    let f = rfc2307();
    // now() is day 20454.
    for (value, enabled) in [
        ("20455", true),
        ("20454", false),
        ("100", false),
        ("-1", true),
        ("0", true),
    ] {
        let user = mapped(&f, &posix_user("ann", &[("shadowExpire", &[value])]));
        assert_eq!(user.enabled, enabled, "shadowExpire {value}");
    }
    let user = mapped(
        &f,
        &posix_user("ann", &[("pwdAccountLockedTime", &["000001010000Z"])]),
    );
    assert!(!user.enabled);
    let error = map_error(&f, &posix_user("ann", &[("shadowExpire", &["never"])]));
    assert_eq!(
        error.to_string(),
        "entry `uid=ann,ou=people,dc=example,dc=org`: `shadowExpire` value `never` is not a day \
         number (days since 1970-01-01)"
    );
    // map() uses the real clock: day 1 is long past.
    let raw = posix_user("ann", &[("shadowExpire", &["1"])]);
    match f.map(id(2), &raw) {
        Ok(Mapped::Entry(user)) => {
            assert!(!user.enabled);
            assert_eq!(user.id, id(2));
        }
        other => panic!("{other:?}"),
    }
    // Groups are never disabled.
    let group = mapped(
        &f,
        &entry(
            "cn=g,dc=example,dc=org",
            &[
                ("objectClass", &["posixGroup"]),
                ("cn", &["g"]),
                ("shadowExpire", &["1"]),
            ],
        ),
    );
    assert!(group.enabled);
}

#[test]
fn users_never_have_members() {
    let user = mapped(
        &rfc2307(),
        &posix_user("ann", &[("memberUid", &["x"]), ("member", &["cn=x"])]),
    );
    assert!(user.members.is_empty());
}
