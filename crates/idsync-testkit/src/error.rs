//! Errors of the servers the test kit starts (slapd, 389-ds, PostgreSQL, MariaDB, MediaWiki).

use std::path::PathBuf;

/// Why a test server could not be set up, started, used or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The server's programs are not installed.
    #[error("{server} is not available: {why}")]
    Unavailable {
        /// Which server (e.g. "slapd").
        server: &'static str,
        /// What is missing.
        why: String,
    },
    /// A file or process operation failed.
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done ("write", "spawn", …).
        action: &'static str,
        /// The file or program concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A command-line tool (slapadd, ldapmodify, …) exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    Tool {
        /// The command line (passwords masked).
        command: String,
        /// The exit status.
        status: String,
        /// What the tool wrote to stderr.
        stderr: String,
    },
    /// The server died during start-up or did not answer in time.
    #[error("{server} did not start: {reason}\n--- end of the server log ---\n{log_tail}")]
    Start {
        /// Which server.
        server: &'static str,
        /// What went wrong.
        reason: String,
        /// The last lines of the server's log.
        log_tail: String,
    },
    /// The server could not be stopped.
    #[error("{server} (pid {pid}) could not be stopped: {reason}")]
    Stop {
        /// Which server.
        server: &'static str,
        /// Its process id.
        pid: u32,
        /// What went wrong.
        reason: String,
    },
    /// The options are unusable (e.g. a temp dir path too long for a unix socket).
    #[error("invalid {server} options: {reason}")]
    Options {
        /// Which server.
        server: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A tool's output could not be understood.
    #[error("unexpected output from `{command}`: {reason}")]
    Output {
        /// The command (passwords masked).
        command: String,
        /// What was wrong with it.
        reason: String,
    },
    /// An operation needs the server running, and it is stopped.
    #[error("{server} is not running")]
    NotRunning {
        /// Which server.
        server: &'static str,
    },
}

impl ServerError {
    /// An [`ServerError::Io`] for `action` on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
