//! What the database servers of the kit share: temp dirs a service user can enter, free
//! ports, running tools, and a server child process that is stopped and reaped on drop (and
//! killed by the kernel when the test process dies, see [`crate::lifeline`]).

use std::fs::OpenOptions;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::error::ServerError;
use crate::{lifeline, stale};

/// How often start-up and shutdown are polled.
const POLL: Duration = Duration::from_millis(10);
/// How long a signalled server gets before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How many lines of a log go into an error.
const LOG_TAIL_LINES: usize = 30;
/// `sun_path` holds 108 bytes including the NUL; stay below for the longest socket name.
const MAX_DIR_LEN: usize = 80;

/// An OS account a server runs as when the tests run as root (servers refuse to run as root).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ServiceUser {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
}

impl ServiceUser {
    /// `name`'s ids from `/etc/passwd`, when this process runs as root; `None` otherwise
    /// (the server then runs as the current user).
    pub(crate) fn when_root(server: &'static str, name: &str) -> Result<Option<Self>, ServerError> {
        if effective_uid(server)? != 0 {
            return Ok(None);
        }
        let passwd = std::fs::read_to_string("/etc/passwd")
            .map_err(ServerError::io("read", "/etc/passwd"))?;
        passwd
            .lines()
            .find_map(|line| {
                let mut fields = line.split(':');
                (fields.next() == Some(name)).then_some(())?;
                let uid = fields.nth(1)?.parse().ok()?;
                let gid = fields.next()?.parse().ok()?;
                Some(Some(Self { uid, gid }))
            })
            .ok_or_else(|| ServerError::Unavailable {
                server,
                why: format!("running as root, and there is no `{name}` user in /etc/passwd"),
            })
    }

    /// Makes `path` belong to this user.
    pub(crate) fn chown(self, path: &Path) -> Result<(), ServerError> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(ServerError::io("chown", path))
    }

    /// Makes `command` run as this user (set before exec, so the server keeps the
    /// parent-death signal of [`crate::lifeline`]; a server that switched users itself would
    /// lose it).
    pub(crate) fn apply(self, command: &mut Command) {
        command.uid(self.uid).gid(self.gid);
    }
}

/// The effective uid of this process (from `/proc/self/status`).
pub(crate) fn effective_uid(server: &'static str) -> Result<u32, ServerError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(ServerError::io("read", "/proc/self/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ServerError::Options {
            server,
            reason: "cannot read the effective uid from /proc/self/status".to_owned(),
        })
}

/// Where instance directories go: `$IDSYNC_TESTKIT_TMPDIR`, else `/dev/shm` (a tmpfs: copying
/// a golden data directory there takes a tenth of a second even while builds saturate the
/// disk, where a disk copy took seconds), else the system temp dir.
fn instance_parents() -> Vec<PathBuf> {
    let mut parents = Vec::new();
    if let Some(dir) = std::env::var_os("IDSYNC_TESTKIT_TMPDIR") {
        parents.push(PathBuf::from(dir));
    }
    parents.push(PathBuf::from("/dev/shm"));
    parents.push(std::env::temp_dir());
    parents.push(PathBuf::from("/tmp"));
    parents
}

/// A new temp dir (prefix `prefix`, then the [`stale::tagged`] tag of this process) short
/// enough for unix sockets inside it, owned by `owner` (see [`instance_parents`] for where).
/// Directories with the same prefix left there by killed test processes are removed first.
pub(crate) fn temp_dir(
    server: &'static str,
    prefix: &str,
    owner: Option<ServiceUser>,
) -> Result<TempDir, ServerError> {
    temp_dir_releasing(server, prefix, owner, |_| {})
}

/// [`temp_dir`], calling `release` on each stale directory before it is removed (to free
/// what a killed server held outside it).
pub(crate) fn temp_dir_releasing(
    server: &'static str,
    prefix: &str,
    owner: Option<ServiceUser>,
    release: fn(&Path),
) -> Result<TempDir, ServerError> {
    let tagged = stale::tagged(prefix);
    let mut last_error = None;
    for parent in instance_parents() {
        if !parent.is_dir() || parent.as_os_str().len() + tagged.len() + 8 > MAX_DIR_LEN {
            continue;
        }
        stale::remove_stale_releasing(&parent, prefix, release);
        match tempfile::Builder::new().prefix(&tagged).tempdir_in(&parent) {
            Ok(dir) => {
                if let Some(owner) = owner {
                    owner.chown(dir.path())?;
                }
                return Ok(dir);
            }
            Err(error) => last_error = Some(ServerError::io("create a temp dir in", parent)(error)),
        }
    }
    Err(last_error.unwrap_or_else(|| ServerError::Options {
        server,
        reason: format!(
            "no temp dir short enough for unix sockets ({MAX_DIR_LEN} bytes); set IDSYNC_TESTKIT_TMPDIR"
        ),
    }))
}

