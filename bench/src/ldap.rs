//! Issue 3's benchmark: slapd → SQLite through the sql plugin.
//!
//! Targets (2-core reference machine): initial `sync --once` ≤ 3× the read floor
//! (`ldapsearch -E sync=ro` of the same entries); persist latency p50 ≤ 3 ms, p99 ≤ 10 ms;
//! restart with a cookie after 10 changes ≤ 2 s; peak RSS reported.

use std::path::Path;

use anyhow::{bail, Result};

use crate::directory::{user_uid, Directory};
use crate::picker::Picker;
use crate::probe::Probe;
use crate::process::Runner;
use crate::scenario::{line, password_file, Target};
use crate::stats::{load_average, verdict, Samples};
use crate::Common;

/// The sink part of the configuration (as `scripts/bench-dummy.py`'s).
const SINK: &str = r#"
[sink]
plugin = "sql"
url = "sqlite://{db}"
create_tables = true

[sink.users]
table = "users"
key = "id"
disable = { column = "active", disabled_value = "0", enabled_value = "1" }

[sink.users.columns]
username = "name"
display_name = "displayName"
email = "mail"
given_name = "givenName"
surname = "surname"
uid_number = "uidNumber"

[sink.groups]
table = "groups"
key = "id"

[sink.groups.columns]
name = "name"
description = "description"

[sink.memberships]
table = "group_members"
group = "group_id"
member = "user_id"
mode = "effective"
"#;

/// Target: initial sync ≤ this × the read floor.
const FLOOR_RATIO_TARGET: f64 = 3.0;
/// Target: persist latency p50, ms.
const P50_TARGET_MS: f64 = 3.0;
/// Target: persist latency p99, ms.
const P99_TARGET_MS: f64 = 10.0;
/// Target: restart with a cookie after 10 changes, s.
const RESTART_TARGET_S: f64 = 2.0;

