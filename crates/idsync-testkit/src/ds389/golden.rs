//! The golden instance: created once with `dscreate` (about 6–9 s), configured offline,
//! seeded with the default FreeIPA-shaped data, started once to verify it, stopped cleanly and
//! cached (under the cargo target dir, keyed by a hash of everything that shapes it). Test
//! instances are copies of it ([`clone_into`]), which start in well under a second.
//!
//! `dscreate` (python3-lib389) is driven through a private `$PREFIX`: a `defaults.inf` with
//! `with_systemd = 0` and every mutable path below the instance root, and a copy of
//! `template-dse.ldif` that listens on 127.0.0.1 only and enables Retro Changelog
//! (`nsuniqueid:targetUniqueId`), Content Synchronization and MemberOf from the first start.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::daemon::{free_port, run_tool};
use crate::error::ServerError;

use super::dse::Dse;
use super::ipa::{schema_ldif, IpaSeed};
use super::process::{self, Layout, Stop};
use super::{ADMIN_PASSWORD, DSCREATE, INSTANCE, NS_SLAPD, SERVER, SUFFIX, SYNC_CONTROL_OID};

/// Bump when the golden's construction changes in a way the hash below does not see.
const GOLDEN_FORMAT: &str = "ds389-golden-v1";
/// The file in a golden holding the absolute root it was built at (paths in dse.ldif).
const ROOT_MARKER: &str = "golden-root";
/// The schema file of the FreeIPA definitions in the instance's schema directory.
pub(crate) const SCHEMA_FILE: &str = "60idsync-ipa.ldif";
/// A PATH where `python3` is the system's (with lib389), not pyenv's.
const SYSTEM_PATH: &str = "/usr/bin:/usr/sbin:/bin:/sbin";
/// How long the verification start of the golden may take.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// The LDBM (bdb) config entry.
const BDB_DN: &str = "cn=bdb,cn=config,cn=ldbm database,cn=plugins,cn=config";
/// The user backend.
const USERROOT_DN: &str = "cn=userRoot,cn=ldbm database,cn=plugins,cn=config";
/// The retro changelog backend.
const CHANGELOG_BACKEND_DN: &str = "cn=changelog,cn=ldbm database,cn=plugins,cn=config";
/// The retro changelog plugin.
pub(crate) const RETROCL_DN: &str = "cn=Retro Changelog Plugin,cn=plugins,cn=config";
/// The plugins the golden enables.
const PLUGINS: [&str; 3] = [
    RETROCL_DN,
    "cn=Content Synchronization,cn=plugins,cn=config",
    "cn=MemberOf Plugin,cn=plugins,cn=config",
];

/// The golden of this process's key: built (or found in the cache) once per process.
pub(crate) fn golden() -> Result<PathBuf, ServerError> {
    static GOLDEN: OnceLock<Result<PathBuf, (String, String)>> = OnceLock::new();
    GOLDEN
        .get_or_init(|| {
            find_or_build().map_err(|error| match error {
                ServerError::Start {
                    reason, log_tail, ..
                } => (reason, log_tail),
                other => (other.to_string(), String::new()),
            })
        })
        .clone()
        .map_err(|(reason, log_tail)| ServerError::Start {
            server: SERVER,
            reason: format!("the golden 389-ds instance could not be built: {reason}"),
            log_tail,
        })
}

/// `$IDSYNC_DS389_CACHE`, or `ds389-golden` in the cargo target dir.
fn cache_root() -> PathBuf {
    std::env::var_os("IDSYNC_DS389_CACHE").map_or_else(
        || {
            let debug = crate::paths::target_debug_dir();
            debug
                .parent()
                .map_or_else(|| debug.clone(), Path::to_path_buf)
                .join("ds389-golden")
        },
        PathBuf::from,
    )
}

/// A hash of everything the golden depends on: the format, the installed ns-slapd, the
/// schema, the default seed and the offline configuration.
fn cache_key() -> String {
    let binary = std::fs::metadata(NS_SLAPD)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_secs());
            format!("{}:{modified}", meta.len())
        })
        .unwrap_or_default();
    let mut hash = Fnv::new();
    for part in [
        GOLDEN_FORMAT,
        &binary,
        schema_ldif(),
        &IpaSeed::default().ldif(),
        &format!("{:?}", config_edits()),
        ADMIN_PASSWORD,
    ] {
        hash.write(part.as_bytes());
        hash.write(&[0]);
    }
    format!("{GOLDEN_FORMAT}-{:016x}", hash.finish())
}

