//! The `ldap` flavour: inetOrgPerson users, groupOfNames / groupOfUniqueNames groups.

use super::*;

const BASE: &str = "dc=example,dc=org";

fn ldap() -> Flavour {
    flavour(FlavourKind::Ldap, &with_base(BASE))
}

fn ann() -> RawEntry {
    entry(
        "uid=ann,ou=people,dc=example,dc=org",
        &[
            (
                "objectClass",
                &["top", "person", "organizationalPerson", "inetOrgPerson"],
            ),
            ("uid", &["ann"]),
            ("cn", &["Ann Lee"]),
            ("sn", &["Lee"]),
            ("givenName", &["Ann"]),
            ("displayName", &["Ann Lee"]),
            ("mail", &["ann@example.org", "a.lee@example.org"]),
            ("telephoneNumber", &["+1 555 0100"]),
            ("mobile", &["+1 555 0101"]),
            ("title", &["Engineer"]),
            ("employeeNumber", &["42"]),
            ("description", &["first user"]),
            ("initials", &["AL"]),
            ("entryUUID", &["baf2f634-7bb0-1041-8f86-cdab19b76679"]),
            ("userPassword", &["{SSHA}secret"]),
        ],
    )
}

#[test]
fn sync_search_parameters() {
    let f = ldap();
    assert_eq!(f.kind(), FlavourKind::Ldap);
    assert_eq!(f.sync_base(), BASE);
    assert_eq!(f.sync_scope(), ldap3::Scope::Subtree);
    assert_eq!(
        f.sync_filter(),
        "(|(objectClass=inetOrgPerson)(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)))"
    );
    assert!(ldap3::parse_filter(f.sync_filter()).is_ok());
    assert_eq!(f.id_attribute().name(), "entryUUID");
    assert!(!f.quirks_389());
    assert_eq!(f.users_base(), BASE);
    assert_eq!(f.groups_base(), BASE);
    let attrs = f.sync_attributes();
    for needed in [
        "objectClass",
        "entryUUID",
        "uid",
        "cn",
        "member",
        "uniqueMember",
        "pwdAccountLockedTime",
        "sn",
        "mail",
        "displayName",
        "uidNumber",
    ] {
        assert!(
            attrs.iter().any(|a| a == needed),
            "{needed} missing from {attrs:?}"
        );
    }
    assert!(!attrs.iter().any(|a| a.eq_ignore_ascii_case("memberOf")));
    assert!(!attrs.iter().any(|a| a.eq_ignore_ascii_case("memberUid")));
    // No attribute twice (cn is both a name and commonName).
    let mut lower: Vec<String> = attrs.iter().map(|a| a.to_ascii_lowercase()).collect();
    lower.sort();
    let before = lower.len();
    lower.dedup();
    assert_eq!(before, lower.len(), "{attrs:?}");
    assert_eq!(
        f.light_attributes(),
        strings(&[
            "objectClass",
            "entryUUID",
            "uid",
            "cn",
            "member",
            "uniqueMember"
        ])
    );
}

#[test]
fn users_map_to_canonical_attributes() {
    let user = mapped(&ldap(), &ann());
    assert_eq!(user.kind, idsync_core::EntryKind::User);
    assert_eq!(user.id, id(1));
    assert_eq!(user.locator, "uid=ann,ou=people,dc=example,dc=org");
    assert_eq!(user.name, "ann");
    assert!(user.enabled);
    assert!(user.members.is_empty());
    let expected: BTreeMap<String, Vec<String>> = [
        ("uid", &["ann"][..]),
        ("commonName", &["Ann Lee"]),
        ("surname", &["Lee"]),
        ("givenName", &["Ann"]),
        ("displayName", &["Ann Lee"]),
        ("mail", &["ann@example.org", "a.lee@example.org"]),
        ("telephoneNumber", &["+1 555 0100"]),
        ("mobile", &["+1 555 0101"]),
        ("title", &["Engineer"]),
        ("employeeNumber", &["42"]),
        ("description", &["first user"]),
        ("initials", &["AL"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), strings(v)))
    .collect();
    assert_eq!(user.attrs, expected);
}

