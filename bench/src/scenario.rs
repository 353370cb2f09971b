//! The measurements both benchmarks share, against one configured target database:
//! initial syncs, the no-op re-sync, the persist latency and the restart with a cookie.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::directory::{user_uid, Directory};
use crate::picker::Picker;
use crate::probe::Probe;
use crate::process::{Runner, Timed};
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
    /// From sending the modify to the committed row, in ms (the modify's round trip
    /// included: slapd often sends the change to the runner before it answers the modify).
    pub from_send_ms: Samples,
    /// The modify's round trip, in ms.
    pub modify_ms: Samples,
    /// The runner's peak RSS while following, in MB.
    pub follow_rss_mb: Option<f64>,
}

impl Latency {
    /// One line: the percentiles from the answer and from the send, the modify's round trip.
    pub fn describe(&self) -> String {
        let p = |samples: &Samples| {
            format!(
                "p50 {:.2} ms, p90 {:.2}, p99 {:.2}, max {:.2}",
                samples.percentile(50.0),
                samples.percentile(90.0),
                samples.percentile(99.0),
                samples.max()
            )
        };
        format!(
            "persist latency (n={}) from the modify's answer to the committed row: {}; \
             from sending the modify: {}; modify round trip p50 {:.2} ms",
            self.persist_ms.len(),
            p(&self.persist_ms),
            p(&self.from_send_ms),
            self.modify_ms.percentile(50.0)
        )
    }
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
                latency.from_send_ms.push_ms(seen - sent);
                latency.modify_ms.push_ms(answered - sent);
            }
        }
        latency.follow_rss_mb = follower.peak_rss_mb();
        follower.check_alive()?;
        follower.stop()?;
        Ok(latency)
    }

    /// With the runner stopped: makes `changes` changes, then times `sync --once` resuming
    /// from the stored cookie and checks that every change arrived.
    pub fn restart(
        &mut self,
        directory: &Directory,
        changes: usize,
        picker: &mut Picker,
        label: &str,
    ) -> Result<Run> {
        let mut writer = directory.writer()?;
        let mut made = Vec::with_capacity(changes);
        for i in 0..changes {
            let index = picker.next_user();
            let value = format!("{label} change {i}");
            writer.set_display_name(index, &value)?;
            made.push((index, value));
        }
        drop(writer);
        let run = once(self.runner, directory, &self.config, label)?;
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
        Ok(run)
    }
}

/// One timed `sync --once` and what slapd spent meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// The runner's figures.
    pub timed: Timed,
    /// slapd's CPU time during the run.
    pub server_cpu: Duration,
}

impl Run {
    /// `W s (CPU: idsync I s + slapd S s), peak RSS R MB`.
    pub fn describe(&self) -> String {
        format!(
            "{:.2} s (CPU: idsync {:.2} s + slapd {:.2} s), peak RSS {:.0} MB",
            self.timed.wall.as_secs_f64(),
            self.timed.cpu.as_secs_f64(),
            self.server_cpu.as_secs_f64(),
            self.timed.rss_mb
        )
    }
}

/// Runs `idsync sync --once` with `config`, timed, and measures slapd's CPU meanwhile.
pub fn once(runner: &Runner, directory: &Directory, config: &Path, label: &str) -> Result<Run> {
    let before = directory.slapd_cpu();
    let timed = runner.once(config, label)?;
    Ok(Run {
        timed,
        server_cpu: directory.slapd_cpu().saturating_sub(before),
    })
}

/// Wall times, CPU times (runner + slapd) and peak RSS of several runs.
#[derive(Debug, Default)]
pub struct Runs {
    /// Wall times, s.
    pub wall: Samples,
    /// Runner + slapd CPU times, s.
    pub cpu: Samples,
    /// Peak RSS, MB.
    pub rss: Samples,
}

impl Runs {
    /// Adds a run.
    pub fn push(&mut self, run: &Run) {
        self.wall.push_secs(run.timed.wall);
        self.cpu.push_secs(run.timed.cpu + run.server_cpu);
        self.rss.push(run.timed.rss_mb);
    }
}

/// The directory a benchmark writes its files to: `keep` (created) when given, else a temp
/// dir that lives as long as the returned guard.
pub fn work_dir(prefix: &str, keep: Option<&Path>) -> Result<(tempfile::TempDir, PathBuf)> {
    let temp = tempfile::Builder::new().prefix(prefix).tempdir()?;
    let work = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.to_path_buf()
        }
        None => temp.path().to_path_buf(),
    };
    Ok((temp, work))
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
