//! The measurements both benchmarks share, against one configured target database:
//! initial syncs, the no-op re-sync, the persist latency and the restart with a cookie.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::directory::{user_uid, Directory};
use crate::picker::Picker;
use crate::probe::Probe;
use crate::process::Runner;
use crate::stats::Samples;

/// How long a change may take to arrive before the benchmark gives up.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the first change may take (the runner's start-up and resume).
const FIRST_ARRIVAL_TIMEOUT: Duration = Duration::from_secs(300);
/// Changes made and awaited before the latency is measured (not counted).
const WARM_UP_MODIFIES: usize = 10;

/// What the persist-latency run measured.
#[derive(Debug, Default)]
pub struct Latency {
    /// From the modify's answer to the committed row, in ms.
    pub persist_ms: Samples,
    /// The modify's round trip, in ms.
    pub modify_ms: Samples,
    /// The runner's peak RSS while following, in MB.
    pub follow_rss_mb: Option<f64>,
}

/// A target: a configuration of the runner and a way to read the result.
pub struct Target<'a> {
    /// The runner.
    pub runner: &'a Runner,
    /// The idsync configuration file.
    pub config: PathBuf,
    /// The user's name as the target stores it (the sql sink: `user000001`; MediaWiki:
    /// `User000001`).
    pub stored_name: fn(usize) -> String,
    /// A read connection to the target database.
    pub probe: Probe,
}

impl Target<'_> {
    /// Waits until user `index`'s display name is `value`; returns when it was seen.
    fn await_value(
        &mut self,
        index: usize,
        value: &str,
        poll: Duration,
        timeout: Duration,
    ) -> Result<Instant> {
        let name = (self.stored_name)(index);
        let start = Instant::now();
        loop {
            if self.probe.display_name(&name)?.as_deref() == Some(value.as_bytes()) {
                return Ok(Instant::now());
            }
            if start.elapsed() > timeout {
                bail!(
                    "user {} ({name}) did not get displayName {value:?} within {:?}",
                    user_uid(index),
                    timeout
                );
            }
            std::thread::sleep(poll);
        }
    }

    /// Follows with `idsync sync`, makes `modifies` changes one at a time and measures how
    /// long each takes from the modify's answer to the committed row; stops the runner.
    pub fn persist_latency(
        &mut self,
        directory: &Directory,
        modifies: usize,
        poll: Duration,
        picker: &mut Picker,
        tag: &str,
    ) -> Result<Latency> {
        let mut writer = directory.writer()?;
        let mut follower = self.runner.follow(&self.config, &format!("{tag}-follow"))?;
        let mut latency = Latency::default();
        for i in 0..WARM_UP_MODIFIES + modifies {
            let index = picker.next_user();
            let value = format!("{tag} persist {i}");
            let sent = Instant::now();
            writer.set_display_name(index, &value)?;
            let answered = Instant::now();
            let timeout = if i == 0 {
                FIRST_ARRIVAL_TIMEOUT
            } else {
                ARRIVAL_TIMEOUT
            };
            let seen = match self.await_value(index, &value, poll, timeout) {
                Ok(seen) => seen,
                Err(error) => {
                    follower.check_alive()?;
                    return Err(error);
                }
            };
            if i >= WARM_UP_MODIFIES {
                latency.persist_ms.push_ms(seen - answered);
                latency.modify_ms.push_ms(answered - sent);
            }
        }
        latency.follow_rss_mb = follower.peak_rss_mb();
        follower.check_alive()?;
        follower.stop()?;
        Ok(latency)
    }

    /// With the runner stopped: makes `changes` changes, then times `sync --once` resuming
    /// from the stored cookie and checks that every change arrived. Returns (wall, RSS).
    pub fn restart(
        &mut self,
        directory: &Directory,
        changes: usize,
        picker: &mut Picker,
        label: &str,
    ) -> Result<(Duration, f64)> {
        let mut writer = directory.writer()?;
        let mut made = Vec::with_capacity(changes);
        for i in 0..changes {
            let index = picker.next_user();
            let value = format!("{label} change {i}");
            writer.set_display_name(index, &value)?;
            made.push((index, value));
        }
        drop(writer);
        let timed = self.runner.once(&self.config, label)?;
        // Later changes to the same user win.
        let mut last: Vec<(usize, String)> = Vec::new();
        for (index, value) in made {
            last.retain(|(seen, _)| *seen != index);
            last.push((index, value));
        }
        for (index, value) in last {
            let name = (self.stored_name)(index);
            if self.probe.display_name(&name)?.as_deref() != Some(value.as_bytes()) {
                bail!("after the restart, {name} does not have displayName {value:?}");
            }
        }
        Ok((timed.wall, timed.rss_mb))
    }
}

/// Writes the admin password into `work/ldap.pw` and returns the path.
pub fn password_file(work: &Path, directory: &Directory) -> Result<PathBuf> {
    let path = work.join("ldap.pw");
    std::fs::write(&path, directory.slapd.admin_password())?;
    Ok(path)
}

/// Prints one line of a report, flushed.
pub fn line(text: &str) {
    println!("{text}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}
