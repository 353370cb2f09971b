//! Issue 4's benchmark: slapd → MediaWiki (`plugin = "mediawiki"`) on SQLite and on MariaDB.
//!
//! The default group configuration is a wiki's usual one: a handful of directory groups (one
//! of them nested, one holding everyone) mapped to four wiki groups, ~100k `user_groups`
//! rows. `--all-groups` runs the worst case instead: `map_other_groups = true`, every one of
//! the 10k directory groups feeds a wiki group (~1M `user_groups` rows).
//!
//! Targets (2-core reference machine): initial sync ≤ 3 s on SQLite, ≤ 10 s on MariaDB;
//! persist latency p99 ≤ 10 ms.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use idsync_testkit::mediawiki::{MediaWiki, MwBackend};
use idsync_testkit::MariaDb;

use crate::directory::Directory;
use crate::picker::Picker;
use crate::probe::Probe;
use crate::process::Runner;
use crate::scenario::{line, once, password_file, work_dir, Runs, Target};
use crate::stats::{load_average, verdict};
use crate::Common;

/// Target: persist latency p99, ms.
const P99_TARGET_MS: f64 = 10.0;

/// MediaWiki's name of user `index` (the first letter upper-cased).
fn wiki_name(index: usize) -> String {
    format!("User{index:06}")
}

/// Which directory groups feed wiki groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupMapping {
    /// A `[sink] groups` table of five directory groups (one nested, one holding every user)
    /// feeding four wiki groups.
    Realistic,
    /// `map_other_groups = true`: every directory group feeds the wiki group of its name.
    All,
}

impl GroupMapping {
    /// The mapped directory groups (`Realistic` only): directory group → wiki group.
    fn pairs(self, directory: &Directory) -> Vec<(String, &'static str)> {
        match self {
            GroupMapping::All => Vec::new(),
            GroupMapping::Realistic => {
                let mut pairs = vec![
                    ("pg-00000".to_owned(), "editor"),
                    ("gon-00001".to_owned(), "sysop"),
                    ("pg-00001".to_owned(), "bureaucrat"),
                    ("gon-00002".to_owned(), "interface-admin"),
                ];
                if let Some(last) = directory.shape.nested_groups.checked_sub(1) {
                    pairs.push((format!("gon-nest-{last:02}"), "sysop"));
                }
                pairs
            }
        }
    }

    /// The `[sink]` lines of this mapping.
    fn toml(self, directory: &Directory) -> String {
        match self {
            GroupMapping::All => "map_other_groups = true\n".to_owned(),
            GroupMapping::Realistic => {
                let pairs: Vec<String> = self
                    .pairs(directory)
                    .iter()
                    .map(|(group, wiki)| format!("\"{group}\" = \"{wiki}\""))
                    .collect();
                format!("groups = {{ {} }}\n", pairs.join(", "))
            }
        }
    }

