//! Mapping at scale: a generated directory (users and groups with many members) maps with the
//! right counts. `IDSYNC_FLAVOUR_SCALE=100000` maps 100k users and 1M memberships (run it with
//! `--release` to measure: the elapsed time is printed).

use std::time::Instant;

use super::*;

fn generated(users: usize) -> Vec<RawEntry> {
    let groups = users / 100;
    let mut entries = Vec::with_capacity(users + groups);
    for n in 0..users {
        let uid = format!("user{n:06}");
        entries.push(RawEntry {
            dn: format!("uid={uid},ou=people,dc=example,dc=org"),
            attributes: [
                (
                    "objectClass",
                    vec![
                        "top".to_owned(),
                        "person".to_owned(),
                        "organizationalPerson".to_owned(),
                        "inetOrgPerson".to_owned(),
                        "posixAccount".to_owned(),
                    ],
                ),
                ("uid", vec![uid.clone()]),
                ("cn", vec![format!("User {n}")]),
                ("sn", vec![format!("{n}")]),
                ("givenName", vec!["User".to_owned()]),
                ("displayName", vec![format!("User {n}")]),
                ("mail", vec![format!("{uid}@example.org")]),
                ("telephoneNumber", vec!["+1 555 0100".to_owned()]),
                ("uidNumber", vec![format!("{}", 10_000 + n)]),
                ("gidNumber", vec!["10000".to_owned()]),
                ("homeDirectory", vec![format!("/home/{uid}")]),
                ("loginShell", vec!["/bin/bash".to_owned()]),
                (
                    "entryUUID",
                    vec![format!("00000000-0000-1000-8000-{n:012}")],
                ),
            ]
            .into_iter()
            .map(|(name, values)| RawAttribute {
                name: name.to_owned(),
                values: values.into_iter().map(String::into_bytes).collect(),
            })
            .collect(),
            controls: Vec::new(),
        });
    }
    // Each group holds 1,000 members: groups × 1,000 = users × 10 memberships.
    for g in 0..groups {
        let members = (0..1_000)
            .map(|i| {
                format!(
                    "uid=user{:06},ou=people,dc=example,dc=org",
                    (g * 37 + i * 101) % users
                )
                .into_bytes()
            })
            .collect();
        entries.push(RawEntry {
            dn: format!("cn=group{g:05},ou=groups,dc=example,dc=org"),
            attributes: vec![
                RawAttribute {
                    name: "objectClass".to_owned(),
                    values: vec![b"top".to_vec(), b"groupOfNames".to_vec()],
                },
                RawAttribute {
                    name: "cn".to_owned(),
                    values: vec![format!("group{g:05}").into_bytes()],
                },
                RawAttribute {
                    name: "member".to_owned(),
                    values: members,
                },
            ],
            controls: Vec::new(),
        });
    }
    entries
}

#[test]
fn maps_a_generated_directory() {
    let users = std::env::var("IDSYNC_FLAVOUR_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let entries = generated(users);
    let f = flavour(FlavourKind::Ldap, &with_base("dc=example,dc=org"));
    let started = Instant::now();
    let cpu_started = thread_cpu_ns();
    let (mut mapped_users, mut mapped_groups, mut memberships) = (0, 0, 0);
    for raw in &entries {
        match f.map_at(id(1), raw, now()) {
            Ok(Mapped::Entry(entry)) => match entry.kind {
                idsync_core::EntryKind::User => {
                    assert_eq!(entry.attrs.len(), 9, "{:?}", entry.attrs);
                    mapped_users += 1;
                }
                idsync_core::EntryKind::Group => {
                    mapped_groups += 1;
                    memberships += entry.members.len();
                }
            },
            other => panic!("{}: {other:?}", raw.dn),
        }
    }
    let elapsed = started.elapsed();
    let cpu = thread_cpu_ns().saturating_sub(cpu_started);
    eprintln!(
        "mapped {mapped_users} users, {mapped_groups} groups, {memberships} memberships in \
         {elapsed:?} ({} ms of CPU)",
        cpu / 1_000_000
    );
    let started = Instant::now();
    let cpu_started = thread_cpu_ns();
    let groups_only = entries
        .iter()
        .filter(|raw| raw.dn.starts_with("cn="))
        .filter(|raw| matches!(f.map_at(id(1), raw, now()), Ok(Mapped::Entry(_))))
        .count();
    eprintln!(
        "of which the {groups_only} groups took {:?} ({} ms of CPU)",
        started.elapsed(),
        thread_cpu_ns().saturating_sub(cpu_started) / 1_000_000
    );
    assert_eq!(mapped_users, users);
    assert_eq!(mapped_groups, users / 100);
    assert_eq!(memberships, users * 10);
}

/// CPU time of this thread in ns (Linux schedstat; 0 elsewhere): the machine running the
/// tests is shared, so wall time says little.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}
