//! Sync policies chosen in the `[sync]` section of the configuration.

use serde::{Deserialize, Serialize};

/// What happens to an application account whose directory entry is gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDelete {
    /// Keep the account but disable it (the default: nothing the application links to breaks).
    #[default]
    Disable,
    /// Delete the account (what "delete" means is up to each sink, and documented there).
    Delete,
}

/// How an entry without an id mapping finds its application account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchPolicy {
    /// Adopt an existing account with the same name (the default).
    #[default]
    Name,
    /// Strict: only the recorded id mapping counts; a name already taken is refused.
    Id,
}

/// The policies a sink needs to know when it prepares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPolicy {
    /// Disable or delete accounts whose entries are gone.
    pub on_delete: OnDelete,
    /// Adopt accounts by name, or match by id only.
    pub match_by: MatchPolicy,
}

/// Stops a batch that would disable or delete too many synced entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MassDeleteGuard {
    /// `--allow-mass-delete`: let such a batch through.
    pub allow: bool,
    /// Fraction of synced entries a batch may remove (default 0.1).
    pub max_ratio: f64,
    /// Removals always allowed, whatever the ratio (default 500).
    pub min_allowed: usize,
}

impl Default for MassDeleteGuard {
    fn default() -> Self {
        Self {
            allow: false,
            max_ratio: 0.1,
            min_allowed: 500,
        }
    }
}

impl MassDeleteGuard {
    /// The largest number of removals allowed when `synced` entries are known to the sink.
    pub fn limit(&self, synced: usize) -> usize {
        // Ratios are small and counts are far below 2^52, so the float round trip is exact enough.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let by_ratio = (synced as f64 * self.max_ratio).floor() as usize;
        by_ratio.max(self.min_allowed)
    }

    /// True when `removals` out of `synced` entries must be stopped.
    pub fn trips(&self, removals: usize, synced: usize) -> bool {
        !self.allow && removals > self.limit(synced)
    }
}
