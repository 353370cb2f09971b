//! Golden templates: a server's freshly initialised data directory, built once per machine
//! (`initdb`, `mariadb-install-db` take about a second) and copied for each instance (a
//! tenth of that).
//!
//! Templates live in `$IDSYNC_TESTKIT_CACHE`, or `$TMPDIR/idsync-testkit-cache-UID`, one
//! directory per key; a key names the server version and the kit's build recipe, so a
//! new server version or recipe builds a new template. A template is built in a scratch
//! directory and renamed into place when complete: concurrent test processes never see half
//! a template, and the loser of a race throws its copy away.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use crate::daemon::{self, ServiceUser};
use crate::error::ServerError;

/// Serialises template builds within this process (tests run on many threads).
static BUILDING: Mutex<()> = Mutex::new(());

/// The cache directory (created if needed).
fn cache_dir(server: &'static str) -> Result<PathBuf, ServerError> {
    let dir = match std::env::var_os("IDSYNC_TESTKIT_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!(
            "idsync-testkit-cache-{}",
            daemon::effective_uid(server)?
        )),
    };
    std::fs::create_dir_all(&dir).map_err(ServerError::io("create", &dir))?;
    Ok(dir)
}

/// A stamp of `program` (its size and modification time), for template keys.
pub(crate) fn program_stamp(program: &Path) -> String {
    std::fs::metadata(program)
        .ok()
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |age| age.as_secs());
            format!("{}-{modified}", meta.len())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The template directory for `key`, built by `build` (which fills the empty directory it
/// is given, owned by `owner`) if it does not exist yet.
pub(crate) fn template(
    server: &'static str,
    key: &str,
    owner: Option<ServiceUser>,
    build: impl FnOnce(&Path) -> Result<(), ServerError>,
) -> Result<PathBuf, ServerError> {
    let cache = cache_dir(server)?;
    let done = cache.join(key);
    if done.is_dir() {
        return Ok(done);
    }
    let _guard = BUILDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if done.is_dir() {
        return Ok(done);
    }
    let scratch = tempfile::Builder::new()
        .prefix(&format!(".building-{key}-"))
        .tempdir_in(&cache)
        .map_err(ServerError::io("create a temp dir in", &cache))?;
    if let Some(owner) = owner {
        owner.chown(scratch.path())?;
    }
    build(scratch.path())?;
    let built = scratch.keep();
    if std::fs::rename(&built, &done).is_err() {
        // Another process finished first; its template is as good as ours.
        drop(std::fs::remove_dir_all(&built));
        if !done.is_dir() {
            return Err(ServerError::Options {
                server,
                reason: format!("cannot move the template into {}", done.display()),
            });
        }
    }
    Ok(done)
}

/// Copies the directory `from` to the new path `to`, keeping owners and modes (`cp -a`).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<(), ServerError> {
    let cp = Path::new("/bin/cp");
    let mut command = daemon::clean_command(cp, Path::new("/"));
    command.arg("-a").arg(from).arg(to);
    let shown = format!("cp -a {} {}", from.display(), to.display());
    daemon::run_tool(command, None, &shown).map(drop)
}