#[test]
fn attribute_names_are_matched_case_insensitively() {
    let raw = entry(
        "UID=Ann,OU=People,DC=Example,DC=Org",
        &[
            ("OBJECTCLASS", &["INETORGPERSON"]),
            ("UID", &["Ann"]),
            ("MAIL", &["a@x"]),
        ],
    );
    let user = mapped(&ldap(), &raw);
    assert_eq!(user.name, "Ann");
    assert_eq!(user.locator, "UID=Ann,OU=People,DC=Example,DC=Org");
    assert_eq!(user.attr("mail"), Some("a@x"));
}

#[test]
fn groups_take_member_and_unique_member_dns_as_sent() {
    let f = ldap();
    let group = mapped(
        &f,
        &entry(
            "cn=staff,ou=groups,dc=example,dc=org",
            &[
                ("objectClass", &["groupOfNames"]),
                ("cn", &["staff"]),
                ("description", &["Everyone"]),
                (
                    "member",
                    &[
                        "uid=ann,ou=people,dc=example,dc=org",
                        "CN=Nested, ou=Groups,dc=example,dc=org",
                    ],
                ),
            ],
        ),
    );
    assert_eq!(group.kind, idsync_core::EntryKind::Group);
    assert_eq!(group.name, "staff");
    assert!(group.enabled);
    assert_eq!(group.attr("description"), Some("Everyone"));
    assert_eq!(group.attr("commonName"), Some("staff"));
    assert_eq!(
        group.members,
        vec![
            dn("uid=ann,ou=people,dc=example,dc=org"),
            dn("CN=Nested, ou=Groups,dc=example,dc=org")
        ]
    );

    let unique = mapped(
        &f,
        &entry(
            "cn=ops,ou=groups,dc=example,dc=org",
            &[
                ("objectClass", &["top", "groupOfUniqueNames"]),
                ("cn", &["ops"]),
                (
                    "uniqueMember",
                    &[
                        "uid=ann,ou=people,dc=example,dc=org#'0101'B",
                        "uid=bob,ou=people,dc=example,dc=org",
                        r"cn=odd\#'01'B,ou=groups,dc=example,dc=org",
                        "uid=eve,ou=people,dc=example,dc=org#'0102'B",
                        "",
                    ],
                ),
            ],
        ),
    );
    assert_eq!(
        unique.members,
        vec![
            dn("uid=ann,ou=people,dc=example,dc=org"),
            dn("uid=bob,ou=people,dc=example,dc=org"),
            // An escaped `#` is part of the DN, and `2` is not a bit: both kept.
            dn(r"cn=odd\#'01'B,ou=groups,dc=example,dc=org"),
            dn("uid=eve,ou=people,dc=example,dc=org#'0102'B"),
        ]
    );

    // A group with no members (groupOfNames requires one; servers with relaxed schemas send none).
    let empty = mapped(
        &f,
        &entry(
            "cn=empty,dc=example,dc=org",
            &[("objectClass", &["groupOfNames"]), ("cn", &["empty"])],
        ),
    );
    assert!(empty.members.is_empty());
}

#[test]
fn ppolicy_lock_disables_users() {
    let f = ldap();
    for value in ["000001010000Z", "20260101120000Z"] {
        let mut raw = ann();
        raw.attributes.push(RawAttribute {
            name: "pwdAccountLockedTime".to_owned(),
            values: vec![value.as_bytes().to_vec()],
        });
        assert!(!mapped(&f, &raw).enabled, "{value}");
    }
    // shadowExpire is not an `ldap` rule.
    let mut raw = ann();
    raw.attributes.push(RawAttribute {
        name: "shadowExpire".to_owned(),
        values: vec![b"1".to_vec()],
    });
    assert!(mapped(&f, &raw).enabled);
}

