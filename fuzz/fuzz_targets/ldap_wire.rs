//! Parses arbitrary bytes with ldap3's BER parser into a `StructureTag` (as ldap3's codec does
//! for a search item's protocol op) and walks it into a `RawMessage` with idsync's own walk
//! (`conn::wire::message_from_parts`): it must never panic, and whatever it yields must be
//! recordable in a trace (the live source records every message it receives).
#![no_main]

#[path = "common/mod.rs"]
mod common;

use idsync_ldap::conn::wire::message_from_parts;
use ldap3::asn1::{parse_tag, StructureTag, TagClass, PL};
use ldap3::controls::{Control, RawControl};
use libfuzzer_sys::fuzz_target;

/// Only what the connection guard passes reaches lber in the live source (see
/// `conn::guard`): the same check keeps the fuzzer off lber's unbounded recursion.
fn depth_ok(data: &[u8]) -> bool {
    idsync_ldap::conn::guard::frame::check_message(data, idsync_ldap::conn::guard::frame::MAX_DEPTH)
        .is_ok()
}

fn controls_of(tag: StructureTag) -> Vec<Control> {
    // Controls ::= SEQUENCE OF SEQUENCE { controlType, criticality BOOLEAN DEFAULT FALSE,
    // controlValue OCTET STRING OPTIONAL }, read leniently: ldap3 hands them over already
    // parsed, so only their contents matter here.
    let PL::C(items) = tag.payload else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|control| {
            let PL::C(parts) = control.payload else {
                return None;
            };
            let mut parts = parts.into_iter();
            let PL::P(oid) = parts.next()?.payload else {
                return None;
            };
            let mut crit = false;
            let mut val = None;
            for part in parts {
                match (part.id, part.payload) {
                    (1, PL::P(bytes)) => crit = bytes.first().is_some_and(|b| *b != 0),
                    (_, PL::P(bytes)) => val = Some(bytes),
                    _ => {}
                }
            }
            Some(Control(
                None,
                RawControl {
                    ctype: String::from_utf8(oid).ok()?,
                    crit,
                    val,
                },
            ))
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if !depth_ok(data) {
        return;
    }
    let Ok((rest, tag)) = parse_tag(data) else {
        return;
    };
    // A second tag after the protocol op is its controls ([0] SEQUENCE OF Control).
    let controls = match parse_tag(rest) {
        Ok((_, controls)) if controls.class == TagClass::Context && controls.id == 0 => {
            controls_of(controls)
        }
        _ => Vec::new(),
    };
    if let Ok(message) = message_from_parts(tag, controls) {
        common::check_trace_round_trip(&[message]);
    }
});
