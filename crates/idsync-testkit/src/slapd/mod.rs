//! A real, private OpenLDAP `slapd` for tests.
//!
//! [`Slapd::start`] builds a brand-new instance in a temp dir: cn=config is written offline
//! with `slapadd -n0` (schemas core, cosine, inetorgperson, nis; an MDB database for
//! [`BASE`] with `olcDbNoSync`, no size limits; overlays syncprov, memberof and refint), the
//! database is seeded with `slapadd -q`, and `slapd` runs as a child process listening on
//! `ldap://127.0.0.1:PORT/` (a free port) and on an ldapi socket inside the temp dir. The
//! process is stopped and the directory removed when the [`Slapd`] is dropped.
//!
//! Clients: the admin ([`ADMIN_DN`]) binds with a simple password over TCP; this process's
//! peer credentials over ldapi (SASL EXTERNAL) get `manage` on the data and on cn=config.
//! The system's slapd and `/etc/ldap` are never touched (schemas are only read from there).
//!
//! Options add TLS ([`SlapdOptions::tls`]: a [`crate::tls::TestPki`], StartTLS, an ldaps://
//! listener, client certificates mapped to [`SYNC_DN`] for SASL EXTERNAL), the ppolicy overlay
//! ([`Overlay::Ppolicy`], `pwdAccountLockedTime`), a non-admin sync account with minimal read
//! rights and no limits ([`SlapdOptions::sync_account`]) and a global size limit.
//!
//! ```no_run
//! use idsync_testkit::slapd::{gen_directory, GenOptions, Seed, Slapd, SlapdOptions};
//!
//! # fn main() -> Result<(), idsync_testkit::ServerError> {
//! let ldif = gen_directory(100, &GenOptions::default());
//! let slapd = Slapd::start(SlapdOptions::default().seed(Seed::Ldif(ldif)))?;
//! assert_eq!(slapd.count(slapd.base(), "(objectClass=posixAccount)")?, 100);
//! # Ok(())
//! # }
//! ```

mod client;
mod config;
mod ldif_gen;
pub(crate) mod process;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use tempfile::TempDir;

use crate::error::ServerError;

pub use client::SyncRefresh;
pub use config::SYNC_READABLE_ATTRIBUTES;
pub use ldif_gen::{gen_directory, DirectoryShape, GenOptions};

/// The suffix of the instance's database.
pub const BASE: &str = "dc=example,dc=org";
/// The rootdn of the database.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
/// The OID of the content-synchronization (RFC 4533) request control.
pub const SYNC_CONTROL_OID: &str = "1.3.6.1.4.1.4203.1.9.1.1";
/// The non-admin sync account ([`SlapdOptions::sync_account`]); also the identity a TLS client
/// certificate ([`crate::tls::CLIENT_SUBJECT`]) maps to with SASL EXTERNAL.
pub const SYNC_DN: &str = "cn=idsync,dc=example,dc=org";
/// The sync account's password.
pub const SYNC_PASSWORD: &str = "idsync-secret";
/// `pwdAccountLockedTime` value of a permanently locked account (ppolicy).
pub const PERMANENTLY_LOCKED: &str = "000001010000Z";

/// The name used in errors.
const SERVER: &str = "slapd";
/// The server binary (Debian `slapd`).
const SLAPD: &str = "/usr/sbin/slapd";
/// Offline loader (Debian `slapd`).
const SLAPADD: &str = "/usr/sbin/slapadd";
/// Password hasher (Debian `slapd`).
const SLAPPASSWD: &str = "/usr/sbin/slappasswd";
/// Client tools (Debian `ldap-utils`), looked up on `PATH` and in `/usr/bin`.
const CLIENT_TOOLS: [&str; 4] = ["ldapsearch", "ldapadd", "ldapmodify", "ldapdelete"];
/// `sun_path` holds 108 bytes including the NUL; stay well below.
const MAX_SOCKET_PATH: usize = 100;

/// An overlay on the MDB database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// `syncprov`: RFC 4533 content synchronization provider (checkpoint and sessionlog).
    Syncprov,
    /// `memberof`: maintains `memberOf` for `groupOfNames`/`member` (refint TRUE, dangling ignore).
    Memberof,
    /// `refint`: referential integrity of `member` (`olcRefintNothing: cn=nobody,BASE`).
    Refint,
    /// `ppolicy`: password policy; its operational attribute `pwdAccountLockedTime` marks a
    /// locked account ([`Slapd::set_account_lock`]). No default policy.
    Ppolicy,
}

