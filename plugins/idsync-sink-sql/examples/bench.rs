//! Measures the SQL sink alone on the benchmark shape: 100k users, 10k groups, 1M memberships
//! into SQLite, in batches like the engine sends them; then a no-op re-sync.
//!
//! `cargo run --release -p idsync-sink-sql --example bench [-- DIR]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Instant;

use idsync_core::{
    ApplyOptions, Batch, CookieUpdate, Entry, EntryId, EntryKind, GroupMembers, Sink, SyncPolicy,
};
use idsync_sink_sql::{SqlSink, SqlSinkConfig};
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

fn run(sink: &mut SqlSink, batches: &[Batch], label: &str) {
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
    let batches = batches();
    println!(
        "{} batches prepared, peak_rss={} MB",
        batches.len(),
        peak_rss_mb()
    );
    let mut sink = SqlSink::new(config.clone()).unwrap();
    sink.prepare(&SyncPolicy::default()).unwrap();
    run(&mut sink, &batches, "initial sync");
    run(&mut sink, &batches, "no-op re-sync");
    sink.close().unwrap();
    let mut sink = SqlSink::new(config).unwrap();
    let started = Instant::now();
    sink.prepare(&SyncPolicy::default()).unwrap();
    let state = sink.load_state().unwrap();
    println!(
        "restart: prepare + load_state {:.2} s ({} synced)",
        started.elapsed().as_secs_f64(),
        state.synced.len()
    );
    run(&mut sink, &batches, "no-op re-sync after restart");
}
