//! Running the `idsync` binary as a child process.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::lifeline;
use crate::paths::{idsync_bin, plugin_dir};

/// What a finished run printed and returned.
#[derive(Debug)]
pub struct RunOutput {
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error (the logs).
    pub stderr: String,
}

/// A command for the built `idsync` with the plugin directory on `IDSYNC_PLUGIN_PATH`.
pub fn command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(idsync_bin());
    command
        .args(args)
        .current_dir(cwd)
        .env("IDSYNC_PLUGIN_PATH", plugin_dir())
        .env("RUST_LOG", "info")
        .env_remove("RUST_BACKTRACE")
        // A CI service's own systemd state directory is not the test's `state_dir`.
        .env_remove("STATE_DIRECTORY")
        .stdin(Stdio::null());
    command
}

/// Runs `idsync ARGS` to completion.
pub fn run(args: &[&str], cwd: &Path) -> RunOutput {
    run_with_env(args, cwd, &[])
}

/// Runs `idsync ARGS` to completion with extra environment variables (killed if the calling
/// thread ends first, e.g. when the test process is killed).
pub fn run_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> RunOutput {
    let mut command = command(args, cwd);
    for (key, value) in env {
        command.env(key, value);
    }
    lifeline::tie_to_this_thread(&mut command);
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run `{}`: {error}", idsync_bin().display()));
    RunOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A long-running `idsync` (e.g. `sync` without `--once`); killed when dropped, and when the
/// test process dies.
pub struct RunnerProcess {
    child: Child,
    stderr_path: PathBuf,
}

impl RunnerProcess {
    /// Starts `idsync ARGS` in `cwd`; its stderr goes to `cwd/idsync.log`.
    pub fn spawn(args: &[&str], cwd: &Path) -> Self {
        Self::spawn_with_env(args, cwd, &[])
    }

    /// Starts `idsync ARGS` with extra environment variables.
    pub fn spawn_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Self {
        let stderr_path = cwd.join("idsync.log");
        let log = std::fs::File::create(&stderr_path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", stderr_path.display()));
        let mut command = command(args, cwd);
        for (key, value) in env {
            command.env(key, value);
        }
        command.stdout(Stdio::null()).stderr(log);
        let child =
            lifeline::spawn(command).unwrap_or_else(|error| panic!("cannot start idsync: {error}"));
        Self { child, stderr_path }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (SIGTERM, SIGINT).
    pub fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.child.id()).unwrap_or(i32::MAX);
        kill(Pid::from_raw(pid), signal).unwrap_or_else(|error| panic!("kill failed: {error}"));
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.stderr_path) {
            drop(file.read_to_string(&mut text));
        }
        text
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            drop(self.child.kill());
            drop(self.child.wait());
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
