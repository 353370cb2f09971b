//! The part of `[source]` a flavour reads, whether the source is live or a replay.

use std::collections::BTreeMap;

use crate::config::{EntrySearch, LdapSourceConfig, ReplaySourceConfig};

/// What [`super::Flavour::new`] needs from `[source]`: the same keys for a live LDAP source
/// and for `replay`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlavourSettings {
    /// `base`: the base DN of the view.
    pub base: Option<String>,
    /// `domain`: a DNS domain; the base becomes its `dc=` labels when `base` is not given.
    pub domain: Option<String>,
    /// `[source.users]`: overrides of where and what the users are.
    pub users: EntrySearch,
    /// `[source.groups]`: overrides of where and what the groups are.
    pub groups: EntrySearch,
    /// `[source.attributes]`: canonical or special name → directory attribute(s).
    pub attributes: BTreeMap<String, String>,
    /// `include_internal_groups` (`freeipa`): also sync FreeIPA's built-in groups.
    pub include_internal_groups: bool,
}

impl From<&LdapSourceConfig> for FlavourSettings {
    fn from(config: &LdapSourceConfig) -> Self {
        Self {
            base: config.base.clone(),
            domain: config.domain.clone(),
            users: config.users.clone(),
            groups: config.groups.clone(),
            attributes: config.attributes.clone(),
            include_internal_groups: config.include_internal_groups,
        }
    }
}

impl From<&ReplaySourceConfig> for FlavourSettings {
    fn from(config: &ReplaySourceConfig) -> Self {
        Self {
            base: config.base.clone(),
            domain: config.domain.clone(),
            users: config.users.clone(),
            groups: config.groups.clone(),
            attributes: config.attributes.clone(),
            include_internal_groups: config.include_internal_groups,
        }
    }
}
