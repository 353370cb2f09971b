//! The `freeipa` flavour: 389-ds, nsUniqueId, nsAccountLock, ipaUserGroup, internal groups.

use super::*;

fn with_domain(domain: &str) -> FlavourSettings {
    FlavourSettings {
        domain: Some(domain.to_owned()),
        ..FlavourSettings::default()
    }
}

fn ipa() -> Flavour {
    flavour(FlavourKind::FreeIpa, &with_domain("example.org"))
}

/// A FreeIPA user as the 389-ds probe and bootstrap-template.ldif show them.
fn ipa_user(uid: &str, lock: Option<&str>) -> RawEntry {
    let dn = format!("uid={uid},cn=users,cn=accounts,dc=example,dc=org");
    let mut raw = entry(
        &dn,
        &[
            (
                "objectClass",
                &[
                    "top",
                    "person",
                    "organizationalperson",
                    "inetorgperson",
                    "inetuser",
                    "posixaccount",
                    "krbprincipalaux",
                    "krbticketpolicyaux",
                    "ipaobject",
                    "ipasshuser",
                ],
            ),
            ("cn", &["Ann Lee"]),
            ("sn", &["Lee"]),
            ("givenName", &["Ann"]),
            ("displayName", &["Ann Lee"]),
            ("mail", &["ann@example.org"]),
            ("uidNumber", &["1234400001"]),
            ("gidNumber", &["1234400001"]),
            ("ipaUniqueID", &["3e1c6e4a-4b6a-11f1-8cdb-525400a1b2c3"]),
            (
                "memberOf",
                &["cn=ipausers,cn=groups,cn=accounts,dc=example,dc=org"],
            ),
            ("nsUniqueId", &["796a8a91-e76311f1-81758cdf-7223d497"]),
        ],
    );
    raw.attributes.push(RawAttribute {
        name: "uid".to_owned(),
        values: vec![uid.as_bytes().to_vec()],
    });
    if let Some(lock) = lock {
        raw.attributes.push(RawAttribute {
            name: "nsaccountlock".to_owned(),
            values: vec![lock.as_bytes().to_vec()],
        });
    }
    raw
}

fn ipa_group(cn: &str, members: &[&str]) -> RawEntry {
    let dn = format!("cn={cn},cn=groups,cn=accounts,dc=example,dc=org");
    let mut raw = entry(
        &dn,
        &[
            (
                "objectClass",
                &[
                    "top",
                    "groupofnames",
                    "nestedgroup",
                    "ipausergroup",
                    "ipaobject",
                    "posixgroup",
                ],
            ),
            ("gidNumber", &["1234400005"]),
            ("description", &["A team"]),
        ],
    );
    raw.attributes.push(RawAttribute {
        name: "cn".to_owned(),
        values: vec![cn.as_bytes().to_vec()],
    });
    raw.attributes.push(RawAttribute {
        name: "member".to_owned(),
        values: members.iter().map(|m| m.as_bytes().to_vec()).collect(),
    });
    raw
}

#[test]
fn base_from_domain_and_sync_search() {
    let f = ipa();
    assert_eq!(f.kind(), FlavourKind::FreeIpa);
    assert_eq!(f.users_base(), "cn=users,cn=accounts,dc=example,dc=org");
    assert_eq!(f.groups_base(), "cn=groups,cn=accounts,dc=example,dc=org");
    assert_eq!(f.sync_base(), "cn=accounts,dc=example,dc=org");
    assert_eq!(f.sync_scope(), ldap3::Scope::Subtree);
    assert_eq!(
        f.sync_filter(),
        "(|(objectClass=person)(objectClass=ipaUserGroup))"
    );
    assert_eq!(f.id_attribute().name(), "nsUniqueId");
    assert!(f.quirks_389());
    let attrs = f.sync_attributes();
    for needed in [
        "nsUniqueId",
        "nsAccountLock",
        "member",
        "uid",
        "cn",
        "objectClass",
    ] {
        assert!(
            attrs.iter().any(|a| a == needed),
            "{needed} missing from {attrs:?}"
        );
    }
    for absent in [
        "memberOf",
        "memberUid",
        "uniqueMember",
        "entryUUID",
        "pwdAccountLockedTime",
    ] {
        assert!(
            !attrs.iter().any(|a| a.eq_ignore_ascii_case(absent)),
            "{absent} in {attrs:?}"
        );
    }
    assert_eq!(
        f.light_attributes(),
        strings(&["objectClass", "nsUniqueId", "uid", "cn", "member"])
    );

    // `base` wins over `domain`; either alone works.
    let f = flavour(
        FlavourKind::FreeIpa,
        &FlavourSettings {
            base: Some("dc=ipa,dc=test".to_owned()),
            ..with_domain("example.org")
        },
    );
    assert_eq!(f.sync_base(), "cn=accounts,dc=ipa,dc=test");
    let f = flavour(FlavourKind::FreeIpa, &with_base("dc=ipa,dc=test"));
    assert_eq!(f.users_base(), "cn=users,cn=accounts,dc=ipa,dc=test");
}

