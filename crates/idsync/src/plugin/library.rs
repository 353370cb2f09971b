//! Opening plugin libraries with abi_stable and turning its errors into [`PluginError`]s.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use abi_stable::library::{lib_header_from_path, LibHeader, LibraryError, RootModuleError};
use abi_stable::std_types::RStr;
use idsync_core::SinkError;
use idsync_plugin_api::{SinkModule_Ref, ABI_VERSION};

use crate::plugin::error::{Cause, Reason};
use crate::plugin::search::{name_from_file_name, PluginSearch};
use crate::plugin::{LoadedSink, PluginError};

/// What a plugin library says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin's name, as it exports it.
    pub name: String,
    /// The plugin crate's version.
    pub version: String,
    /// The `idsync-plugin-api` version it was built against.
    pub abi_version: String,
    /// The library file.
    pub path: PathBuf,
}

/// Resolves a configured `plugin` value with `search`, then loads it (see [`load_sink`]).
pub fn open_sink(
    search: &PluginSearch,
    plugin: &str,
    config_json: &serde_json::Value,
) -> Result<LoadedSink, PluginError> {
    let location = search.locate(plugin)?;
    load_sink(&location.path, &location.name, config_json)
}

/// Loads the plugin library at `path` and creates its sink from `config_json` (the `[sink]`
/// table without `plugin`). `name` is used in error messages.
pub fn load_sink(
    path: &Path,
    name: &str,
    config_json: &serde_json::Value,
) -> Result<LoadedSink, PluginError> {
    let (module, info) = open_module(path, name)?;
    let config = config_json.to_string();
    let sink = (module.new())(RStr::from_str(&config))
        .into_result()
        .map_err(|error| PluginError::Sink {
            name: name.to_owned(),
            path: path.to_path_buf(),
            stage: "new",
            source: SinkError::from(error),
        })?;
    LoadedSink::new(sink, info)
}

/// Every `libidsync_sink_*.so` in the search directories, loaded far enough to read its name
/// and versions; every file or directory that fails is reported too, in search order.
pub fn list_plugins(search: &PluginSearch) -> Vec<Result<PluginInfo, PluginError>> {
    let mut results = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for dir in search.dirs() {
        let files = match plugin_files(dir) {
            Ok(files) => files,
            Err(error) => {
                results.push(Err(error));
                continue;
            }
        };
        for (name, path) in files {
            let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if seen.insert(identity) {
                results.push(open_module(&path, &name).map(|(_, info)| info));
            }
        }
    }
    results
}

/// The plugin files of one directory, sorted by name; a missing directory has none.
fn plugin_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, PluginError> {
    let read_error = |source| PluginError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(read_error(error)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_error)?;
        let file_name = entry.file_name();
        if let Some(name) = file_name.to_str().and_then(name_from_file_name) {
            files.push((name.to_owned(), entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Loads the library and its root module, checking the ABI.
pub(crate) fn open_module(
    path: &Path,
    name: &str,
) -> Result<(SinkModule_Ref, PluginInfo), PluginError> {
    if !path.exists() {
        return Err(PluginError::NotFound {
            name: name.to_owned(),
            searched: vec![path.to_path_buf()],
        });
    }
    let header = lib_header_from_path(path).map_err(|error| header_error(path, name, error))?;
    let module = header
        .init_root_module::<SinkModule_Ref>()
        .map_err(|error| module_error(path, name, header, error))?;
    let info = PluginInfo {
        name: module.plugin_name().as_str().to_owned(),
        version: module.plugin_version().as_str().to_owned(),
        abi_version: module.abi_version().as_str().to_owned(),
        path: path.to_path_buf(),
    };
    Ok((module, info))
}

/// Errors from opening the file and finding abi_stable's header in it.
fn header_error(path: &Path, name: &str, error: LibraryError) -> PluginError {
    match error {
        LibraryError::OpenError { err, .. } => {
            if is_elf(path) {
                PluginError::CannotLoad {
                    name: name.to_owned(),
                    path: path.to_path_buf(),
                    cause: err,
                }
            } else {
                PluginError::NotAPlugin {
                    path: path.to_path_buf(),
                    cause: Reason::cause("not an ELF shared library"),
                }
            }
        }
        LibraryError::GetSymbolError { .. } => PluginError::NotAPlugin {
            path: path.to_path_buf(),
            cause: Reason::cause("it exports no abi_stable root module"),
        },
        other => module_error_without_header(path, name, other),
    }
}

/// Errors from checking and initialising the root module.
pub(crate) fn module_error(
    path: &Path,
    name: &str,
    header: &LibHeader,
    error: LibraryError,
) -> PluginError {
    match error {
        LibraryError::AbiInstability(details) => {
            tracing::debug!(plugin = name, path = %path.display(), %details, "plugin ABI mismatch");
            let version = header.version_strings().to_string();
            incompatible(path, name, Some(version))
        }
        other => module_error_without_header(path, name, other),
    }
}

pub(crate) fn module_error_without_header(
    path: &Path,
    name: &str,
    error: LibraryError,
) -> PluginError {
    match error {
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
            incompatible(path, name, Some(actual_version.to_string()))
        }
        LibraryError::RootModule { err, .. } => PluginError::Init {
            name: name.to_owned(),
            path: path.to_path_buf(),
            cause: root_module_cause(err),
        },
        LibraryError::Many(errors) => match errors.into_iter().next() {
            Some(first) => module_error_without_header(path, name, first),
            None => incompatible(path, name, None),
        },
        LibraryError::OpenError { err, .. } => PluginError::CannotLoad {
            name: name.to_owned(),
            path: path.to_path_buf(),
            cause: err,
        },
        LibraryError::GetSymbolError { .. } => PluginError::NotAPlugin {
            path: path.to_path_buf(),
            cause: Reason::cause("it exports no abi_stable root module"),
        },
        other => {
            // ParseVersionError, AbiInstability, InvalidAbiHeader, InvalidCAbi: all mean the
            // two sides were not built from the same ABI; abi_stable's text is multi-line.
            tracing::debug!(plugin = name, path = %path.display(), details = %other, "plugin ABI mismatch");
            incompatible(path, name, None)
        }
    }
}

fn incompatible(path: &Path, name: &str, built_against: Option<String>) -> PluginError {
    PluginError::IncompatibleAbi {
        name: name.to_owned(),
        path: path.to_path_buf(),
        built_against,
        provided: ABI_VERSION.to_owned(),
    }
}

fn root_module_cause(error: RootModuleError) -> Cause {
    match error {
        RootModuleError::Unwound => Reason::cause("its root module loader panicked"),
        RootModuleError::Returned(error) => Reason::cause(error.to_string().trim().to_owned()),
    }
}

/// True when the file starts with the ELF magic number.
fn is_elf(path: &Path) -> bool {
    let mut magic = [0_u8; 4];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}