#[test]
fn out_of_view_entries() {
    let f = ldap();
    // Wrong object classes but within the base: the server returned it, so the filters as
    // idsync evaluates them disagree: an error, not a silent drop.
    let error = map_error(
        &f,
        &entry(
            "uid=x,dc=example,dc=org",
            &[("objectClass", &["account"]), ("uid", &["x"])],
        ),
    );
    assert!(matches!(error, MapError::Unclassified { .. }), "{error}");
    assert!(error.to_string().contains("account"), "{error}");

    let f = flavour(
        FlavourKind::Ldap,
        &FlavourSettings {
            users: crate::config::EntrySearch {
                base: Some("ou=people,dc=example,dc=org".to_owned()),
                scope: Some(crate::config::Scope::One),
                ..Default::default()
            },
            groups: crate::config::EntrySearch {
                base: Some("ou=groups,dc=example,dc=org".to_owned()),
                ..Default::default()
            },
            ..with_base(BASE)
        },
    );
    assert_eq!(f.sync_base(), BASE);
    assert_eq!(f.sync_scope(), ldap3::Scope::Subtree);
    // A person outside ou=people, one below it (scope one), a group outside ou=groups.
    assert_out_of_view(
        &f,
        &entry(
            "uid=svc,ou=system,dc=example,dc=org",
            &[("objectClass", &["inetOrgPerson"]), ("uid", &["svc"])],
        ),
    );
    assert_out_of_view(
        &f,
        &entry(
            "uid=deep,ou=sub,ou=people,dc=example,dc=org",
            &[("objectClass", &["inetOrgPerson"]), ("uid", &["deep"])],
        ),
    );
    assert_out_of_view(
        &f,
        &entry(
            "cn=g,ou=people,dc=example,dc=org",
            &[("objectClass", &["groupOfNames"]), ("cn", &["g"])],
        ),
    );
    // Outside the sync base altogether.
    assert_out_of_view(
        &f,
        &entry(
            "uid=ann,ou=people,dc=other",
            &[("objectClass", &["inetOrgPerson"]), ("uid", &["ann"])],
        ),
    );
    // Still in view: directly below ou=people, any depth below ou=groups, any DN spelling.
    mapped(
        &f,
        &entry(
            "uid=a,OU=People, DC=example,dc=ORG",
            &[("objectClass", &["inetOrgPerson"]), ("uid", &["a"])],
        ),
    );
    mapped(
        &f,
        &entry(
            "cn=g,ou=x,ou=groups,dc=example,dc=org",
            &[("objectClass", &["groupOfNames"]), ("cn", &["g"])],
        ),
    );
}

#[test]
fn multi_valued_names_pick_the_rdn_value() {
    let f = ldap();
    let user = mapped(
        &f,
        &entry(
            "uid=ann.lee,ou=people,dc=example,dc=org",
            &[
                ("objectClass", &["inetOrgPerson"]),
                ("uid", &["alee", "Ann.Lee", "ann"]),
            ],
        ),
    );
    assert_eq!(user.name, "Ann.Lee");
    assert_eq!(
        user.attrs.get("uid"),
        Some(&strings(&["alee", "Ann.Lee", "ann"]))
    );
    // Named by another attribute: the first value.
    let user = mapped(
        &f,
        &entry(
            "cn=Ann Lee,ou=people,dc=example,dc=org",
            &[
                ("objectClass", &["inetOrgPerson"]),
                ("uid", &["alee", "ann"]),
            ],
        ),
    );
    assert_eq!(user.name, "alee");
    let group = mapped(
        &f,
        &entry(
            r"cn=R\2BD,ou=groups,dc=example,dc=org",
            &[
                ("objectClass", &["groupOfNames"]),
                ("cn", &["research", "R+D"]),
            ],
        ),
    );
    assert_eq!(group.name, "R+D");
}

