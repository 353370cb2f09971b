//! Building, starting and stopping the slapd process.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::daemon::{exited, signal_pid};
pub(crate) use crate::daemon::{run_tool, StartFailure};
use crate::error::ServerError;
use crate::lifeline;

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

/// Starts `slapd -d 0 -F DIR/slapd.d -h "URL [LDAPS] LDAPI"` with stderr appended to `DIR/slapd.log`,
/// then waits up to `timeout` until both listeners answer a root DSE search. slapd runs as the
/// current user and is spawned by [`lifeline::spawn`]: it dies with the test process.
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
    let mut command = tool_command(SLAPD);
    command
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
        .stderr(log);
    let mut child = lifeline::spawn(command)
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
    signal_pid(SERVER, pid, Signal::SIGTERM)?;
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if exited(child) {
            return Ok(());
        }
        std::thread::sleep(STOP_POLL);
    }
    if !exited(child) {
        signal_pid(SERVER, pid, Signal::SIGKILL)?;
    }
    child
        .wait()
        .map(drop)
        .map_err(ServerError::io("wait for", SLAPD))
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
