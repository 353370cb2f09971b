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
use crate::scenario::{line, once, password_file, work_dir, Runs, Target};
use crate::stats::{load_average, verdict};
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
    let (_temp, work) = work_dir("idsync-bench-ldap-", common.keep.as_deref())?;
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
    let runs = common.runs.max(1);

    let (floor, floor_cpu) = directory.measure_floor(runs.max(3), &work)?;
    line(&format!(
        "read floor: median {:.3} s, CPU (ldapsearch + slapd) {:.2} s (runs {} s) — {}",
        floor.median(),
        floor_cpu.median(),
        floor.list(3),
        directory.floor_command()
    ));

    let mut initial = Runs::default();
    let mut last_db = None;
    for run in 1..=runs {
        let db = work.join(format!("ldap-{run}.db"));
        let config = write_config(&work, &format!("ldap-{run}"), &directory, &password, &db)?;
        let result = once(&runner, &directory, &config, &format!("ldap-{run}-initial"))?;
        let counts = check_counts(&db, &directory)?;
        line(&format!(
            "initial sync --once run {run}: {} — {:.2}× floor; rows: {counts}",
            result.describe(),
            result.timed.wall.as_secs_f64() / floor.median(),
        ));
        initial.push(&result);
        last_db = Some((db, config));
    }
    let Some((db, config)) = last_db else {
        bail!("no run");
    };

    let mut noop = Runs::default();
    for run in 1..=runs {
        let result = once(&runner, &directory, &config, &format!("ldap-noop-{run}"))?;
        line(&format!(
            "no-op re-sync --once run {run} (stored cookie, nothing changed): {}",
            result.describe()
        ));
        noop.push(&result);
    }

    // The follower and the restarts keep the engine's member-index snapshot in a state
    // directory (`[runner] state_dir`): each clean stop writes it, the next restart loads it
    // instead of the warm-up. IDSYNC_BENCH_STATE_DIR=0 measures the warm-up instead.
    let use_state_dir = std::env::var("IDSYNC_BENCH_STATE_DIR").map_or(true, |v| v != "0");
    let restart_config = if use_state_dir {
        let path = work.join("ldap-restart.toml");
        let text = format!(
            "{}\n[runner]\nstate_dir = {:?}\n",
            std::fs::read_to_string(&config)?,
            work.join("state").display().to_string()
        );
        std::fs::write(&path, text)?;
        path
    } else {
        config.clone()
    };
    let mut target = Target {
        runner: &runner,
        config: restart_config,
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
    let follow_rss = latency
        .follow_rss_mb
        .map_or_else(|| "unknown".to_owned(), |mb| format!("{mb:.0} MB"));
    line(&format!(
        "{}; follow peak RSS {follow_rss}",
        latency.describe()
    ));

    let mut restart = Runs::default();
    for run in 1..=runs {
        let existed = snapshot_present(&work.join("state"));
        let result = target.restart(
            &directory,
            common.restart_changes,
            &mut picker,
            &format!("ldap-restart-{run}"),
        )?;
        line(&format!(
            "restart --once run {run} with the cookie after {} changes: {}; index snapshot: {}",
            common.restart_changes,
            result.describe(),
            snapshot_use(
                &work.join(format!("ldap-restart-{run}.log")),
                use_state_dir,
                existed
            )
        ));
        restart.push(&result);
    }

    let ratio = initial.wall.median() / floor.median();
    let cpu_ratio = initial.cpu.median() / floor_cpu.median();
    let p50 = latency.persist_ms.percentile(50.0);
    let p99 = latency.persist_ms.percentile(99.0);
    line("");
    line("summary (medians)                       wall        CPU (+slapd)  target        verdict");
    line(&format!(
        "read floor (ldapsearch -E sync=ro)      {:>8.3} s  {:>8.2} s",
        floor.median(),
        floor_cpu.median()
    ));
    line(&format!(
        "initial sync --once → SQLite            {:>8.3} s  {:>8.2} s    ≤ {:.0}× floor   {:.2}× floor {} (CPU {:.2}×)",
        initial.wall.median(),
        initial.cpu.median(),
        FLOOR_RATIO_TARGET,
        ratio,
        verdict(ratio, FLOOR_RATIO_TARGET),
        cpu_ratio
    ));
    line(&format!(
        "no-op re-sync --once (cookie)           {:>8.3} s  {:>8.2} s",
        noop.wall.median(),
        noop.cpu.median()
    ));
    line(&format!(
        "persist latency p50 (after the answer)  {:>8.2} ms               ≤ {P50_TARGET_MS} ms       {}",
        p50,
        verdict(p50, P50_TARGET_MS)
    ));
    line(&format!(
        "persist latency p99 (after the answer)  {:>8.2} ms               ≤ {P99_TARGET_MS} ms      {}",
        p99,
        verdict(p99, P99_TARGET_MS)
    ));
    line(&format!(
        "  from sending the modify: p50 {:.2} ms, p99 {:.2} ms",
        latency.from_send_ms.percentile(50.0),
        latency.from_send_ms.percentile(99.0)
    ));
    line(&format!(
        "restart after {:>2} changes (cookie)      {:>8.3} s  {:>8.2} s    ≤ {RESTART_TARGET_S} s        {}",
        common.restart_changes,
        restart.wall.median(),
        restart.cpu.median(),
        verdict(restart.wall.median(), RESTART_TARGET_S)
    ));
    line(&format!(
        "peak RSS: initial {:.0} MB, no-op {:.0} MB, following {follow_rss}, restart {:.0} MB",
        initial.rss.max(),
        noop.rss.max(),
        restart.rss.max()
    ));
    line(&format!("load average at end: {}", load_average()));
    Ok(())
}