/// The cached golden, or a new one built next to the cache and renamed into it (atomic: a
/// process that loses the race drops its own copy).
fn find_or_build() -> Result<PathBuf, ServerError> {
    let cache = cache_root();
    let golden = cache.join(cache_key());
    if golden.join(ROOT_MARKER).is_file() {
        return Ok(golden);
    }
    create_dirs(&cache)?;
    let build = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&cache)
        .map_err(ServerError::io("create a temp dir in", &cache))?;
    let started = Instant::now();
    build_golden(build.path())?;
    let root = build.keep();
    match std::fs::rename(&root, &golden) {
        Ok(()) => {
            eprintln!(
                "idsync-testkit: golden 389-ds instance built in {:?} at {}",
                started.elapsed(),
                golden.display()
            );
            Ok(golden)
        }
        Err(_) if golden.join(ROOT_MARKER).is_file() => {
            drop(std::fs::remove_dir_all(&root));
            Ok(golden)
        }
        Err(error) => {
            drop(std::fs::remove_dir_all(&root));
            Err(ServerError::io("rename into", &golden)(error))
        }
    }
}

/// Builds a complete, stopped golden instance at `root`.
fn build_golden(root: &Path) -> Result<(), ServerError> {
    let layout = Layout::new(root);
    // dscreate runs with umask 007: parents it would create come out 0770 root:root, which
    // the `dirsrv` user cannot traverse. Create them first, world-traversable.
    for dir in [
        "share/dirsrv/inf",
        "etc/dirsrv",
        "etc/default",
        "etc/tmpfiles.d",
        "tmp",
        "run/lock/dirsrv",
        "var/lib/dirsrv",
        "var/log/dirsrv",
        "dev/shm",
    ] {
        create_dirs(&root.join(dir))?;
    }
    set_mode(root, 0o755)?;
    set_mode(&root.join("tmp"), 0o1777)?;
    copy_tree(Path::new("/etc/dirsrv/config"), &root.join("etc/dirsrv"))?;
    copy_tree(Path::new("/etc/dirsrv/schema"), &root.join("etc/dirsrv"))?;
    copy_tree(
        Path::new("/usr/share/dirsrv/data"),
        &root.join("share/dirsrv"),
    )?;
    patch_template(&root.join("share/dirsrv/data/template-dse.ldif"))?;
    write(
        &root.join("share/dirsrv/inf/defaults.inf"),
        &private_defaults(
            &read(Path::new("/usr/share/dirsrv/inf/defaults.inf"))?,
            root,
        ),
    )?;
    let inf = root.join("instance.inf");
    write(&inf, &instance_inf(free_port()?))?;
    set_mode(&inf, 0o600)?;
    dscreate(root, &inf)?;

    let mut dse = Dse::parse(&read(&layout.dse())?);
    for (dn, attr, value) in config_edits() {
        dse.set(dn, attr, &[value])
            .map_err(|reason| ServerError::Start {
                server: SERVER,
                reason: format!("dse.ldif after dscreate: {reason}"),
                log_tail: String::new(),
            })?;
    }
    let port = free_port()?;
    dse.set("cn=config", "nsslapd-port", &[&port.to_string()])
        .map_err(|reason| options_error(&reason))?;
    write(&layout.dse(), &dse.render())?;
    let schema = layout.schema_dir().join(SCHEMA_FILE);
    write(&schema, schema_ldif())?;
    set_mode(&schema, 0o644)?;

    let seed = root.join("seed.ldif");
    write(&seed, &IpaSeed::default().ldif())?;
    set_mode(&seed, 0o644)?;
    process::ldif2db(&layout, &seed)?;
    std::fs::remove_file(&seed).map_err(ServerError::io("remove", &seed))?;

    verify(&layout, port)?;
    super::clean_runtime_files(&layout)?;
    write(&root.join(ROOT_MARKER), &root.display().to_string())
}