#[test]
fn users_with_ns_account_lock() {
    let f = ipa();
    let user = mapped(&f, &ipa_user("ann", None));
    assert_eq!(user.kind, idsync_core::EntryKind::User);
    assert_eq!(user.name, "ann");
    assert!(user.enabled);
    assert_eq!(user.attr("displayName"), Some("Ann Lee"));
    assert_eq!(user.attr("uidNumber"), Some("1234400001"));
    assert!(!user.attrs.contains_key("memberOf"));
    for (lock, enabled) in [
        ("TRUE", false),
        ("true", false),
        ("True", false),
        ("FALSE", true),
        ("false", true),
    ] {
        assert_eq!(
            mapped(&f, &ipa_user("ann", Some(lock))).enabled,
            enabled,
            "{lock}"
        );
    }
}

#[test]
fn groups_with_nested_members() {
    let group = mapped(
        &ipa(),
        &ipa_group(
            "allteams",
            &[
                "cn=team0001,cn=groups,cn=accounts,dc=example,dc=org",
                "uid=ann,cn=users,cn=accounts,dc=example,dc=org",
            ],
        ),
    );
    assert_eq!(group.kind, idsync_core::EntryKind::Group);
    assert_eq!(group.name, "allteams");
    assert_eq!(group.attr("gidNumber"), Some("1234400005"));
    assert_eq!(
        group.members,
        vec![
            dn("cn=team0001,cn=groups,cn=accounts,dc=example,dc=org"),
            dn("uid=ann,cn=users,cn=accounts,dc=example,dc=org"),
        ]
    );
}

#[test]
fn internal_groups_are_left_out_by_default() {
    let f = ipa();
    for internal in [
        "admins",
        "editors",
        "ipausers",
        "trust admins",
        "Trust Admins",
        "Default SMB Group",
    ] {
        assert_out_of_view(
            &f,
            &ipa_group(
                internal,
                &["uid=admin,cn=users,cn=accounts,dc=example,dc=org"],
            ),
        );
    }
    // Same names elsewhere, or other groups: kept.
    mapped(&f, &ipa_group("admins-eu", &[]));
    mapped(&f, &ipa_group("staff", &[]));
    let mut nested = ipa_group("admins", &[]);
    nested.dn = "cn=admins,cn=sub,cn=groups,cn=accounts,dc=example,dc=org".to_owned();
    mapped(&f, &nested);

    let included = flavour(
        FlavourKind::FreeIpa,
        &FlavourSettings {
            include_internal_groups: true,
            ..with_domain("example.org")
        },
    );
    for internal in ["admins", "editors", "ipausers", "trust admins"] {
        let group = mapped(&included, &ipa_group(internal, &[]));
        assert_eq!(group.name, internal);
    }
}

#[test]
fn entries_outside_users_and_groups_are_out_of_view() {
    let f = ipa();
    // A host (cn=computers), a user private group (no ipaUserGroup: the server would not
    // send it), a compat-tree or staged user, a hostgroup.
    let mut host = ipa_user("host", None);
    host.dn = "fqdn=h.example.org,cn=computers,cn=accounts,dc=example,dc=org".to_owned();
    assert_out_of_view(&f, &host);
    let mut staged = ipa_user("new", None);
    staged.dn = "uid=new,cn=staged users,cn=accounts,cn=provisioning,dc=example,dc=org".to_owned();
    assert_out_of_view(&f, &staged);
    let mut hostgroup = ipa_group("ipaservers", &[]);
    hostgroup.dn = "cn=ipaservers,cn=hostgroups,cn=accounts,dc=example,dc=org".to_owned();
    assert_out_of_view(&f, &hostgroup);
}

#[test]
fn ids_from_ns_unique_id() {
    let f = ipa();
    let expected = super::super::id_from_sync_uuid([
        0x79, 0x6a, 0x8a, 0x91, 0xe7, 0x63, 0x11, 0xf1, 0x81, 0x75, 0x8c, 0xdf, 0x72, 0x23, 0xd4,
        0x97,
    ]);
    assert_eq!(f.id_of(&ipa_user("ann", None)), Ok(expected));
    let mut raw = ipa_user("ann", None);
    raw.attributes.retain(|a| a.name != "nsUniqueId");
    raw.attributes.push(RawAttribute {
        name: "nsuniqueid".to_owned(),
        values: vec![b"22633778-7f4e-4912-9365-73eb04af01d6".to_vec()],
    });
    let error = f.id_of(&raw).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some(
            "entry `uid=ann,cn=users,cn=accounts,dc=example,dc=org`: `nsUniqueId` value \
             `22633778-7f4e-4912-9365-73eb04af01d6` is not an nsUniqueId (8-8-8-8 hex digits)"
        )
    );
}

#[test]
fn overrides_apply_to_freeipa_too() {
    let f = flavour(
        FlavourKind::FreeIpa,
        &FlavourSettings {
            users: crate::config::EntrySearch {
                scope: Some(crate::config::Scope::One),
                filter: Some("(objectClass=posixAccount)".to_owned()),
                ..Default::default()
            },
            attributes: BTreeMap::from([("surname".to_owned(), "".to_owned())]),
            ..with_domain("example.org")
        },
    );
    assert_eq!(
        f.sync_filter(),
        "(|(objectClass=posixAccount)(objectClass=ipaUserGroup))"
    );
    let user = mapped(&f, &ipa_user("ann", None));
    assert_eq!(user.attr("surname"), None);
    let mut deep = ipa_user("deep", None);
    deep.dn = "uid=deep,cn=x,cn=users,cn=accounts,dc=example,dc=org".to_owned();
    assert_out_of_view(&f, &deep);
}
