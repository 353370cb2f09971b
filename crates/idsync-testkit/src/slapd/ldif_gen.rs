//! A deterministic synthetic directory as LDIF (for `slapadd` seeds or `ldapadd`).
//!
//! Shape (under [`BASE`]):
//! * `ou=people`, `ou=groups` (and the suffix entry unless [`GenOptions::base_entry`] is off);
//! * `uid=userNNNNNN,ou=people,…`: inetOrgPerson + posixAccount with uid, cn, sn, givenName,
//!   displayName, mail, telephoneNumber, uidNumber, gidNumber, homeDirectory, loginShell; every
//!   50th user (index ≡ 7 mod 50) has a non-ASCII name, written as base64 (`::`) values;
//! * users/10 groups (at least 4): half `posixGroup` `cn=pg-NNNNN` (memberUid), the rest
//!   `groupOfNames` `cn=gon-NNNNN` (member DNs) and 2–10 nested `cn=gon-nest-NN` holding 2–3
//!   other groupOfNames (the last one also holds the previous nested group: two levels),
//!   written after their children; `pg-00000` and `gon-00000` hold every user unless
//!   [`GenOptions::big_groups`] is off; other groups have 1..=[`GenOptions::max_members`]
//!   members.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::BASE;

/// Given names (ASCII).
const GIVEN: [&str; 20] = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yvonne",
];
/// Surnames (ASCII).
const SURNAMES: [&str; 20] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke",
];
/// Given names with non-ASCII letters.
const GIVEN_UTF8: [&str; 10] = [
    "Jürgen", "Zoë", "Łukasz", "Søren", "José", "Anaïs", "Ørjan", "Dvořák", "Ünal", "Renée",
];
/// Surnames with non-ASCII letters (and one with an apostrophe).
const SURNAMES_UTF8: [&str; 10] = [
    "Müller",
    "Brontë",
    "Wałęsa",
    "Ødegård",
    "Núñez",
    "Çelik",
    "Šimek",
    "Größe",
    "O'Brien",
    "Ó Súilleabháin",
];

/// Options of [`gen_directory`].
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Seed of the pseudo-random group membership (same seed, same output).
    pub seed: u64,
    /// Emit the suffix entry `dc=example,dc=org` (off when it already exists).
    pub base_entry: bool,
    /// Make `pg-00000` and `gon-00000` "everyone" groups with all users.
    pub big_groups: bool,
    /// Emit `memberOf` values as the memberof overlay would (for `slapadd`, which bypasses it).
    pub memberof: bool,
    /// The most members an ordinary group gets (uniform in 1..=max).
    pub max_members: usize,
    /// Give every user this `userPassword` (clear text).
    pub user_password: Option<String>,
}

impl Default for GenOptions {
    fn default() -> Self {
        Self {
            seed: 4533,
            base_entry: true,
            big_groups: true,
            memberof: false,
            max_members: 50,
            user_password: None,
        }
    }
}

/// How many groups of each kind [`gen_directory`] writes for a number of users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryShape {
    /// Users (`uid=userNNNNNN`).
    pub users: usize,
    /// `posixGroup` entries (`cn=pg-NNNNN`).
    pub posix_groups: usize,
    /// Plain `groupOfNames` entries (`cn=gon-NNNNN`).
    pub plain_groups: usize,
    /// Nested `groupOfNames` entries (`cn=gon-nest-NN`).
    pub nested_groups: usize,
}

impl DirectoryShape {
    /// The shape for `users` users (no groups at all when there are no users).
    pub fn for_users(users: usize) -> Self {
        if users == 0 {
            return Self {
                users,
                posix_groups: 0,
                plain_groups: 0,
                nested_groups: 0,
            };
        }
        let groups = (users / 10).max(4);
        let mut nested_groups = (groups / 100).clamp(2, 10);
        let posix_groups = groups / 2;
        let mut plain_groups = groups.saturating_sub(posix_groups + nested_groups);
        if plain_groups < 1 {
            plain_groups = 1;
            nested_groups = groups - posix_groups - 1;
        }
        Self {
            users,
            posix_groups,
            plain_groups,
            nested_groups,
        }
    }

    /// All groupOfNames entries (plain and nested).
    pub fn group_of_names(&self) -> usize {
        self.plain_groups + self.nested_groups
    }

