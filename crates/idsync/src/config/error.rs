//! Configuration problems, each naming the file and the key.

use std::fmt;
use std::path::PathBuf;

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The dotted key path (`sync.batch_size`), or empty for the file as a whole.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigProblem {
    /// A problem at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in one configuration file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    /// The file that was read.
    pub file: PathBuf,
    /// What is wrong with it, all at once.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match self.problems.as_slice() {
            [] => write!(f, "`{file}`: invalid configuration"),
            [only] => write_problem(f, &file.to_string(), only),
            many => {
                write!(f, "`{file}` has {} problems:", many.len())?;
                for problem in many {
                    f.write_str("\n  ")?;
                    write_problem(f, &file.to_string(), problem)?;
                }
                Ok(())
            }
        }
    }
}

fn write_problem(f: &mut fmt::Formatter<'_>, file: &str, problem: &ConfigProblem) -> fmt::Result {
    if problem.key.is_empty() {
        write!(f, "`{file}`: {}", problem.message)
    } else {
        write!(f, "`{file}`: `{}`: {}", problem.key, problem.message)
    }
}
