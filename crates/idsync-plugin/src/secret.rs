//! Reading secrets from files, the way sink configurations should take them.

use std::path::Path;

use idsync_core::{SinkError, SinkErrorKind};

/// Reads a secret from the file a `*_file` key names (`password_file = "/etc/idsync/db.pass"`),
/// without its trailing line break. `key` names the configuration key in the error, which is a
/// [`SinkErrorKind::Config`] error: the file is missing, unreadable, not UTF-8 or empty.
pub fn read_secret_file(key: &str, path: &Path) -> Result<String, SinkError> {
    let config_error = |problem: String| {
        SinkError::new(
            SinkErrorKind::Config,
            format!(
                "`{key}`: cannot read a secret from `{}`: {problem}",
                path.display()
            ),
        )
    };
    let text = std::fs::read_to_string(path).map_err(|error| config_error(error.to_string()))?;
    let secret = text.strip_suffix('\n').unwrap_or(&text);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if secret.is_empty() {
        return Err(config_error("the file is empty".to_owned()));
    }
    Ok(secret.to_owned())
}
