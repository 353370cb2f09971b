//! The `[source]` table of `type = "dummy"`.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::format::Format;

/// Most users `[source.generate]` accepts.
pub const MAX_USERS: u64 = 10_000_000;
/// Most groups `[source.generate]` accepts.
pub const MAX_GROUPS: u64 = 10_000_000;
/// Most (group, user) memberships `[source.generate]` accepts.
pub const MAX_MEMBERSHIPS: u64 = 100_000_000;
/// Nested groups when `[source.generate]` does not say (fewer when there are few groups).
pub const DEFAULT_NESTED: u64 = 10;

/// Configuration of the dummy source: the `[source]` table without its `type`.
///
/// Exactly one of `path` and `generate` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DummyConfig {
    /// A directory file (`.yaml`, `.yml` or `.toml`; see the crate docs for its format),
    /// relative to the current directory. It is re-read and diffed whenever it changes.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Generate a synthetic directory instead of reading a file (for benchmarks).
    #[serde(default)]
    pub generate: Option<GenerateConfig>,
}

/// `[source.generate]`: the size and seed of a synthetic directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// Number of users (`user000001`, `user000002`, …).
    pub users: u64,
    /// Number of groups (`group00001`, `group00002`, …).
    pub groups: u64,
    /// Number of distinct (group, user) memberships, exactly; spread evenly over the groups.
    /// At most `users × groups`; default 0.
    #[serde(default)]
    pub memberships: u64,
    /// Number of groups that contain 2–3 other groups (default: 10, or `(groups - 1) / 2`
    /// when that is smaller). At most `(groups - 1) / 2`.
    #[serde(default)]
    pub nested: Option<u64>,
    /// Seed of the generator (default 0): the same parameters and seed give the same
    /// directory.
    #[serde(default)]
    pub seed: u64,
}

