//! [`Flavour::new`]: the flavour's defaults, the overrides of `[source]`, every problem at once.

use idsync_core::{normalize_dn, EntryKind};

use crate::config::{EntrySearch, Scope};

use super::attributes::AttributeMap;
use super::defaults::Defaults;
use super::disabled::LockRule;
use super::dn::{check_dn, common_ancestor, domain_to_base, within};
use super::error::FlavourProblem;
use super::filter::Filter;
use super::table::AttrTable;
use super::{Flavour, FlavourKind, FlavourSettings, Slots, View};

impl Flavour {
    /// Builds the flavour `kind` with `settings` applied to its defaults.
    ///
    /// Checks every key at once and returns all problems, each keyed relative to `[source]`:
    /// `base` and `domain` (DN syntax, derivation), `users.base` / `groups.base` (DN syntax,
    /// within `base`), `users.filter` / `groups.filter` (RFC 4515 syntax, as ldap3 will encode
    /// it and as idsync evaluates it), `attributes.<key>` (known key, attribute syntax, never
    /// `memberOf`), `include_internal_groups` (`freeipa` only).
    pub fn new(
        kind: FlavourKind,
        settings: &FlavourSettings,
    ) -> Result<Flavour, Vec<FlavourProblem>> {
        let defaults = kind.defaults();
        let mut problems = Vec::new();

        let base = resolve_base(settings, &mut problems);
        let users = resolve_view(
            EntryKind::User,
            &settings.users,
            defaults,
            base.as_deref(),
            &mut problems,
        );
        let groups = resolve_view(
            EntryKind::Group,
            &settings.groups,
            defaults,
            base.as_deref(),
            &mut problems,
        );
        if base.is_none()
            && (users.is_none() || groups.is_none())
            && !has_problem(&problems, "base")
            && !has_problem(&problems, "domain")
        {
            let message = if settings.users.base.is_none() || settings.groups.base.is_none() {
                "missing: give the base DN of the view (or `domain`, or both `users.base` and \
                 `groups.base`)"
            } else {
                "missing"
            };
            problems.push(FlavourProblem::new("base", message));
        }
        let map = AttributeMap::resolve(&settings.attributes, defaults, &mut problems);
        if settings.include_internal_groups && kind != FlavourKind::FreeIpa {
            problems.push(FlavourProblem::new(
                "include_internal_groups",
                format!("only the `freeipa` flavour has internal groups (this is `{kind}`)"),
            ));
        }

        let (Some(users), Some(groups)) = (users, groups) else {
            return Err(problems);
        };
        let Some(sync_base) = common_ancestor(&users.base, &groups.base) else {
            problems.push(FlavourProblem::new(
                "groups.base",
                format!(
                    "`{}` and `users.base` `{}` share no ancestor: one sync search cannot cover both",
                    groups.base, users.base
                ),
            ));
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(assemble(
            kind,
            defaults,
            base,
            sync_base,
            users,
            groups,
            map,
            settings.include_internal_groups,
        ))
    }
}

fn has_problem(problems: &[FlavourProblem], key: &str) -> bool {
    problems.iter().any(|p| p.key == key)
}

/// `base`, or the base derived from `domain`.
fn resolve_base(settings: &FlavourSettings, problems: &mut Vec<FlavourProblem>) -> Option<String> {
    if let Some(base) = &settings.base {
        return match check_dn(base) {
            Ok(()) => Some(base.trim().to_owned()),
            Err(message) => {
                problems.push(FlavourProblem::new("base", message));
                None
            }
        };
    }
    let domain = settings.domain.as_deref()?;
    match domain_to_base(domain) {
        Ok(base) => Some(base),
        Err(message) => {
            problems.push(FlavourProblem::new("domain", message));
            None
        }
    }
}

/// The users' or groups' base, scope and filter.
fn resolve_view(
    kind: EntryKind,
    search: &EntrySearch,
    defaults: &Defaults,
    base: Option<&str>,
    problems: &mut Vec<FlavourProblem>,
) -> Option<View> {
    let prefix = match kind {
        EntryKind::User => "users",
        EntryKind::Group => "groups",
    };
    let filter_text = search.filter.as_deref().unwrap_or(match kind {
        EntryKind::User => defaults.users_filter,
        EntryKind::Group => defaults.groups_filter,
    });
    let filter = match check_filter(filter_text) {
        Ok(filter) => Some(filter),
        Err(message) => {
            problems.push(FlavourProblem::new(format!("{prefix}.filter"), message));
            None
        }
    };
    let view_base = match &search.base {
        Some(own) => match check_dn(own) {
            Err(message) => {
                problems.push(FlavourProblem::new(format!("{prefix}.base"), message));
                None
            }
            Ok(()) => {
                let own = own.trim().to_owned();
                match base {
                    Some(base) if !within(&normalize_dn(&own), &normalize_dn(base), Scope::Sub) => {
                        problems.push(FlavourProblem::new(
                            format!("{prefix}.base"),
                            format!("`{own}` is not within `base` `{base}`"),
                        ));
                        None
                    }
                    _ => Some(own),
                }
            }
        },
        None => {
            let container = match kind {
                EntryKind::User => defaults.users_container,
                EntryKind::Group => defaults.groups_container,
            };
            base.map(|base| match container {
                Some(container) => format!("{container},{base}"),
                None => base.to_owned(),
            })
        }
    };
    let view_base = view_base?;
    Some(View {
        base_norm: normalize_dn(&view_base),
        base: view_base,
        scope: search.scope.unwrap_or(Scope::Sub),
        filter_text: Filter::canonical_text(filter_text),
        filter: filter?,
    })
}

/// Parses a filter as ldap3 will encode it for the server and as idsync evaluates it.
fn check_filter(text: &str) -> Result<Filter, String> {
    let text = Filter::canonical_text(text);
    let ours = Filter::parse(&text)
        .map_err(|message| format!("`{text}` is not an LDAP filter: {message}"))?;
    ldap3::parse_filter(&text)
        .map_err(|()| format!("`{text}` is not an LDAP filter ldap3 can encode"))?;
    Ok(ours)
}

/// Puts a checked configuration together: attribute table, slots, sync search parameters.
#[allow(clippy::too_many_arguments)]
fn assemble(
    kind: FlavourKind,
    defaults: &Defaults,
    base: Option<String>,
    sync_base: String,
    mut users: View,
    mut groups: View,
    map: AttributeMap,
    include_internal_groups: bool,
) -> Flavour {
    // Every attribute the mapping reads, in the order they are requested.
    let mut filter_attributes = Vec::new();
    users.filter.attributes(&mut filter_attributes);
    groups.filter.attributes(&mut filter_attributes);
    let filter_attributes: Vec<String> = filter_attributes.into_iter().map(str::to_owned).collect();

    let mut light: Vec<String> = Vec::new();
    push_unique(
        &mut light,
        [
            "objectClass",
            map.id.name(),
            &map.user_name,
            &map.group_name,
        ],
    );
    push_unique(&mut light, map.member.iter().map(String::as_str));
    push_unique(&mut light, map.member_uid.iter().map(String::as_str));
    push_unique(&mut light, filter_attributes.iter().map(String::as_str));
    let mut full = light.clone();
    push_unique(&mut full, map.enabled.iter().map(String::as_str));
    push_unique(
        &mut full,
        map.canonical
            .iter()
            .map(|(_, attribute)| attribute.as_str()),
    );

    let table = AttrTable::new(full.iter().map(String::as_str));
    let slot = |name: &str| table.slot(name).unwrap_or(usize::MAX);
    users.filter.bind(&table);
    groups.filter.bind(&table);
    let slots = Slots {
        object_class: slot("objectClass"),
        user_name: slot(&map.user_name),
        group_name: slot(&map.group_name),
        enabled: map
            .enabled
            .iter()
            .map(|name| (slot(name), LockRule::for_attribute(name)))
            .collect(),
        member: map
            .member
            .iter()
            .map(|name| (slot(name), name.eq_ignore_ascii_case("uniqueMember")))
            .collect(),
        member_uid: map.member_uid.iter().map(|name| slot(name)).collect(),
        canonical: map
            .canonical
            .iter()
            .map(|(canonical, attribute)| (*canonical, slot(attribute)))
            .collect(),
    };

    let same_base =
        users.base_norm == groups.base_norm && normalize_dn(&sync_base) == users.base_norm;
    // Equal scopes on the same base are kept; anything else needs the whole subtree (the
    // client-side check narrows it down again).
    let sync_scope = if same_base && users.scope == groups.scope {
        users.scope
    } else {
        Scope::Sub
    };
    let sync_filter = if users.filter_text.eq_ignore_ascii_case(&groups.filter_text) {
        users.filter_text.clone()
    } else {
        format!("(|{}{})", users.filter_text, groups.filter_text)
    };

    let mut internal_groups = Vec::new();
    if !include_internal_groups {
        if let Some(container) = defaults.groups_container {
            let parent = match &base {
                Some(base) => normalize_dn(&format!("{container},{base}")),
                None => groups.base_norm.clone(),
            };
            internal_groups = defaults
                .internal_groups
                .iter()
                .map(|name| format!("cn={name},{parent}"))
                .collect();
            internal_groups.sort_unstable();
        }
    }

    Flavour {
        kind,
        map,
        users,
        groups,
        sync_base,
        sync_scope,
        sync_filter,
        sync_attributes: full,
        light_attributes: light,
        table,
        slots,
        internal_groups,
    }
}

/// Appends the names not yet in `list` (case-insensitively).
fn push_unique<'a>(list: &mut Vec<String>, names: impl IntoIterator<Item = &'a str>) {
    for name in names {
        if !list.iter().any(|have| have.eq_ignore_ascii_case(name)) {
            list.push(name.to_owned());
        }
    }
}
