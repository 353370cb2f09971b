//! A real, private 389 Directory Server (the LDAP server FreeIPA runs) for tests.
//!
//! [`Ds389::start`] copies a golden instance (built once per cache key with `dscreate`, see
//! `golden.rs`) into a temp dir, points it at a free port on 127.0.0.1 (never 0.0.0.0),
//! optionally imports other data offline (`ldif2db`), and runs `ns-slapd -d 0` in the
//! foreground as a child process. Drop kills it (SIGKILL: the data is thrown away) and removes
//! the directory; [`Ds389::restart`] stops it gracefully first.
//!
//! Every instance has:
//! * Retro Changelog (`nsslapd-attribute: nsuniqueid:targetUniqueId`), Content
//!   Synchronization (RFC 4533, control [`SYNC_CONTROL_OID`]) and MemberOf enabled;
//! * the FreeIPA schema pieces `ipaUniqueID`, `ipaObject`, `nestedGroup`, `ipaUserGroup`,
//!   `ipaHostGroup` (see [`ipa`]);
//! * the non-admin sync account [`SYNC_DN`] with a read ACI on `cn=accounts` for
//!   [`SYNC_READABLE_ATTRIBUTES`] and unlimited size/time/look-through limits;
//! * FreeIPA-shaped data ([`IpaSeed::default`] unless [`Ds389Options::seed`] says otherwise),
//!   imported offline with precomputed `memberOf` (imports bypass the changelog, so the
//!   changelog starts nearly empty);
//! * small caches (no autosizing), no durable transactions, the default global size limit
//!   (2000) as on a real server.
//!
//! It needs root (`dscreate` and `ns-slapd` drop to the `dirsrv` user themselves), the Debian
//! packages `389-ds-base`, `python3-lib389` and `ldap-utils`.
//!
//! ```no_run
//! use idsync_testkit::ds389::{Ds389, Ds389Options, Bind};
//!
//! # fn main() -> Result<(), idsync_testkit::ServerError> {
//! let ds = Ds389::start(Ds389Options::default())?;
//! let users = ds.search_as(Bind::Sync, ds.users_dn(), "(uid=*)", &["uid", "nsUniqueId"])?;
//! assert!(users.contains("uid: user00001"));
//! # Ok(())
//! # }
//! ```

mod client;
mod dse;
mod golden;
pub mod ipa;
mod process;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use tempfile::TempDir;

use crate::error::ServerError;

pub use crate::slapd::SyncRefresh;
pub use client::{Bind, ChangelogNumbers};
pub use ipa::{base_ldif, IpaDirectory, IpaGroup, IpaSeed, IpaUser, SYNC_READABLE_ATTRIBUTES};

use dse::Dse;
use golden::{options_error, read, set_mode, write, RETROCL_DN};
use process::{Layout, Stop};

/// The suffix of the user backend.
pub const SUFFIX: &str = "dc=example,dc=org";
/// FreeIPA's accounts container.
pub const ACCOUNTS_DN: &str = "cn=accounts,dc=example,dc=org";
/// FreeIPA's users container.
pub const USERS_DN: &str = "cn=users,cn=accounts,dc=example,dc=org";
/// FreeIPA's groups container.
pub const GROUPS_DN: &str = "cn=groups,cn=accounts,dc=example,dc=org";
/// The root DN (unrestricted; bypasses ACIs and limits).
pub const ADMIN_DN: &str = "cn=Directory Manager";
/// The root DN's password.
pub const ADMIN_PASSWORD: &str = "Secret123-ds389";
/// The non-admin sync account (a FreeIPA system account).
pub const SYNC_DN: &str = "uid=idsync,cn=sysaccounts,cn=etc,dc=example,dc=org";
/// The sync account's password.
pub const SYNC_PASSWORD: &str = "idsync-Secret-42";
/// The OID of the content-synchronization (RFC 4533) request control.
pub const SYNC_CONTROL_OID: &str = crate::slapd::SYNC_CONTROL_OID;

/// The name used in errors.
const SERVER: &str = "389-ds";
/// The start of an instance directory's name (a [`crate::stale`] tag follows).
const DIR_PREFIX: &str = "ds389-";
/// The instance name inside every copy (`slapd-idsync`).
const INSTANCE: &str = "idsync";
/// The server binary (Debian `389-ds-base`).
const NS_SLAPD: &str = "/usr/sbin/ns-slapd";
/// The instance installer (Debian `389-ds-base`, python3-lib389).
const DSCREATE: &str = "/usr/sbin/dscreate";
/// lib389 must be importable by the system python.
const LIB389: &str = "/usr/lib/python3/dist-packages/lib389";
/// Client tools (Debian `ldap-utils`).
const CLIENT_TOOLS: [&str; 3] = [
    "/usr/bin/ldapsearch",
    "/usr/bin/ldapmodify",
    "/usr/bin/ldapdelete",
];

