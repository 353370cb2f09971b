//! Reading a directory file from disk (blocking; call it off the async executor).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::DummyError;
use crate::format::Format;
use crate::parse::{parse_directory, Directory};

/// Largest directory file the dummy source reads: 512 MiB.
pub const MAX_FILE_SIZE: u64 = 512 * 1024 * 1024;

/// Reads, parses and validates a directory file; the format follows the extension.
///
/// `path` is opened as given (relative to the current directory) and named as given in
/// errors. Blocking: from async code, run it with `tokio::task::spawn_blocking`.
pub fn read_directory(path: &Path) -> Result<Directory, DummyError> {
    read_directory_limited(path, MAX_FILE_SIZE)
}

pub(crate) fn read_directory_limited(path: &Path, limit: u64) -> Result<Directory, DummyError> {
    let format = Format::from_path(path).ok_or_else(|| DummyError::Invalid {
        path: path.to_owned(),
        problems: vec!["the file name does not end in `.yaml`, `.yml` or `.toml`".to_owned()],
    })?;
    let bytes = read_limited(path, limit)?;
    let text = std::str::from_utf8(&bytes).map_err(|source| DummyError::NotUtf8 {
        path: path.to_owned(),
        source,
    })?;
    parse_directory(text, format, path)
}

/// Reads a whole file, refusing files larger than `limit` (also when the file grows while it
/// is read).
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, DummyError> {
    let read_error = |source| DummyError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > limit {
        return Err(DummyError::TooLarge {
            path: path.to_owned(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(DummyError::TooLarge {
            path: path.to_owned(),
            size: read,
            limit,
        });
    }
    Ok(bytes)
}