impl Overlay {
    /// The overlay's name in cn=config.
    pub fn name(self) -> &'static str {
        match self {
            Self::Syncprov => "syncprov",
            Self::Memberof => "memberof",
            Self::Refint => "refint",
            Self::Ppolicy => "ppolicy",
        }
    }
}

/// What the database holds before the server starts (loaded with `slapadd -q`, which bypasses
/// the overlays: `memberOf` is not computed, see [`GenOptions::memberof`]).
#[derive(Clone, Debug, Default)]
pub enum Seed {
    /// Only the suffix entry `dc=example,dc=org`.
    #[default]
    SuffixOnly,
    /// Nothing at all.
    Empty,
    /// This LDIF text (it must contain the suffix entry).
    Ldif(String),
    /// This LDIF file (it must contain the suffix entry).
    LdifFile(PathBuf),
}

/// `olcTLSVerifyClient`: what slapd does with client certificates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsVerifyClient {
    /// No certificate is requested.
    Never,
    /// A certificate is requested; a bad one is ignored.
    Allow,
    /// A certificate is requested; a bad one ends the session, none is fine.
    #[default]
    Try,
    /// A good certificate is required.
    Demand,
}

impl TlsVerifyClient {
    /// The cn=config value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Allow => "allow",
            Self::Try => "try",
            Self::Demand => "demand",
        }
    }
}

/// How to build and run an instance. Defaults: suffix-only seed, overlays
/// syncprov, memberof, refint (cn=config order; overlays run LIFO), checkpoint `100 10`,
/// sessionlog 100000, password `secret`, `olcDbNoSync: TRUE`, `-d 0`, 10 s start timeout.
#[derive(Clone, Debug)]
pub struct SlapdOptions {
    /// The initial content.
    pub seed: Seed,
    /// Overlays in cn=config order (`{0}` first, nearest the database).
    pub overlays: Vec<Overlay>,
    /// syncprov `olcSpCheckpoint`: operations.
    pub checkpoint_ops: u32,
    /// syncprov `olcSpCheckpoint`: minutes.
    pub checkpoint_minutes: u32,
    /// syncprov `olcSpSessionlog` (in memory; lost on restart).
    pub sessionlog: u32,
    /// The admin's password (stored as SSHA).
    pub admin_password: String,
    /// `olcDbNoSync` (no fsync per write transaction; much faster writes).
    pub no_sync: bool,
    /// `olcDbMaxSize` in bytes (a sparse file).
    pub max_size: u64,
    /// The `slapd -d` debug level (e.g. "0", "stats", "sync"); output goes to `DIR/slapd.log`.
    pub debug: String,
    /// How long to wait for the server to answer after it was started.
    pub start_timeout: Duration,
    /// TLS: a test PKI ([`crate::tls::TestPki`]) in `DIR/tls`, StartTLS on the ldap://
    /// listener, an ldaps:// listener on a second free port, client certificates mapped to
    /// [`SYNC_DN`] for SASL EXTERNAL (`olcAuthzRegexp`).
    pub tls: bool,
    /// `olcTLSVerifyClient` when [`SlapdOptions::tls`] is on.
    pub tls_verify_client: TlsVerifyClient,
    /// The non-admin sync account [`SYNC_DN`] (password [`SYNC_PASSWORD`], added after the
    /// seed, which must hold the suffix entry): it reads the identity attributes (never
    /// passwords) and has no size or time limit; everyone else but the admin then reads
    /// nothing.
    pub sync_account: bool,
    /// The database's global size limit (`olcSizeLimit`); None: unlimited.
    pub size_limit: Option<u32>,
}

impl Default for SlapdOptions {
    fn default() -> Self {
        Self {
            seed: Seed::SuffixOnly,
            overlays: vec![Overlay::Syncprov, Overlay::Memberof, Overlay::Refint],
            checkpoint_ops: 100,
            checkpoint_minutes: 10,
            sessionlog: 100_000,
            admin_password: "secret".to_owned(),
            no_sync: true,
            max_size: 8 << 30,
            debug: "0".to_owned(),
            start_timeout: Duration::from_secs(10),
            tls: false,
            tls_verify_client: TlsVerifyClient::Try,
            sync_account: false,
            size_limit: None,
        }
    }
}

impl SlapdOptions {
    /// Sets the initial content.
    #[must_use]
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the overlays, in cn=config order.
    #[must_use]
    pub fn overlays(mut self, overlays: &[Overlay]) -> Self {
        self.overlays = overlays.to_vec();
        self
    }

