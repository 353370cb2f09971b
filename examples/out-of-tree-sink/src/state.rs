//! What the sink remembers between runs, in `<path>.state.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use idsync_plugin::{EntryId, EntryKind, SinkError, SinkErrorKind};
use serde::{Deserialize, Serialize};

/// The state file format this build reads and writes.
const FORMAT: u32 = 1;

/// Everything the sink knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct State {
    /// State file format.
    pub format: u32,
    /// The cookie committed with the last batch.
    pub cookie: Option<StoredCookie>,
    /// Number of the last batch whose lines were appended.
    pub batches: u64,
    /// Every entry ever written and not deleted.
    pub entries: BTreeMap<EntryId, Known>,
}

/// A cookie, hex-encoded so that the state file stays text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredCookie {
    /// The cookie bytes in lower-case hex.
    pub hex: String,
    /// The fingerprint of the source view it belongs to.
    pub fingerprint: String,
}

/// One entry as last written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Known {
    /// User or group.
    pub kind: EntryKind,
    /// Name.
    pub name: String,
    /// Enabled in the directory (false once removed with `disable`).
    pub enabled: bool,
    /// True when the entry left the directory and was disabled for it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub removed: bool,
    /// Attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, Vec<String>>,
    /// Members (groups only).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub members: BTreeSet<EntryId>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl State {
    /// A new, empty state.
    pub fn empty() -> Self {
        Self {
            format: FORMAT,
            ..Self::default()
        }
    }

    /// The cookie as bytes and fingerprint.
    pub fn cookie(&self) -> Result<Option<(Vec<u8>, String)>, SinkError> {
        self.cookie
            .as_ref()
            .map(|stored| {
                decode_hex(&stored.hex)
                    .map(|bytes| (bytes, stored.fingerprint.clone()))
                    .ok_or_else(|| {
                        SinkError::new(
                            SinkErrorKind::Schema,
                            "jsonl sink: the stored cookie is not hex",
                        )
                    })
            })
            .transpose()
    }
}

/// The state file that belongs to an output file: `<path>.state.json`.
pub(crate) fn state_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".state.json");
    PathBuf::from(name)
}

/// Reads the state file; a missing file is an empty state.
pub(crate) fn load(path: &Path) -> Result<State, SinkError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(State::empty()),
        Err(error) => {
            return Err(SinkError::new(
                SinkErrorKind::Unavailable,
                format!("jsonl sink: cannot read `{}`: {error}", path.display()),
            ))
        }
    };
    let state: State = serde_json::from_str(&text).map_err(|error| {
        SinkError::new(
            SinkErrorKind::Schema,
            format!(
                "jsonl sink: `{}` is not a valid state file: {error}",
                path.display()
            ),
        )
    })?;
    if state.format != FORMAT {
        return Err(SinkError::new(
            SinkErrorKind::Schema,
            format!(
                "jsonl sink: `{}` has state format {}; this sink reads format {FORMAT}",
                path.display(),
                state.format
            ),
        ));
    }
    Ok(state)
}

/// Replaces the state file atomically: write a temporary file, `fsync` it, rename it over the
/// old one, `fsync` the directory.
pub(crate) fn save(path: &Path, state: &State) -> Result<(), SinkError> {
    let io_error = |error: io::Error| {
        SinkError::new(
            SinkErrorKind::Unavailable,
            format!("jsonl sink: cannot write `{}`: {error}", path.display()),
        )
    };
    let text = serde_json::to_vec(state).map_err(|error| {
        SinkError::new(
            SinkErrorKind::Other,
            format!("jsonl sink: cannot encode the state: {error}"),
        )
    })?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = File::create(&temporary).map_err(io_error)?;
    file.write_all(&text).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    drop(file);
    fs::rename(&temporary, path).map_err(io_error)?;
    sync_parent(path).map_err(io_error)
}

/// `fsync`s the directory holding `path`, so that a new or renamed entry is durable.
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Lower-case hex.
pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a `String` cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = vec![0, 1, 0x7f, 0x80, 0xff];
        assert_eq!(encode_hex(&bytes), "00017f80ff");
        assert_eq!(decode_hex("00017f80ff"), Some(bytes));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn the_state_file_sits_beside_the_output() {
        assert_eq!(
            state_path(Path::new("/var/log/idsync/changes.jsonl")),
            PathBuf::from("/var/log/idsync/changes.jsonl.state.json")
        );
    }
}
