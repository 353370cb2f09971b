//! Settings problems: every one at once, each keyed relative to `[source]`.

use super::*;
use crate::config::{EntrySearch, Scope};

#[test]
fn a_base_is_required() {
    for kind in FlavourKind::ALL {
        let found = problems(kind, &FlavourSettings::default());
        assert_eq!(keys(&found), vec!["base"], "{kind}");
        assert!(
            found.iter().all(|p| p.message.contains("domain")),
            "{found:?}"
        );
    }
    // Both bases given: no `base` needed; the sync base is their common ancestor.
    let f = flavour(
        FlavourKind::Ldap,
        &FlavourSettings {
            users: EntrySearch {
                base: Some("ou=people,dc=example,dc=org".to_owned()),
                ..Default::default()
            },
            groups: EntrySearch {
                base: Some("ou=groups,dc=example,dc=org".to_owned()),
                ..Default::default()
            },
            ..FlavourSettings::default()
        },
    );
    assert_eq!(f.sync_base(), "dc=example,dc=org");
    // `domain` works for every flavour.
    let f = flavour(
        FlavourKind::Rfc2307,
        &FlavourSettings {
            domain: Some("example.org".to_owned()),
            ..FlavourSettings::default()
        },
    );
    assert_eq!(f.sync_base(), "dc=example,dc=org");
}

#[test]
fn every_problem_is_reported_at_once() {
    let settings = FlavourSettings {
        base: Some("dc=example,dc=org".to_owned()),
        domain: None,
        users: EntrySearch {
            base: Some("ou=people,dc=other".to_owned()),
            scope: Some(Scope::One),
            filter: Some("(objectClass=person".to_owned()),
        },
        groups: EntrySearch {
            base: Some("ou=groups,,dc=example,dc=org".to_owned()),
            scope: None,
            filter: Some(r"(cn=\zz)".to_owned()),
        },
        attributes: [
            ("favouriteColour", "x"),
            ("mail", "not an attribute"),
            ("member", "member, memberOf"),
            ("id", "objectGUID"),
            ("user_name", ""),
            ("displayName", "memberOf;x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        include_internal_groups: true,
    };
    let found = problems(FlavourKind::Ldap, &settings);
    let mut found_keys = keys(&found);
    found_keys.sort_unstable();
    assert_eq!(
        found_keys,
        vec![
            "attributes.displayName",
            "attributes.favouriteColour",
            "attributes.id",
            "attributes.mail",
            "attributes.member",
            "attributes.user_name",
            "groups.base",
            "groups.filter",
            "include_internal_groups",
            "users.base",
            "users.filter",
        ],
        "{found:#?}"
    );
    let text = |key: &str| {
        found
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        text("users.base"),
        "`users.base`: `ou=people,dc=other` is not within `base` `dc=example,dc=org`"
    );
    assert!(
        text("users.filter").contains("`(objectClass=person` is not an LDAP filter"),
        "{}",
        text("users.filter")
    );
    assert!(
        text("attributes.member").contains("memberOf"),
        "{}",
        text("attributes.member")
    );
    assert!(text("attributes.favouriteColour").contains("unknown key"));
    assert!(text("attributes.id").contains("entryUUID"));
    assert!(text("include_internal_groups").contains("freeipa"));
    let rendered = super::super::Problems(&found).to_string();
    assert_eq!(rendered.lines().count(), found.len());
}

#[test]
fn base_and_domain_syntax() {
    let found = problems(FlavourKind::Ldap, &with_base("example.org"));
    assert_eq!(keys(&found), vec!["base"]);
    let found = problems(
        FlavourKind::FreeIpa,
        &FlavourSettings {
            domain: Some("example..org".to_owned()),
            ..FlavourSettings::default()
        },
    );
    assert_eq!(keys(&found), vec!["domain"]);
}

#[test]
fn bases_without_a_common_ancestor() {
    let found = problems(
        FlavourKind::Ldap,
        &FlavourSettings {
            users: EntrySearch {
                base: Some("ou=people,dc=a".to_owned()),
                ..Default::default()
            },
            groups: EntrySearch {
                base: Some("ou=groups,dc=b".to_owned()),
                ..Default::default()
            },
            ..FlavourSettings::default()
        },
    );
    assert_eq!(keys(&found), vec!["groups.base"]);
    assert!(found.iter().all(|p| p.message.contains("no ancestor")));
}

#[test]
fn attribute_keys_are_case_insensitive_but_unique() {
    let f = flavour(
        FlavourKind::Ldap,
        &with_attributes(
            "dc=x",
            &[
                ("DISPLAYNAME", "cn"),
                ("User_Name", "mail"),
                ("ID", "nsuniqueid"),
            ],
        ),
    );
    assert!(f.quirks_389());
    assert_eq!(f.id_attribute().name(), "nsUniqueId");
    let raw = entry(
        "uid=a,dc=x",
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("mail", &["a@x"]),
            ("cn", &["A"]),
        ],
    );
    let user = mapped(&f, &raw);
    assert_eq!(user.name, "a@x");
    assert_eq!(user.attr("displayName"), Some("A"));

    let found = problems(
        FlavourKind::Ldap,
        &with_attributes(
            "dc=x",
            &[
                ("mail", "a"),
                ("MAIL", "b"),
                ("name", "uid"),
                ("user_name", "uid"),
            ],
        ),
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|p| p.message.contains("given twice")));
}

#[test]
fn filters_are_checked_by_ldap3_too() {
    // Accepted by both parsers: bare items, extensible matches, escapes.
    for good in [
        "objectClass=person",
        "(&(objectClass=person)(cn:caseExactMatch:=Ann))",
        r"(cn=a\2ab)",
        "(|(uid=a*)(uid=*b)(uid=*c*))",
    ] {
        let settings = FlavourSettings {
            users: EntrySearch {
                filter: Some(good.to_owned()),
                ..Default::default()
            },
            ..with_base("dc=x")
        };
        let f = flavour(FlavourKind::Ldap, &settings);
        assert!(
            ldap3::parse_filter(f.sync_filter()).is_ok(),
            "{}",
            f.sync_filter()
        );
    }
    for bad in ["", "(", "((uid=a))", "(uid=a)(uid=b)", "(uid=a))"] {
        let settings = FlavourSettings {
            groups: EntrySearch {
                filter: Some(bad.to_owned()),
                ..Default::default()
            },
            ..with_base("dc=x")
        };
        assert_eq!(
            keys(&problems(FlavourKind::Ldap, &settings)),
            vec!["groups.filter"],
            "{bad:?}"
        );
    }
}