/// Runs the benchmark and prints its figures.
pub fn run(common: &Common) -> Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("idsync-bench-ldap-")
        .tempdir()?;
    let work = match &common.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    line(&format!(
        "idsync LDAP benchmark (slapd → SQLite, sql plugin); load average at start: {}",
        load_average()
    ));
    let directory = Directory::start(common.users, common.max_members)?;
    line(&format!("directory: {}", directory.describe()));
    let password = password_file(&work, &directory)?;
    let runner = Runner {
        binary: common.idsync.clone(),
        plugins: common.plugins.clone(),
        work: work.clone(),
    };

    let floor = directory.measure_floor(common.runs.max(3))?;
    line(&format!(
        "read floor: median {:.3} s (runs {}) — {}",
        floor.median(),
        floor.list(3),
        directory.floor_command()
    ));

    let mut initial = Samples::new();
    let mut initial_rss = Samples::new();
    let mut last_db = None;
    for run in 1..=common.runs.max(1) {
        let db = work.join(format!("ldap-{run}.db"));
        let config = write_config(&work, &format!("ldap-{run}"), &directory, &password, &db)?;
        let timed = runner.once(&config, &format!("ldap-{run}-initial"))?;
        let counts = check_counts(&db, &directory)?;
        line(&format!(
            "initial sync --once run {run}: {:.2} s ({:.2}× floor), peak RSS {:.0} MB; rows: {counts}",
            timed.wall.as_secs_f64(),
            timed.wall.as_secs_f64() / floor.median(),
            timed.rss_mb
        ));
        initial.push_secs(timed.wall);
        initial_rss.push(timed.rss_mb);
        last_db = Some((db, config));
    }
    let Some((db, config)) = last_db else {
        bail!("no run");
    };

    let mut noop = Samples::new();
    let mut noop_rss = Samples::new();
    for run in 1..=common.runs.max(1) {
        let timed = runner.once(&config, &format!("ldap-noop-{run}"))?;
        noop.push_secs(timed.wall);
        noop_rss.push(timed.rss_mb);
    }
    line(&format!(
        "no-op re-sync --once (stored cookie, nothing changed): runs {} s",
        noop.list(2)
    ));

    let mut target = Target {
        runner: &runner,
        config: config.clone(),
        stored_name: user_uid,
        probe: Probe::connect(
            &format!("sqlite://{}", db.display()),
            "SELECT display_name FROM users WHERE username = ",
        )?,
    };
    let mut picker = Picker::new(4533, common.users);
    let latency = target.persist_latency(
        &directory,
        common.modifies,
        common.poll(),
        &mut picker,
        "ldap",
    )?;
    line(&format!(
        "persist latency (n={}): p50 {:.2} ms, p90 {:.2}, p99 {:.2}, max {:.2}; modify round trip p50 {:.2} ms; follow peak RSS {}",
        latency.persist_ms.len(),
        latency.persist_ms.percentile(50.0),
        latency.persist_ms.percentile(90.0),
        latency.persist_ms.percentile(99.0),
        latency.persist_ms.max(),
        latency.modify_ms.percentile(50.0),
        latency
            .follow_rss_mb
            .map_or_else(|| "unknown".to_owned(), |mb| format!("{mb:.0} MB"))
    ));

    let mut restart = Samples::new();
    let mut restart_rss = Samples::new();
    for run in 1..=common.runs.max(1) {
        let (wall, rss) = target.restart(
            &directory,
            common.restart_changes,
            &mut picker,
            &format!("ldap-restart-{run}"),
        )?;
        restart.push_secs(wall);
        restart_rss.push(rss);
    }
    line(&format!(
        "restart --once with the cookie after {} changes: runs {} s",
        common.restart_changes,
        restart.list(2)
    ));

    let ratio = initial.median() / floor.median();
    let p50 = latency.persist_ms.percentile(50.0);
    let p99 = latency.persist_ms.percentile(99.0);
    line("");
    line("summary (medians)                      figure      target        verdict");
    line(&format!(
        "read floor (ldapsearch -E sync=ro)     {:>8.3} s",
        floor.median()
    ));
    line(&format!(
        "initial sync --once → SQLite           {:>8.3} s   ≤ {:.0}× floor   {:.2}× floor {}",
        initial.median(),
        FLOOR_RATIO_TARGET,
        ratio,
        verdict(ratio, FLOOR_RATIO_TARGET)
    ));
    line(&format!(
        "no-op re-sync --once (cookie)          {:>8.3} s",
        noop.median()
    ));
    line(&format!(
        "persist latency p50                    {:>8.2} ms  ≤ {P50_TARGET_MS} ms       {}",
        p50,
        verdict(p50, P50_TARGET_MS)
    ));
    line(&format!(
        "persist latency p99                    {:>8.2} ms  ≤ {P99_TARGET_MS} ms      {}",
        p99,
        verdict(p99, P99_TARGET_MS)
    ));
    line(&format!(
        "restart after {:>2} changes (cookie)     {:>8.3} s   ≤ {RESTART_TARGET_S} s        {}",
        common.restart_changes,
        restart.median(),
        verdict(restart.median(), RESTART_TARGET_S)
    ));
    line(&format!(
        "peak RSS: initial {:.0} MB, no-op {:.0} MB, following {}, restart {:.0} MB",
        initial_rss.max(),
        noop_rss.max(),
        latency
            .follow_rss_mb
            .map_or_else(|| "unknown".to_owned(), |mb| format!("{mb:.0} MB")),
        restart_rss.max()
    ));
    line(&format!("load average at end: {}", load_average()));
    Ok(())
}

/// Writes `work/NAME.toml` for the SQLite file `db`.
fn write_config(
    work: &Path,
    name: &str,
    directory: &Directory,
    password: &Path,
    db: &Path,
) -> Result<std::path::PathBuf> {
    let path = work.join(format!("{name}.toml"));
    let text = format!(
        "{}{}",
        directory.source_toml(password),
        SINK.replace("{db}", &db.display().to_string())
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Counts users, groups and membership rows; fails when users or groups are missing.
fn check_counts(db: &Path, directory: &Directory) -> Result<String> {
    let mut probe = Probe::connect(&format!("sqlite://{}", db.display()), "SELECT 1 WHERE 1 = ")?;
    let users = probe.count("SELECT COUNT(*) FROM users")?;
    let groups = probe.count("SELECT COUNT(*) FROM groups")?;
    let members = probe.count("SELECT COUNT(*) FROM group_members")?;
    let want_users = i64::try_from(directory.shape.users)?;
    let want_groups = i64::try_from(directory.groups())?;
    if users != want_users || groups != want_groups {
        bail!("unexpected rows: users={users} (want {want_users}), groups={groups} (want {want_groups})");
    }
    Ok(format!(
        "users {users}, groups {groups}, memberships {members}"
    ))
}
