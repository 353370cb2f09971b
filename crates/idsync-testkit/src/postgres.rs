//! A real, private PostgreSQL server for tests.
//!
//! [`Postgres::start`] copies a golden data directory (made once per machine by `initdb -A
//! trust -U postgres -E UTF8 --no-locale --wal-segsize=1`, see [`crate::golden`]) into a temp
//! dir and runs `postgres` as a child process on a free `127.0.0.1` port, with its unix socket in
//! the temp dir and durability off (`fsync`, `synchronous_commit`, `full_page_writes`) for
//! speed. When the tests run as root, the server runs as the `postgres` OS user. The process
//! is stopped (SIGINT: fast shutdown; SIGKILL after 10 s), reaped, and the directory removed
//! when the [`Postgres`] is dropped. The system's clusters are never touched.
//!
//! Every client connects as the superuser `postgres` without a password (trust).
//!
//! ```no_run
//! use idsync_testkit::postgres::Postgres;
//!
//! # fn main() -> Result<(), idsync_testkit::ServerError> {
//! let pg = Postgres::start()?;
//! let url = pg.create_database("app")?; // postgres://postgres@127.0.0.1:PORT/app
//! pg.execute_in("app", "CREATE TABLE t (x int); INSERT INTO t VALUES (1)")?;
//! assert_eq!(pg.query_in("app", "SELECT x FROM t")?, vec![vec![Some("1".to_owned())]]);
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::daemon::{self, Daemon, ServiceUser, StartFailure};
use crate::error::ServerError;
use crate::golden;
use crate::sql_client::{Rows, SqlClient};

/// The name used in errors.
const SERVER: &str = "postgresql";
/// The superuser every client connects as.
pub const SUPERUSER: &str = "postgres";
/// The database that always exists.
pub const DEFAULT_DATABASE: &str = "postgres";
/// How long the server gets to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Bumped when the template recipe changes.
const RECIPE: &str = "r2";

/// A running private PostgreSQL server; stopped (and its directory removed) on drop.
pub struct Postgres {
    /// Declared first: stopped before the directory is removed.
    daemon: Daemon,
    port: u16,
    bin: PathBuf,
    dir: TempDir,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Postgres")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .field("pid", &self.daemon.pid())
            .finish_non_exhaustive()
    }
}

/// The directory of the server programs: `$IDSYNC_PG_BINDIR`, the newest
/// `/usr/lib/postgresql/N/bin` (Debian), or the directory of `initdb` on `PATH`.
fn find_bin_dir() -> Result<PathBuf, String> {
    let complete = |dir: &Path| {
        ["initdb", "postgres", "psql"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(dir) = std::env::var_os("IDSYNC_PG_BINDIR").map(PathBuf::from) {
        return if complete(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "IDSYNC_PG_BINDIR={} lacks initdb, postgres or psql",
                dir.display()
            ))
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((version, entry.path().join("bin")))
                })
                .filter(|(_, dir)| complete(dir))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    daemon::find_program("initdb")
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        .filter(|dir| complete(dir))
        .ok_or_else(|| {
            "no initdb/postgres/psql in /usr/lib/postgresql/*/bin or on PATH \
             (install the Debian package postgresql)"
                .to_owned()
        })
}

impl Postgres {
    /// `Ok` when the server programs are installed, otherwise what is missing.
    pub fn available() -> Result<(), String> {
        find_bin_dir().map(drop)
    }

    /// Starts a new, empty server (databases `postgres`, `template0`, `template1`).
    pub fn start() -> Result<Self, ServerError> {
        let bin = find_bin_dir().map_err(|why| ServerError::Unavailable {
            server: SERVER,
            why,
        })?;
        let owner = ServiceUser::when_root(SERVER, "postgres")?;
        let key = format!(
            "postgres-{}-{RECIPE}",
            golden::program_stamp(&bin.join("postgres"))
        );
        let template = golden::template(SERVER, &key, owner, |dir| initdb(&bin, dir, owner))?;
        let dir = daemon::temp_dir_releasing(SERVER, "idsync-pg-", owner, release_shared_memory)?;
        let data = dir.path().join("data");
        golden::copy_tree(&template.join("data"), &data)?;
        let (daemon, port) = daemon::on_free_port(
            SERVER,
            |port| spawn(&bin, dir.path(), port, owner),
            || daemon::log_tail(&dir.path().join("postgres.log")),
        )?;
        Ok(Self {
            daemon,
            port,
            bin,
            dir,
        })
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for(DEFAULT_DATABASE)
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// `127.0.0.1`.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the unix socket `.s.PGSQL.PORT` (the instance directory).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The instance directory (`data/`, `postgres.log`, the socket).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The directory of the server's programs (`psql`, `pg_dump`, …).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
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
        std::fs::read_to_string(self.dir().join("postgres.log")).unwrap_or_default()
    }