/// The offline settings of every instance: small caches (autosizing would see the host's
/// whole memory), no fsync per transaction (throw-away data), the three sync plugins on.
fn config_edits() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut edits = vec![
        ("cn=config", "nsslapd-listenhost", "127.0.0.1"),
        (BDB_DN, "nsslapd-cache-autosize", "0"),
        (BDB_DN, "nsslapd-dbcachesize", "33554432"),
        (BDB_DN, "nsslapd-import-cache-autosize", "0"),
        (BDB_DN, "nsslapd-import-cachesize", "16777216"),
        (BDB_DN, "nsslapd-db-durable-transaction", "off"),
        (USERROOT_DN, "nsslapd-cachememsize", "33554432"),
        (USERROOT_DN, "nsslapd-dncachememsize", "8388608"),
        (CHANGELOG_BACKEND_DN, "nsslapd-cachememsize", "16777216"),
        (CHANGELOG_BACKEND_DN, "nsslapd-dncachememsize", "4194304"),
        (RETROCL_DN, "nsslapd-attribute", "nsuniqueid:targetUniqueId"),
    ];
    for plugin in PLUGINS {
        edits.push((plugin, "nsslapd-pluginEnabled", "on"));
    }
    edits
}

/// Listen on 127.0.0.1 only (also during dscreate's own starts) and enable the three plugins
/// so the retro changelog backend exists from the first start.
fn patch_template(path: &Path) -> Result<(), ServerError> {
    let mut template = Dse::parse(&read(path)?);
    let result = template
        .set("cn=config", "nsslapd-listenhost", &["127.0.0.1"])
        .and_then(|()| {
            PLUGINS
                .iter()
                .try_for_each(|plugin| template.set(plugin, "nsslapd-pluginenabled", &["on"]))
        })
        .and_then(|()| {
            template.set(
                RETROCL_DN,
                "nsslapd-attribute",
                &["nsuniqueid:targetUniqueId"],
            )
        });
    result.map_err(|reason| options_error(&format!("template-dse.ldif: {reason}")))?;
    write(path, &template.render())
}

