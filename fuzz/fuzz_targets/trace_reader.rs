//! Feeds arbitrary bytes to the trace reader (a trace file is user-supplied): it must never
//! panic, must stop after an error, and what it reads must survive write → read unchanged.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use idsync_ldap::trace::{TraceReader, TraceWriter, TracedMessage};
use idsync_ldap::RawMessage;
use libfuzzer_sys::fuzz_target;

/// More messages than a small input can hold: a reader that loops forever fails here.
const LIMIT: usize = 100_000;

fuzz_target!(|data: &[u8]| {
    let mut reader = TraceReader::new(data);
    let mut read: Vec<TracedMessage> = Vec::new();
    let mut failed = false;
    for _ in 0..LIMIT {
        match reader.next_message() {
            Some(Ok(traced)) => {
                assert!(!failed, "a message after an error");
                read.push(traced);
            }
            Some(Err(error)) => {
                assert!(!failed, "two errors");
                assert!(
                    error.line().is_some(),
                    "a syntax error without a line: {error}"
                );
                failed = true;
            }
            None => break,
        }
    }
    assert!(reader.next_message().is_none(), "the reader did not end");

    // What was read is written again (header and re-read marks included) and read back.
    let mut writer = TraceWriter::new(Vec::new());
    for traced in &read {
        if let Some(header) = &traced.search {
            writer.begin_search(header.clone());
        }
        let written = match (&traced.reread, &traced.message) {
            (Some(dn), RawMessage::Entry(entry)) => writer.write_reread(dn, Some(entry)),
            (Some(dn), _) => writer.write_reread(dn, None),
            (None, message) => writer.write(message),
        };
        assert!(
            written.is_ok(),
            "a message read from a trace cannot be written: {:?}",
            traced.message
        );
    }
    let Ok(text) = writer.into_inner() else {
        panic!("writing into a Vec failed");
    };
    let mut again = TraceReader::new(text.as_slice());
    for (index, first) in read.iter().enumerate() {
        let second = match again.next_message() {
            Some(Ok(second)) => second,
            other => panic!(
                "message {index} did not read back: {other:?}\n{}",
                String::from_utf8_lossy(&text)
            ),
        };
        let context = || format!("message {index}\n{}", String::from_utf8_lossy(&text));
        assert_eq!(second.reread, first.reread, "{}", context());
        match (&first.reread, &first.message) {
            // a re-read that found nothing is a bare done message
            (Some(_), RawMessage::Done(_)) => {
                assert!(
                    matches!(second.message, RawMessage::Done(_)),
                    "{}",
                    context()
                )
            }
            _ => assert_eq!(
                common::traceable(&second.message),
                common::traceable(&first.message),
                "{}",
                context()
            ),
        }
        // the writer puts a pending header on the next message that is not a re-read
        if first.reread.is_none() && read[..index].iter().all(|m| m.reread.is_none()) {
            assert_eq!(second.search, first.search, "{}", context());
        }
    }
    assert!(
        again.next_message().is_none(),
        "the rewritten trace holds more"
    );
});
