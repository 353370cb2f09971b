//! Unit tests of the flavours: one module per flavour, one for the settings checks, one for
//! malformed entries.

mod config;
mod freeipa;
mod ldap;
mod malformed;
mod rfc2307;
mod scale;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use idsync_core::{Entry, EntryId, MemberRef};

use super::{Flavour, FlavourKind, FlavourProblem, FlavourSettings, MapError, Mapped};
use crate::raw::{RawAttribute, RawEntry};

/// An entry with UTF-8 attribute values.
fn entry(dn: &str, attributes: &[(&str, &[&str])]) -> RawEntry {
    RawEntry {
        dn: dn.to_owned(),
        attributes: attributes
            .iter()
            .map(|(name, values)| RawAttribute {
                name: (*name).to_owned(),
                values: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
            })
            .collect(),
        controls: Vec::new(),
    }
}

/// Settings with only `base`.
fn with_base(base: &str) -> FlavourSettings {
    FlavourSettings {
        base: Some(base.to_owned()),
        ..FlavourSettings::default()
    }
}

/// Settings with `base` and `[source.attributes]` overrides.
fn with_attributes(base: &str, overrides: &[(&str, &str)]) -> FlavourSettings {
    FlavourSettings {
        attributes: overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        ..with_base(base)
    }
}

/// A flavour that must build.
fn flavour(kind: FlavourKind, settings: &FlavourSettings) -> Flavour {
    Flavour::new(kind, settings)
        .unwrap_or_else(|problems| panic!("unexpected problems: {problems:?}"))
}

/// The problems of settings that must not build.
fn problems(kind: FlavourKind, settings: &FlavourSettings) -> Vec<FlavourProblem> {
    match Flavour::new(kind, settings) {
        Ok(flavour) => panic!("expected problems, got {flavour:?}"),
        Err(problems) => problems,
    }
}

/// The keys of a list of problems.
fn keys(problems: &[FlavourProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.key.as_str()).collect()
}

/// A fixed id.
fn id(n: u8) -> EntryId {
    EntryId::from_bytes([n; 16])
}

/// 2026-01-01T00:00:00Z: day 20454.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(20_454 * 86_400)
}

/// Maps an entry that must be in view.
fn mapped(flavour: &Flavour, raw: &RawEntry) -> Entry {
    match flavour.map_at(id(1), raw, now()) {
        Ok(Mapped::Entry(entry)) => entry,
        other => panic!("expected an entry for {}, got {other:?}", raw.dn),
    }
}

/// Maps an entry that must be out of view.
fn assert_out_of_view(flavour: &Flavour, raw: &RawEntry) {
    match flavour.map_at(id(1), raw, now()) {
        Ok(Mapped::OutOfView) => {}
        other => panic!("expected {} out of view, got {other:?}", raw.dn),
    }
}

/// Maps an entry that must fail.
fn map_error(flavour: &Flavour, raw: &RawEntry) -> MapError {
    match flavour.map_at(id(1), raw, now()) {
        Err(error) => error,
        Ok(other) => panic!("expected an error for {}, got {other:?}", raw.dn),
    }
}

fn dn(value: &str) -> MemberRef {
    MemberRef::Dn(value.to_owned())
}

fn name(value: &str) -> MemberRef {
    MemberRef::Name(value.to_owned())
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn flavour_names_round_trip() {
    for kind in FlavourKind::ALL {
        assert_eq!(kind.to_string().parse::<FlavourKind>(), Ok(kind));
    }
    assert_eq!("FreeIPA".parse::<FlavourKind>(), Ok(FlavourKind::FreeIpa));
    assert_eq!("RFC2307".parse::<FlavourKind>(), Ok(FlavourKind::Rfc2307));
    let error = "ad".parse::<FlavourKind>().err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("unknown LDAP flavour `ad` (expected `ldap`, `rfc2307` or `freeipa`)")
    );
}

#[test]
fn settings_come_from_both_source_configs() {
    let live = crate::config::LdapSourceConfig {
        url: "ldap://x".to_owned(),
        base: Some("dc=x".to_owned()),
        domain: Some("x".to_owned()),
        include_internal_groups: true,
        attributes: BTreeMap::from([("mail".to_owned(), "email".to_owned())]),
        users: crate::config::EntrySearch {
            base: Some("ou=p,dc=x".to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let settings = FlavourSettings::from(&live);
    assert_eq!(settings.base.as_deref(), Some("dc=x"));
    assert_eq!(settings.domain.as_deref(), Some("x"));
    assert!(settings.include_internal_groups);
    assert_eq!(settings.users.base.as_deref(), Some("ou=p,dc=x"));
    assert_eq!(
        settings.attributes.get("mail").map(String::as_str),
        Some("email")
    );

    let replay = crate::config::ReplaySourceConfig {
        flavour: "ldap".to_owned(),
        base: Some("dc=y".to_owned()),
        groups: crate::config::EntrySearch {
            filter: Some("(objectClass=x)".to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let settings = FlavourSettings::from(&replay);
    assert_eq!(settings.base.as_deref(), Some("dc=y"));
    assert_eq!(settings.groups.filter.as_deref(), Some("(objectClass=x)"));
    assert!(!settings.include_internal_groups);
}
