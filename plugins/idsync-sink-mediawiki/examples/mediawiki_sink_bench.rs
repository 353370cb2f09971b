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

use idsync_core::{ApplyOptions, Batch, CookieUpdate, Sink};
use idsync_sink_mediawiki::{MediaWikiConfig, MediaWikiSink};
use idsync_testkit::mediawiki::{MediaWiki, MwBackend};
use idsync_testkit::sink_bench::{id, members, scenario, user, GROUPS, USERS};

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
    // The SQLite wiki (made by MediaWiki's installer) lives as long as `wiki`.
    let wiki;
    let url = match std::env::args().nth(1) {
        Some(url) if url != "sqlite" => url,
        _ => {
            wiki = MediaWiki::install(MwBackend::Sqlite, None).unwrap();
            wiki.url().to_owned()
        }
    };
    let config: MediaWikiConfig = serde_json::from_value(serde_json::json!({
        "url": url,
        "map_other_groups": true,
    }))
    .unwrap();
    let mut sink = scenario(|| MediaWikiSink::new(config.clone()).unwrap());
    persist(&mut sink);
}
