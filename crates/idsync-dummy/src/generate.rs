//! The synthetic directory for benchmarks (`[source.generate]`).
//!
//! For given [`GenerateParams`] the output is always the same:
//! * users `user000001`, `user000002`, … (at least six digits) with `displayName`,
//!   `givenName`, `surname`, `mail` (`<name>@example.org`) and `uidNumber` (10000 + number),
//!   all enabled;
//! * groups `group00001`, … (at least five digits) with a `description`;
//! * exactly `memberships` distinct (group, user) pairs, spread evenly over the groups (the
//!   first `memberships % groups` groups have one more); each group's users are a
//!   pseudo-random arithmetic progression modulo the number of users, so they are distinct
//!   without any hashing;
//! * the first `nested` groups contain other groups: group `k` (from 0) contains groups
//!   `2k + 1` and `2k + 2` and, half of the time, one more group further down, so the nesting
//!   is a tree of logarithmic depth. When `nested >= 2` the last nested group also contains
//!   the first one, which makes one membership cycle (sinks must cope with cycles).
//!   These group-in-group memberships come on top of `memberships`.
//!
//! Ids are the v5 ids of the names, as for a directory file without ids, so a file written by
//! [`write_yaml`] gives exactly the entries [`generate`] gives.

use std::collections::BTreeMap;
use std::io::{self, Write};

use idsync_core::{Entry, EntryId, EntryKind, MemberRef};

use crate::config::GenerateParams;
use crate::ids::{derived_id, locator};
use crate::rng::SplitMix64;

const USER_DOMAIN: u64 = 1;
const GROUP_DOMAIN: u64 = 2;

const GIVEN_NAMES: [&str; 24] = [
    "Ada",
    "Alan",
    "Barbara",
    "Brian",
    "Claude",
    "Dennis",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "John",
    "Ken",
    "Leslie",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Robin",
    "Shafi",
    "Sophie",
    "Tim",
    "Tony",
    "Whitfield",
];

const SURNAMES: [&str; 24] = [
    "Allen",
    "Backus",
    "Cerf",
    "Dijkstra",
    "Engelbart",
    "Floyd",
    "Goldwasser",
    "Hamilton",
    "Hoare",
    "Hopper",
    "Kahn",
    "Knuth",
    "Lamarr",
    "Lamport",
    "Liskov",
    "Lovelace",
    "McCarthy",
    "Milner",
    "Perlman",
    "Ritchie",
    "Shannon",
    "Thompson",
    "Turing",
    "Wirth",
];

/// The entries of a synthetic directory: users, then groups. Lazy: entries are built as
/// they are taken, so memory stays small whatever the size.
pub fn generate(params: &GenerateParams) -> GeneratedEntries {
    let plan = Plan::new(*params);
    let user_ids = (0..params.users)
        .map(|index| derived_id(EntryKind::User, &user_name(index)))
        .collect();
    let group_ids = (0..params.groups)
        .map(|index| derived_id(EntryKind::Group, &group_name(index)))
        .collect();
    GeneratedEntries {
        plan,
        user_ids,
        group_ids,
        next: 0,
    }
}

/// Iterator over the entries of a synthetic directory (see [`generate`]).
#[derive(Debug)]
pub struct GeneratedEntries {
    plan: Plan,
    user_ids: Vec<EntryId>,
    group_ids: Vec<EntryId>,
    next: u64,
}

impl GeneratedEntries {
    fn user_id(&self, index: u32) -> Option<EntryId> {
        self.user_ids.get(index as usize).copied()
    }

    fn group_id(&self, index: u32) -> Option<EntryId> {
        self.group_ids.get(index as usize).copied()
    }

    fn total(&self) -> u64 {
        u64::from(self.plan.params.users) + u64::from(self.plan.params.groups)
    }
}