    /// One line saying which configuration runs.
    pub fn describe(self, directory: &Directory) -> String {
        match self {
            GroupMapping::All => format!(
                "groups: map_other_groups = true (worst case: all {} directory groups feed wiki groups)",
                directory.groups()
            ),
            GroupMapping::Realistic => format!(
                "groups: realistic mapping ({}; pg-00000 holds every user, gon-nest-* is nested); \
                 --all-groups for the worst case",
                self.pairs(directory)
                    .iter()
                    .map(|(group, wiki)| format!("{group} → {wiki}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The backends this benchmark knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    MariaDb,
}

impl Kind {
    fn parse(name: &str) -> Result<Self> {
        match name.trim() {
            "sqlite" => Ok(Kind::Sqlite),
            "mariadb" | "mysql" => Ok(Kind::MariaDb),
            other => bail!("unknown backend `{other}` (sqlite, mariadb)"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite",
            Kind::MariaDb => "MariaDB",
        }
    }

    /// Target: initial sync, s.
    fn initial_target(self) -> f64 {
        match self {
            Kind::Sqlite => 3.0,
            Kind::MariaDb => 10.0,
        }
    }
}

/// The figures of one backend.
struct Figures {
    kind: Kind,
    initial: Runs,
    noop: Runs,
    p50: f64,
    p99: f64,
    restart: Runs,
    rss: String,
}

/// Runs the benchmark on every backend and prints its figures.
pub fn run(common: &Common, backends: &[String], all_groups: bool) -> Result<()> {
    let mapping = if all_groups {
        GroupMapping::All
    } else {
        GroupMapping::Realistic
    };
    let kinds = backends
        .iter()
        .map(|name| Kind::parse(name))
        .collect::<Result<Vec<_>>>()?;
    let (_temp, work) = work_dir("idsync-bench-mw-", common.keep.as_deref())?;
    line(&format!(
        "idsync MediaWiki benchmark (slapd → MediaWiki 1.39, plugin \"mediawiki\"); load average at start: {}",
        load_average()
    ));
    let directory = Directory::start(common.users, common.max_members)?;
    line(&format!("directory: {}", directory.describe()));
    line(&mapping.describe(&directory));
    let password = password_file(&work, &directory)?;
    let runner = Runner {
        binary: common.idsync.clone(),
        plugins: common.plugins.clone(),
        work: work.clone(),
    };
    let mut all = Vec::new();
    for kind in kinds {
        let server = match kind {
            Kind::Sqlite => None,
            Kind::MariaDb => Some(MariaDb::start()?),
        };
        let backend = match &server {
            Some(server) => MwBackend::MariaDb(server),
            None => MwBackend::Sqlite,
        };
        all.push(run_backend(
            common, &directory, &runner, &work, &password, kind, backend, mapping,
        )?);
    }
    line("");
    line(&mapping.describe(&directory));
    line("summary (medians)  initial (CPU +slapd)   target          no-op (CPU)          persist p50 / p99 (≤ 10 ms)   restart   peak RSS");
    for figures in &all {
        line(&format!(
            "{:<8} {:>8.2} s ({:>5.2} s)    ≤ {:>2.0} s {:<6}   {:>6.2} s ({:>5.2} s)   {:>6.2} / {:>6.2} ms {:<6}     {:>6.2} s  {}",
            figures.kind.name(),
            figures.initial.wall.median(),
            figures.initial.cpu.median(),
            figures.kind.initial_target(),
            verdict(figures.initial.wall.median(), figures.kind.initial_target()),
            figures.noop.wall.median(),
            figures.noop.cpu.median(),
            figures.p50,
            figures.p99,
            verdict(figures.p99, P99_TARGET_MS),
            figures.restart.wall.median(),
            figures.rss
        ));
    }
    line(&format!("load average at end: {}", load_average()));
    Ok(())
}

/// Initial syncs on fresh wikis, then the no-op re-sync, persist latency and restart on the
/// last one.
#[allow(clippy::too_many_arguments)]
fn run_backend(
    common: &Common,
    directory: &Directory,
    runner: &Runner,
    work: &Path,
    password: &Path,
    kind: Kind,
    backend: MwBackend<'_>,
    mapping: GroupMapping,
) -> Result<Figures> {
    let label = kind.name().to_lowercase();
    let runs = common.runs.max(1);
    let mut initial = Runs::default();
    let mut last = None;
    for run in 1..=runs {
        // The previous wiki goes before the next is installed.
        drop(last.take());
        let wiki = MediaWiki::install(backend, None)?;
        let config = write_config_with(
            work,
            &format!("mw-{label}-{run}"),
            directory,
            password,
            &wiki,
            mapping,
        )?;
        let result = once(
            runner,
            directory,
            &config,
            &format!("mw-{label}-{run}-initial"),
        )?;
        let counts = check_counts(&wiki, directory)?;
        line(&format!(
            "{} initial sync --once run {run}: {}; {counts}",
            kind.name(),
            result.describe()
        ));
        initial.push(&result);
        last = Some((wiki, config));
    }
    let Some((wiki, config)) = last else {
        bail!("no run");
    };

    let mut noop = Runs::default();
    for run in 1..=runs {
        let result = once(
            runner,
            directory,
            &config,
            &format!("mw-{label}-noop-{run}"),
        )?;
        line(&format!(
            "{} no-op re-sync --once run {run} (stored cookie): {}",
            kind.name(),
            result.describe()
        ));
        noop.push(&result);
    }

    let mut target = Target {
        runner,
        config,
        stored_name: wiki_name,
        probe: Probe::connect(
            wiki.url(),
            &format!(
                "SELECT user_real_name FROM {} WHERE user_name = ",
                wiki.table("user")
            ),
        )?,
    };
    let mut picker = Picker::new(4533, common.users);
    let latency = target.persist_latency(
        directory,
        common.modifies,
        common.poll(),
        &mut picker,
        &format!("mw-{label}"),
    )?;
    line(&format!("{} {}", kind.name(), latency.describe()));

    let mut restart = Runs::default();
    for run in 1..=runs {
        let result = target.restart(
            directory,
            common.restart_changes,
            &mut picker,
            &format!("mw-{label}-restart-{run}"),
        )?;
        line(&format!(
            "{} restart --once run {run} with the cookie after {} changes: {}",
            kind.name(),
            common.restart_changes,
            result.describe()
        ));
        restart.push(&result);
    }
    let rss = format!(
        "{:.0} MB initial, {} following",
        initial.rss.max(),
        latency
            .follow_rss_mb
            .map_or_else(|| "unknown".to_owned(), |mb| format!("{mb:.0} MB"))
    );
    Ok(Figures {
        kind,
        initial,
        noop,
        p50: latency.persist_ms.percentile(50.0),
        p99: latency.persist_ms.percentile(99.0),
        restart,
        rss,
    })
}

/// Writes `work/NAME.toml` for `wiki` with the realistic group mapping.
pub fn write_config(
    work: &Path,
    name: &str,
    directory: &Directory,
    password: &Path,
    wiki: &MediaWiki,
) -> Result<PathBuf> {
    write_config_with(
        work,
        name,
        directory,
        password,
        wiki,
        GroupMapping::Realistic,
    )
}

/// Writes `work/NAME.toml` for `wiki` with `mapping`.
pub fn write_config_with(
    work: &Path,
    name: &str,
    directory: &Directory,
    password: &Path,
    wiki: &MediaWiki,
    mapping: GroupMapping,
) -> Result<PathBuf> {
    let path = work.join(format!("{name}.toml"));
    let text = format!(
        "{}\n[sink]\nplugin = \"mediawiki\"\nurl = \"{}\"\n{}",
        directory.source_toml(password),
        wiki.url(),
        mapping.toml(directory)
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Counts wiki users and group memberships; fails when users are missing.
fn check_counts(wiki: &MediaWiki, directory: &Directory) -> Result<String> {
    let mut probe = Probe::connect(wiki.url(), "SELECT 1 WHERE 1 = ")?;
    let users = probe.count(&format!("SELECT COUNT(*) FROM {}", wiki.table("user")))?;
    let memberships = probe.count(&format!(
        "SELECT COUNT(*) FROM {}",
        wiki.table("user_groups")
    ))?;
    let want = i64::try_from(directory.shape.users)?;
    if users < want {
        bail!("only {users} wiki users (want at least {want})");
    }
    Ok(format!(
        "wiki users {users}, user_groups rows {memberships}"
    ))
}
