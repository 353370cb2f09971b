//! The `ns-slapd` process of an instance: the files it uses, offline import, start in the
//! foreground as our child, readiness, stop.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::daemon::ServiceUser;
pub(crate) use crate::daemon::StartFailure;
use crate::daemon::{exited, run_tool, signal_pid};
use crate::error::ServerError;
use crate::lifeline;
use crate::slapd::process::tool_command;

use super::{INSTANCE, NS_SLAPD, SERVER};

/// How often start-up and shutdown are polled.
const POLL: Duration = Duration::from_millis(50);
/// How many lines of the error log go into a start error.
const LOG_TAIL_LINES: usize = 40;

/// Where an instance keeps its files below its root (the private `$PREFIX` layout).
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The instance root (everything lives below it).
    pub root: PathBuf,
}

impl Layout {
    /// The layout of the instance rooted at `root`.
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// `etc/dirsrv/slapd-NAME` (dse.ldif, schema/).
    pub(crate) fn config_dir(&self) -> PathBuf {
        self.root
            .join("etc/dirsrv")
            .join(format!("slapd-{INSTANCE}"))
    }

    /// The live configuration.
    pub(crate) fn dse(&self) -> PathBuf {
        self.config_dir().join("dse.ldif")
    }

    /// The instance's own schema directory.
    pub(crate) fn schema_dir(&self) -> PathBuf {
        self.config_dir().join("schema")
    }

    /// The pid file ns-slapd writes.
    pub(crate) fn pid_file(&self) -> PathBuf {
        self.root
            .join("run/dirsrv")
            .join(format!("slapd-{INSTANCE}.pid"))
    }

    /// The database directory (bdb environment and backends).
    pub(crate) fn db_dir(&self) -> PathBuf {
        self.root
            .join("var/lib/dirsrv")
            .join(format!("slapd-{INSTANCE}"))
            .join("db")
    }

    /// The errors log.
    pub(crate) fn errors_log(&self) -> PathBuf {
        self.root
            .join("var/log/dirsrv")
            .join(format!("slapd-{INSTANCE}"))
            .join("errors")
    }

    /// What ns-slapd writes to stdout and stderr.
    pub(crate) fn console_log(&self) -> PathBuf {
        self.root.join("ns-slapd.out")
    }

    /// The last lines of the errors log (or of the console output when there is none).
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.errors_log())
            .or_else(|_| std::fs::read_to_string(self.console_log()))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
        lines.into_iter().skip(skip).collect::<Vec<_>>().join("\n")
    }
}

/// `ns-slapd ldif2db -D CONFIG -n userroot -i FILE` (the server must be stopped; the file
/// must be readable by the `dirsrv` user). Replaces the whole backend; runs no plugins.
pub(crate) fn ldif2db(layout: &Layout, file: &Path) -> Result<(), ServerError> {
    let mut command = tool_command(NS_SLAPD);
    command
        .arg("ldif2db")
        .arg("-D")
        .arg(layout.config_dir())
        .args(["-n", "userroot", "-i"])
        .arg(file);
    let shown = format!("{command:?}");
    run_tool(command, None, &shown)
        .map(drop)
        .map_err(|error| match error {
            ServerError::Tool {
                command,
                status,
                stderr,
            } => ServerError::Tool {
                command,
                status,
                stderr: format!("{stderr}\n--- errors log ---\n{}", layout.log_tail()),
            },
            other => other,
        })
}

