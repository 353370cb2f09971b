//! Running the `idsync` binary: timed `sync --once` runs (peak RSS by `/usr/bin/time`) and a
//! following `sync` in the background (peak RSS from `/proc/PID/status`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// GNU time, for the peak RSS of a child.
const GNU_TIME: &str = "/usr/bin/time";

/// How the runner is started: binary, plugin directory, where logs go.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The `idsync` binary.
    pub binary: PathBuf,
    /// `IDSYNC_PLUGIN_PATH`.
    pub plugins: PathBuf,
    /// Directory for logs and `/usr/bin/time` outputs.
    pub work: PathBuf,
}

/// A finished timed run.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Peak RSS in MB.
    pub rss_mb: f64,
}

impl Runner {
    /// A command for `idsync ARGS` with the plugin path and warn-level logs.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("IDSYNC_PLUGIN_PATH", &self.plugins)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        command
    }

    /// Runs `idsync sync --once --config CONFIG`, timed; `label` names the log file.
    pub fn once(&self, config: &Path, label: &str) -> Result<Timed> {
        let log_path = self.work.join(format!("{label}.log"));
        let rss_path = self.work.join(format!("{label}.rss"));
        let log =
            File::create(&log_path).with_context(|| format!("create {}", log_path.display()))?;
        let binary = self.binary.to_string_lossy().into_owned();
        let config = config.to_string_lossy().into_owned();
        let rss = rss_path.to_string_lossy().into_owned();
        let mut command = self.command(
            Path::new(GNU_TIME),
            &[
                "-f", "%M", "-o", &rss, &binary, "sync", "--once", "--config", &config,
            ],
        );
        command.stderr(log);
        let start = Instant::now();
        let status = command
            .status()
            .with_context(|| format!("run {GNU_TIME} {binary}"))?;
        let wall = start.elapsed();
        if !status.success() {
            bail!(
                "`idsync sync --once` ({label}) failed ({status}); log tail:\n{}",
                tail(&log_path)
            );
        }
        let text = std::fs::read_to_string(&rss_path)
            .with_context(|| format!("read {}", rss_path.display()))?;
        let kib: f64 = text
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .parse()
            .with_context(|| format!("peak RSS in {}: {text:?}", rss_path.display()))?;
        Ok(Timed {
            wall,
            rss_mb: kib / 1024.0,
        })
    }

    /// Starts `idsync sync --config CONFIG` (following) in the background.
    pub fn follow(&self, config: &Path, label: &str) -> Result<Follower> {
        let log_path = self.work.join(format!("{label}.log"));
        let log =
            File::create(&log_path).with_context(|| format!("create {}", log_path.display()))?;
        let config = config.to_string_lossy().into_owned();
        let mut command = self.command(&self.binary, &["sync", "--config", &config]);
        command.stderr(log);
        let child = command
            .spawn()
            .with_context(|| format!("spawn {}", self.binary.display()))?;
        Ok(Follower {
            child: Some(child),
            log: log_path,
        })
    }
}

/// A following runner; killed when dropped.
#[derive(Debug)]
pub struct Follower {
    child: Option<Child>,
    log: PathBuf,
}

impl Follower {
    /// The process id, while it runs.
    fn pid(&self) -> Option<Pid> {
        let child = self.child.as_ref()?;
        i32::try_from(child.id()).ok().map(Pid::from_raw)
    }

    /// Fails with the log tail when the runner has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait().context("wait for the runner")? {
                self.child = None;
                bail!(
                    "the following runner exited ({status}); log tail:\n{}",
                    tail(&self.log)
                );
            }
        }
        Ok(())
    }

    /// Peak RSS so far (`VmHWM`), in MB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// SIGTERM, then waits (SIGKILL after 30 s); fails when the runner did not exit cleanly.
    pub fn stop(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().context("wait for the runner")? {
                if status.success() {
                    return Ok(());
                }
                bail!(
                    "the runner exited with {status} after SIGTERM; log tail:\n{}",
                    tail(&self.log)
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the runner did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The last 30 lines of a log file.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(30);
    lines.get(start..).unwrap_or_default().join("\n")
}
