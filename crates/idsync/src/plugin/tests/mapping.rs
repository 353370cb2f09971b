//! abi_stable's loader errors → one-line [`PluginError`]s.

use std::path::Path;

use abi_stable::library::{lib_header_from_path, LibraryError, RootModuleError};
use abi_stable::sabi_types::VersionNumber;
use abi_stable::std_types::RBoxError;
use idsync_plugin_api::ABI_VERSION;

use super::fixtures::{built_plugin, TempDir};
use crate::plugin::library::{module_error, module_error_without_header};
use crate::plugin::{list_plugins, load_sink, PluginError, PluginSearch};

const PATH: &str = "/plugins/libidsync_sink_rt.so";

fn version(major: u32, minor: u32, patch: u32) -> VersionNumber {
    VersionNumber {
        major,
        minor,
        patch,
    }
}

#[test]
fn an_incompatible_version_number_names_both_versions() {
    let error = module_error_without_header(
        Path::new(PATH),
        "rt",
        LibraryError::IncompatibleVersionNumber {
            library_name: "idsync sink plugin",
            expected_version: version(0, 4, 0),
            actual_version: version(0, 3, 2),
        },
    );
    assert!(matches!(error, PluginError::IncompatibleAbi { .. }));
    assert!(!error.is_config());
    assert_eq!(
        error.to_string(),
        format!("sink plugin `rt` at `{PATH}` was built against idsync-plugin-api 0.3.2; this runner provides {ABI_VERSION} — rebuild it")
    );
}

#[test]
fn an_abi_instability_without_a_version_says_incompatible() {
    let error = module_error_without_header(
        Path::new(PATH),
        "rt",
        LibraryError::AbiInstability(RBoxError::from_fmt(&"layouts differ\nin many ways")),
    );
    assert_eq!(
        error.to_string(),
        format!("sink plugin `rt` at `{PATH}` was built against an incompatible idsync-plugin-api; this runner provides {ABI_VERSION} — rebuild it")
    );
}

#[test]
fn an_abi_instability_reads_the_version_from_the_library_header() {
    // A real header: its version equals ours, so the message cannot name a different one.
    let path = built_plugin("faulty");
    let header = lib_header_from_path(&path).unwrap();
    let error = module_error(
        &path,
        "faulty",
        header,
        LibraryError::AbiInstability(RBoxError::from_fmt(&"layouts differ")),
    );
    match &error {
        PluginError::IncompatibleAbi { built_against, .. } => {
            assert_eq!(built_against.as_deref(), Some(ABI_VERSION));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error
        .to_string()
        .contains("was built against an incompatible idsync-plugin-api"));
}

#[test]
fn a_panicking_root_module_loader_is_an_init_error() {
    let error = module_error_without_header(
        Path::new(PATH),
        "rt",
        LibraryError::RootModule {
            err: RootModuleError::Unwound,
            module_name: "idsync sink plugin",
            version: abi_stable::package_version_strings!(),
        },
    );
    assert_eq!(
        error.to_string(),
        format!("sink plugin `rt` at `{PATH}` failed to initialise")
    );
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert_eq!(cause, "its root module loader panicked");
}

#[test]
fn a_plugin_built_against_an_older_api_is_refused() {
    let path = built_plugin("oldabi");
    let error = load_sink(&path, "oldabi", &serde_json::json!({})).unwrap_err();
    assert!(
        matches!(error, PluginError::IncompatibleAbi { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "sink plugin `oldabi` at `{}` was built against idsync-plugin-api 0.0.1; this runner provides {ABI_VERSION} — rebuild it",
            path.display()
        )
    );
}

#[test]
fn a_plugin_built_against_an_incompatible_newer_api_is_refused() {
    let path = built_plugin("newabi");
    let error = load_sink(&path, "newabi", &serde_json::json!({})).unwrap_err();
    assert!(
        matches!(error, PluginError::IncompatibleAbi { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "sink plugin `newabi` at `{}` was built against idsync-plugin-api 0.99.0; this runner provides {ABI_VERSION} — rebuild it",
            path.display()
        )
    );
}

#[test]
fn listing_reports_incompatible_plugins() {
    let dir = TempDir::new("list-abi");
    for name in ["oldabi", "newabi", "faulty"] {
        std::os::unix::fs::symlink(
            built_plugin(name),
            dir.path().join(format!("libidsync_sink_{name}.so")),
        )
        .unwrap();
    }
    let listing = list_plugins(&PluginSearch::new(vec![dir.path().to_path_buf()]));
    let incompatible = listing
        .iter()
        .filter(|entry| matches!(entry, Err(PluginError::IncompatibleAbi { .. })))
        .count();
    assert_eq!(incompatible, 2);
    assert_eq!(listing.iter().filter(|entry| entry.is_ok()).count(), 1);
}