/// A loopback port that was free a moment ago (bound to 127.0.0.1:0, then released).
pub(crate) fn free_port() -> Result<u16, ServerError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(ServerError::io("bind", "127.0.0.1:0"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(ServerError::io("bind", "127.0.0.1:0"))
}

/// True when something accepts TCP connections on `127.0.0.1:port`.
pub(crate) fn port_answers(port: u16) -> bool {
    TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// A `Command` with a clean environment (only `PATH` and a UTF-8 locale), stdin closed,
/// working in `dir` (a service user may not be able to enter the caller's directory).
pub(crate) fn clean_command(program: &Path, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("LC_ALL", "C.UTF-8")
        .current_dir(dir)
        .stdin(Stdio::null());
    command
}

/// Runs `command`, feeding `input` to its stdin from a separate thread, and fails with its
/// stderr unless it exits 0. `shown` names the command in errors. The tool dies with the
/// calling thread (which waits for it).
pub(crate) fn run_tool(
    mut command: Command,
    input: Option<&str>,
    shown: &str,
) -> Result<Output, ServerError> {
    let program = command.get_program().to_owned();
    lifeline::tie_to_this_thread(&mut command);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command
        .spawn()
        .map_err(ServerError::io("run", program.clone()))?;
    let writer = match (input, child.stdin.take()) {
        (Some(text), Some(mut stdin)) => {
            let text = text.to_owned();
            Some(std::thread::spawn(move || {
                use std::io::Write as _;
                // A tool that exits early closes the pipe; its exit status reports why.
                drop(stdin.write_all(text.as_bytes()));
            }))
        }
        _ => None,
    };
    let output = child
        .wait_with_output()
        .map_err(ServerError::io("wait for", program))?;
    if let Some(writer) = writer {
        drop(writer.join());
    }
    if output.status.success() {
        Ok(output)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        Err(ServerError::Tool {
            command: shown.to_owned(),
            status: output.status.to_string(),
            stderr: format!("{}\n{}", stderr.trim(), tail(&stdout, LOG_TAIL_LINES))
                .trim()
                .to_owned(),
        })
    }
}

/// The first of `candidates` that is a file.
pub(crate) fn first_file(candidates: impl IntoIterator<Item = PathBuf>) -> Option<PathBuf> {
    candidates.into_iter().find(|path| path.is_file())
}

/// `program` on `PATH`, or in `/usr/bin`, `/usr/sbin`.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    first_file(
        path.into_iter()
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
            .map(|dir| dir.join(program)),
    )
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let skip = all.len().saturating_sub(lines);
    all.into_iter().skip(skip).collect::<Vec<_>>().join("\n")
}

/// The last lines of the log file at `path`.
pub(crate) fn log_tail(path: &Path) -> String {
    tail(
        &std::fs::read_to_string(path).unwrap_or_default(),
        LOG_TAIL_LINES,
    )
}

/// How many free ports a start tries before giving up.
const PORT_ATTEMPTS: usize = 5;

/// Starts a server on a free loopback port: `start(port)` runs with a port that was free a
/// moment ago, and again with another one while it reports [`StartFailure::PortTaken`] (up to
/// five ports). Returns what `start` returned and the port; `log_tail` supplies the server's
/// log for the error when every port was taken.
pub(crate) fn on_free_port<T>(
    server: &'static str,
    mut start: impl FnMut(u16) -> Result<T, StartFailure>,
    log_tail: impl FnOnce() -> String,
) -> Result<(T, u16), ServerError> {
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port()?;
        match start(port) {
            Ok(started) => return Ok((started, port)),
            Err(StartFailure::PortTaken) => {}
            Err(StartFailure::Failed(error)) => return Err(error),
        }
    }
    Err(ServerError::Start {
        server,
        reason: format!("{PORT_ATTEMPTS} free ports were taken before the server bound them"),
        log_tail: log_tail(),
    })
}

/// True when the child has exited (reaping it) or is a zombie.
pub(crate) fn exited(child: &mut Child) -> bool {
    match child.try_wait() {
        Ok(Some(_)) | Err(_) => true,
        Ok(None) => is_zombie_or_gone(child.id()),
    }
}

/// True when `/proc/PID` is missing or the process is a zombie (`State: Z`).
pub(crate) fn is_zombie_or_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => status.lines().any(|line| {
            line.strip_prefix("State:")
                .is_some_and(|state| state.trim_start().starts_with('Z'))
        }),
        Err(_) => true,
    }
}

