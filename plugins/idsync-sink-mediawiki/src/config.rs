//! The `[sink]` table of `plugin = "mediawiki"`: deserialised, then checked by a pure
//! `validate()` that reports every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use idsync_core::model::CANONICAL_ATTRIBUTES;
use idsync_sql::{DatabaseUrl, Ident};
use serde::Deserialize;

use crate::names::{NameError, NameRules};

/// Longest scope accepted (the bookkeeping column is `VARCHAR(64)`).
const MAX_SCOPE_LEN: usize = 64;
/// Longest wiki group name (`ug_group` is 255 bytes).
const MAX_GROUP_LEN: usize = 255;
/// Largest `batch_rows` accepted.
pub const MAX_BATCH_ROWS: usize = 10_000;

fn default_scope() -> String {
    "mediawiki".to_owned()
}
fn default_schema() -> String {
    "mediawiki".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_real_name() -> Option<String> {
    Some("displayName".to_owned())
}
fn default_email() -> Option<String> {
    Some("mail".to_owned())
}
fn default_blocker() -> String {
    "Directory sync".to_owned()
}
fn default_reason() -> String {
    "Account disabled in the directory".to_owned()
}
fn default_invalid_chars() -> String {
    "@:>".to_owned()
}
fn default_batch_rows() -> usize {
    1_000
}

/// Configuration of the MediaWiki sink.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaWikiConfig {
    /// The wiki's database: `sqlite:///path/wiki.sqlite`, `postgres://user@host/db`,
    /// `mysql://user@host/db`. May hold the password; prefer `password_file`.
    pub url: String,
    /// A file holding the database password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the database password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// `$wgDBprefix`: prepended to every MediaWiki table name.
    #[serde(default)]
    pub prefix: String,
    /// `$wgDBmwschema` (PostgreSQL only): the schema holding the wiki's tables.
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Bookkeeping scope (two syncs may share one wiki under different scopes).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// True (the default): the first letter of a name is upper-cased, as MediaWiki does for
    /// every user name. False: a name whose first letter MediaWiki would change is
    /// quarantined instead of silently changed.
    #[serde(default = "default_true")]
    pub capital_links: bool,
    /// `$wgInvalidUsernameCharacters`: characters that make a name uncreatable.
    #[serde(default = "default_invalid_chars")]
    pub invalid_username_characters: String,
    /// Names reserved in addition to MediaWiki's default `$wgReservedUsernames`.
    #[serde(default)]
    pub reserved_usernames: Vec<String>,
    /// Namespace names of the wiki beyond the built-in English ones (the project namespace
    /// `$wgMetaNamespace`, `$wgExtraNamespaces`): a name starting with `Namespace:` is refused.
    /// Only matters when `:` is not an invalid character.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Canonical attribute that holds the wiki user name (default: the entry's name).
    #[serde(default)]
    pub name_attribute: Option<String>,
    /// Canonical attribute for `user_real_name` (default `displayName`; empty to leave it).
    #[serde(default = "default_real_name")]
    pub real_name_attribute: Option<String>,
    /// Canonical attribute for `user_email` (default `mail`; empty to leave it).
    #[serde(default = "default_email")]
    pub email_attribute: Option<String>,
    /// Mark synced email addresses as confirmed (`user_email_authenticated`).
    #[serde(default = "default_true")]
    pub confirm_email: bool,
    /// Directory group name → wiki group name (`admins = "sysop"`).
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
    /// Directory groups not listed in `groups` become wiki groups of the same name.
    #[serde(default)]
    pub map_other_groups: bool,
    /// The wiki groups the sink manages; it never adds or removes any other group. Default:
    /// every target of `groups` (and, with `map_other_groups`, every name it produces).
    #[serde(default)]
    pub managed_groups: Option<Vec<String>>,
    /// The system user shown as the blocker of disabled accounts (created if missing).
    #[serde(default = "default_blocker")]
    pub blocker: String,
    /// The reason text of those blocks.
    #[serde(default = "default_reason")]
    pub block_reason: String,
    /// Rows per multi-row statement.
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
}

/// One configuration problem: the key and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The full key, e.g. `sink.groups.admins`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.problem)
    }
}

/// Every problem found in a configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid mediawiki sink configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

fn attribute_ok(name: &str) -> bool {
    CANONICAL_ATTRIBUTES.contains(&name)
}

impl MediaWikiConfig {
    /// The naming rules this configuration asks for.
    pub fn name_rules(&self) -> NameRules {
        NameRules {
            capitalize: self.capital_links,
            invalid_chars: self.invalid_username_characters.clone(),
            reserved: self.reserved_usernames.clone(),
            namespaces: self.namespaces.clone(),
            interwiki: BTreeSet::new(),
        }
    }

    /// The managed wiki groups, when they are a fixed list (`None`: everything
    /// `map_other_groups` produces is managed too).
    pub fn managed_list(&self) -> Option<BTreeSet<String>> {
        match &self.managed_groups {
            Some(list) => Some(list.iter().cloned().collect()),
            None if self.map_other_groups => None,
            None => Some(self.groups.values().cloned().collect()),
        }
    }