#[test]
fn attribute_overrides() {
    let f = flavour(
        FlavourKind::Ldap,
        &with_attributes(
            BASE,
            &[
                ("displayName", "cn"),
                ("Mail", "email"),
                ("title", ""),
                ("name", "email"),
                ("group_name", "ou"),
                ("member", "roleOccupant, member"),
                ("member_uid", "memberUid"),
                ("enabled", "loginDisabled"),
            ],
        ),
    );
    let attrs = f.sync_attributes();
    for needed in ["email", "ou", "roleOccupant", "memberUid", "loginDisabled"] {
        assert!(
            attrs.iter().any(|a| a == needed),
            "{needed} missing from {attrs:?}"
        );
    }
    assert!(
        !attrs
            .iter()
            .any(|a| a == "title" || a == "pwdAccountLockedTime" || a == "uniqueMember"),
        "{attrs:?}"
    );
    let user = mapped(
        &f,
        &entry(
            "uid=ann,dc=example,dc=org",
            &[
                ("objectClass", &["inetOrgPerson"]),
                ("uid", &["ann"]),
                ("cn", &["Ann Lee"]),
                ("email", &["ann@example.org"]),
                ("mail", &["ignored@example.org"]),
                ("title", &["ignored"]),
                ("loginDisabled", &["TRUE"]),
                ("pwdAccountLockedTime", &["000001010000Z"]),
            ],
        ),
    );
    assert_eq!(user.name, "ann@example.org");
    assert_eq!(user.attr("displayName"), Some("Ann Lee"));
    assert_eq!(user.attr("commonName"), Some("Ann Lee"));
    assert_eq!(user.attr("mail"), Some("ann@example.org"));
    assert_eq!(user.attr("title"), None);
    assert!(!user.enabled);
    let unlocked = mapped(
        &f,
        &entry(
            "uid=bob,dc=example,dc=org",
            &[
                ("objectClass", &["inetOrgPerson"]),
                ("email", &["bob@example.org"]),
                ("loginDisabled", &["FALSE"]),
                ("pwdAccountLockedTime", &["000001010000Z"]),
            ],
        ),
    );
    assert!(unlocked.enabled, "pwdAccountLockedTime is no longer a rule");
    let group = mapped(
        &f,
        &entry(
            "cn=g,dc=example,dc=org",
            &[
                ("objectClass", &["groupOfUniqueNames"]),
                ("ou", &["Research"]),
                ("roleOccupant", &["uid=a,dc=example,dc=org"]),
                ("member", &["uid=b,dc=example,dc=org"]),
                ("uniqueMember", &["uid=ignored,dc=example,dc=org"]),
                ("memberUid", &["c"]),
            ],
        ),
    );
    assert_eq!(group.name, "Research");
    assert_eq!(
        group.members,
        vec![
            dn("uid=a,dc=example,dc=org"),
            dn("uid=b,dc=example,dc=org"),
            name("c")
        ]
    );

    // `enabled = ""`: nobody is ever disabled.
    let f = flavour(
        FlavourKind::Ldap,
        &with_attributes(BASE, &[("enabled", "")]),
    );
    let mut raw = ann();
    raw.attributes.push(RawAttribute {
        name: "pwdAccountLockedTime".to_owned(),
        values: vec![b"000001010000Z".to_vec()],
    });
    assert!(mapped(&f, &raw).enabled);
}