/// One problem found by [`DummyConfig::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key the problem is about, relative to the `[source]` table (e.g. `generate.users`;
    /// the runner prefixes `source.` and the file name).
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigProblem {
    fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The resolved parameters of a synthetic directory (defaults applied, validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GenerateParams {
    /// Number of users.
    pub users: u32,
    /// Number of groups.
    pub groups: u32,
    /// Number of distinct (group, user) memberships.
    pub memberships: u64,
    /// Number of groups that contain other groups.
    pub nested: u32,
    /// Generator seed.
    pub seed: u64,
}

impl GenerateParams {
    /// The largest `nested` value possible with `groups` groups: nested group `k` contains
    /// groups `2k + 1` and `2k + 2`.
    pub fn max_nested(groups: u64) -> u64 {
        groups.saturating_sub(1) / 2
    }
}

impl DummyConfig {
    /// Checks the configuration without touching the file system and returns every problem
    /// found (none: the configuration is good), each with its key relative to `[source]`.
    pub fn validate(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        match (&self.path, &self.generate) {
            (Some(_), Some(_)) => problems.push(ConfigProblem::new(
                "path",
                "set either `path` or `[source.generate]`, not both",
            )),
            (None, None) => problems.push(ConfigProblem::new(
                "path",
                "missing: set `path` (a directory file) or `[source.generate]`",
            )),
            _ => {}
        }
        if let Some(path) = &self.path {
            if path.as_os_str().is_empty() {
                problems.push(ConfigProblem::new("path", "the path is empty"));
            } else if Format::from_path(path).is_none() {
                problems.push(ConfigProblem::new(
                    "path",
                    format!(
                        "`{}` is not a `.yaml`, `.yml` or `.toml` file",
                        path.display()
                    ),
                ));
            }
        }
        if let Some(generate) = &self.generate {
            generate.check(&mut problems);
        }
        problems
    }
}

impl GenerateConfig {
    fn check(&self, problems: &mut Vec<ConfigProblem>) {
        if self.users > MAX_USERS {
            problems.push(ConfigProblem::new(
                "generate.users",
                format!("{} is more than the limit of {MAX_USERS}", self.users),
            ));
        }
        if self.groups > MAX_GROUPS {
            problems.push(ConfigProblem::new(
                "generate.groups",
                format!("{} is more than the limit of {MAX_GROUPS}", self.groups),
            ));
        }
        let possible = self.users.saturating_mul(self.groups);
        if self.memberships > MAX_MEMBERSHIPS {
            problems.push(ConfigProblem::new(
                "generate.memberships",
                format!(
                    "{} is more than the limit of {MAX_MEMBERSHIPS}",
                    self.memberships
                ),
            ));
        } else if self.memberships > possible {
            problems.push(ConfigProblem::new(
                "generate.memberships",
                format!(
                    "{} distinct (group, user) pairs do not exist: users × groups = {possible}",
                    self.memberships
                ),
            ));
        }
        if let Some(nested) = self.nested {
            let max = GenerateParams::max_nested(self.groups);
            if nested > max {
                problems.push(ConfigProblem::new(
                    "generate.nested",
                    format!(
                        "{nested} is more than (groups - 1) / 2 = {max} (nested group k \
                         contains groups 2k + 1 and 2k + 2)"
                    ),
                ));
            }
        }
    }

    /// The resolved parameters, or every problem found (keys as in [`DummyConfig::validate`]).
    pub fn params(&self) -> Result<GenerateParams, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        self.check(&mut problems);
        let nested = self
            .nested
            .unwrap_or_else(|| DEFAULT_NESTED.min(GenerateParams::max_nested(self.groups)));
        match (
            u32::try_from(self.users),
            u32::try_from(self.groups),
            u32::try_from(nested),
        ) {
            (Ok(users), Ok(groups), Ok(nested)) if problems.is_empty() => Ok(GenerateParams {
                users,
                groups,
                memberships: self.memberships,
                nested,
                seed: self.seed,
            }),
            _ => {
                if problems.is_empty() {
                    problems.push(ConfigProblem::new(
                        "generate",
                        "the numbers are out of range",
                    ));
                }
                Err(problems)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn parse(text: &str) -> Result<DummyConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn path_config_parses_and_validates() {
        let config = parse(r#"path = "examples/directory.yaml""#).unwrap();
        assert_eq!(config.path, Some(PathBuf::from("examples/directory.yaml")));
        assert_eq!(config.validate(), []);
    }

    #[test]
    fn generate_config_parses_with_defaults() {
        let config = parse("[generate]\nusers = 100\ngroups = 10\nmemberships = 500\n").unwrap();
        assert_eq!(config.validate(), []);
        let params = config.generate.unwrap().params().unwrap();
        assert_eq!(
            params,
            GenerateParams {
                users: 100,
                groups: 10,
                memberships: 500,
                nested: 4,
                seed: 0
            }
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let error = parse("path = \"a.yaml\"\nwatch = true\n").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `watch`"),
            "{error}"
        );
        let error = parse("[generate]\nusers = 1\ngroups = 1\nuser = 3\n").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `user`"),
            "{error}"
        );
    }

    #[test]
    fn validation_reports_every_problem_with_its_key() {
        let both = DummyConfig {
            path: Some(PathBuf::from("dir.json")),
            generate: Some(GenerateConfig {
                users: MAX_USERS + 1,
                groups: 4,
                memberships: MAX_USERS * 4 + 8,
                nested: Some(2),
                seed: 1,
            }),
        };
        let problems: Vec<String> = both.validate().iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "path: set either `path` or `[source.generate]`, not both",
                "path: `dir.json` is not a `.yaml`, `.yml` or `.toml` file",
                "generate.users: 10000001 is more than the limit of 10000000",
                "generate.memberships: 40000008 distinct (group, user) pairs do not \
                 exist: users × groups = 40000004",
                "generate.nested: 2 is more than (groups - 1) / 2 = 1 (nested group k \
                 contains groups 2k + 1 and 2k + 2)",
            ]
        );
    }

    #[test]
    fn validation_wants_a_source_and_a_path() {
        let problems = DummyConfig::default().validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "path");
        let empty = DummyConfig {
            path: Some(PathBuf::new()),
            generate: None,
        };
        assert_eq!(empty.validate()[0].key, "path");
        let too_many = GenerateConfig {
            users: 10,
            groups: 10,
            memberships: MAX_MEMBERSHIPS + 1,
            nested: None,
            seed: 0,
        };
        let problems = too_many.params().unwrap_err();
        assert_eq!(problems[0].key, "generate.memberships");
        let groups = GenerateConfig {
            groups: MAX_GROUPS + 1,
            ..GenerateConfig::default()
        };
        assert_eq!(groups.params().unwrap_err()[0].key, "generate.groups");
    }

    #[test]
    fn every_extension_is_accepted() {
        for name in ["a.yaml", "a.yml", "a.toml", "A.YAML"] {
            let config = DummyConfig {
                path: Some(PathBuf::from(name)),
                generate: None,
            };
            assert_eq!(config.validate(), [], "{name}");
        }
    }
}
