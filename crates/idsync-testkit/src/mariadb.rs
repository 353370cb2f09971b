//! A real, private MariaDB server for tests.
//!
//! [`MariaDb::start`] copies a golden data directory (made once per machine by
//! `mariadb-install-db --auth-root-authentication-method=normal --skip-test-db` plus a
//! bootstrap that creates the user [`USER`], see [`crate::golden`]) into a temp dir and runs
//! `mariadbd --no-defaults` as a child process on a free `127.0.0.1` port, with its socket at
//! `DIR/sock`, utf8mb4 by default and durability off (`innodb_flush_log_at_trx_commit=0`, no
//! doublewrite, no binlog) for speed. When the tests run as root, the server is started as the
//! `mysql` OS user (not with `--user=mysql`: a server that switches users itself loses the
//! parent-death signal that kills it with the test process). The process is stopped (SIGTERM;
//! SIGKILL after 10 s), reaped, and the directory removed when the [`MariaDb`] is dropped.
//!
//! Accounts: [`USER`]/[`PASSWORD`] (`'idsync'@'%'` and `@'localhost'`, all privileges with
//! grant option) for TCP clients such as the sinks; `root` without a password over the socket
//! for the kit's own tools.
//!
//! ```no_run
//! use idsync_testkit::mariadb::MariaDb;
//!
//! # fn main() -> Result<(), idsync_testkit::ServerError> {
//! let db = MariaDb::start()?;
//! let url = db.create_database("app")?; // mysql://idsync:…@127.0.0.1:PORT/app
//! db.execute_in("app", "CREATE TABLE t (x int); INSERT INTO t VALUES (1)")?;
//! assert_eq!(db.query_in("app", "SELECT x FROM t")?, vec![vec![Some("1".to_owned())]]);
//! # Ok(())
//! # }
//! ```

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::daemon::{self, Daemon, ServiceUser, StartFailure};
use crate::error::ServerError;
use crate::golden;
use crate::sql_client::{Rows, SqlClient};

/// The name used in errors.
const SERVER: &str = "mariadb";
/// The account for TCP clients (all privileges, with grant option).
pub const USER: &str = "idsync";
/// [`USER`]'s password.
pub const PASSWORD: &str = "idsync-test-password";
/// How long the server gets to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Bumped when the template recipe changes.
const RECIPE: &str = "r1";
/// Server settings used for the template and for every run.
const SETTINGS: &[&str] = &[
    "--innodb-log-file-size=8M",
    "--innodb-buffer-pool-size=16M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-use-native-aio=0",
    "--skip-log-bin",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
];

/// The programs an instance needs.
#[derive(Clone, Debug)]
struct Programs {
    server: PathBuf,
    install_db: PathBuf,
    client: PathBuf,
}

/// Finds `mariadbd`, `mariadb-install-db` and `mariadb` (or their `mysql*` names).
fn find_programs() -> Result<Programs, String> {
    let find = |names: &[&str]| names.iter().find_map(|name| daemon::find_program(name));
    match (
        find(&["mariadbd", "mysqld"]),
        find(&["mariadb-install-db", "mysql_install_db"]),
        find(&["mariadb", "mysql"]),
    ) {
        (Some(server), Some(install_db), Some(client)) => Ok(Programs {
            server,
            install_db,
            client,
        }),
        _ => Err(
            "missing mariadbd, mariadb-install-db or mariadb (install the Debian package \
             mariadb-server)"
                .to_owned(),
        ),
    }
}

/// A running private MariaDB server; stopped (and its directory removed) on drop.
pub struct MariaDb {
    /// Declared first: stopped before the directory is removed.
    daemon: Daemon,
    port: u16,
    programs: Programs,
    dir: TempDir,
}

impl std::fmt::Debug for MariaDb {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MariaDb")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .field("pid", &self.daemon.pid())
            .finish_non_exhaustive()
    }
}

impl MariaDb {
    /// `Ok` when the server programs are installed, otherwise what is missing.
    pub fn available() -> Result<(), String> {
        find_programs().map(drop)
    }

    /// Starts a new server holding only the system databases.
    pub fn start() -> Result<Self, ServerError> {
        let programs = find_programs().map_err(|why| ServerError::Unavailable {
            server: SERVER,
            why,
        })?;
        let owner = ServiceUser::when_root(SERVER, "mysql")?;
        let key = format!(
            "mariadb-{}-{RECIPE}",
            golden::program_stamp(&programs.server)
        );
        let template = golden::template(SERVER, &key, owner, |dir| {
            install_db(&programs, dir, owner.is_some())
        })?;
        let dir = daemon::temp_dir(SERVER, "idsync-my-", owner)?;
        golden::copy_tree(&template.join("data"), &dir.path().join("data"))?;
        let (daemon, port) = daemon::on_free_port(
            SERVER,
            |port| spawn(&programs, dir.path(), port, owner),
            || daemon::log_tail(&dir.path().join("mariadbd.log")),
        )?;
        Ok(Self {
            daemon,
            port,
            programs,
            dir,
        })
    }