/// Sends `signal` to `pid` (a process that is gone already is not an error).
pub(crate) fn signal_pid(
    server: &'static str,
    pid: u32,
    signal: Signal,
) -> Result<(), ServerError> {
    let stop_error = |reason: String| ServerError::Stop {
        server,
        pid,
        reason,
    };
    let raw = i32::try_from(pid).map_err(|_| stop_error("pid out of range".into()))?;
    match kill(Pid::from_raw(raw), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(error) => Err(stop_error(format!("{signal}: {error}"))),
    }
}

/// How a start attempt ended badly.
pub(crate) enum StartFailure {
    /// The port was taken between choosing it and the server binding it: try another one.
    PortTaken,
    /// Anything else.
    Failed(ServerError),
}

/// A server process we spawned; stopped with `stop_signal` (SIGKILL after a grace period)
/// and reaped on [`Daemon::stop`] or drop, and killed when the test process dies (it is
/// spawned by [`lifeline::spawn`]). Because the child is only reaped by us, its pid
/// cannot be reused by another process while we may signal it.
#[derive(Debug)]
pub(crate) struct Daemon {
    server: &'static str,
    child: Option<Child>,
    pid: u32,
    stop_signal: Signal,
}

impl Daemon {
    /// Spawns `command` (with [`lifeline::spawn`]) with stdout and stderr appended to `log`,
    /// then polls `ready` until it is true, the child exits (a log mentioning "already in use"
    /// is [`StartFailure::PortTaken`]) or `timeout` passes.
    pub(crate) fn spawn(
        server: &'static str,
        mut command: Command,
        log: &Path,
        stop_signal: Signal,
        timeout: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<Self, StartFailure> {
        let fail = |error: ServerError| StartFailure::Failed(error);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|error| fail(ServerError::io("open", log)(error)))?;
        let file_out = file
            .try_clone()
            .map_err(|error| fail(ServerError::io("open", log)(error)))?;
        let program = command.get_program().to_owned();
        command.stdout(file_out).stderr(file);
        let child = lifeline::spawn(command)
            .map_err(|error| fail(ServerError::io("spawn", program)(error)))?;
        let mut daemon = Self {
            server,
            pid: child.id(),
            child: Some(child),
            stop_signal,
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = daemon.exit_status() {
                let log_tail = log_tail(log);
                if log_tail.contains("already in use") {
                    return Err(StartFailure::PortTaken);
                }
                return Err(fail(ServerError::Start {
                    server,
                    reason: format!("the server exited during start-up ({status})"),
                    log_tail,
                }));
            }
            if ready() {
                return Ok(daemon);
            }
            if Instant::now() >= deadline {
                drop(daemon.stop());
                return Err(fail(ServerError::Start {
                    server,
                    reason: format!("not ready within {timeout:?}"),
                    log_tail: log_tail(log),
                }));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The process id (kept after a stop).
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// True while the process runs (not exited, not a zombie).
    pub(crate) fn is_running(&mut self) -> bool {
        self.exit_status().is_none() && self.child.is_some()
    }

    /// Reaps the child if it exited; the exit status as text, or None while it runs.
    fn exit_status(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Some(status.to_string())
            }
            Ok(None) => None,
            Err(error) => {
                self.child = None;
                Some(format!("cannot wait for it: {error}"))
            }
        }
    }

    /// Stops the server: the stop signal, up to 10 s for it to exit, then SIGKILL; the child
    /// is reaped either way. Stopping a stopped server does nothing.
    pub(crate) fn stop(&mut self) -> Result<(), ServerError> {
        if self.exit_status().is_some() || self.child.is_none() {
            return Ok(());
        }
        self.signal(self.stop_signal)?;
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.exit_status().is_some() {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
        self.signal(Signal::SIGKILL)?;
        if let Some(mut child) = self.child.take() {
            child
                .wait()
                .map_err(ServerError::io("wait for", format!("pid {}", self.pid)))?;
        }
        Ok(())
    }

    /// Sends `signal` to the (unreaped, so still ours) child.
    fn signal(&self, signal: Signal) -> Result<(), ServerError> {
        signal_pid(self.server, self.pid, signal)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("idsync-testkit: {error}");
        }
    }
}

/// Checks that `name` is a plain SQL identifier (ASCII letters, digits, `_`; not starting with
/// a digit; at most 63 bytes), so it can be written into a statement unquoted.
pub(crate) fn check_identifier(server: &'static str, name: &str) -> Result<(), ServerError> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if plain {
        Ok(())
    } else {
        Err(ServerError::Options {
            server,
            reason: format!("`{name}` is not a plain SQL identifier"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert!(check_identifier("x", "wiki_db1").is_ok());
        assert!(check_identifier("x", "1db").is_err());
        assert!(check_identifier("x", "a;drop").is_err());
        assert!(check_identifier("x", "").is_err());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
