//! What can go wrong finding, loading and creating a sink plugin.

use std::path::PathBuf;

use idsync_core::{SinkError, SinkErrorKind};

/// A cause carried as `#[source]`: a loader error, or a short description of one.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A sink plugin could not be found, loaded or created. Every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The configured name is not a valid plugin name.
    #[error("invalid sink plugin name `{name}`: use lower-case letters, digits, `-` and `_`, or a path to a `.so` file")]
    InvalidName {
        /// The configured value.
        name: String,
    },

    /// No candidate file exists.
    #[error("sink plugin `{name}` not found; searched: {}", list_paths(searched))]
    NotFound {
        /// The plugin name (or configured path).
        name: String,
        /// Every path tried, in order.
        searched: Vec<PathBuf>,
    },

    /// The file exists but is not a shared library, or does not export an idsync sink module.
    #[error("`{}` is not an idsync sink plugin", path.display())]
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// What the loader said.
        #[source]
        cause: Cause,
    },

    /// The file is a shared library but the dynamic loader refused it (a missing dependency,
    /// a wrong architecture, no permission).
    #[error("cannot load sink plugin `{name}` from `{}`", path.display())]
    CannotLoad {
        /// The plugin name used in messages.
        name: String,
        /// The file.
        path: PathBuf,
        /// The dynamic loader's message.
        #[source]
        cause: Cause,
    },

    /// The plugin was built against another version of the plugin ABI.
    #[error("{}", incompatible_message(name, path, built_against.as_deref(), provided))]
    IncompatibleAbi {
        /// The plugin name used in messages.
        name: String,
        /// The file.
        path: PathBuf,
        /// The `idsync-plugin-api` version the plugin was built against, when known.
        built_against: Option<String>,
        /// The `idsync-plugin-api` version of this runner.
        provided: String,
    },

    /// The plugin's root module failed to initialise.
    #[error("sink plugin `{name}` at `{}` failed to initialise", path.display())]
    Init {
        /// The plugin name used in messages.
        name: String,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        cause: Cause,
    },

    /// The plugin's own code returned an error (or panicked) while the sink was being created.
    #[error("sink plugin `{name}` at `{}` failed in `{stage}`", path.display())]
    Sink {
        /// The plugin name used in messages.
        name: String,
        /// The file.
        path: PathBuf,
        /// The entry point that failed: `new` or `capabilities`.
        stage: &'static str,
        /// The plugin's error, kind included.
        #[source]
        source: SinkError,
    },

    /// A plugin directory exists but cannot be read.
    #[error("cannot read plugin directory `{}`", dir.display())]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl PluginError {
    /// The plugin's error kind, when the plugin itself reported the failure.
    pub fn sink_error_kind(&self) -> Option<SinkErrorKind> {
        match self {
            PluginError::Sink { source, .. } => Some(source.kind),
            _ => None,
        }
    }

    /// True when fixing the configuration fixes this error (exit code 2): a bad plugin name, a
    /// plugin that does not exist, or a configuration the plugin refused.
    pub fn is_config(&self) -> bool {
        match self {
            PluginError::InvalidName { .. } | PluginError::NotFound { .. } => true,
            PluginError::Sink { source, .. } => source.kind == SinkErrorKind::Config,
            _ => false,
        }
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nowhere (no plugin directories)".to_owned();
    }
    paths
        .iter()
        .map(|path| format!("`{}`", path.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn incompatible_message(
    name: &str,
    path: &std::path::Path,
    built_against: Option<&str>,
    provided: &str,
) -> String {
    match built_against {
        Some(version) if version != provided => format!(
            "sink plugin `{name}` at `{}` was built against idsync-plugin-api {version}; this runner provides {provided} — rebuild it",
            path.display()
        ),
        _ => format!(
            "sink plugin `{name}` at `{}` was built against an incompatible idsync-plugin-api; this runner provides {provided} — rebuild it",
            path.display()
        ),
    }
}

/// A cause that is just a message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Reason(pub(crate) String);

impl Reason {
    /// Boxes a message as a [`Cause`].
    pub(crate) fn cause(message: impl Into<String>) -> Cause {
        Box::new(Reason(message.into()))
    }
}