    /// Sets the syncprov checkpoint (`olcSpCheckpoint: OPS MINUTES`).
    #[must_use]
    pub fn checkpoint(mut self, ops: u32, minutes: u32) -> Self {
        self.checkpoint_ops = ops;
        self.checkpoint_minutes = minutes;
        self
    }

    /// Sets the syncprov sessionlog size.
    #[must_use]
    pub fn sessionlog(mut self, entries: u32) -> Self {
        self.sessionlog = entries;
        self
    }

    /// Turns TLS on (see [`SlapdOptions::tls`]).
    #[must_use]
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Sets `olcTLSVerifyClient`.
    #[must_use]
    pub fn tls_verify_client(mut self, verify: TlsVerifyClient) -> Self {
        self.tls_verify_client = verify;
        self
    }

    /// Adds the non-admin sync account (see [`SlapdOptions::sync_account`]).
    #[must_use]
    pub fn sync_account(mut self, enabled: bool) -> Self {
        self.sync_account = enabled;
        self
    }

    /// Sets the global size limit.
    #[must_use]
    pub fn size_limit(mut self, limit: Option<u32>) -> Self {
        self.size_limit = limit;
        self
    }

    /// Appends `overlay` to the overlays (e.g. [`Overlay::Ppolicy`]).
    #[must_use]
    pub fn with_overlay(mut self, overlay: Overlay) -> Self {
        self.overlays.push(overlay);
        self
    }

    /// Sets the admin password.
    #[must_use]
    pub fn admin_password(mut self, password: &str) -> Self {
        password.clone_into(&mut self.admin_password);
        self
    }

    /// Sets `slapd -d LEVEL`.
    #[must_use]
    pub fn debug(mut self, level: &str) -> Self {
        level.clone_into(&mut self.debug);
        self
    }
}

/// A running private slapd; stopped (and its directory removed) on drop.
pub struct Slapd {
    /// The server process while it runs.
    child: Option<Child>,
    /// The pid of the last process started (kept after a stop).
    last_pid: u32,
    port: u16,
    url: String,
    ldapi_url: String,
    /// `ldaps://127.0.0.1:PORT/` when TLS is on.
    ldaps_url: Option<String>,
    /// The test PKI when TLS is on.
    pki: Option<crate::tls::TestPki>,
    options: SlapdOptions,
    /// Declared last: removed after `Drop::drop` stopped the server.
    dir: TempDir,
}