impl Iterator for GeneratedEntries {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let position = self.next;
        if position >= self.total() {
            return None;
        }
        self.next += 1;
        let users = u64::from(self.plan.params.users);
        if position < users {
            let index = u32::try_from(position).ok()?;
            let user = self.plan.user(index);
            return Some(Entry {
                id: self.user_id(index)?,
                kind: EntryKind::User,
                locator: locator(EntryKind::User, &user.name),
                name: user.name,
                enabled: true,
                attrs: user.attrs,
                members: Vec::new(),
            });
        }
        let index = u32::try_from(position - users).ok()?;
        let group = self.plan.group(index);
        let mut members = Vec::with_capacity(group.users.len() + group.groups.len());
        members.extend(
            group
                .users
                .iter()
                .filter_map(|user| self.user_id(*user))
                .map(MemberRef::Id),
        );
        members.extend(
            group
                .groups
                .iter()
                .filter_map(|group| self.group_id(*group))
                .map(MemberRef::Id),
        );
        let mut attrs = BTreeMap::new();
        attrs.insert("description".to_owned(), vec![group.description]);
        Some(Entry {
            id: self.group_id(index)?,
            kind: EntryKind::Group,
            locator: locator(EntryKind::Group, &group.name),
            name: group.name,
            enabled: true,
            attrs,
            members,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.total().saturating_sub(self.next)).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for GeneratedEntries {}

/// Writes the synthetic directory as a YAML directory file: reading that file gives exactly
/// the entries of [`generate`].
pub fn write_yaml<W: Write>(params: &GenerateParams, out: W) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let plan = Plan::new(*params);
    writeln!(
        out,
        "# Synthetic directory written by idsync-dummy: users = {}, groups = {}, \
         memberships = {}, nested = {}, seed = {}",
        params.users, params.groups, params.memberships, params.nested, params.seed
    )?;
    if params.users == 0 {
        writeln!(out, "users: []")?;
    } else {
        writeln!(out, "users:")?;
    }
    for index in 0..params.users {
        let user = plan.user(index);
        writeln!(out, "  - name: {}", user.name)?;
        writeln!(out, "    attributes:")?;
        for (name, values) in &user.attrs {
            let quoted: Vec<String> = values.iter().map(|value| yaml_string(value)).collect();
            match quoted.as_slice() {
                [one] => writeln!(out, "      {name}: {one}")?,
                many => writeln!(out, "      {name}: [{}]", many.join(", "))?,
            }
        }
    }
    if params.groups == 0 {
        writeln!(out, "groups: []")?;
    } else {
        writeln!(out, "groups:")?;
    }
    for index in 0..params.groups {
        let group = plan.group(index);
        writeln!(out, "  - name: {}", group.name)?;
        writeln!(out, "    description: {}", yaml_string(&group.description))?;
        if group.users.is_empty() && group.groups.is_empty() {
            writeln!(out, "    members: []")?;
            continue;
        }
        writeln!(out, "    members:")?;
        for user in &group.users {
            writeln!(out, "      - {}", user_name(*user))?;
        }
        for member in &group.groups {
            writeln!(out, "      - {}", group_name(*member))?;
        }
    }
    out.flush()
}

/// The synthetic directory as the text of a YAML directory file (see [`write_yaml`]).
pub fn generate_yaml(params: &GenerateParams) -> String {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    if write_yaml(params, &mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// A double-quoted YAML scalar.
fn yaml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ch if ch.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// The name of user `index` (from 0).
pub(crate) fn user_name(index: u32) -> String {
    format!("user{:06}", u64::from(index) + 1)
}

/// The name of group `index` (from 0).
pub(crate) fn group_name(index: u32) -> String {
    format!("group{:05}", u64::from(index) + 1)
}

/// Everything about one user but its id.
struct PlannedUser {
    name: String,
    attrs: BTreeMap<String, Vec<String>>,
}

/// Everything about one group but its id.
struct PlannedGroup {
    name: String,
    description: String,
    /// User indexes.
    users: Vec<u32>,
    /// Group indexes.
    groups: Vec<u32>,
}

/// Decides every item from the parameters alone; each item has its own random stream, so
/// items can be produced in any order.
#[derive(Debug)]
struct Plan {
    params: GenerateParams,
}

impl Plan {
    fn new(params: GenerateParams) -> Self {
        Self { params }
    }

    fn user(&self, index: u32) -> PlannedUser {
        let mut rng = SplitMix64::stream(self.params.seed, USER_DOMAIN, u64::from(index));
        let given = pick(&GIVEN_NAMES, &mut rng);
        let surname = pick(&SURNAMES, &mut rng);
        let name = user_name(index);
        let mut attrs = BTreeMap::new();
        attrs.insert("displayName".to_owned(), vec![format!("{given} {surname}")]);
        attrs.insert("givenName".to_owned(), vec![given.to_owned()]);
        attrs.insert("surname".to_owned(), vec![surname.to_owned()]);
        attrs.insert("mail".to_owned(), vec![format!("{name}@example.org")]);
        attrs.insert(
            "uidNumber".to_owned(),
            vec![(10_000 + u64::from(index) + 1).to_string()],
        );
        PlannedUser { name, attrs }
    }

    fn group(&self, index: u32) -> PlannedGroup {
        let params = &self.params;
        let mut rng = SplitMix64::stream(params.seed, GROUP_DOMAIN, u64::from(index));
        let groups = u64::from(params.groups);
        let count = params.memberships.checked_div(groups).map_or(0, |base| {
            base + u64::from(u64::from(index) < params.memberships % groups)
        });
        let users = pick_users(u64::from(params.users), count, &mut rng);
        let mut subgroups = Vec::new();
        if index < params.nested {
            let k = u64::from(index);
            let first = 2 * k + 1;
            subgroups.extend([first, first + 1]);
            if params.nested >= 2 && index + 1 == params.nested {
                subgroups.push(0);
            } else if first + 2 < groups && rng.next_u64() & 1 == 1 {
                subgroups.push(first + 2 + rng.below(groups - first - 2));
            }
        }
        PlannedGroup {
            name: group_name(index),
            description: format!("Synthetic group {}", u64::from(index) + 1),
            users,
            groups: subgroups
                .into_iter()
                .filter(|group| *group < groups)
                .filter_map(|group| u32::try_from(group).ok())
                .collect(),
        }
    }
}

fn pick<'a>(names: &[&'a str], rng: &mut SplitMix64) -> &'a str {
    let index = usize::try_from(rng.below(names.len() as u64)).unwrap_or(0);
    names.get(index).copied().unwrap_or("")
}

