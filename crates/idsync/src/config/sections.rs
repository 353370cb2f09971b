//! The sections of the runner's configuration file.

use serde::Deserialize;

use idsync_core::{MatchPolicy, OnDelete};

/// The whole file, after environment overrides.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Where it was read from.
    pub file: std::path::PathBuf,
    /// `[source]`.
    pub source: SourceSection,
    /// `[sink]`.
    pub sink: SinkSection,
    /// `[sync]`.
    pub sync: SyncSection,
    /// `[runner]`.
    pub runner: RunnerSection,
}

/// `[source]`: `type` picks the source; the other keys belong to it.
#[derive(Clone, Debug)]
pub struct SourceSection {
    /// `dummy` (more types: ldap, rfc2307, freeipa, replay, ad).
    pub kind: String,
    /// The source's own keys, as JSON.
    pub settings: serde_json::Value,
}

/// `[sink]`: `plugin` names the plugin (or its path); the other keys belong to it.
#[derive(Clone, Debug)]
pub struct SinkSection {
    /// A plugin name (`sql`, `mediawiki`) or a path to a `.so`.
    pub plugin: String,
    /// The plugin's own keys, as JSON (handed to the plugin, which validates them).
    pub settings: serde_json::Value,
}

/// `[sync]`: engine policies and runner tuning. Every key is optional.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct SyncSection {
    /// What happens to accounts whose entries left the directory: `disable` or `delete`.
    pub on_delete: OnDelete,
    /// How entries without an id mapping find their accounts: `name` (adopt) or `id` (strict).
    #[serde(rename = "match")]
    pub match_by: MatchPolicy,
    /// Entries per transaction during a refresh.
    pub batch_size: usize,
    /// The mass-delete guard's ratio of synced entries (0.1 = 10 %).
    pub mass_delete_ratio: f64,
    /// Removals the mass-delete guard always allows.
    pub mass_delete_min: usize,
    /// First retry delay, in seconds, after a sink or source failure.
    pub retry_initial_delay: f64,
    /// Longest retry delay, in seconds.
    pub retry_max_delay: f64,
    /// Attempts before giving up (0: never give up; the default with `--once` is 5).
    pub retry_max_attempts: Option<u32>,
    /// Events buffered between the source and the engine.
    pub queue_capacity: usize,
}

impl Default for SyncSection {
    fn default() -> Self {
        Self {
            on_delete: OnDelete::Disable,
            match_by: MatchPolicy::Name,
            batch_size: 1000,
            mass_delete_ratio: 0.1,
            mass_delete_min: 500,
            retry_initial_delay: 0.5,
            retry_max_delay: 60.0,
            retry_max_attempts: None,
            queue_capacity: 8192,
        }
    }
}

impl SyncSection {
    /// Pure checks of the values; every problem, with its key.
    pub fn validate(&self) -> Vec<super::ConfigProblem> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, message: &str| {
            if !ok {
                problems.push(super::ConfigProblem::new(format!("sync.{key}"), message));
            }
        };
        check(
            (1..=1_000_000).contains(&self.batch_size),
            "batch_size",
            "must be between 1 and 1000000",
        );
        check(
            (0.0..=1.0).contains(&self.mass_delete_ratio),
            "mass_delete_ratio",
            "must be between 0 and 1",
        );
        check(
            self.retry_initial_delay > 0.0 && self.retry_initial_delay.is_finite(),
            "retry_initial_delay",
            "must be a positive number of seconds",
        );
        check(
            self.retry_max_delay >= self.retry_initial_delay && self.retry_max_delay.is_finite(),
            "retry_max_delay",
            "must be at least retry_initial_delay",
        );
        check(
            (16..=1_000_000).contains(&self.queue_capacity),
            "queue_capacity",
            "must be between 16 and 1000000",
        );
        problems
    }
}

/// `[runner]`: the runner's own files. Every key is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RunnerSection {
    /// Where the runner keeps state between runs (the engine's member-index snapshot, written
    /// at a clean stop so the next start resumes without an index warm-up). Off when unset.
    pub state_dir: Option<std::path::PathBuf>,
}

impl RunnerSection {
    /// Pure checks of the values; every problem, with its key.
    pub fn validate(&self) -> Vec<super::ConfigProblem> {
        let mut problems = Vec::new();
        if self
            .state_dir
            .as_ref()
            .is_some_and(|dir| dir.as_os_str().is_empty())
        {
            problems.push(super::ConfigProblem::new(
                "runner.state_dir",
                "must not be empty (leave the key out to keep no state)",
            ));
        }
        problems
    }

    /// The state directory to use: `state_dir`, or else the first directory systemd gives a
    /// service with `StateDirectory=` (`$STATE_DIRECTORY`, colon-separated), or none.
    pub fn effective_state_dir(
        &self,
        systemd: Option<std::ffi::OsString>,
    ) -> Option<std::path::PathBuf> {
        if let Some(dir) = &self.state_dir {
            return Some(dir.clone());
        }
        let systemd = systemd?;
        let first = systemd.to_str()?.split(':').find(|dir| !dir.is_empty())?;
        Some(std::path::PathBuf::from(first))
    }
}
