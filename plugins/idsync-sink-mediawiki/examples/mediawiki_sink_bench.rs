//! Measures the MediaWiki sink alone on the benchmark shape: 100k users, 10k groups (each a
//! wiki group, `map_other_groups`), 1M memberships into a MediaWiki 1.39 SQLite database made
//! by MediaWiki's installer, in batches like the engine sends them; then a no-op re-sync, a
//! restart, and persist-style single changes (latency percentiles).
//!
//! `cargo run --release -p idsync-sink-mediawiki --example mediawiki_sink_bench [-- sqlite|MYSQL_URL]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::time::Instant;

use idsync_core::{ApplyOptions, Batch, CookieUpdate, Sink, SyncPolicy};
use idsync_sink_mediawiki::{MediaWikiConfig, MediaWikiSink};
use idsync_testkit::sink_bench::{batches, id, members, peak_rss_mb, run, user, GROUPS, USERS};

fn install_sqlite(dir: &std::path::Path) -> String {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let status = std::process::Command::new("php")
        .current_dir("/usr/share/mediawiki")
        .args(["maintenance/install.php", "--dbtype", "sqlite", "--dbpath"])
        .arg(dir.join("data"))
        .args(["--dbname", "wiki", "--confpath"])
        .arg(dir)
        .args([
            "--server",
            "http://localhost",
            "--scriptpath",
            "/w",
            "--pass",
            "AdminPassw0rd!2024",
            "--skins=",
            "Bench",
            "Admin",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    format!("sqlite://{}", dir.join("data/wiki.sqlite").display())
}

fn persist(sink: &mut MediaWikiSink) {
    let mut latencies = Vec::new();
    for round in 0..200u128 {
        let n = round * 37 % USERS;
        let mut entry = user(n);
        entry.attrs.insert(
            "mail".to_owned(),
            vec![format!("changed{round}@example.org")],
        );
        entry.enabled = round % 2 == 0;
        let mut set = members(round % GROUPS);
        set.members
            .retain(|member| *member != id((round + 1) % USERS));
        let batch = Batch {
            upserts: vec![entry],
            memberships: vec![set],
            cookie: Some(CookieUpdate {
                cookie: format!("p{round}").into_bytes(),
                fingerprint: "bench".to_owned(),
            }),
            ..Batch::default()
        };
        let started = Instant::now();
        sink.apply(&batch, &ApplyOptions::default()).unwrap();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "persist: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::args().nth(1) {
        Some(url) if url != "sqlite" => url,
        _ => install_sqlite(dir.path()),
    };
    let config: MediaWikiConfig = serde_json::from_value(serde_json::json!({
        "url": url,
        "map_other_groups": true,
    }))
    .unwrap();
    let batches = batches();
    println!(
        "{} batches prepared, peak_rss={} MB",
        batches.len(),
        peak_rss_mb()
    );
    let mut sink = MediaWikiSink::new(config.clone()).unwrap();
    sink.prepare(&SyncPolicy::default()).unwrap();
    run(&mut sink, &batches, "initial sync");
    run(&mut sink, &batches, "no-op re-sync");
    sink.close().unwrap();
    let mut sink = MediaWikiSink::new(config).unwrap();
    let started = Instant::now();
    sink.prepare(&SyncPolicy::default()).unwrap();
    let state = sink.load_state().unwrap();
    println!(
        "restart: prepare + load_state {:.2} s ({} synced)",
        started.elapsed().as_secs_f64(),
        state.synced.len()
    );
    run(&mut sink, &batches, "no-op re-sync after restart");
    persist(&mut sink);
}
