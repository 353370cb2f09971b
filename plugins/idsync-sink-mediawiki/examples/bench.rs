//! Measures the MediaWiki sink alone on the benchmark shape: 100k users, 10k groups (each a
//! wiki group, `map_other_groups`), 1M memberships into a MediaWiki 1.39 SQLite database made
//! by MediaWiki's installer, in batches like the engine sends them; then a no-op re-sync, a
//! restart, and persist-style single changes (latency percentiles).
//!
//! `cargo run --release -p idsync-sink-mediawiki --example bench [-- sqlite|MYSQL_URL]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::BTreeMap;
use std::time::Instant;

use idsync_core::{
    ApplyOptions, Batch, CookieUpdate, Entry, EntryId, EntryKind, GroupMembers, Sink, SyncPolicy,
};
use idsync_sink_mediawiki::{MediaWikiConfig, MediaWikiSink};
use uuid::Uuid;

const USERS: u128 = 100_000;
const GROUPS: u128 = 10_000;
const MEMBERS_PER_GROUP: u128 = 100;
const BATCH: usize = 1_000;
const MEMBERSHIP_WEIGHT: usize = 100_000;

fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(n + 1))
}

fn user(n: u128) -> Entry {
    let name = format!("user{n:06}");
    let mut attrs = BTreeMap::new();
    attrs.insert("displayName".to_owned(), vec![format!("User {n}")]);
    attrs.insert("mail".to_owned(), vec![format!("{name}@example.org")]);
    Entry {
        id: id(n),
        kind: EntryKind::User,
        locator: format!("uid={name},ou=people,dc=example,dc=org"),
        name,
        enabled: true,
        attrs,
        members: Vec::new(),
    }
}

fn group(n: u128) -> Entry {
    let name = format!("group{n:05}");
    let mut attrs = BTreeMap::new();
    attrs.insert("description".to_owned(), vec![format!("Group {n}")]);
    Entry {
        id: id(USERS + n),
        kind: EntryKind::Group,
        locator: format!("cn={name},ou=groups,dc=example,dc=org"),
        name,
        enabled: true,
        attrs,
        members: Vec::new(),
    }
}

fn members(n: u128) -> GroupMembers {
    let mut members: Vec<EntryId> = (0..MEMBERS_PER_GROUP)
        .map(|i| id((n * 7 + i * 997) % USERS))
        .collect();
    members.sort();
    members.dedup();
    GroupMembers {
        group: id(USERS + n),
        members,
    }
}

fn batches() -> Vec<Batch> {
    let mut batches = Vec::new();
    let entries: Vec<Entry> = (0..USERS).map(user).chain((0..GROUPS).map(group)).collect();
    for chunk in entries.chunks(BATCH) {
        batches.push(Batch {
            upserts: chunk.to_vec(),
            ..Batch::default()
        });
    }
    let mut current = Batch::default();
    let mut weight = 0;
    for n in 0..GROUPS {
        let set = members(n);
        weight += set.members.len() + 1;
        current.memberships.push(set);
        if weight >= MEMBERSHIP_WEIGHT {
            batches.push(std::mem::take(&mut current));
            weight = 0;
        }
    }
    current.cookie = Some(CookieUpdate {
        cookie: b"bench".to_vec(),
        fingerprint: "bench".to_owned(),
    });
    batches.push(current);
    batches
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn run(sink: &mut MediaWikiSink, batches: &[Batch], label: &str) {
    let start = Instant::now();
    let mut upserts = std::time::Duration::ZERO;
    let mut counts = idsync_core::ChangeCounts::default();
    for batch in batches {
        let started = Instant::now();
        let report = sink.apply(batch, &ApplyOptions::default()).unwrap();
        if !batch.upserts.is_empty() {
            upserts += started.elapsed();
        }
        counts.add(&report.counts);
    }
    let total = start.elapsed();
    println!(
        "{label}: {:.2} s (upserts {:.2} s, memberships {:.2} s) created={} unchanged={} members_added={} peak_rss={} MB",
        total.as_secs_f64(),
        upserts.as_secs_f64(),
        (total - upserts).as_secs_f64(),
        counts.created,
        counts.unchanged,
        counts.members_added,
        peak_rss_mb()
    );
}

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
