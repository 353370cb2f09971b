//! Feeds the RFC 4533 state machine (`SyncProtocol`) a sequence of messages built from the
//! fuzz input, for every flavour and every start (cookie or not, refreshOnly or persist,
//! 389-ds or not), answering its re-read requests. It must never panic, and the events it
//! emits must keep the engine's invariants:
//! * a cookie is never empty, and before the refresh ends a cookie only comes right before
//!   `RefreshDone` (the cookie never runs ahead of its data);
//! * `RefreshDone` comes at most once; without a cookie sent it always sweeps; with a cookie
//!   on 389-ds it never does;
//! * `RefreshRequired` only with `RestartWithoutCookie`, and only when a cookie was sent;
//! * nothing is accepted after the search ended or while re-reads are pending;
//! * `Persisting` only in refreshAndPersist.
//!
//! Every message sequence must also survive a trace round trip (replay = live).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;

use idsync_core::Event;
use idsync_ldap::protocol::{EntryMapper, ProtocolOptions, Step, SyncProtocol};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Messages per search.
const MAX_MESSAGES: usize = 48;

#[derive(Default)]
struct Seen {
    refresh_done: bool,
    ended: bool,
}

fn check_events(events: &[Event], options: ProtocolOptions, step: &Step, seen: &mut Seen) {
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Cookie(cookie) => {
                assert!(!cookie.is_empty(), "an empty cookie event");
                if !seen.refresh_done {
                    assert!(
                        matches!(events.get(index + 1), Some(Event::RefreshDone { .. })),
                        "a cookie during the refresh not right before RefreshDone: {events:?}"
                    );
                }
            }
            Event::RefreshDone { delete_unmentioned } => {
                assert!(!seen.refresh_done, "a second RefreshDone");
                seen.refresh_done = true;
                if !options.cookie_sent {
                    assert!(
                        *delete_unmentioned,
                        "a refresh without cookie that does not sweep"
                    );
                } else if options.ds389 {
                    assert!(!*delete_unmentioned, "a 389-ds cookie refresh that sweeps");
                }
            }
            Event::RefreshRequired => {
                assert!(options.cookie_sent, "RefreshRequired without a cookie sent");
                assert!(
                    matches!(step, Step::RestartWithoutCookie { .. }),
                    "RefreshRequired with {step:?}"
                );
            }
            Event::Changed(_) | Event::Present(_) | Event::Deleted(_) => {}
            Event::Known(_) | Event::RefreshStarted => panic!("the protocol emitted {event:?}"),
        }
    }
    match step {
        Step::Persisting => {
            assert!(options.persist, "Persisting in refreshOnly");
            assert!(seen.refresh_done, "Persisting without RefreshDone");
        }
        Step::Finished => seen.ended = true,
        Step::RestartWithoutCookie { .. } => {
            assert!(options.cookie_sent);
            seen.ended = true;
        }
        Step::Reread(targets) => assert!(!targets.is_empty(), "an empty re-read"),
        Step::Continue => {}
    }
}

fn run(u: &mut Unstructured) -> Result<()> {
    let flavours = common::flavours();
    let flavour = u.choose(flavours)?.clone();
    let options = ProtocolOptions {
        cookie_sent: u.arbitrary()?,
        persist: u.arbitrary()?,
        ds389: u.arbitrary()?,
    };
    let mapper: Arc<dyn EntryMapper> = Arc::new(flavour);
    let mut protocol = SyncProtocol::new(mapper, options);
    let mut seen = Seen::default();
    let mut out = Vec::new();
    let mut messages = Vec::new();
    while !u.is_empty() && messages.len() < MAX_MESSAGES {
        let message = common::message(u)?;
        messages.push(message.clone());
        out.clear();
        let result = protocol.handle(message, &mut out);
        if seen.ended {
            assert!(
                result.is_err(),
                "a message accepted after the search ended: {result:?}"
            );
        }
        let step = match result {
            Ok(step) => step,
            Err(_) => {
                assert!(
                    !out.iter()
                        .any(|e| matches!(e, Event::RefreshDone { .. } | Event::Cookie(_))),
                    "an error after emitting the refresh end: {out:?}"
                );
                continue;
            }
        };
        check_events(&out, options, &step, &mut seen);
        if let Step::Reread(targets) = &step {
            assert!(
                protocol
                    .handle(common::message(u)?, &mut Vec::new())
                    .is_err(),
                "a message accepted while re-reads are pending"
            );
            let mut reread = Vec::new();
            for target in targets {
                let entry = if u.arbitrary()? {
                    Some(common::bare_entry(u)?)
                } else {
                    None
                };
                protocol.reread_result(target, entry.as_ref(), &mut reread);
            }
            assert!(
                reread.iter().all(|e| matches!(
                    e,
                    Event::Changed(_) | Event::Deleted(_) | Event::Present(_)
                )),
                "re-reads emitted {reread:?}"
            );
            out.clear();
            let step = protocol.reread_done(&mut out);
            let Ok(step) = step else {
                panic!("reread_done after a re-read request failed: {step:?}");
            };
            assert!(
                matches!(step, Step::Persisting | Step::Finished),
                "{step:?}"
            );
            assert!(
                matches!(out.last(), Some(Event::RefreshDone { .. })),
                "{out:?}"
            );
            check_events(&out, options, &step, &mut seen);
            assert!(
                protocol.reread_done(&mut Vec::new()).is_err(),
                "reread_done twice"
            );
        }
        if seen.refresh_done {
            assert!(
                protocol.refresh_done(),
                "RefreshDone emitted but the refresh is not done"
            );
        } else if protocol.refresh_done() {
            assert!(seen.ended, "the refresh is done without RefreshDone");
        }
    }
    common::check_trace_round_trip(&messages);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