/// `defaults.inf` with every mutable path below `root`, no systemd, no SELinux.
fn private_defaults(system: &str, root: &Path) -> String {
    const RELOCATED: [&str; 22] = [
        "sysconf_dir",
        "local_state_dir",
        "run_dir",
        "ldapi",
        "pid_file",
        "tmpfiles_d",
        "schema_dir",
        "cert_dir",
        "config_dir",
        "lock_dir",
        "log_dir",
        "access_log",
        "audit_log",
        "error_log",
        "security_log",
        "db_dir",
        "db_home_dir",
        "backup_dir",
        "ldif_dir",
        "inst_dir",
        "initconfig_dir",
        "tmp_dir",
    ];
    let root = root.display();
    let mut out = String::new();
    for line in system.lines() {
        let rewritten = match line.split_once('=') {
            Some((key, value)) if !line.starts_with(';') => {
                let key = key.trim();
                let value = value.trim();
                if RELOCATED.contains(&key) {
                    Some(format!("{key} = {root}{value}"))
                } else {
                    match key {
                        "with_systemd" => Some("with_systemd = 0".to_owned()),
                        "with_selinux" => Some("with_selinux = no".to_owned()),
                        "prefix" => Some(format!("prefix = {root}")),
                        "data_dir" => Some(format!("data_dir = {root}/share")),
                        _ => None,
                    }
                }
            }
            _ => None,
        };
        out.push_str(rewritten.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The `dscreate from-file` answers: created stopped (`start = False`).
fn instance_inf(port: u16) -> String {
    format!(
        "[general]
config_version = 2
full_machine_name = localhost
strict_host_checking = False
selinux = False
systemd = False
start = False

[slapd]
instance_name = {INSTANCE}
port = {port}
secure_port = 6361
self_sign_cert = False
root_password = {ADMIN_PASSWORD}
user = dirsrv
group = dirsrv

[backend-userroot]
suffix = {SUFFIX}
create_suffix_entry = True
sample_entries = no
"
    )
}

/// Runs `PREFIX=root dscreate from-file INF` with the system python first on PATH.
fn dscreate(root: &Path, inf: &Path) -> Result<(), ServerError> {
    let log_path = root.join("dscreate.log");
    let log = std::fs::File::create(&log_path).map_err(ServerError::io("create", &log_path))?;
    let log_err = log
        .try_clone()
        .map_err(ServerError::io("open", &log_path))?;
    let status = Command::new(DSCREATE)
        .arg("from-file")
        .arg(inf)
        .env("PREFIX", root)
        .env("PATH", SYSTEM_PATH)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("PYENV_VERSION")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .status()
        .map_err(ServerError::io("run", DSCREATE))?;
    if status.success() {
        Ok(())
    } else {
        Err(ServerError::Start {
            server: SERVER,
            reason: format!(
                "`PREFIX={} {DSCREATE} from-file {}` failed ({status})",
                root.display(),
                inf.display()
            ),
            log_tail: std::fs::read_to_string(&log_path).unwrap_or_default(),
        })
    }
}

/// Starts the golden once: the root DSE must list the sync control; then a graceful stop so
/// the copies start from a cleanly closed database.
fn verify(layout: &Layout, port: u16) -> Result<(), ServerError> {
    let url = format!("ldap://127.0.0.1:{port}");
    let mut child = match process::start(layout, &url, VERIFY_TIMEOUT) {
        Ok(child) => child,
        Err(process::StartFailure::Failed(error)) => return Err(error),
        Err(process::StartFailure::PortTaken) => {
            return Err(ServerError::Start {
                server: SERVER,
                reason: format!("port {port} was taken"),
                log_tail: layout.log_tail(),
            })
        }
    };
    let mut command = crate::slapd::process::tool_command("ldapsearch");
    command.args([
        "-x",
        "-H",
        &url,
        "-LLL",
        "-b",
        "",
        "-s",
        "base",
        "supportedControl",
    ]);
    let dse = run_tool(command, None, "ldapsearch root DSE")
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    process::stop(&mut child, layout, Stop::Graceful(VERIFY_TIMEOUT))?;
    let dse = dse?;
    if dse.contains(SYNC_CONTROL_OID) {
        Ok(())
    } else {
        Err(ServerError::Start {
            server: SERVER,
            reason: format!("the root DSE lacks the sync control {SYNC_CONTROL_OID}: {dse}"),
            log_tail: layout.log_tail(),
        })
    }
}

/// `cp -a FROM INTO/` (keeps owners and modes: the data belongs to `dirsrv`).
pub(crate) fn copy_tree(from: &Path, into: &Path) -> Result<(), ServerError> {
    let mut command = Command::new("cp");
    command.arg("-a").arg(from).arg(into);
    let shown = format!("{command:?}");
    run_tool(command, None, &shown).map(drop)
}

/// `mkdir -p` with mode 0755 on what it creates.
fn create_dirs(dir: &Path) -> Result<(), ServerError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(ServerError::io("create", dir))
}

/// `chmod MODE PATH`.
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), ServerError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(ServerError::io("chmod", path))
}

/// Reads a text file.
pub(crate) fn read(path: &Path) -> Result<String, ServerError> {
    std::fs::read_to_string(path).map_err(ServerError::io("read", path))
}

/// Writes a text file (an existing file keeps its owner and mode).
pub(crate) fn write(path: &Path, text: &str) -> Result<(), ServerError> {
    std::fs::write(path, text).map_err(ServerError::io("write", path))
}

/// An [`ServerError::Options`] of this server.
pub(crate) fn options_error(reason: &str) -> ServerError {
    ServerError::Options {
        server: SERVER,
        reason: reason.to_owned(),
    }
}

use std::os::unix::fs::DirBuilderExt as _;

/// FNV-1a, 64 bit: a stable hash for the cache key.
struct Fnv(u64);

impl Fnv {
    /// The offset basis.
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// Mixes `bytes` in.
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash.
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_relocated_and_systemd_is_off() {
        let system = "[slapd]\n; comment = x\nprefix = /usr\nwith_systemd = 1\nrun_dir = /run/dirsrv\ndata_dir = /usr/share\nbin_dir = /usr/bin\n";
        let ours = private_defaults(system, Path::new("/r"));
        assert_eq!(
            ours,
            "[slapd]\n; comment = x\nprefix = /r\nwith_systemd = 0\nrun_dir = /r/run/dirsrv\ndata_dir = /r/share\nbin_dir = /usr/bin\n"
        );
    }

    #[test]
    fn the_cache_key_is_stable() {
        assert_eq!(cache_key(), cache_key());
        assert!(cache_key().starts_with(GOLDEN_FORMAT));
    }
}
