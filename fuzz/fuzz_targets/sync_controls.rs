//! Feeds arbitrary bytes to every RFC 4533 decoder: none may panic, and whatever decodes must
//! encode to something that decodes to the same value.
#![no_main]

use idsync_ldap::sync::{SyncDoneValue, SyncInfoValue, SyncRequestValue, SyncStateValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = SyncRequestValue::decode(data) {
        assert_eq!(SyncRequestValue::decode(&value.encode()), Ok(value));
    }
    if let Ok(value) = SyncStateValue::decode(data) {
        assert_eq!(SyncStateValue::decode(&value.encode()), Ok(value));
    }
    if let Ok(value) = SyncDoneValue::decode(data) {
        assert_eq!(SyncDoneValue::decode(&value.encode()), Ok(value));
    }
    if let Ok(value) = SyncInfoValue::decode(data) {
        assert_eq!(SyncInfoValue::decode(&value.encode()), Ok(value));
    }
});
