//! Measures the SQL sink alone on the benchmark shape: 100k users, 10k groups, 1M memberships
//! into SQLite, in batches like the engine sends them; then a no-op re-sync.
//!
//! `cargo run --release -p idsync-sink-sql --example sql_sink_bench [-- DIR]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use idsync_core::Sink;
use idsync_sink_sql::{SqlSink, SqlSinkConfig};
use idsync_testkit::sink_bench::scenario;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf())
        .join("bench.db");
    let config: SqlSinkConfig = serde_json::from_value(serde_json::json!({
        "url": format!("sqlite://{}", path.display()),
        "create_tables": true,
        "users": {
            "table": "users", "key": "id",
            "disable": { "column": "active", "disabled_value": "0", "enabled_value": "1" },
            "columns": { "username": "name", "display_name": "displayName", "email": "mail" }
        },
        "groups": { "table": "groups", "key": "id", "columns": { "name": "name", "description": "description" } },
        "memberships": { "table": "group_members", "group": "group_id", "member": "user_id" }
    }))
    .unwrap();
    let mut sink = scenario(|| SqlSink::new(config.clone()).unwrap());
    sink.close().unwrap();
}
