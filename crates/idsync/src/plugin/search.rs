//! Where sink plugins are looked for, and how plugin names map to file names.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::plugin::PluginError;

/// Colon-separated directories searched first.
pub const PLUGIN_PATH_ENV: &str = "IDSYNC_PLUGIN_PATH";

/// The system-wide plugin directory, searched last.
pub const SYSTEM_PLUGIN_DIR: &str = "/usr/lib/idsync";

const FILE_PREFIX: &str = "libidsync_sink_";
const FILE_SUFFIX: &str = ".so";

/// The ordered list of directories searched for plugins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSearch {
    dirs: Vec<PathBuf>,
}

/// A plugin file chosen from a configured `plugin` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginLocation {
    /// The name to use in messages: the plugin name, or the name in the file's name.
    pub name: String,
    /// The library file.
    pub path: PathBuf,
}

impl PluginSearch {
    /// Searches exactly these directories, in order (duplicates dropped).
    pub fn new(dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut unique: Vec<PathBuf> = Vec::new();
        for dir in dirs {
            if !unique.contains(&dir) {
                unique.push(dir);
            }
        }
        Self { dirs: unique }
    }

    /// The standard search: each directory of `$IDSYNC_PLUGIN_PATH`, the runner's own
    /// directory, `../lib/idsync` beside it, then [`SYSTEM_PLUGIN_DIR`].
    pub fn from_env() -> Self {
        Self::standard(
            std::env::var_os(PLUGIN_PATH_ENV),
            std::env::current_exe().ok(),
        )
    }

    /// The standard search from explicit inputs: the value of `$IDSYNC_PLUGIN_PATH` and the
    /// runner's executable path.
    pub fn standard(plugin_path: Option<OsString>, executable: Option<PathBuf>) -> Self {
        let mut dirs: Vec<PathBuf> = plugin_path
            .map(|value| {
                std::env::split_paths(&value)
                    .filter(|dir| !dir.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(exe_dir) = executable.as_deref().and_then(Path::parent) {
            dirs.push(exe_dir.to_path_buf());
            dirs.push(match exe_dir.parent() {
                Some(prefix) => prefix.join("lib").join("idsync"),
                None => exe_dir.join("..").join("lib").join("idsync"),
            });
        }
        dirs.push(PathBuf::from(SYSTEM_PLUGIN_DIR));
        Self::new(dirs)
    }

    /// The directories, in search order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Every file a plugin of this name may be, in search order.
    pub fn candidates(&self, name: &str) -> Result<Vec<PathBuf>, PluginError> {
        let file_name = plugin_file_name(name)?;
        Ok(self.dirs.iter().map(|dir| dir.join(&file_name)).collect())
    }

    /// Resolves a configured `plugin` value: a path (it contains `/` or ends in `.so`) is used
    /// as it is; a name is searched for in [`Self::dirs`].
    pub fn locate(&self, plugin: &str) -> Result<PluginLocation, PluginError> {
        if is_path(plugin) {
            let path = PathBuf::from(plugin);
            if !path.exists() {
                return Err(PluginError::NotFound {
                    name: plugin.to_owned(),
                    searched: vec![path],
                });
            }
            return Ok(PluginLocation {
                name: name_for_path(&path),
                path,
            });
        }
        let candidates = self.candidates(plugin)?;
        match candidates.iter().find(|path| path.exists()) {
            Some(path) => Ok(PluginLocation {
                name: plugin.to_owned(),
                path: path.clone(),
            }),
            None => Err(PluginError::NotFound {
                name: plugin.to_owned(),
                searched: candidates,
            }),
        }
    }
}

impl fmt::Display for PluginSearch {
    /// The directories as `` `/a`, `/b` ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, dir) in self.dirs.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{}`", dir.display())?;
        }
        Ok(())
    }
}

/// True when a configured `plugin` value is a path rather than a name.
pub(crate) fn is_path(plugin: &str) -> bool {
    plugin.contains('/') || plugin.ends_with(FILE_SUFFIX)
}

/// Checks that `name` is a plugin name: non-empty, only `a-z`, `0-9`, `_` and `-`.
pub fn validate_plugin_name(name: &str) -> Result<(), PluginError> {
    if idsync_plugin_api::is_valid_plugin_name(name) {
        Ok(())
    } else {
        Err(PluginError::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// The library file name of a plugin: `mediawiki` → `libidsync_sink_mediawiki.so`
/// (`-` becomes `_`, as cargo does for library names).
pub fn plugin_file_name(name: &str) -> Result<String, PluginError> {
    validate_plugin_name(name)?;
    Ok(format!(
        "{FILE_PREFIX}{}{FILE_SUFFIX}",
        name.replace('-', "_")
    ))
}

/// The plugin name in a library file name (`libidsync_sink_rt.so` → `rt`), if it is one.
pub(crate) fn name_from_file_name(file_name: &str) -> Option<&str> {
    file_name
        .strip_prefix(FILE_PREFIX)?
        .strip_suffix(FILE_SUFFIX)
        .filter(|name| !name.is_empty())
}

/// The name to use in messages for a plugin given by path.
pub(crate) fn name_for_path(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    match name_from_file_name(&file_name) {
        Some(name) => name.to_owned(),
        None => file_name,
    }
}
