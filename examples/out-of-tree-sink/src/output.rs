//! The output file: one append per batch, and repair of a torn last line.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::state::sync_parent;

/// Appends `bytes` with a single write; on failure, cuts the file back to its old length so
/// that no partial batch stays behind.
pub(crate) fn append(path: &Path, bytes: &[u8], fsync: bool) -> io::Result<()> {
    let existed = path.exists();
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let before = file.metadata()?.len();
    let written = file
        .write_all(bytes)
        .and_then(|()| if fsync { file.sync_data() } else { Ok(()) });
    if let Err(error) = written {
        // Best effort: the error that matters is the write's.
        let _ = file.set_len(before);
        return Err(error);
    }
    if fsync && !existed {
        sync_parent(path)?;
    }
    Ok(())
}

/// Cuts off a torn last line (bytes after the last `\n`), left by a crash during an append.
/// Returns how many bytes were removed.
pub(crate) fn repair(path: &Path) -> io::Result<u64> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let length = file.metadata()?.len();
    let keep = end_of_last_line(&mut file, length)?;
    if keep < length {
        file.set_len(keep)?;
        file.sync_data()?;
    }
    Ok(length - keep)
}

/// The offset just past the last `\n` (0 when there is none), reading backwards in chunks.
fn end_of_last_line(file: &mut File, length: u64) -> io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut end = length;
    let mut buffer = Vec::new();
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        buffer.resize(usize::try_from(end - start).unwrap_or(0), 0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buffer)?;
        if let Some(position) = buffer.iter().rposition(|byte| *byte == b'\n') {
            return Ok(start + position as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("idsync-jsonl-output-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn a_torn_last_line_is_cut_off() {
        let path = temp_file("torn", b"{\"a\":1}\n{\"b\":2}\n{\"c\":");
        assert_eq!(repair(&path).unwrap(), 5);
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(repair(&path).unwrap(), 0);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_without_any_newline_is_emptied() {
        let path = temp_file("no-newline", &vec![b'x'; 200_000]);
        assert_eq!(repair(&path).unwrap(), 200_000);
        assert!(std::fs::read(&path).unwrap().is_empty());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn appends_add_to_the_end() {
        let path = temp_file("append", b"one\n");
        append(&path, b"two\nthree\n", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one\ntwo\nthree\n");
        std::fs::remove_file(&path).unwrap();
    }
}