    /// Stops the server (fast shutdown; SIGKILL after 10 s) and reaps it.
    pub fn stop(&mut self) -> Result<(), ServerError> {
        self.daemon.stop()
    }

    /// Creates the database `name` (a plain identifier) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ServerError> {
        daemon::check_identifier(SERVER, name)?;
        self.execute(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url_for(name))
    }

    /// Runs SQL (one or more statements) in the database `postgres`; stops at the first error.
    pub fn execute(&self, sql: &str) -> Result<(), ServerError> {
        self.execute_in(DEFAULT_DATABASE, sql)
    }

    /// Runs SQL (one or more statements) in `database`; stops at the first error.
    pub fn execute_in(&self, database: &str, sql: &str) -> Result<(), ServerError> {
        self.client().execute(Some(database), sql)
    }

    /// Runs one query in `database`; every value as text (NULL → None).
    pub fn query_in(&self, database: &str, sql: &str) -> Result<Rows, ServerError> {
        self.client().query(Some(database), sql)
    }

    /// A client for this server (`psql` over the socket, as `postgres`); it borrows nothing.
    pub fn client(&self) -> SqlClient {
        SqlClient::psql(
            &self.bin.join("psql"),
            self.dir.path(),
            self.port,
            SUPERUSER,
        )
    }
}

/// Frees the System V shared memory segment of a killed server whose instance directory is
/// `dir`: the postmaster keeps a small one (its key and id on line 7 of `postmaster.pid`)
/// that outlives it unless it shuts down cleanly. Only a segment with that key and id that
/// no process has attached is removed (`ipcrm -m ID`). Best effort.
fn release_shared_memory(dir: &Path) {
    let Ok(pid_file) = std::fs::read_to_string(dir.join("data/postmaster.pid")) else {
        return;
    };
    let Some((key, id)) = pid_file.lines().nth(6).and_then(|line| {
        let mut words = line.split_whitespace();
        Some((words.next()?.to_owned(), words.next()?.to_owned()))
    }) else {
        return;
    };
    // Columns: key shmid perms size cpid lpid nattch …
    let unattached = std::fs::read_to_string("/proc/sysvipc/shm").is_ok_and(|table| {
        table.lines().skip(1).any(|row| {
            let columns: Vec<&str> = row.split_whitespace().collect();
            columns.first() == Some(&key.as_str())
                && columns.get(1) == Some(&id.as_str())
                && columns.get(6) == Some(&"0")
        })
    });
    if let (true, Some(ipcrm)) = (unattached, daemon::find_program("ipcrm")) {
        let mut command = daemon::clean_command(&ipcrm, Path::new("/"));
        command.args(["-m", &id]);
        drop(daemon::run_tool(command, None, "ipcrm"));
    }
}

/// `initdb` into `DIR/data` (trust, superuser `postgres`, UTF-8, C locale, no fsync).
fn initdb(bin: &Path, dir: &Path, owner: Option<ServiceUser>) -> Result<(), ServerError> {
    let mut command = daemon::clean_command(&bin.join("initdb"), dir);
    command
        .args([
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
            "--wal-segsize=1",
            "-D",
        ])
        .arg(dir.join("data"));
    if let Some(owner) = owner {
        owner.apply(&mut command);
    }
    daemon::run_tool(command, None, "initdb").map(drop)
}

/// Starts `postgres` on `port` and waits until it accepts connections.
fn spawn(
    bin: &Path,
    dir: &Path,
    port: u16,
    owner: Option<ServiceUser>,
) -> Result<Daemon, StartFailure> {
    let data = dir.join("data");
    let mut command = daemon::clean_command(&bin.join("postgres"), dir);
    command
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(dir)
        .args(["-h", "127.0.0.1"]);
    for setting in [
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "autovacuum=off",
        "min_wal_size=4MB",
        "max_wal_size=64MB",
        "max_connections=50",
        "shared_buffers=16MB",
        "logging_collector=off",
        // Dynamic shared memory as files in the data directory, not in /dev/shm: a server
        // killed with its test process leaves nothing outside its instance directory.
        "dynamic_shared_memory_type=mmap",
    ] {
        command.args(["-c", setting]);
    }
    if let Some(owner) = owner {
        owner.apply(&mut command);
    }
    let pid_file = data.join("postmaster.pid");
    Daemon::spawn(
        SERVER,
        command,
        &dir.join("postgres.log"),
        Signal::SIGINT,
        START_TIMEOUT,
        || {
            // Line 8 of postmaster.pid is the postmaster's status ("ready" once it accepts).
            std::fs::read_to_string(&pid_file)
                .is_ok_and(|text| text.lines().nth(7).is_some_and(|s| s.trim() == "ready"))
                && daemon::port_answers(port)
        },
    )
}