#[test]
fn filter_overrides_classify_client_side() {
    let settings = FlavourSettings {
        users: crate::config::EntrySearch {
            filter: Some("(&(objectClass=person)(!(employeeType=contractor)))".to_owned()),
            ..Default::default()
        },
        groups: crate::config::EntrySearch {
            filter: Some("objectClass=groupOfNames".to_owned()),
            ..Default::default()
        },
        ..with_base(BASE)
    };
    let f = flavour(FlavourKind::Ldap, &settings);
    assert_eq!(
        f.sync_filter(),
        "(|(&(objectClass=person)(!(employeeType=contractor)))(objectClass=groupOfNames))"
    );
    assert_eq!(f.groups_filter(), "(objectClass=groupOfNames)");
    assert!(f.sync_attributes().iter().any(|a| a == "employeeType"));
    assert!(f.light_attributes().iter().any(|a| a == "employeeType"));
    // person via the inetOrgPerson subclass.
    let user = mapped(
        &f,
        &entry(
            "uid=a,dc=example,dc=org",
            &[("objectClass", &["inetOrgPerson"]), ("uid", &["a"])],
        ),
    );
    assert_eq!(user.name, "a");
    let error = map_error(
        &f,
        &entry(
            "uid=c,dc=example,dc=org",
            &[
                ("objectClass", &["inetOrgPerson"]),
                ("uid", &["c"]),
                ("employeeType", &["Contractor"]),
            ],
        ),
    );
    assert!(matches!(error, MapError::Unclassified { .. }), "{error}");

    // Undecidable users filter: the base decides; a group in both bases is a group.
    let settings = FlavourSettings {
        users: crate::config::EntrySearch {
            filter: Some("(&(objectClass=posixAccount)(uidNumber>=1000))".to_owned()),
            ..Default::default()
        },
        ..with_base(BASE)
    };
    let f = flavour(FlavourKind::Ldap, &settings);
    let user = mapped(
        &f,
        &entry(
            "uid=a,dc=example,dc=org",
            &[("objectClass", &["posixAccount"]), ("uid", &["a"])],
        ),
    );
    assert_eq!(user.kind, idsync_core::EntryKind::User);
}

#[test]
fn ambiguous_entries_are_errors() {
    let settings = FlavourSettings {
        users: crate::config::EntrySearch {
            filter: Some("(objectClass=top)".to_owned()),
            ..Default::default()
        },
        ..with_base(BASE)
    };
    let f = flavour(FlavourKind::Ldap, &settings);
    assert_eq!(f.sync_filter().matches("objectClass").count(), 3);
    let error = map_error(
        &f,
        &entry(
            "cn=g,dc=example,dc=org",
            &[("objectClass", &["top", "groupOfNames"]), ("cn", &["g"])],
        ),
    );
    assert!(matches!(error, MapError::Ambiguous { .. }), "{error}");
    assert!(
        error.to_string().contains("`cn=g,dc=example,dc=org`"),
        "{error}"
    );
}

#[test]
fn same_base_and_scope_keeps_the_scope() {
    let search = crate::config::EntrySearch {
        base: Some("ou=all,dc=example,dc=org".to_owned()),
        scope: Some(crate::config::Scope::One),
        filter: None,
    };
    let f = flavour(
        FlavourKind::Ldap,
        &FlavourSettings {
            users: search.clone(),
            groups: search,
            ..with_base(BASE)
        },
    );
    assert_eq!(f.sync_base(), "ou=all,dc=example,dc=org");
    assert_eq!(f.sync_scope(), ldap3::Scope::OneLevel);
}

#[test]
fn id_of_reads_entry_uuid() {
    let f = ldap();
    let expected = idsync_core::EntryId(uuid::Uuid::from_u128(
        0xbaf2f634_7bb0_1041_8f86_cdab19b76679,
    ));
    assert_eq!(f.id_of(&ann()), Ok(expected));
    let raw = entry("uid=x,dc=example,dc=org", &[("entryuuid", &["not-a-uuid"])]);
    let error = f.id_of(&raw).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some(
            "entry `uid=x,dc=example,dc=org`: `entryUUID` value `not-a-uuid` is not a UUID \
             (8-4-4-4-12 hex digits)"
        )
    );
    let raw = entry("uid=x,dc=example,dc=org", &[("uid", &["x"])]);
    assert!(matches!(f.id_of(&raw), Err(MapError::MissingId { .. })));
}