    /// Every entry written, including the suffix entry when `base_entry` is set.
    pub fn entries(&self, base_entry: bool) -> usize {
        usize::from(base_entry)
            + 2
            + self.users
            + self.posix_groups
            + self.plain_groups
            + self.nested_groups
    }
}

/// The DN of user `index`.
pub fn user_dn(index: usize) -> String {
    format!("uid={},ou=people,{BASE}", user_uid(index))
}

/// The uid of user `index` (`userNNNNNN`).
fn user_uid(index: usize) -> String {
    format!("user{index:06}")
}

/// The DN of a group.
fn group_dn(cn: &str) -> String {
    format!("cn={cn},ou=groups,{BASE}")
}

/// A groupOfNames: its cn, its user members and its group members.
struct NamedGroup {
    cn: String,
    users: Vec<usize>,
    groups: Vec<String>,
}

/// A synthetic directory of `users` users and their groups as LDIF (see the module docs).
/// Deterministic: the same arguments always give the same text.
pub fn gen_directory(users: usize, options: &GenOptions) -> String {
    let shape = DirectoryShape::for_users(users);
    let mut random = SplitMix64(options.seed);
    let sample = |random: &mut SplitMix64, big: bool| -> Vec<usize> {
        if big && options.big_groups {
            return (0..users).collect();
        }
        let wanted = random
            .range_inclusive(1, options.max_members.max(1))
            .min(users);
        random.sample(users, wanted)
    };

    let posix: Vec<(String, usize, Vec<usize>)> = (0..shape.posix_groups)
        .map(|index| {
            let members = sample(&mut random, index == 0);
            (format!("pg-{index:05}"), 5000 + index, members)
        })
        .collect();
    let mut named: Vec<NamedGroup> = (0..shape.plain_groups)
        .map(|index| NamedGroup {
            cn: format!("gon-{index:05}"),
            users: sample(&mut random, index == 0),
            groups: Vec::new(),
        })
        .collect();
    let first_child = usize::from(shape.plain_groups > 1);
    for nest in 0..shape.nested_groups {
        let mut children = BTreeSet::new();
        for _ in 0..random.range_inclusive(2, 3) {
            let child = random.range_inclusive(first_child, shape.plain_groups - 1);
            children.insert(group_dn(&format!("gon-{child:05}")));
        }
        if nest > 0 && nest + 1 == shape.nested_groups {
            children.insert(group_dn(&format!("gon-nest-{:02}", nest - 1)));
        }
        let wanted = random.range_inclusive(0, 5).min(users);
        named.push(NamedGroup {
            cn: format!("gon-nest-{nest:02}"),
            users: random.sample(users, wanted),
            groups: children.into_iter().collect(),
        });
    }

    // memberOf as the overlay computes it: direct groupOfNames memberships only.
    let mut member_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if options.memberof {
        for group in &named {
            let dn = group_dn(&group.cn);
            for user in &group.users {
                member_of
                    .entry(user_dn(*user))
                    .or_default()
                    .push(dn.clone());
            }
            for child in &group.groups {
                member_of.entry(child.clone()).or_default().push(dn.clone());
            }
        }
    }

    let mut out = String::with_capacity(users * 512);
    if options.base_entry {
        entry(
            &mut out,
            BASE,
            &[
                ("objectClass", &["dcObject", "organization"]),
                ("dc", &["example"]),
                ("o", &["Example Org"]),
            ],
        );
    }
    for ou in ["people", "groups"] {
        entry(
            &mut out,
            &format!("ou={ou},{BASE}"),
            &[("objectClass", &["organizationalUnit"]), ("ou", &[ou])],
        );
    }
    for index in 0..users {
        write_user(&mut out, index, &shape, options, &member_of);
    }
    for (cn, gid, members) in &posix {
        let uids: Vec<String> = members.iter().map(|index| user_uid(*index)).collect();
        let mut attrs: Vec<(&str, Vec<String>)> = vec![
            ("objectClass", vec!["posixGroup".to_owned()]),
            ("cn", vec![cn.clone()]),
            ("gidNumber", vec![gid.to_string()]),
            ("description", vec![format!("posix group {cn}")]),
        ];
        if !uids.is_empty() {
            attrs.push(("memberUid", uids));
        }
        entry_owned(&mut out, &group_dn(cn), &attrs);
    }
    for group in &named {
        let dn = group_dn(&group.cn);
        let members: Vec<String> = group
            .groups
            .iter()
            .cloned()
            .chain(group.users.iter().map(|index| user_dn(*index)))
            .collect();
        let mut attrs: Vec<(&str, Vec<String>)> = vec![
            ("objectClass", vec!["groupOfNames".to_owned()]),
            ("cn", vec![group.cn.clone()]),
            ("description", vec![format!("groupOfNames {}", group.cn)]),
            ("member", members),
        ];
        if let Some(groups) = member_of.get(&dn) {
            attrs.push(("memberOf", groups.clone()));
        }
        entry_owned(&mut out, &dn, &attrs);
    }
    out
}

