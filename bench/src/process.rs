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
    /// CPU time (user + system) of the process and its threads.
    pub cpu: Duration,
}

/// Runs `command` under `/usr/bin/time` (stderr into `WORK/LABEL.log`); fails with the log
/// tail when it exits unsuccessfully.
pub fn timed(command: &mut Command, work: &Path, label: &str) -> Result<Timed> {
    let log_path = work.join(format!("{label}.log"));
    let usage_path = work.join(format!("{label}.usage"));
    let log = File::create(&log_path).with_context(|| format!("create {}", log_path.display()))?;
    let program = command.get_program().to_string_lossy().into_owned();
    let mut wrapped = Command::new(GNU_TIME);
    wrapped
        .args(["-f", "%M %U %S", "-o"])
        .arg(&usage_path)
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    let start = Instant::now();
    let status = wrapped
        .status()
        .with_context(|| format!("run {GNU_TIME} {program}"))?;
    let wall = start.elapsed();
    if !status.success() {
        bail!(
            "`{program}` ({label}) failed ({status}); log tail:\n{}",
            tail(&log_path)
        );
    }
    let text = std::fs::read_to_string(&usage_path)
        .with_context(|| format!("read {}", usage_path.display()))?;
    let fields: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    let [kib, user, system] = fields.as_slice() else {
        bail!(
            "unexpected {GNU_TIME} output in {}: {text:?}",
            usage_path.display()
        );
    };
    Ok(Timed {
        wall,
        rss_mb: kib / 1024.0,
        cpu: Duration::from_secs_f64(user + system),
    })
}

/// CPU time (user + system) a running process has used so far (`/proc/PID/stat`).
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis((utime + stime) * 10))
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
        let config = config.to_string_lossy().into_owned();
        let mut command = self.command(&self.binary, &["sync", "--once", "--config", &config]);
        timed(&mut command, &self.work, label)
    }

    /// Starts `idsync sync --config CONFIG` (following) in the background.
    pub fn follow(&self, config: &Path, label: &str) -> Result<Follower> {
        let log_path = self.work.join(format!("{label}.log"));
        let log =
            File::create(&log_path).with_context(|| format!("create {}", log_path.display()))?;
        let config = config.to_string_lossy().into_owned();
        // A profiling aid: IDSYNC_BENCH_FOLLOW_WRAP="perf record -g -o FILE" (or strace …)
        // runs the following runner under that command.
        let wrap = std::env::var("IDSYNC_BENCH_FOLLOW_WRAP").unwrap_or_default();
        let mut words: Vec<String> = wrap.split_whitespace().map(str::to_owned).collect();
        let mut command = if words.is_empty() {
            self.command(&self.binary, &["sync", "--config", &config])
        } else {
            let program = words.remove(0);
            words.push(self.binary.to_string_lossy().into_owned());
            words.extend(["sync", "--config", &config].map(str::to_owned));
            let args: Vec<&str> = words.iter().map(String::as_str).collect();
            self.command(Path::new(&program), &args)
        };
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