impl std::fmt::Debug for Slapd {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Slapd")
            .field("url", &self.url)
            .field("ldapi_url", &self.ldapi_url)
            .field("dir", &self.dir.path())
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Slapd {
    /// `Ok` when the programs an instance needs are installed (Debian `slapd`, `ldap-utils`),
    /// otherwise what is missing.
    pub fn available() -> Result<(), String> {
        let mut missing: Vec<String> = [SLAPD, SLAPADD, SLAPPASSWD]
            .into_iter()
            .filter(|path| !Path::new(path).is_file())
            .map(str::to_owned)
            .collect();
        missing.extend(
            CLIENT_TOOLS
                .into_iter()
                .filter(|tool| find_program(tool).is_none())
                .map(str::to_owned),
        );
        if !Path::new(config::SCHEMA_SOURCE).join("nis.ldif").is_file() {
            missing.push(format!("{}/nis.ldif", config::SCHEMA_SOURCE));
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "missing {} (install the Debian packages slapd and ldap-utils)",
                missing.join(", ")
            ))
        }
    }

    /// Builds a new instance in a temp dir and starts it on a free loopback port.
    pub fn start(options: SlapdOptions) -> Result<Self, ServerError> {
        Self::available().map_err(|why| ServerError::Unavailable {
            server: SERVER,
            why,
        })?;
        let dir = make_temp_dir()?;
        let ldapi_url = format!("ldapi://{}", percent_encode(&dir.path().join("ldapi")));
        let pki = if options.tls {
            Some(crate::tls::TestPki::generate(&dir.path().join("tls"))?)
        } else {
            None
        };
        build_instance(dir.path(), &options, pki.as_ref())?;
        let ((child, url, ldaps_url), port) = crate::daemon::on_free_port(
            SERVER,
            |port| {
                let url = format!("ldap://127.0.0.1:{port}/");
                let ldaps_url = match &pki {
                    Some(_) => Some(format!(
                        "ldaps://127.0.0.1:{}/",
                        crate::daemon::free_port().map_err(process::StartFailure::Failed)?
                    )),
                    None => None,
                };
                let ldaps = ldaps_url
                    .as_deref()
                    .zip(pki.as_ref().map(|pki| pki.ca_cert()));
                process::start(
                    dir.path(),
                    &url,
                    &ldapi_url,
                    ldaps.as_ref().map(|(url, ca)| (*url, ca.as_path())),
                    &options.debug,
                    options.start_timeout,
                )
                .map(|child| (child, url, ldaps_url))
            },
            || process::log_tail(dir.path()),
        )?;
        Ok(Self {
            last_pid: child.id(),
            child: Some(child),
            port,
            url,
            ldapi_url,
            ldaps_url,
            pki,
            options,
            dir,
        })
    }

    /// `ldap://127.0.0.1:PORT/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `ldapi://` with the percent-encoded path of the instance's socket.
    pub fn ldapi_url(&self) -> &str {
        &self.ldapi_url
    }

    /// `ldaps://127.0.0.1:PORT/` when TLS is on.
    pub fn ldaps_url(&self) -> Option<&str> {
        self.ldaps_url.as_deref()
    }

    /// The test PKI (CA, server, client and untrusted certificates) when TLS is on.
    pub fn pki(&self) -> Option<&crate::tls::TestPki> {
        self.pki.as_ref()
    }

    /// The CA certificate clients must trust (PEM) when TLS is on.
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.pki.as_ref().map(crate::tls::TestPki::ca_cert)
    }

    /// The sync account's DN, [`SYNC_DN`] (present with [`SlapdOptions::sync_account`]).
    pub fn sync_dn(&self) -> &str {
        SYNC_DN
    }

    /// The sync account's password, [`SYNC_PASSWORD`].
    pub fn sync_password(&self) -> &str {
        SYNC_PASSWORD
    }

    /// The database suffix, [`BASE`].
    pub fn base(&self) -> &str {
        BASE
    }

    /// The rootdn, [`ADMIN_DN`].
    pub fn admin_dn(&self) -> &str {
        ADMIN_DN
    }

    /// The admin's password in clear.
    pub fn admin_password(&self) -> &str {
        &self.options.admin_password
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance directory (`slapd.d`, `data`, `schema`, `ldapi`, `slapd.log`).
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

    /// Everything the server logged (`slapd -d LEVEL` output).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("slapd.log")).unwrap_or_default()
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s); the data stays for [`Slapd::restart`].
    pub fn stop(&mut self) -> Result<(), ServerError> {
        match self.child.take() {
            Some(mut child) => process::stop(&mut child, self.dir.path()),
            None => Ok(()),
        }
    }

    /// Stops the server if it runs and starts it again on the same port with the same data and
    /// cn=config (live config changes persist; the in-memory sessionlog is lost, as on any
    /// real restart).
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.stop()?;
        let ca = self.pki.as_ref().map(crate::tls::TestPki::ca_cert);
        let ldaps = self.ldaps_url.as_deref().zip(ca.as_deref());
        let child = process::start(
            self.dir.path(),
            &self.url,
            &self.ldapi_url,
            ldaps,
            &self.options.debug,
            self.options.start_timeout,
        )
        .map_err(|failure| match failure {
            process::StartFailure::Failed(error) => error,
            process::StartFailure::PortTaken => ServerError::Start {
                server: SERVER,
                reason: format!("port {} was taken while slapd was stopped", self.port),
                log_tail: process::log_tail(self.dir.path()),
            },
        })?;
        self.last_pid = child.id();
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("idsync-testkit: {error}");
        }
    }
}

/// The start of an instance directory's name (a [`crate::stale`] tag follows).
const DIR_PREFIX: &str = "slapd-";

/// A temp dir whose ldapi socket path fits `sun_path` (falls back from `$TMPDIR` to `/tmp`).
/// Instance directories left there by killed test processes are removed first.
fn make_temp_dir() -> Result<TempDir, ServerError> {
    let tagged = crate::stale::tagged(DIR_PREFIX);
    let make = |parent: &Path| {
        crate::stale::remove_stale(parent, DIR_PREFIX);
        tempfile::Builder::new()
            .prefix(&tagged)
            .tempdir_in(parent)
            .map_err(ServerError::io("create a temp dir in", parent))
    };
    let fits = |dir: &TempDir| dir.path().join("ldapi").as_os_str().len() <= MAX_SOCKET_PATH;
    let dir = make(&std::env::temp_dir())?;
    if fits(&dir) {
        return Ok(dir);
    }
    let dir = make(Path::new("/tmp"))?;
    if fits(&dir) {
        Ok(dir)
    } else {
        Err(ServerError::Options {
            server: SERVER,
            reason: format!(
                "{}/ldapi is longer than {MAX_SOCKET_PATH} bytes (unix socket limit)",
                dir.path().display()
            ),
        })
    }
}

