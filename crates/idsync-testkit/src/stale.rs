//! Instance directories left behind by killed test processes.
//!
//! An instance directory is named `BASE` + `PID.START-` + random, where PID and START (its
//! start time in clock ticks after boot, so a reused pid is told apart) name the test process
//! that made it. A process killed by a signal runs no `Drop`, so its directories stay; the
//! next start of the same kind of server removes those whose process is gone.

use std::path::Path;

/// The start time of process `pid` in clock ticks after boot (field 22 of `/proc/PID/stat`).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// `BASE` + `PID.START-` of this process: the prefix of its instance directories.
pub(crate) fn tagged(base: &str) -> String {
    let pid = std::process::id();
    let start = start_time(pid).unwrap_or(0);
    format!("{base}{pid}.{start}-")
}

/// The process that made the directory `name` (a name from [`tagged`] with `base`).
fn owner(name: &str, base: &str) -> Option<(u32, u64)> {
    let tag = name.strip_prefix(base)?;
    let (tag, _random) = tag.split_once('-')?;
    let (pid, start) = tag.split_once('.')?;
    Some((pid.parse().ok()?, start.parse().ok()?))
}

/// Removes the directories in `parent` named by [`tagged`] with `base` whose test process no
/// longer runs. Best effort: what cannot be read or removed is left alone.
pub(crate) fn remove_stale(parent: &Path, base: &str) {
    remove_stale_releasing(parent, base, |_| {});
}

/// [`remove_stale`], calling `release` on each stale directory before it is removed.
pub(crate) fn remove_stale_releasing(parent: &Path, base: &str, release: fn(&Path)) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some((pid, start)) = name.to_str().and_then(|name| owner(name, base)) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && start_time(pid) != Some(start) {
            release(&entry.path());
            drop(std::fs::remove_dir_all(entry.path()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_this_process() {
        let tag = tagged("idsync-x-");
        let name = format!("{tag}AbC123");
        let pid = std::process::id();
        assert_eq!(
            owner(&name, "idsync-x-"),
            Some((pid, start_time(pid).unwrap_or(0)))
        );
        assert!(start_time(pid).is_some_and(|start| start > 0));
        assert_eq!(owner("idsync-x-AbC123", "idsync-x-"), None);
        assert_eq!(owner("other-1.2-AbC", "idsync-x-"), None);
    }

    #[test]
    fn only_directories_of_gone_processes_are_removed() {
        let parent = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let ours = parent.path().join(format!("{}abc", tagged("kit-")));
        // pid 1 runs, but it did not start at tick 1 (the kernel ran first).
        let reused = parent.path().join("kit-1.1-abc");
        let unrelated = parent.path().join("kit-other");
        for dir in [&ours, &reused, &unrelated] {
            std::fs::create_dir(dir).unwrap_or_else(|error| panic!("{error}"));
        }
        remove_stale(parent.path(), "kit-");
        assert!(ours.is_dir());
        assert!(!reused.exists());
        assert!(unrelated.is_dir());
    }
}