/// Writes user `index`.
fn write_user(
    out: &mut String,
    index: usize,
    shape: &DirectoryShape,
    options: &GenOptions,
    member_of: &BTreeMap<String, Vec<String>>,
) {
    let (given, surname) = if index % 50 == 7 {
        (
            pick(&GIVEN_UTF8, index / 50),
            pick(&SURNAMES_UTF8, index / 7),
        )
    } else {
        (pick(&GIVEN, index), pick(&SURNAMES, index / GIVEN.len()))
    };
    let uid = user_uid(index);
    let dn = user_dn(index);
    let mut attrs: Vec<(&str, Vec<String>)> = vec![
        (
            "objectClass",
            vec!["inetOrgPerson".to_owned(), "posixAccount".to_owned()],
        ),
        ("uid", vec![uid.clone()]),
        ("cn", vec![format!("{given} {surname} {index}")]),
        ("sn", vec![surname.to_owned()]),
        ("givenName", vec![given.to_owned()]),
        ("displayName", vec![format!("{given} {surname}")]),
        ("mail", vec![format!("{uid}@example.org")]),
        (
            "telephoneNumber",
            vec![format!("+44 20 7946 {:04}", index % 10_000)],
        ),
        ("uidNumber", vec![(10_000 + index).to_string()]),
        (
            "gidNumber",
            vec![(5000 + index % shape.posix_groups.max(1)).to_string()],
        ),
        ("homeDirectory", vec![format!("/home/{uid}")]),
        ("loginShell", vec!["/bin/bash".to_owned()]),
    ];
    if let Some(password) = &options.user_password {
        attrs.push(("userPassword", vec![password.clone()]));
    }
    if let Some(groups) = member_of.get(&dn) {
        attrs.push(("memberOf", groups.clone()));
    }
    entry_owned(out, &dn, &attrs);
}

/// `list[index % len]` without indexing.
fn pick<'a>(list: &[&'a str], index: usize) -> &'a str {
    list.iter()
        .cycle()
        .nth(index % list.len().max(1))
        .copied()
        .unwrap_or_default()
}

/// Writes one entry with borrowed values.
fn entry(out: &mut String, dn: &str, attrs: &[(&str, &[&str])]) {
    attr(out, "dn", dn);
    for (name, values) in attrs {
        for value in *values {
            attr(out, name, value);
        }
    }
    out.push('\n');
}

/// Writes one entry with owned values.
fn entry_owned(out: &mut String, dn: &str, attrs: &[(&str, Vec<String>)]) {
    attr(out, "dn", dn);
    for (name, values) in attrs {
        for value in values {
            attr(out, name, value);
        }
    }
    out.push('\n');
}

/// Writes `name: value`, or `name:: BASE64` when the value is not an RFC 2849 SAFE-STRING.
fn attr(out: &mut String, name: &str, value: &str) {
    if is_safe(value) {
        let _ = writeln!(out, "{name}: {value}");
    } else {
        let _ = writeln!(out, "{name}:: {}", base64(value.as_bytes()));
    }
}