/// What the user backend holds.
#[derive(Clone, Debug, Default)]
pub enum Ds389Seed {
    /// The golden's data, [`IpaSeed::default`] (no import: the fastest start).
    #[default]
    Default,
    /// FreeIPA-shaped data of another shape (imported offline: about 1–2 s more).
    Ipa(IpaSeed),
    /// This whole backend as LDIF (imported offline; start it with [`base_ldif`] to keep the
    /// suffix, the containers, the sync account and its ACI).
    Ldif(String),
}

/// How to start an instance. Defaults: the default seed, no changelog trimming, access log
/// on, 30 s start and graceful-stop timeouts.
#[derive(Clone, Debug)]
pub struct Ds389Options {
    /// The data.
    pub seed: Ds389Seed,
    /// `nsslapd-changelogmaxage` of the retro changelog (e.g. `"5s"`, `"2d"`), trimmed every
    /// second when set (`nsslapd-changelog-trim-interval: 1`). None: never trimmed.
    pub changelog_max_age: Option<String>,
    /// Whether the access log is written (`DIR/.../access`).
    pub access_log: bool,
    /// How long to wait for the server to answer after it was started.
    pub start_timeout: Duration,
    /// How long a graceful stop may take before SIGKILL.
    pub stop_timeout: Duration,
}

impl Default for Ds389Options {
    fn default() -> Self {
        Self {
            seed: Ds389Seed::Default,
            changelog_max_age: None,
            access_log: true,
            start_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(30),
        }
    }
}

