//! `[source.attributes]`: which directory attribute each canonical attribute, the names, the
//! members, the id and the disabled state come from.

use std::collections::BTreeMap;

use idsync_core::model::CANONICAL_ATTRIBUTES;

use super::defaults::{default_attribute, Defaults};
use super::dn::is_attribute_description;
use super::error::FlavourProblem;
use super::id::IdAttribute;

/// The keys of `[source.attributes]` that are not canonical attribute names.
pub(crate) const SPECIAL_KEYS: &[&str] = &[
    "id",
    "user_name",
    "name",
    "group_name",
    "enabled",
    "member",
    "member_uid",
];

/// The resolved attribute mapping of a flavour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AttributeMap {
    /// Where the id comes from in non-sync searches.
    pub id: IdAttribute,
    /// The users' name attribute.
    pub user_name: String,
    /// The groups' name attribute.
    pub group_name: String,
    /// Attributes that mark a user disabled.
    pub enabled: Vec<String>,
    /// Member attributes holding DNs.
    pub member: Vec<String>,
    /// Member attributes holding user names.
    pub member_uid: Vec<String>,
    /// Canonical name → directory attribute; canonical names mapped to nothing are left out.
    pub canonical: Vec<(&'static str, String)>,
}

impl AttributeMap {
    /// The flavour's defaults with `overrides` applied; problems are pushed, keyed
    /// `attributes.<key>`.
    pub(crate) fn resolve(
        overrides: &BTreeMap<String, String>,
        defaults: &Defaults,
        problems: &mut Vec<FlavourProblem>,
    ) -> Self {
        let mut map = AttributeMap {
            id: defaults.id,
            user_name: defaults.user_name.to_owned(),
            group_name: defaults.group_name.to_owned(),
            enabled: owned(defaults.enabled),
            member: owned(defaults.member),
            member_uid: owned(defaults.member_uid),
            canonical: CANONICAL_ATTRIBUTES
                .iter()
                .map(|&name| (name, default_attribute(name).to_owned()))
                .collect(),
        };
        let mut seen: Vec<&'static str> = Vec::new();
        for (key, value) in overrides {
            let problem_key = format!("attributes.{key}");
            let Some(target) = target_of(key) else {
                problems.push(FlavourProblem::new(
                    problem_key,
                    format!(
                        "unknown key; expected a canonical attribute ({}) or one of {}",
                        CANONICAL_ATTRIBUTES.join(", "),
                        SPECIAL_KEYS.join(", ")
                    ),
                ));
                continue;
            };
            if seen.contains(&target) {
                problems.push(FlavourProblem::new(
                    problem_key,
                    format!("`{target}` is given twice (keys are case-insensitive; `name` is `user_name`)"),
                ));
                continue;
            }
            seen.push(target);
            let value = value.trim();
            match target {
                "id" => match IdAttribute::from_name(value) {
                    Some(id) => map.id = id,
                    None => problems.push(FlavourProblem::new(
                        problem_key,
                        format!(
                            "`{value}` cannot be the id: the syncUUID the server sends is \
                             `entryUUID` (OpenLDAP) or `nsUniqueId` (389-ds)"
                        ),
                    )),
                },
                "user_name" | "group_name" => {
                    if value.is_empty() {
                        problems.push(FlavourProblem::new(problem_key, "must name an attribute"));
                    } else if let Some(message) = check_attribute(value) {
                        problems.push(FlavourProblem::new(problem_key, message));
                    } else if target == "user_name" {
                        map.user_name = value.to_owned();
                    } else {
                        map.group_name = value.to_owned();
                    }
                }
                "enabled" | "member" | "member_uid" => {
                    let list: Vec<String> = value
                        .split([',', ' '])
                        .filter(|name| !name.is_empty())
                        .map(str::to_owned)
                        .collect();
                    let bad: Vec<String> = list.iter().filter_map(|n| check_attribute(n)).collect();
                    if !bad.is_empty() {
                        problems.push(FlavourProblem::new(problem_key, bad.join("; ")));
                    } else if target == "enabled" {
                        map.enabled = list;
                    } else if target == "member" {
                        map.member = list;
                    } else {
                        map.member_uid = list;
                    }
                }
                canonical => {
                    if value.is_empty() {
                        map.canonical.retain(|(name, _)| *name != canonical);
                    } else if let Some(message) = check_attribute(value) {
                        problems.push(FlavourProblem::new(problem_key, message));
                    } else if let Some(slot) = map
                        .canonical
                        .iter_mut()
                        .find(|(name, _)| *name == canonical)
                    {
                        slot.1 = value.to_owned();
                    }
                }
            }
        }
        map
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

/// The canonical or special key `key` stands for (case-insensitive; `name` is `user_name`).
fn target_of(key: &str) -> Option<&'static str> {
    let key = key.trim();
    if key.eq_ignore_ascii_case("name") {
        return Some("user_name");
    }
    SPECIAL_KEYS
        .iter()
        .chain(CANONICAL_ATTRIBUTES)
        .find(|known| known.eq_ignore_ascii_case(key))
        .copied()
}

/// What is wrong with a directory attribute name, if anything.
fn check_attribute(name: &str) -> Option<String> {
    if !is_attribute_description(name) {
        return Some(format!("`{name}` is not an attribute name"));
    }
    let base = name.split(';').next().unwrap_or_default();
    if base.eq_ignore_ascii_case("memberOf") {
        return Some(
            "`memberOf` is never read: memberships come from the groups' member attributes \
             (changes to memberOf are not reported by content sync)"
                .to_owned(),
        );
    }
    None
}
