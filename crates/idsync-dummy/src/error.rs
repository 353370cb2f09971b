//! Errors of the dummy source.

use std::error::Error as StdError;
use std::path::PathBuf;

use idsync_core::SourceError;

use crate::config::ConfigProblem;

/// Most problems listed in one [`DummyError::Invalid`] message.
const SHOWN_PROBLEMS: usize = 20;

/// What can go wrong in the dummy source.
#[derive(Debug, thiserror::Error)]
pub enum DummyError {
    /// The `[source]` table is wrong (shown with `source.`-prefixed keys).
    #[error("{}", join_problems(.0))]
    Config(Vec<ConfigProblem>),
    /// The directory file could not be read.
    #[error("cannot read `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The directory file is larger than [`crate::MAX_FILE_SIZE`].
    #[error("`{}` is {size} bytes; the dummy source reads files of at most {limit} bytes", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (or a lower bound of it).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The directory file is not UTF-8.
    #[error("`{}` is not valid UTF-8", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where decoding failed.
        #[source]
        source: std::str::Utf8Error,
    },
    /// The directory file is empty (refused, so a half-written file never empties the
    /// directory).
    #[error(
        "`{}` is empty; an empty directory is written `users: []` (YAML) or `users = []` (TOML)",
        .path.display()
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The YAML is malformed or does not have the directory file's shape.
    #[error("`{}`: invalid directory file", .path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the location.
        #[source]
        source: serde_norway::Error,
    },
    /// The TOML is malformed or does not have the directory file's shape.
    #[error("`{}`: invalid directory file", .path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the location.
        #[source]
        source: toml::de::Error,
    },
    /// The file parsed, but its content is wrong (duplicate names or ids, bad UUIDs, unknown
    /// attributes, …). Every problem found is listed.
    #[error("`{}`: {}", .path.display(), join_list(.problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem, each starting with the item it is about (`users[3].id: …`).
        problems: Vec<String>,
    },
    /// The directory holding the file cannot be watched.
    #[error("cannot watch `{}` for changes", .path.display())]
    Watch {
        /// The watched directory.
        path: PathBuf,
        /// The watcher's error.
        #[source]
        source: notify::Error,
    },
    /// A background task failed (it panicked or was cancelled).
    #[error("the dummy source's {task} task failed")]
    Task {
        /// Which task.
        task: &'static str,
        /// The join error.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl DummyError {
    /// The message with every cause, `: `-separated (for logs and [`SourceError`] texts).
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut cause = self.source();
        while let Some(error) = cause {
            text.push_str(": ");
            text.push_str(&error.to_string());
            cause = error.source();
        }
        text
    }
}

impl From<DummyError> for SourceError {
    fn from(error: DummyError) -> Self {
        match error {
            DummyError::Watch { .. } => SourceError::Unavailable {
                message: error.report(),
                cause: Some(Box::new(error)),
            },
            DummyError::Task { .. } => SourceError::Other(error.report()),
            DummyError::Config(_)
            | DummyError::Read { .. }
            | DummyError::TooLarge { .. }
            | DummyError::NotUtf8 { .. }
            | DummyError::Empty { .. }
            | DummyError::Yaml { .. }
            | DummyError::Toml { .. }
            | DummyError::Invalid { .. } => SourceError::Config(error.report()),
        }
    }
}

fn join_problems(problems: &[ConfigProblem]) -> String {
    let texts: Vec<String> = problems
        .iter()
        .map(|problem| format!("source.{problem}"))
        .collect();
    join_list(&texts)
}

/// One problem on one line; several as a count and an indented list (at most
/// [`SHOWN_PROBLEMS`] of them).
fn join_list(problems: &[String]) -> String {
    match problems {
        [] => "no problem".to_owned(),
        [one] => one.clone(),
        many => {
            let mut text = format!("{} problems:", many.len());
            for problem in many.iter().take(SHOWN_PROBLEMS) {
                text.push_str("\n  ");
                text.push_str(problem);
            }
            if many.len() > SHOWN_PROBLEMS {
                text.push_str(&format!("\n  … and {} more", many.len() - SHOWN_PROBLEMS));
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_lists_one_problem_inline_and_many_indented() {
        let one = DummyError::Invalid {
            path: PathBuf::from("dir.yaml"),
            problems: vec!["users[3].id: invalid UUID `xyz`".to_owned()],
        };
        assert_eq!(
            one.to_string(),
            "`dir.yaml`: users[3].id: invalid UUID `xyz`"
        );
        let many = DummyError::Invalid {
            path: PathBuf::from("dir.yaml"),
            problems: (0..25).map(|i| format!("users[{i}].name: empty")).collect(),
        };
        let text = many.to_string();
        assert!(text.starts_with("`dir.yaml`: 25 problems:\n  users[0].name: empty\n"));
        assert!(text.ends_with("\n  … and 5 more"), "{text}");
    }

    #[test]
    fn file_errors_become_config_errors_with_the_cause() {
        let error = DummyError::Read {
            path: PathBuf::from("dir.yaml"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        };
        let error = SourceError::from(error);
        assert!(matches!(&error, SourceError::Config(text)
            if text == "cannot read `dir.yaml`: no such file"));
        assert!(!error.is_retryable());
    }
}
