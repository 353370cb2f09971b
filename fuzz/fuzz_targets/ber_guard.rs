//! Differential check of the connection guard (`conn::guard::frame`) against lber, the parser
//! ldap3 runs after it: whatever the guard accepts as one message, lber must parse completely,
//! consuming exactly the guard's length, without recursing past the guard's depth limit.
#![no_main]

use idsync_ldap::conn::guard::frame::{check_message, message_len, MAX_DEPTH};
use ldap3::asn1::parse_tag;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Some(len)) = message_len(data, 1 << 20) else {
        return;
    };
    let Some(message) = data.get(..len) else {
        return;
    };
    if check_message(message, MAX_DEPTH).is_err() {
        return;
    }
    match parse_tag(message) {
        Ok((rest, _)) => assert!(rest.is_empty(), "lber left {} bytes", rest.len()),
        Err(error) => panic!("the guard accepted what lber refuses: {error:?}"),
    }
});
