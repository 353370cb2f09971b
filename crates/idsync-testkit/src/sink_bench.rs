//! The data set and driver the sinks' own benchmark examples share: 100k users, 10k groups and
//! 1M memberships in batches like the engine sends them, applied straight to a sink.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Instant;

use idsync_core::{
    ApplyOptions, Batch, CookieUpdate, Entry, EntryId, EntryKind, GroupMembers, Sink, SyncPolicy,
};
use uuid::Uuid;

/// Users in the data set.
pub const USERS: u128 = 100_000;
/// Groups in the data set.
pub const GROUPS: u128 = 10_000;
/// Direct members of each group (1M memberships in all).
pub const MEMBERS_PER_GROUP: u128 = 100;
/// Entries per batch, as the engine sends them.
pub const BATCH: usize = 1_000;
/// Member ids per membership batch.
pub const MEMBERSHIP_WEIGHT: usize = 100_000;

/// The id of user `n` (groups: `USERS + n`).
pub fn id(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(n + 1))
}

/// User `n` with a display name and a mail address.
pub fn user(n: u128) -> Entry {
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

/// Group `n` with a description.
pub fn group(n: u128) -> Entry {
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

/// The direct member set of group `n`.
pub fn members(n: u128) -> GroupMembers {
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

/// Every user and group in batches of [`BATCH`], then the member sets, the last batch
/// carrying a cookie.
pub fn batches() -> Vec<Batch> {
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

/// This process's peak resident set size in MB (0 when unknown).
pub fn peak_rss_mb() -> u64 {
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

/// Applies `batches` and prints the wall time (split into upserts and memberships), the
/// counts and the peak RSS under `label`. Panics on a sink error (benchmarks only).
pub fn run(sink: &mut dyn Sink, batches: &[Batch], label: &str) {
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

/// The scenario both sink benches run on the data set: initial sync, no-op re-sync, then a new
/// sink from `open` (prepare + `load_state` timed, as at a runner start) and a no-op re-sync
/// again. Returns that second sink, prepared.
pub fn scenario<S: Sink>(open: impl Fn() -> S) -> S {
    let batches = batches();
    println!(
        "{} batches prepared, peak_rss={} MB",
        batches.len(),
        peak_rss_mb()
    );
    let mut sink = open();
    sink.prepare(&SyncPolicy::default()).unwrap();
    run(&mut sink, &batches, "initial sync");
    run(&mut sink, &batches, "no-op re-sync");
    sink.close().unwrap();
    let mut sink = open();
    let started = Instant::now();
    sink.prepare(&SyncPolicy::default()).unwrap();
    let state = sink.load_state().unwrap();
    println!(
        "restart: prepare + load_state {:.2} s ({} synced)",
        started.elapsed().as_secs_f64(),
        state.synced.len()
    );
    run(&mut sink, &batches, "no-op re-sync after restart");
    sink
}
