//! Decoding a plugin's configuration from the JSON the runner passes.

use idsync_core::{SinkError, SinkErrorKind};
use serde::de::DeserializeOwned;

/// Decodes `json` (the runner's `[sink]` table without `plugin`) into a sink configuration.
///
/// A serde failure becomes a [`SinkErrorKind::Config`] error naming the plugin and the key, as
/// in ``invalid configuration for sink plugin `sql`: key `pool.size`: invalid type: …``.
/// [`crate::export_sink!`] calls this; sinks rarely need to.
pub fn decode_config<C: DeserializeOwned>(plugin: &str, json: &str) -> Result<C, SinkError> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let config = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        config_error(plugin, Some(&path), error.inner())
    })?;
    deserializer
        .end()
        .map_err(|error| config_error(plugin, None, &error))?;
    Ok(config)
}

fn config_error(plugin: &str, path: Option<&str>, error: &serde_json::Error) -> SinkError {
    let detail = without_position(error);
    let message = match path {
        Some(path) if path != "." => {
            format!("invalid configuration for sink plugin `{plugin}`: key `{path}`: {detail}")
        }
        _ => format!("invalid configuration for sink plugin `{plugin}`: {detail}"),
    };
    SinkError::new(SinkErrorKind::Config, message)
}

/// serde_json appends " at line L column C", which means nothing to someone who wrote TOML.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if error.line() == 0 {
        return text;
    }
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => text,
    }
}