/// `count` distinct user indexes out of `users`: `start, start + stride, …` modulo `users`
/// with a stride coprime to `users` (so no index repeats before all were taken).
fn pick_users(users: u64, count: u64, rng: &mut SplitMix64) -> Vec<u32> {
    let count = count.min(users);
    if count == 0 {
        return Vec::new();
    }
    let start = rng.below(users);
    let stride = coprime_stride(users, rng);
    let mut picked = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut current = start;
    for _ in 0..count {
        if let Ok(index) = u32::try_from(current) {
            picked.push(index);
        }
        current = (current + stride) % users;
    }
    picked
}

/// A pseudo-random stride in `1..users` coprime to `users` (1 as a last resort).
fn coprime_stride(users: u64, rng: &mut SplitMix64) -> u64 {
    if users <= 2 {
        return 1;
    }
    for _ in 0..64 {
        let stride = 1 + rng.below(users - 1);
        if gcd(stride, users) == 1 {
            return stride;
        }
    }
    1
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::HashSet;
    use std::path::Path;

    use super::*;
    use crate::format::Format;
    use crate::parse::{parse_directory, sha256_hex};

    fn params(users: u32, groups: u32, memberships: u64, nested: u32, seed: u64) -> GenerateParams {
        GenerateParams {
            users,
            groups,
            memberships,
            nested,
            seed,
        }
    }

    #[test]
    fn counts_are_exact_and_pairs_distinct() {
        for p in [
            params(100, 10, 1000, 4, 1),
            params(100, 10, 537, 3, 2),
            params(7, 3, 21, 1, 3),
            params(1, 1, 1, 0, 4),
            params(50, 0, 0, 0, 5),
            params(0, 5, 0, 2, 6),
            params(1000, 7, 999, 3, 7),
        ] {
            let entries: Vec<Entry> = generate(&p).collect();
            let users: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.kind == EntryKind::User)
                .collect();
            let groups: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.kind == EntryKind::Group)
                .collect();
            assert_eq!(users.len(), p.users as usize);
            assert_eq!(groups.len(), p.groups as usize);
            let user_ids: HashSet<EntryId> = users.iter().map(|e| e.id).collect();
            let mut pairs = HashSet::new();
            let mut nested = 0;
            for group in &groups {
                let mut has_group = false;
                for member in &group.members {
                    let MemberRef::Id(id) = member else {
                        panic!("unexpected member {member:?}")
                    };
                    if user_ids.contains(id) {
                        assert!(pairs.insert((group.id, *id)), "duplicate pair");
                    } else {
                        has_group = true;
                    }
                }
                nested += usize::from(has_group);
            }
            assert_eq!(pairs.len() as u64, p.memberships, "{p:?}");
            assert_eq!(nested, p.nested as usize, "{p:?}");
        }
    }

    #[test]
    fn nested_groups_contain_two_or_three_groups_and_one_cycle() {
        let p = params(20, 40, 100, 10, 9);
        let entries: Vec<Entry> = generate(&p).collect();
        let group_ids: Vec<EntryId> = entries
            .iter()
            .filter(|e| e.kind == EntryKind::Group)
            .map(|e| e.id)
            .collect();
        for (index, group) in entries
            .iter()
            .filter(|e| e.kind == EntryKind::Group)
            .enumerate()
        {
            let subgroups: Vec<usize> = group
                .members
                .iter()
                .filter_map(|m| match m {
                    MemberRef::Id(id) => group_ids.iter().position(|g| g == id),
                    _ => None,
                })
                .collect();
            if index < 10 {
                assert!((2..=3).contains(&subgroups.len()), "{index}: {subgroups:?}");
                assert!(subgroups.contains(&(2 * index + 1)));
                assert!(subgroups.contains(&(2 * index + 2)));
            } else {
                assert!(subgroups.is_empty());
            }
            if index == 9 {
                assert!(
                    subgroups.contains(&0),
                    "the last nested group closes a cycle"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_directory_and_pinned_digest() {
        let p = params(200, 20, 1500, 5, 42);
        let first = generate_yaml(&p);
        assert_eq!(first, generate_yaml(&p));
        assert_eq!(
            generate(&p).collect::<Vec<_>>(),
            generate(&p).collect::<Vec<_>>()
        );
        assert_ne!(first, generate_yaml(&params(200, 20, 1500, 5, 43)));
        // Pinned: a change here changes every benchmark's data set.
        assert_eq!(
            sha256_hex(first.as_bytes()),
            "1751bd23b2fc3772989aa9c175730611d5cbe25bd6d0c61aba3a66b9795d78c0"
        );
    }

    #[test]
    fn the_yaml_file_gives_the_same_entries() {
        let p = params(60, 12, 300, 5, 3);
        let text = generate_yaml(&p);
        let directory = parse_directory(&text, Format::Yaml, Path::new("gen.yaml")).unwrap();
        assert!(directory.warnings.is_empty());
        assert_eq!(directory.entries, generate(&p).collect::<Vec<_>>());
        let empty = params(0, 0, 0, 0, 0);
        let directory =
            parse_directory(&generate_yaml(&empty), Format::Yaml, Path::new("e.yaml")).unwrap();
        assert!(directory.entries.is_empty());
    }

    #[test]
    fn a_million_memberships_are_quick() {
        let p = params(100_000, 10_000, 1_000_000, 10, 42);
        let started = std::time::Instant::now();
        let mut members = 0usize;
        let mut entries = 0usize;
        for entry in generate(&p) {
            members += entry.members.len();
            entries += 1;
        }
        assert_eq!(entries, 110_000);
        assert!(members >= 1_000_000);
        eprintln!(
            "generated 110000 entries, {members} members in {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn the_yaml_file_reads_well() {
        let text = generate_yaml(&params(3, 3, 4, 1, 42));
        assert!(text.contains("  - name: user000001\n    attributes:\n      displayName: \""));
        assert!(text.contains("      mail: \"user000002@example.org\"\n"));
        assert!(text.contains("  - name: group00001\n    description: \"Synthetic group 1\"\n"));
    }

    #[test]
    fn yaml_strings_are_escaped() {
        assert_eq!(yaml_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