/// Writes schemas, cn=config and the seed into `dir` (everything offline).
fn build_instance(
    dir: &Path,
    options: &SlapdOptions,
    pki: Option<&crate::tls::TestPki>,
) -> Result<(), ServerError> {
    let config_dir = dir.join("slapd.d");
    for sub in [&config_dir, &dir.join("data"), &dir.join("schema")] {
        std::fs::create_dir(sub).map_err(ServerError::io("create", sub))?;
    }
    for schema in config::SCHEMAS {
        let from = Path::new(config::SCHEMA_SOURCE).join(format!("{schema}.ldif"));
        let to = dir.join("schema").join(format!("{schema}.ldif"));
        std::fs::copy(&from, &to).map_err(ServerError::io("copy", from))?;
    }
    let (uid, gid) = effective_ids()?;
    let password_hash = hash_password(&options.admin_password)?;
    let input = config::ConfigInput {
        dir,
        password_hash: &password_hash,
        uid,
        gid,
        pki,
    };
    let config_file = dir.join("config.ldif");
    write_file(&config_file, &config::config_ldif(options, &input))?;
    process::slapadd(&config_dir, process::SlapaddTarget::Config, &config_file)?;

    let seed_file = dir.join("seed.ldif");
    let seed_file = match &options.seed {
        Seed::Empty if options.sync_account => {
            return Err(ServerError::Options {
                server: SERVER,
                reason: "the sync account needs a seed with the suffix entry, not Seed::Empty"
                    .to_owned(),
            })
        }
        Seed::Empty => return Ok(()),
        Seed::SuffixOnly => {
            write_file(&seed_file, &config::suffix_ldif())?;
            seed_file
        }
        Seed::Ldif(text) => {
            write_file(&seed_file, text)?;
            seed_file
        }
        Seed::LdifFile(path) => path.clone(),
    };
    process::slapadd(
        &config_dir,
        process::SlapaddTarget::Suffix(BASE),
        &seed_file,
    )?;
    if seed_file.starts_with(dir) {
        std::fs::remove_file(&seed_file).map_err(ServerError::io("remove", &seed_file))?;
    }
    if options.sync_account {
        let account_file = dir.join("sync-account.ldif");
        let hash = hash_password(SYNC_PASSWORD)?;
        write_file(&account_file, &config::sync_account_ldif(&hash))?;
        process::slapadd(
            &config_dir,
            process::SlapaddTarget::Suffix(BASE),
            &account_file,
        )?;
        std::fs::remove_file(&account_file).map_err(ServerError::io("remove", &account_file))?;
    }
    Ok(())
}

/// Writes `text` to `path`.
fn write_file(path: &Path, text: &str) -> Result<(), ServerError> {
    std::fs::write(path, text).map_err(ServerError::io("write", path))
}

/// `slappasswd -s PASSWORD` (an `{SSHA}` hash).
fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut command = process::tool_command(SLAPPASSWD);
    command.args(["-s", password]);
    let output = process::run_tool(command, None, &format!("{SLAPPASSWD} -s ***"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The effective uid and gid of this process (what slapd sees as peer credentials on ldapi).
fn effective_ids() -> Result<(u32, u32), ServerError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(ServerError::io("read", "/proc/self/status"))?;
    let effective = |key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|id| id.parse::<u32>().ok())
    };
    match (effective("Uid:"), effective("Gid:")) {
        (Some(uid), Some(gid)) => Ok((uid, gid)),
        _ => Err(ServerError::Options {
            server: SERVER,
            reason: "cannot read the effective uid/gid from /proc/self/status".to_owned(),
        }),
    }
}

/// Percent-encodes a path for an `ldapi://` URL (everything but `A-Za-z0-9._~-`).
fn percent_encode(path: &Path) -> String {
    let mut encoded = String::new();
    for byte in path.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"._~-".contains(byte) {
            encoded.push(char::from(*byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// `program` on `PATH`, or in `/usr/bin`.
fn find_program(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldapi_urls_are_percent_encoded() {
        assert_eq!(
            percent_encode(Path::new("/tmp/slapd-a_b.c~d/ldapi")),
            "%2Ftmp%2Fslapd-a_b.c~d%2Fldapi"
        );
        assert_eq!(percent_encode(Path::new("/a b")), "%2Fa%20b");
    }

    #[test]
    fn effective_ids_are_readable() {
        assert!(effective_ids().is_ok());
    }
}
