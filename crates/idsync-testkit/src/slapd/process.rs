//! Building, starting and stopping the slapd process.

use std::fs::OpenOptions;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::ServerError;

use super::{SERVER, SLAPADD, SLAPD};

/// How often start-up and shutdown are polled.
const POLL: Duration = Duration::from_millis(50);
/// How often shutdown is polled (a clean slapd exit takes about 40 ms).
const STOP_POLL: Duration = Duration::from_millis(10);
/// How long a SIGTERMed slapd gets before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How many lines of the log go into a start error.
const LOG_TAIL_LINES: usize = 30;

/// A `Command` for an OpenLDAP program, never reading `/etc/ldap/ldap.conf` or `~/.ldaprc`.
pub(crate) fn tool_command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.env("LDAPNOINIT", "1").stdin(Stdio::null());
    command
}

/// Runs a prepared command, feeding `input` to its stdin from a separate thread (so a tool
/// that writes while it reads cannot dead-lock), and fails with its stderr unless it exits 0.
pub(crate) fn run_tool(
    mut command: Command,
    input: Option<&str>,
    shown: &str,
) -> Result<Output, ServerError> {
    let program = command.get_program().to_owned();
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
        Err(ServerError::Tool {
            command: shown.to_owned(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// A loopback port that was free a moment ago (bound to 127.0.0.1:0, then released).
pub(crate) fn free_port() -> Result<u16, ServerError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(ServerError::io("bind", "127.0.0.1:0"))?;
    let port = listener
        .local_addr()
        .map_err(ServerError::io("bind", "127.0.0.1:0"))?
        .port();
    Ok(port)
}

/// Loads `ldif_file` into a database with `slapadd` (`-n0` for cn=config, else `-q -b suffix`).
pub(crate) fn slapadd(
    config_dir: &Path,
    target: SlapaddTarget<'_>,
    ldif_file: &Path,
) -> Result<(), ServerError> {
    let mut command = tool_command(SLAPADD);
    match target {
        SlapaddTarget::Config => {
            command.arg("-n0");
        }
        SlapaddTarget::Suffix(suffix) => {
            command.args(["-q", "-b", suffix]);
        }
    }
    command.arg("-F").arg(config_dir).arg("-l").arg(ldif_file);
    let shown = format!("{command:?}");
    run_tool(command, None, &shown).map(drop)
}

/// Which database `slapadd` writes.
#[derive(Clone, Copy)]
pub(crate) enum SlapaddTarget<'a> {
    /// cn=config (`-n0`).
    Config,
    /// The database with this suffix, in quick mode (`-q`).
    Suffix(&'a str),
}

/// How a start attempt ended badly.
pub(crate) enum StartFailure {
    /// The port was taken between choosing it and slapd binding it: try another one.
    PortTaken,
    /// Anything else.
    Failed(ServerError),
}

/// Starts `slapd -d 0 -F DIR/slapd.d -h "URL [LDAPS] LDAPI"` with stderr appended to `DIR/slapd.log`,
/// then waits up to `timeout` until both listeners answer a root DSE search.
pub(crate) fn start(
    dir: &Path,
    url: &str,
    ldapi_url: &str,
    ldaps: Option<(&str, &Path)>,
    debug: &str,
    timeout: Duration,
) -> Result<Child, StartFailure> {
    let log_path = dir.join("slapd.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|error| StartFailure::Failed(ServerError::io("open", &log_path)(error)))?;
    let log_out = log
        .try_clone()
        .map_err(|error| StartFailure::Failed(ServerError::io("open", &log_path)(error)))?;
    let mut child = tool_command(SLAPD)
        .arg("-d")
        .arg(debug)
        .arg("-F")
        .arg(dir.join("slapd.d"))
        .arg("-h")
        .arg(match ldaps {
            Some((ldaps_url, _)) => format!("{url} {ldaps_url} {ldapi_url}"),
            None => format!("{url} {ldapi_url}"),
        })
        .stdout(log_out)
        .stderr(log)
        .spawn()
        .map_err(|error| StartFailure::Failed(ServerError::io("spawn", SLAPD)(error)))?;

    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let log_tail = log_tail(dir);
                if log_tail.contains("Address already in use") {
                    return Err(StartFailure::PortTaken);
                }
                return Err(StartFailure::Failed(ServerError::Start {
                    server: SERVER,
                    reason: format!("slapd exited during start-up ({status})"),
                    log_tail,
                }));
            }
            Ok(None) => {}
            Err(error) => {
                drop(child.kill());
                drop(child.wait());
                return Err(StartFailure::Failed(ServerError::io("wait for", SLAPD)(
                    error,
                )));
            }
        }
        if answers(url, None)
            && answers(ldapi_url, Some("EXTERNAL"))
            && ldaps.is_none_or(|(ldaps_url, ca)| answers_tls(ldaps_url, ca))
        {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            drop(child.kill());
            drop(child.wait());
            return Err(StartFailure::Failed(ServerError::Start {
                server: SERVER,
                reason: format!("no answer on {url} and {ldapi_url} within {timeout:?}"),
                log_tail: log_tail(dir),
            }));
        }
        std::thread::sleep(POLL);
    }
}

/// Whether the server at `url` answers a root DSE search (anonymous, or with a SASL mechanism).
fn answers(url: &str, mechanism: Option<&str>) -> bool {
    let mut command = tool_command("ldapsearch");
    match mechanism {
        Some(mechanism) => command.args(["-Q", "-Y", mechanism]),
        None => command.arg("-x"),
    };
    command
        .args(["-H", url, "-b", "", "-s", "base", "-LLL", "1.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether the ldaps:// listener answers a root DSE search when `ca` is trusted.
fn answers_tls(url: &str, ca: &Path) -> bool {
    crate::tls::ldap_client("ldapsearch")
        .env("LDAPTLS_CACERT", ca)
        .args(["-x", "-H", url, "-b", "", "-s", "base", "-LLL", "1.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Stops our slapd child: SIGTERM (after checking `/proc/PID` really is the slapd of `dir`),
/// up to [`STOP_GRACE`] for it to exit, then SIGKILL. A zombie counts as stopped; the child is
/// reaped either way.
pub(crate) fn stop(child: &mut Child, dir: &Path) -> Result<(), ServerError> {
    let pid = child.id();
    if exited(child) {
        return Ok(());
    }
    if !is_our_slapd(pid, dir) {
        return Err(ServerError::Stop {
            server: SERVER,
            pid,
            reason: format!(
                "/proc/{pid}/cmdline is not `slapd … -F {}/slapd.d`; not signalling it",
                dir.display()
            ),
        });
    }
    signal(pid, Signal::SIGTERM)?;
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if exited(child) {
            return Ok(());
        }
        std::thread::sleep(STOP_POLL);
    }
    if !exited(child) {
        signal(pid, Signal::SIGKILL)?;
    }
    child
        .wait()
        .map(drop)
        .map_err(ServerError::io("wait for", SLAPD))
}

/// True when the child has exited (reaping it) or is a zombie.
fn exited(child: &mut Child) -> bool {
    match child.try_wait() {
        Ok(Some(_)) | Err(_) => true,
        Ok(None) => is_zombie_or_gone(child.id()),
    }
}

/// Sends `signal` to `pid`.
fn signal(pid: u32, signal: Signal) -> Result<(), ServerError> {
    let raw = i32::try_from(pid).map_err(|_| ServerError::Stop {
        server: SERVER,
        pid,
        reason: "pid out of range".to_owned(),
    })?;
    match kill(Pid::from_raw(raw), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(error) => Err(ServerError::Stop {
            server: SERVER,
            pid,
            reason: format!("{signal}: {error}"),
        }),
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

/// True when `pid` is alive and its command line holds `-F DIR/slapd.d`.
pub(crate) fn is_our_slapd(pid: u32, dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let config_dir = dir.join("slapd.d");
    let wanted = config_dir.as_os_str().as_encoded_bytes();
    let mut args = cmdline.split(|byte| *byte == 0);
    let mut previous_was_f = false;
    args.any(|arg| {
        let hit = previous_was_f && arg == wanted;
        previous_was_f = arg == b"-F";
        hit
    })
}

/// The last lines of `DIR/slapd.log`.
pub(crate) fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("slapd.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines.into_iter().skip(skip).collect::<Vec<_>>().join("\n")
}