/// RFC 2849 SAFE-STRING (ASCII without NUL, CR, LF; no leading space, colon or `<`), and no
/// trailing space.
fn is_safe(value: &str) -> bool {
    let starts_badly = value.starts_with([' ', ':', '<']);
    !starts_badly
        && !value.ends_with(' ')
        && value
            .bytes()
            .all(|byte| (0x01..=0x7f).contains(&byte) && byte != b'\r' && byte != b'\n')
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    fn symbol(six: u32) -> char {
        let six = u8::try_from(six & 0x3f).unwrap_or_default();
        char::from(match six {
            0..=25 => b'A' + six,
            26..=51 => b'a' + (six - 26),
            52..=61 => b'0' + (six - 52),
            62 => b'+',
            _ => b'/',
        })
    }
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut word = 0u32;
        for (position, byte) in chunk.iter().enumerate() {
            word |= u32::from(*byte) << (16 - 8 * position);
        }
        for position in 0..4 {
            if position <= chunk.len() {
                out.push(symbol(word >> (18 - 6 * position)));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SplitMix64: a tiny deterministic generator (quality is ample for test data).
struct SplitMix64(u64);

impl SplitMix64 {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (`low` when `high < low`).
    fn range_inclusive(&mut self, low: usize, high: usize) -> usize {
        if high <= low {
            return low;
        }
        let span = (high - low) as u64 + 1;
        low + usize::try_from(self.next() % span).unwrap_or_default()
    }

    /// `wanted` distinct numbers below `limit`, sorted (`wanted` is capped at `limit`).
    fn sample(&mut self, limit: usize, wanted: usize) -> Vec<usize> {
        let wanted = wanted.min(limit);
        let mut chosen = BTreeSet::new();
        if wanted * 2 > limit {
            // Dense: pick the ones to leave out instead (keeps rejection sampling short).
            let mut left_out = BTreeSet::new();
            while left_out.len() < limit - wanted {
                left_out.insert(self.range_inclusive(0, limit - 1));
            }
            return (0..limit).filter(|n| !left_out.contains(n)).collect();
        }
        while chosen.len() < wanted {
            chosen.insert(self.range_inclusive(0, limit - 1));
        }
        chosen.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Jürgen", "SsO8cmdlbg=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn unsafe_values_are_base64() {
        assert!(is_safe("Alice Smith"));
        assert!(!is_safe(" leading"));
        assert!(!is_safe(":colon"));
        assert!(!is_safe("<lt"));
        assert!(!is_safe("trailing "));
        assert!(!is_safe("Zoë"));
    }

    #[test]
    fn output_is_deterministic_and_shaped() {
        let options = GenOptions::default();
        let ldif = gen_directory(1000, &options);
        assert_eq!(ldif, gen_directory(1000, &options));
        let shape = DirectoryShape::for_users(1000);
        assert_eq!(shape.posix_groups, 50);
        assert_eq!(shape.nested_groups, 2);
        assert_eq!(shape.plain_groups, 48);
        let dns = ldif.lines().filter(|line| line.starts_with("dn: ")).count();
        assert_eq!(dns, shape.entries(true));
        assert_eq!(ldif.matches("\nobjectClass: posixAccount\n").count(), 1000);
        assert_eq!(ldif.matches("\nobjectClass: posixGroup\n").count(), 50);
        assert_eq!(ldif.matches("\nobjectClass: groupOfNames\n").count(), 50);
        // user000007 has a non-ASCII name, written as base64.
        assert!(ldif.contains("dn: uid=user000007,ou=people,dc=example,dc=org\n"));
        assert_eq!(ldif.matches("\ngivenName:: ").count(), 20);
        // Everyone groups.
        assert!(ldif.matches("\nmemberUid: ").count() >= 1000);
        assert!(ldif.contains("member: cn=gon-nest-00,ou=groups,dc=example,dc=org\n"));
        assert_ne!(
            ldif,
            gen_directory(
                1000,
                &GenOptions {
                    seed: 1,
                    ..GenOptions::default()
                }
            )
        );
    }

    #[test]
    fn memberof_values_follow_the_groups() {
        let options = GenOptions {
            memberof: true,
            big_groups: false,
            ..GenOptions::default()
        };
        let ldif = gen_directory(50, &options);
        let members = ldif.matches("\nmember: ").count();
        let member_of = ldif.matches("\nmemberOf: ").count();
        assert_eq!(members, member_of);
    }

    #[test]
    fn tiny_and_empty_directories() {
        let ldif = gen_directory(0, &GenOptions::default());
        assert_eq!(ldif.matches("dn: ").count(), 3);
        let ldif = gen_directory(3, &GenOptions::default());
        let shape = DirectoryShape::for_users(3);
        assert_eq!(ldif.matches("dn: ").count(), shape.entries(true));
    }
}