/// Starts `ns-slapd -D CONFIG -i PIDFILE -d 0` in the foreground and waits up to `timeout`
/// until `url` answers. It stays our child, spawned by [`lifeline::spawn`] so it dies with the
/// test process, and is started as the `dirsrv` user (when we are root) rather than switching
/// to it itself, which would clear its parent-death signal.
pub(crate) fn start(layout: &Layout, url: &str, timeout: Duration) -> Result<Child, StartFailure> {
    let failed = |error: ServerError| StartFailure::Failed(error);
    let user = ServiceUser::when_root(SERVER, "dirsrv").map_err(failed)?;
    if let Some(user) = user {
        // ns-slapd binds its ldapi socket (`run/slapd-NAME.socket`) before it would drop
        // privileges; started as `dirsrv`, it needs `run/` to be its own.
        user.chown(&layout.root.join("run")).map_err(failed)?;
    }
    let console = layout.console_log();
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&console)
        .map_err(|error| failed(ServerError::io("open", &console)(error)))?;
    let log_out = log
        .try_clone()
        .map_err(|error| failed(ServerError::io("open", &console)(error)))?;
    // A stale pid file would make ns-slapd refuse to start.
    drop(std::fs::remove_file(layout.pid_file()));
    let mut command = Command::new(NS_SLAPD);
    command
        .arg("-D")
        .arg(layout.config_dir())
        .arg("-i")
        .arg(layout.pid_file())
        .args(["-d", "0"])
        .stdin(Stdio::null())
        .stdout(log_out)
        .stderr(log);
    if let Some(user) = user {
        user.apply(&mut command);
    }
    let mut child = lifeline::spawn(command)
        .map_err(|error| failed(ServerError::io("spawn", NS_SLAPD)(error)))?;

    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let log_tail = layout.log_tail();
                if log_tail.contains("Address already in use") {
                    return Err(StartFailure::PortTaken);
                }
                return Err(failed(ServerError::Start {
                    server: SERVER,
                    reason: format!("ns-slapd exited during start-up ({status})"),
                    log_tail,
                }));
            }
            Ok(None) => {}
            Err(error) => {
                kill_and_reap(&mut child);
                return Err(failed(ServerError::io("wait for", NS_SLAPD)(error)));
            }
        }
        if answers(url) {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            kill_and_reap(&mut child);
            return Err(failed(ServerError::Start {
                server: SERVER,
                reason: format!("no answer on {url} within {timeout:?}"),
                log_tail: layout.log_tail(),
            }));
        }
        std::thread::sleep(POLL);
    }
}

/// Whether the server at `url` answers an anonymous root DSE search.
pub(crate) fn answers(url: &str) -> bool {
    tool_command("ldapsearch")
        .args(["-x", "-H", url, "-b", "", "-s", "base", "-LLL", "1.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// How to stop the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGTERM and wait (bdb closes cleanly; 2–4 s), SIGKILL after the grace period.
    Graceful(Duration),
    /// SIGKILL at once (throw-away data; the next start recovers the database).
    Kill,
}

/// Stops our ns-slapd child (after checking `/proc/PID` is the ns-slapd of `layout`) and
/// reaps it. A zombie counts as stopped.
pub(crate) fn stop(child: &mut Child, layout: &Layout, how: Stop) -> Result<(), ServerError> {
    let pid = child.id();
    if exited(child) {
        drop(child.wait());
        return Ok(());
    }
    if !is_our_server(pid, layout) {
        return Err(ServerError::Stop {
            server: SERVER,
            pid,
            reason: format!(
                "/proc/{pid}/cmdline is not `ns-slapd -D {}`; not signalling it",
                layout.config_dir().display()
            ),
        });
    }
    if let Stop::Graceful(grace) = how {
        signal_pid(SERVER, pid, Signal::SIGTERM)?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if exited(child) {
                return child
                    .wait()
                    .map(drop)
                    .map_err(ServerError::io("wait for", NS_SLAPD));
            }
            std::thread::sleep(POLL);
        }
    }
    if !exited(child) {
        signal_pid(SERVER, pid, Signal::SIGKILL)?;
    }
    child
        .wait()
        .map(drop)
        .map_err(ServerError::io("wait for", NS_SLAPD))
}

/// SIGKILL and reap (a child that never became ready).
fn kill_and_reap(child: &mut Child) {
    drop(child.kill());
    drop(child.wait());
}

/// True when `pid` is alive and its command line holds `-D CONFIG_DIR` of `layout`.
pub(crate) fn is_our_server(pid: u32, layout: &Layout) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let config_dir = layout.config_dir();
    let wanted = config_dir.as_os_str().as_encoded_bytes();
    let mut previous_was_d = false;
    cmdline.split(|byte| *byte == 0).any(|arg| {
        let hit = previous_was_d && arg == wanted;
        previous_was_d = arg == b"-D";
        hit
    })
}
