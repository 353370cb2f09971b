//! Maps arbitrary entries with every flavour (defaults and overridden settings): `Flavour::map`
//! and `Flavour::id_of` must never panic, and a mapped entry must be consistent.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, UNIX_EPOCH};

use idsync_core::{EntryId, EntryKind};
use idsync_ldap::flavour::Mapped;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn run(u: &mut Unstructured) -> Result<()> {
    let entry = common::bare_entry(u)?;
    let id = EntryId::from_bytes(common::uuid(u)?);
    // 2026-01-01, or any day
    let day: u32 = if u.arbitrary()? {
        20_454
    } else {
        u.arbitrary()?
    };
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(day) * 86_400);
    for flavour in common::flavours() {
        let mapped = flavour.map_at(id, &entry, now);
        assert_eq!(mapped, flavour.map_at(id, &entry, now), "not deterministic");
        if let Ok(Mapped::Entry(mapped)) = &mapped {
            assert_eq!(mapped.id, id);
            assert_eq!(mapped.locator, entry.dn);
            match mapped.kind {
                EntryKind::User => assert!(mapped.members.is_empty(), "a user with members"),
                EntryKind::Group => assert!(mapped.enabled, "a disabled group"),
            }
        }
        let _ = flavour.id_of(&entry);
        let _ = flavour.map(id, &entry);
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