impl Ds389Options {
    /// Sets the data.
    #[must_use]
    pub fn seed(mut self, seed: Ds389Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Trims the retro changelog of records older than `max_age` (389-ds syntax: `5s`, `10m`).
    #[must_use]
    pub fn changelog_max_age(mut self, max_age: &str) -> Self {
        self.changelog_max_age = Some(max_age.to_owned());
        self
    }

    /// Turns the access log on or off.
    #[must_use]
    pub fn access_log(mut self, enabled: bool) -> Self {
        self.access_log = enabled;
        self
    }
}

/// A running private 389-ds; killed (and its directory removed) on drop.
pub struct Ds389 {
    /// The server process while it runs.
    child: Option<Child>,
    /// The pid of the last process started (kept after a stop).
    last_pid: u32,
    port: u16,
    url: String,
    options: Ds389Options,
    /// The planned content when the seed is FreeIPA-shaped.
    directory: Option<IpaDirectory>,
    layout: Layout,
    /// Declared last: removed after `Drop::drop` stopped the server.
    dir: TempDir,
}

impl std::fmt::Debug for Ds389 {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Ds389")
            .field("url", &self.url)
            .field("dir", &self.dir.path())
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Ds389 {
    /// `Ok` when an instance can be started here (root, Debian `389-ds-base`,
    /// `python3-lib389`, `ldap-utils`, the `dirsrv` user), otherwise what is missing.
    pub fn available() -> Result<(), String> {
        let mut missing: Vec<String> = [NS_SLAPD, DSCREATE, "/usr/bin/python3"]
            .into_iter()
            .chain(CLIENT_TOOLS)
            .filter(|path| !Path::new(path).is_file())
            .map(str::to_owned)
            .collect();
        if !Path::new(LIB389).is_dir() {
            missing.push(LIB389.to_owned());
        }
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        if !passwd.lines().any(|line| line.starts_with("dirsrv:")) {
            missing.push("the user `dirsrv`".to_owned());
        }
        if !missing.is_empty() {
            return Err(format!(
                "missing {} (install the Debian packages 389-ds-base, python3-lib389 and ldap-utils)",
                missing.join(", ")
            ));
        }
        // /proc/self belongs to the effective uid.
        let euid =
            std::fs::metadata("/proc/self").map(|meta| std::os::unix::fs::MetadataExt::uid(&meta));
        if euid.ok() != Some(0) {
            return Err(
                "389-ds test instances need root (dscreate and ns-slapd switch to the dirsrv user)"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Copies the golden instance into a temp dir, applies `options` and starts it on a free
    /// loopback port.
    pub fn start(options: Ds389Options) -> Result<Self, ServerError> {
        Self::available().map_err(|why| ServerError::Unavailable {
            server: SERVER,
            why,
        })?;
        let golden = golden::golden()?;
        crate::stale::remove_stale(&std::env::temp_dir(), DIR_PREFIX);
        let dir = tempfile::Builder::new()
            .prefix(&crate::stale::tagged(DIR_PREFIX))
            .tempdir()
            .map_err(ServerError::io(
                "create a temp dir in",
                std::env::temp_dir(),
            ))?;
        set_mode(dir.path(), 0o755)?;
        let layout = Layout::new(dir.path());
        clone_into(&golden, &layout)?;
        configure(&layout, &options)?;
        let directory = match &options.seed {
            Ds389Seed::Default => Some(IpaSeed::default().directory()),
            Ds389Seed::Ipa(seed) => {
                let directory = seed.directory();
                import(&layout, &directory.ldif())?;
                Some(directory)
            }
            Ds389Seed::Ldif(text) => {
                import(&layout, text)?;
                None
            }
        };
        let ((child, url), port) = crate::daemon::on_free_port(
            SERVER,
            |port| {
                set_config(&layout, "cn=config", "nsslapd-port", &[&port.to_string()])
                    .map_err(process::StartFailure::Failed)?;
                let url = format!("ldap://127.0.0.1:{port}");
                process::start(&layout, &url, options.start_timeout).map(|child| (child, url))
            },
            || layout.log_tail(),
        )?;
        Ok(Self {
            last_pid: child.id(),
            child: Some(child),
            port,
            url,
            options,
            directory,
            layout,
            dir,
        })
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The suffix, [`SUFFIX`].
    pub fn suffix(&self) -> &str {
        SUFFIX
    }

    /// FreeIPA's users container, [`USERS_DN`].
    pub fn users_dn(&self) -> &str {
        USERS_DN
    }

    /// FreeIPA's groups container, [`GROUPS_DN`].
    pub fn groups_dn(&self) -> &str {
        GROUPS_DN
    }

    /// The root DN, [`ADMIN_DN`].
    pub fn admin_dn(&self) -> &str {
        ADMIN_DN
    }

    /// The root DN's password.
    pub fn admin_password(&self) -> &str {
        ADMIN_PASSWORD
    }

    /// The sync account, [`SYNC_DN`].
    pub fn sync_dn(&self) -> &str {
        SYNC_DN
    }

    /// The sync account's password.
    pub fn sync_password(&self) -> &str {
        SYNC_PASSWORD
    }

    /// The planned users and groups when the seed is FreeIPA-shaped (None for raw LDIF).
    pub fn directory(&self) -> Option<&IpaDirectory> {
        self.directory.as_ref()
    }

    /// The DN of the user `uid` under [`USERS_DN`].
    pub fn user_dn(&self, uid: &str) -> String {
        format!("uid={uid},{USERS_DN}")
    }

    /// The DN of the group `cn` under [`GROUPS_DN`].
    pub fn group_dn(&self, cn: &str) -> String {
        format!("cn={cn},{GROUPS_DN}")
    }

    /// The instance root (the private prefix: `etc/dirsrv/slapd-idsync`, `var/…`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|_| self.last_pid)
    }

    /// The process id of the most recently started server, running or not.
    pub fn last_pid(&self) -> u32 {
        self.last_pid
    }

    /// True while the server process runs.
    pub fn is_running(&self) -> bool {
        self.child.is_some() && !crate::daemon::is_zombie_or_gone(self.last_pid)
    }

    /// The server's errors log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.layout.errors_log()).unwrap_or_default()
    }

    /// The errors log's path.
    pub fn errors_log_path(&self) -> PathBuf {
        self.layout.errors_log()
    }

    /// Stops the server gracefully (SIGTERM; bdb closes cleanly, 2–4 s; SIGKILL after the
    /// stop timeout). The data stays for [`Ds389::restart`].
    pub fn stop(&mut self) -> Result<(), ServerError> {
        self.halt(Stop::Graceful(self.options.stop_timeout))
    }

    /// Kills the server (SIGKILL, like a crash); the next start recovers the database.
    pub fn kill(&mut self) -> Result<(), ServerError> {
        self.halt(Stop::Kill)
    }

    /// Stops the server gracefully if it runs and starts it again on the same port with the
    /// same data and configuration (what a test does to a server during persist).
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.stop()?;
        self.start_again()
    }

    /// Kills the server (SIGKILL) if it runs and starts it again on the same port.
    pub fn kill_and_restart(&mut self) -> Result<(), ServerError> {
        self.kill()?;
        self.start_again()
    }

    /// Starts the stopped server on its port.
    fn start_again(&mut self) -> Result<(), ServerError> {
        let child = process::start(&self.layout, &self.url, self.options.start_timeout).map_err(
            |failure| match failure {
                process::StartFailure::Failed(error) => error,
                process::StartFailure::PortTaken => ServerError::Start {
                    server: SERVER,
                    reason: format!("port {} was taken while ns-slapd was stopped", self.port),
                    log_tail: self.layout.log_tail(),
                },
            },
        )?;
        self.last_pid = child.id();
        self.child = Some(child);
        Ok(())
    }

    /// Stops the child, if any, the way `how` says.
    fn halt(&mut self, how: Stop) -> Result<(), ServerError> {
        match self.child.take() {
            Some(mut child) => process::stop(&mut child, &self.layout, how),
            None => Ok(()),
        }
    }
}

impl Drop for Ds389 {
    fn drop(&mut self) {
        if let Err(error) = self.kill() {
            eprintln!("idsync-testkit: {error}");
        }
    }
}

/// Copies the golden into `layout.root` (an existing empty dir), removes its runtime files
/// and rewrites its absolute paths.
fn clone_into(golden: &Path, layout: &Layout) -> Result<(), ServerError> {
    let old_root = read(&golden.join("golden-root"))?;
    let mut from = golden.as_os_str().to_owned();
    from.push("/.");
    golden::copy_tree(Path::new(&from), &layout.root)?;
    clean_runtime_files(layout)?;
    let new_root = layout.root.display().to_string();
    let mut dse = Dse::parse(&read(&layout.dse())?);
    dse.replace_all(&format!("{}/", old_root.trim()), &format!("{new_root}/"));
    write(&layout.dse(), &dse.render())?;
    let defaults = layout.root.join("share/dirsrv/inf/defaults.inf");
    let text = read(&defaults)?.replace(old_root.trim(), &new_root);
    write(&defaults, &text)
}

/// Removes what a (stopped) instance leaves behind and a copy must not inherit: the bdb
/// region files, pid and lock files, the ldapi socket, stale dse.ldif backups.
pub(crate) fn clean_runtime_files(layout: &Layout) -> Result<(), ServerError> {
    let mut doomed = vec![layout.pid_file()];
    for ending in ["dse.ldif.bak", "dse.ldif.startOK", "dse.ldif.tmp"] {
        doomed.push(layout.config_dir().join(ending));
    }
    doomed.extend(files_in(&layout.db_dir(), |name| name.starts_with("__db.")));
    doomed.extend(files_in(&layout.root.join("run"), |name| {
        name.ends_with(".socket")
    }));
    let lock_dir = layout
        .root
        .join("run/lock/dirsrv")
        .join(format!("slapd-{INSTANCE}"));
    for sub in ["server", "imports", "exports"] {
        doomed.extend(files_in(&lock_dir.join(sub), |_| true));
    }
    for path in doomed {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(ServerError::io("remove", path)(error)),
        }
    }
    Ok(())
}

/// The files directly in `dir` whose name passes `keep` (none if `dir` is missing).
fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|kind| !kind.is_dir()))
                .filter(|entry| entry.file_name().to_str().is_some_and(&keep))
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Applies the per-instance options to dse.ldif (the server is stopped).
fn configure(layout: &Layout, options: &Ds389Options) -> Result<(), ServerError> {
    let mut dse = Dse::parse(&read(&layout.dse())?);
    let access = if options.access_log { "on" } else { "off" };
    let mut edits = vec![("cn=config", "nsslapd-accesslog-logging-enabled", access)];
    if let Some(max_age) = &options.changelog_max_age {
        edits.push((RETROCL_DN, "nsslapd-changelogmaxage", max_age));
        edits.push((RETROCL_DN, "nsslapd-changelog-trim-interval", "1"));
    }
    for (dn, attr, value) in edits {
        dse.set(dn, attr, &[value])
            .map_err(|reason| options_error(&reason))?;
    }
    write(&layout.dse(), &dse.render())
}

/// Sets one config attribute in dse.ldif (the server is stopped).
fn set_config(layout: &Layout, dn: &str, attr: &str, values: &[&str]) -> Result<(), ServerError> {
    let mut dse = Dse::parse(&read(&layout.dse())?);
    dse.set(dn, attr, values)
        .map_err(|reason| options_error(&reason))?;
    write(&layout.dse(), &dse.render())
}

/// Replaces the user backend with `ldif` (offline import; the file is readable by `dirsrv`).
fn import(layout: &Layout, ldif: &str) -> Result<(), ServerError> {
    let file = layout.root.join("seed.ldif");
    write(&file, ldif)?;
    set_mode(&file, 0o644)?;
    process::ldif2db(layout, &file)?;
    std::fs::remove_file(&file).map_err(ServerError::io("remove", &file))
}
