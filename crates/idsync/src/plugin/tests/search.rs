//! Discovery: search order, file names, name validation, locating files.

use std::ffi::OsString;
use std::path::PathBuf;

use super::fixtures::{built_plugin, TempDir};
use crate::plugin::{plugin_file_name, PluginError, PluginSearch};

fn paths(list: &[&str]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

#[test]
fn the_standard_search_order() {
    let search = PluginSearch::standard(
        Some(OsString::from("/a:/b::/c")),
        Some(PathBuf::from("/opt/idsync/bin/idsync")),
    );
    assert_eq!(
        search.dirs(),
        paths(&[
            "/a",
            "/b",
            "/c",
            "/opt/idsync/bin",
            "/opt/idsync/lib/idsync",
            "/usr/lib/idsync"
        ])
    );
    assert_eq!(
        search.to_string(),
        "`/a`, `/b`, `/c`, `/opt/idsync/bin`, `/opt/idsync/lib/idsync`, `/usr/lib/idsync`"
    );
}

#[test]
fn the_search_without_environment_or_executable() {
    assert_eq!(
        PluginSearch::standard(None, None).dirs(),
        paths(&["/usr/lib/idsync"])
    );
    // `/usr/bin/idsync` → `/usr/lib/idsync` twice: listed once.
    assert_eq!(
        PluginSearch::standard(None, Some(PathBuf::from("/usr/bin/idsync"))).dirs(),
        paths(&["/usr/bin", "/usr/lib/idsync"])
    );
}

#[test]
fn from_env_ends_with_the_system_directory() {
    let search = PluginSearch::from_env();
    assert_eq!(
        search.dirs().last(),
        Some(&PathBuf::from("/usr/lib/idsync"))
    );
}

#[test]
fn plugin_names_map_to_file_names() {
    assert_eq!(
        plugin_file_name("mediawiki").unwrap(),
        "libidsync_sink_mediawiki.so"
    );
    assert_eq!(
        plugin_file_name("my-sink_2").unwrap(),
        "libidsync_sink_my_sink_2.so"
    );
    for bad in ["", "MediaWiki", "a b", "ä", "a.b"] {
        let error = plugin_file_name(bad).unwrap_err();
        assert!(matches!(error, PluginError::InvalidName { .. }), "{bad}");
        assert!(error.is_config());
        assert_eq!(
            error.to_string(),
            format!("invalid sink plugin name `{bad}`: use lower-case letters, digits, `-` and `_`, or a path to a `.so` file")
        );
    }
}

#[test]
fn a_missing_plugin_lists_every_searched_path() {
    let search = PluginSearch::new(paths(&["/nonexistent/a", "/nonexistent/b"]));
    let error = search.locate("mediawiki").unwrap_err();
    assert!(error.is_config());
    assert_eq!(
        error.to_string(),
        "sink plugin `mediawiki` not found; searched: `/nonexistent/a/libidsync_sink_mediawiki.so`, `/nonexistent/b/libidsync_sink_mediawiki.so`"
    );
}

#[test]
fn a_missing_path_is_not_found() {
    let search = PluginSearch::new(paths(&["/nonexistent/a"]));
    let error = search
        .locate("/nonexistent/x/libidsync_sink_rt.so")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sink plugin `/nonexistent/x/libidsync_sink_rt.so` not found; searched: `/nonexistent/x/libidsync_sink_rt.so`"
    );
}

#[test]
fn the_first_directory_holding_the_plugin_wins() {
    let first = TempDir::new("first");
    let second = TempDir::new("second");
    let faulty = built_plugin("faulty");
    std::os::unix::fs::symlink(&faulty, second.path().join("libidsync_sink_faulty.so")).unwrap();
    let search = PluginSearch::new(vec![
        first.path().to_path_buf(),
        second.path().to_path_buf(),
    ]);
    let location = search.locate("faulty").unwrap();
    assert_eq!(location.name, "faulty");
    assert_eq!(
        location.path,
        second.path().join("libidsync_sink_faulty.so")
    );

    std::os::unix::fs::symlink(&faulty, first.path().join("libidsync_sink_faulty.so")).unwrap();
    assert_eq!(
        search.locate("faulty").unwrap().path,
        first.path().join("libidsync_sink_faulty.so")
    );
}

#[test]
fn a_path_is_loaded_directly() {
    let faulty = built_plugin("faulty");
    let search = PluginSearch::new(Vec::new());
    let location = search.locate(faulty.to_str().unwrap()).unwrap();
    assert_eq!(location.path, faulty);
    assert_eq!(location.name, "faulty");
}