    /// The wiki group a directory group feeds, if any (and if it is managed).
    pub fn wiki_group(&self, directory_name: &str) -> Option<String> {
        let target = match self.groups.get(directory_name) {
            Some(target) => target.clone(),
            None if self.map_other_groups => directory_name.to_owned(),
            None => return None,
        };
        if !valid_group_name(&target) {
            return None;
        }
        match self.managed_list() {
            Some(managed) if !managed.contains(&target) => None,
            _ => Some(target),
        }
    }

    /// True when the sink may add or remove `wiki_group`.
    pub fn manages(&self, wiki_group: &str) -> bool {
        match self.managed_list() {
            Some(managed) => managed.contains(wiki_group),
            None => valid_group_name(wiki_group),
        }
    }

    /// Checks everything that can be checked without I/O and reports every problem at once.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut problems = Vec::new();
        let mut add = |key: &str, problem: String| {
            problems.push(ConfigProblem {
                key: key.to_owned(),
                problem,
            })
        };
        match DatabaseUrl::parse(&self.url) {
            Ok(url) => {
                let external = self.password_file.is_some() || self.password_env.is_some();
                if url.sqlite_path().is_some() && external {
                    add(
                        "sink.password_file",
                        "a sqlite database takes no password".to_owned(),
                    );
                } else if url.has_password() && external {
                    add("sink.url", "the url already holds a password: drop it or drop `password_file`/`password_env`".to_owned());
                }
            }
            Err(error) => add("sink.url", error.to_string()),
        }
        if self.password_file.is_some() && self.password_env.is_some() {
            add(
                "sink.password_env",
                "give `password_file` or `password_env`, not both".to_owned(),
            );
        }
        if !self.prefix.is_empty()
            && Ident::new("sink.prefix", &format!("t{}", self.prefix)).is_err()
        {
            add(
                "sink.prefix",
                format!(
                    "`{}` is not a valid table prefix (letters, digits and `_`)",
                    self.prefix
                ),
            );
        }
        if Ident::new("sink.schema", &self.schema).is_err() {
            add(
                "sink.schema",
                format!("`{}` is not a valid schema name", self.schema),
            );
        }
        if self.scope.is_empty() || self.scope.chars().count() > MAX_SCOPE_LEN {
            add(
                "sink.scope",
                format!("must be 1 to {MAX_SCOPE_LEN} characters long"),
            );
        }
        if self.batch_rows == 0 || self.batch_rows > MAX_BATCH_ROWS {
            add(
                "sink.batch_rows",
                format!("must be between 1 and {MAX_BATCH_ROWS}"),
            );
        }
        for (key, value) in [
            ("sink.name_attribute", &self.name_attribute),
            ("sink.real_name_attribute", &self.real_name_attribute),
            ("sink.email_attribute", &self.email_attribute),
        ] {
            if let Some(name) = value {
                if !name.is_empty() && !attribute_ok(name) {
                    add(
                        key,
                        format!(
                            "unknown attribute `{name}` (expected one of {})",
                            CANONICAL_ATTRIBUTES.join(", ")
                        ),
                    );
                }
            }
        }
        let managed = self
            .managed_groups
            .as_ref()
            .map(|list| list.iter().cloned().collect::<BTreeSet<String>>());
        for (directory, wiki) in &self.groups {
            let key = format!("sink.groups.{directory}");
            if !valid_group_name(wiki) {
                add(
                    &key,
                    format!("`{wiki}` is not a valid wiki group name (1 to {MAX_GROUP_LEN} bytes, no spaces, `/`, `:` or control characters)"),
                );
            } else if let Some(managed) = &managed {
                if !managed.contains(wiki) {
                    add(
                        &key,
                        format!(
                            "`{wiki}` is not in `managed_groups`: the sink would never write it"
                        ),
                    );
                }
            }
        }
        if let Some(list) = &self.managed_groups {
            for group in list {
                if !valid_group_name(group) {
                    add(
                        "sink.managed_groups",
                        format!("`{group}` is not a valid wiki group name"),
                    );
                }
            }
        }
        let rules = self.name_rules();
        match rules.canonical(&self.blocker) {
            Ok(name) if name == self.blocker => {}
            Ok(name) => add(
                "sink.blocker",
                format!("write the name as MediaWiki stores it: `{name}`"),
            ),
            Err(NameError(reason)) => add("sink.blocker", reason),
        }
        if self.block_reason.trim().is_empty() {
            add("sink.block_reason", "must not be empty".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(problems))
        }
    }
}

/// A group name MediaWiki can store and show: 1 to 255 bytes, no white space, `/`, `:`,
/// `#`, `<`, `>`, `[`, `]`, `|`, `{`, `}` or control characters.
pub fn valid_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_GROUP_LEN
        && !name.chars().any(|ch| {
            ch.is_whitespace()
                || ch.is_control()
                || matches!(
                    ch,
                    '/' | ':' | '#' | '<' | '>' | '[' | ']' | '|' | '{' | '}'
                )
        })
}
