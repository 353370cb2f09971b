//! Missing servers: a loud skip locally, a failure in CI (`IDSYNC_REQUIRE_SERVERS=1`).

/// True when tests must fail rather than skip if a server cannot be started.
pub fn servers_required() -> bool {
    std::env::var("IDSYNC_REQUIRE_SERVERS").is_ok_and(|value| value == "1")
}

/// Reports a server that is not available: panics in CI, prints a loud skip otherwise.
/// Returns normally only when the test should be skipped.
pub fn missing_server(what: &str, why: &str) {
    assert!(
        !servers_required(),
        "{what} is required (IDSYNC_REQUIRE_SERVERS=1) but unavailable: {why}"
    );
    eprintln!("SKIPPED: {what} unavailable: {why}");
}