/// Starts the directory, writes `DIR/serve.toml` (into `DIR/serve.db`) and waits until the
/// file `DIR/stop` exists: a live directory for profiling the runner by hand.
pub fn serve(common: &Common) -> Result<()> {
    let Some(work) = common.keep.clone() else {
        bail!("serve needs --keep DIR");
    };
    std::fs::create_dir_all(&work)?;
    let directory = Directory::start(common.users, common.max_members)?;
    let password = password_file(&work, &directory)?;
    let config = write_config(
        &work,
        "serve",
        &directory,
        &password,
        &work.join("serve.db"),
    )?;
    line(&format!("directory: {}", directory.describe()));
    let wiki = idsync_testkit::mediawiki::MediaWiki::install(
        idsync_testkit::mediawiki::MwBackend::Sqlite,
        None,
    )?;
    let wiki_config =
        crate::mediawiki::write_config(&work, "serve-mw", &directory, &password, &wiki)?;
    line(&format!(
        "MediaWiki on SQLite at {}; configuration {}",
        wiki.url(),
        wiki_config.display()
    ));
    line(&format!(
        "slapd at {}; configuration {}; touch {} to stop",
        directory.slapd.url(),
        config.display(),
        work.join("stop").display()
    ));
    while !work.join("stop").exists() {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let _ = std::fs::remove_file(work.join("stop"));
    Ok(())
}

/// Whether a restart used the member-index snapshot: one was in the state directory before
/// the run, and the log (warn level: the "restored" line is info) has no warning that it was
/// not used.
fn snapshot_use(log: &Path, enabled: bool, existed: bool) -> String {
    if !enabled {
        return "off (IDSYNC_BENCH_STATE_DIR=0): warm-up".to_owned();
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    if let Some(line) = text
        .lines()
        .find(|line| line.contains("member index snapshot"))
    {
        format!("NOT used, warm-up ran: {}", line.trim())
    } else if existed {
        "used (no warm-up)".to_owned()
    } else {
        "NOT used (none in the state directory), warm-up ran".to_owned()
    }
}

/// True when the state directory holds an index snapshot.
fn snapshot_present(state: &Path) -> bool {
    std::fs::read_dir(state).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("index-") && name.ends_with(".bin")
        })
    })
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
