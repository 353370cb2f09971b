//! The command line: configuration errors, `check`, `plugins`, and plugin failures as seen
//! through the runner.

use crate::support::{standard_config, Workspace, BASE};

#[test]
fn config_unknown_key_exits_2_naming_file_and_key() {
    let ws = Workspace::new(BASE);
    ws.write_config("\n[sync]\nbatch_sise = 10\non_delete = \"disable\"\nfrobnicate = true\n");
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("idsync.toml"), "{}", out.stderr);
    // Every problem at once.
    assert!(out.stderr.contains("sync.batch_sise"), "{}", out.stderr);
    assert!(out.stderr.contains("sync.frobnicate"), "{}", out.stderr);
}

#[test]
fn config_wrong_type_exits_2_naming_the_key() {
    let ws = Workspace::new(BASE);
    ws.write_config("\n[sync]\nbatch_size = \"lots\"\n");
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("idsync.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("batch_size"), "{}", out.stderr);
}

#[test]
fn config_missing_file_exits_2() {
    let ws = Workspace::new(BASE);
    let out = ws.run(&["sync", "--once", "--config", "nowhere.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("nowhere.toml"), "{}", out.stderr);
}

#[test]
fn config_unknown_sink_key_exits_2_naming_the_key() {
    let ws = Workspace::new(BASE);
    ws.write_raw_config(&standard_config().replace(
        "create_tables = true",
        "create_tables = true\ncreate_tabels = true",
    ));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("idsync.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("create_tabels"), "{}", out.stderr);
}

#[test]
fn config_missing_directory_file_exits_2() {
    let ws = Workspace::new(BASE);
    std::fs::remove_file(ws.path().join("directory.yaml")).unwrap();
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("directory.yaml"), "{}", out.stderr);
}

#[test]
fn environment_overrides_the_file() {
    let ws = Workspace::new(BASE);
    let out = idsync_testkit::runner::run_with_env(
        &["sync", "--once", "--config", "idsync.toml"],
        ws.path(),
        &[("IDSYNC__SINK__URL", "sqlite://other.db")],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(ws.path().join("other.db").exists());
    assert!(!ws.path().join("app.db").exists());
}

#[test]
fn yaml_config_is_accepted() {
    let ws = Workspace::new(BASE);
    let yaml = "source:\n  type: dummy\n  path: directory.yaml\nsink:\n  plugin: sql\n  url: sqlite://app.db\n  create_tables: true\n  users:\n    table: users\n    key: id\n    disable: delete\n    columns:\n      username: name\n      display_name: displayName\n      email: mail\n      active: enabled\n  groups:\n    table: groups\n    key: id\n    columns:\n      name: name\n      description: description\n  memberships:\n    table: group_members\n    group: group_id\n    member: user_id\n";
    std::fs::write(ws.path().join("idsync.yaml"), yaml).unwrap();
    let out = ws.run(&["sync", "--once", "--config", "idsync.yaml"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(ws.db().column("select count(*) from users"), vec!["3"]);
}

#[test]
fn check_reports_and_exits_0_then_1_on_a_broken_sink() {
    let ws = Workspace::new(BASE);
    let out = ws.run(&["check", "--config", "idsync.toml"]);
    assert_eq!(
        out.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("check passed"), "{}", out.stdout);
    assert!(out.stdout.contains("sql"), "{}", out.stdout);

    // A database in a directory that does not exist cannot be opened.
    ws.write_raw_config(
        &standard_config().replace("sqlite://app.db", "sqlite://missing-dir/app.db"),
    );
    let out = ws.run(&["check", "--config", "idsync.toml"]);
    assert_eq!(
        out.code,
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("FAIL"), "{}", out.stdout);
}

#[test]
fn plugins_lists_the_sql_plugin_with_versions() {
    let ws = Workspace::new(BASE);
    let out = ws.run(&["plugins"]);
    let line = out
        .stdout
        .lines()
        .find(|line| line.starts_with("sql "))
        .unwrap_or_else(|| panic!("no sql line:\n{}\n{}", out.stdout, out.stderr));
    assert!(line.contains("0.1.0"), "{line}");
    assert!(line.contains("libidsync_sink_sql.so"), "{line}");
}

#[test]
fn a_missing_plugin_exits_2_listing_the_paths_searched() {
    let ws = Workspace::new(BASE);
    ws.write_raw_config(&standard_config().replace("plugin = \"sql\"", "plugin = \"nosuchsink\""));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("libidsync_sink_nosuchsink.so"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("/usr/lib/idsync"), "{}", out.stderr);
}

fn faulty_config(settings: &str) -> String {
    format!(
        "[source]\ntype = \"dummy\"\npath = \"directory.yaml\"\n\n[sink]\nplugin = \"faulty\"\n{settings}\n\n[sync]\nretry_initial_delay = 0.05\nretry_max_delay = 0.2\n"
    )
}

#[test]
fn a_panicking_plugin_is_an_error_not_an_abort() {
    let ws = Workspace::new(BASE);
    ws.write_raw_config(&faulty_config("panic_in = \"apply\""));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(1), "killed by a signal? {}", out.stderr);
    assert!(out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn a_failing_sink_is_retried_with_backoff_and_nothing_is_lost() {
    let ws = Workspace::new(BASE);
    ws.write_raw_config(&faulty_config(
        "error_in = \"apply\"\nerror_kind = \"unavailable\"\nfail_times = 2",
    ));
    let out = ws.run(&["sync", "--once", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("retrying"), "{}", out.stderr);
    assert!(
        out.stderr.contains("created=4") || out.stderr.contains("created\":4"),
        "{}",
        out.stderr
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let ws = Workspace::new(BASE);
    let out = ws.run(&[
        "--log-format",
        "json",
        "sync",
        "--once",
        "--config",
        "idsync.toml",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().filter(|line| !line.is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(
            line.starts_with('{') && line.ends_with('}') && line.contains("\"level\""),
            "not a JSON log line: {line}"
        );
    }
}

#[test]
fn secrets_in_the_database_url_are_never_logged() {
    let ws = Workspace::new(BASE);
    ws.write_raw_config(&standard_config().replace(
        "url = \"sqlite://app.db\"",
        "url = \"postgres://idsync:hunter2secret@127.0.0.1:1/nowhere\"",
    ));
    let out = ws.run(&["check", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("hunter2secret"), "{}", out.stdout);
    assert!(!out.stderr.contains("hunter2secret"), "{}", out.stderr);
}

#[test]
fn check_never_creates_the_database() {
    let ws = Workspace::new(BASE);
    let out = ws.run(&["check", "--config", "idsync.toml"]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("does not exist yet"), "{}", out.stdout);
    assert!(!ws.path().join("app.db").exists());
}
