//! What every flavour's defaults consist of (each flavour's values are in its own module).

use super::id::IdAttribute;

/// One flavour's defaults; `[source.users]`, `[source.groups]` and `[source.attributes]`
/// override them key by key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Defaults {
    /// `users.filter`.
    pub users_filter: &'static str,
    /// `groups.filter`.
    pub groups_filter: &'static str,
    /// `users.base` relative to `base` (`None`: `base` itself).
    pub users_container: Option<&'static str>,
    /// `groups.base` relative to `base` (`None`: `base` itself).
    pub groups_container: Option<&'static str>,
    /// The id attribute (`attributes.id`).
    pub id: IdAttribute,
    /// The users' name attribute (`attributes.user_name`).
    pub user_name: &'static str,
    /// The groups' name attribute (`attributes.group_name`).
    pub group_name: &'static str,
    /// The attributes that mark a user disabled (`attributes.enabled`).
    pub enabled: &'static [&'static str],
    /// Member attributes holding DNs (`attributes.member`).
    pub member: &'static [&'static str],
    /// Member attributes holding user names (`attributes.member_uid`).
    pub member_uid: &'static [&'static str],
    /// Built-in groups left out unless `include_internal_groups` (their `cn`, directly below
    /// `groups_container`).
    pub internal_groups: &'static [&'static str],
}

/// The directory attribute a canonical attribute maps to by default, in every flavour.
pub(crate) fn default_attribute(canonical: &'static str) -> &'static str {
    match canonical {
        "commonName" => "cn",
        "surname" => "sn",
        other => other,
    }
}