    /// `mysql://idsync:PASSWORD@127.0.0.1:PORT/` (no default database).
    pub fn url(&self) -> String {
        self.url_for("")
    }

    /// `mysql://idsync:PASSWORD@127.0.0.1:PORT/DATABASE`.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "mysql://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// `127.0.0.1`.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The account for TCP clients, [`USER`].
    pub fn user(&self) -> &str {
        USER
    }

    /// [`USER`]'s password, [`PASSWORD`].
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// The server's unix socket, `DIR/sock`.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// The instance directory (`data/`, `mariadbd.log`, `sock`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id (kept after a stop).
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        self.daemon.is_running()
    }

    /// Everything the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("mariadbd.log")).unwrap_or_default()
    }

    /// Stops the server (SIGTERM; SIGKILL after 10 s) and reaps it.
    pub fn stop(&mut self) -> Result<(), ServerError> {
        self.daemon.stop()
    }

    /// Creates the database `name` (a plain identifier; utf8mb4) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ServerError> {
        daemon::check_identifier(SERVER, name)?;
        self.execute(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url_for(name))
    }

    /// Runs SQL (one or more statements) without a default database; stops at the first error.
    pub fn execute(&self, sql: &str) -> Result<(), ServerError> {
        self.client().execute(None, sql)
    }

    /// Runs SQL (one or more statements) in `database`; stops at the first error.
    pub fn execute_in(&self, database: &str, sql: &str) -> Result<(), ServerError> {
        self.client().execute(Some(database), sql)
    }

    /// Runs one query in `database`; every value as text (NULL → None; so does the text
    /// `NULL`, which the client prints alike).
    pub fn query_in(&self, database: &str, sql: &str) -> Result<Rows, ServerError> {
        self.client().query(Some(database), sql)
    }

    /// A client for this server (`mariadb` as `root` over the socket); it borrows nothing.
    pub fn client(&self) -> SqlClient {
        SqlClient::mariadb(&self.programs.client, &self.socket())
    }
}

/// `mariadb-install-db` into `DIR/data`, then a bootstrap run that creates [`USER`].
fn install_db(programs: &Programs, dir: &Path, as_root: bool) -> Result<(), ServerError> {
    let data = dir.join("data");
    let mut command = daemon::clean_command(&programs.install_db, dir);
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ])
        .args(SETTINGS);
    if as_root {
        command.arg("--user=mysql");
    }
    daemon::run_tool(command, None, "mariadb-install-db")?;

    let mut command = daemon::clean_command(&programs.server, dir);
    command
        .arg("--no-defaults")
        .arg("--bootstrap")
        .arg(format!("--datadir={}", data.display()))
        .args(SETTINGS);
    if as_root {
        command.arg("--user=mysql");
    }
    // Bootstrap mode reads one statement per line and starts without grant tables.
    let sql = format!(
        "FLUSH PRIVILEGES;\n\
         CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n\
         CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}';\n\
         GRANT ALL ON *.* TO '{USER}'@'%' WITH GRANT OPTION;\n\
         GRANT ALL ON *.* TO '{USER}'@'localhost' WITH GRANT OPTION;\n"
    );
    daemon::run_tool(command, Some(&sql), "mariadbd --bootstrap").map(drop)
}

/// Starts `mariadbd` on `port` (as `owner`) and waits until it accepts connections on the
/// port and socket.
fn spawn(
    programs: &Programs,
    dir: &Path,
    port: u16,
    owner: Option<ServiceUser>,
) -> Result<Daemon, StartFailure> {
    let socket = dir.join("sock");
    let mut command = daemon::clean_command(&programs.server, dir);
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", dir.join("data").display()))
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
        .args(["--bind-address=127.0.0.1", "--skip-name-resolve"])
        .args(SETTINGS);
    if let Some(owner) = owner {
        owner.apply(&mut command);
    }
    Daemon::spawn(
        SERVER,
        command,
        &dir.join("mariadbd.log"),
        Signal::SIGTERM,
        START_TIMEOUT,
        || UnixStream::connect(&socket).is_ok() && daemon::port_answers(port),
    )
}
