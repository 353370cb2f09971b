//! `rfc2307`: NIS-style POSIX accounts and groups (RFC 2307, and rfc2307bis).
//!
//! * users: `(objectClass=posixAccount)` below `base`, named by `uid`;
//! * groups: `(objectClass=posixGroup)` below `base`, named by `cn`; members from `memberUid`
//!   (user names, RFC 2307) **and** from `member` / `uniqueMember` (DNs, rfc2307bis: a
//!   posixGroup that also carries member DNs, or a groupOfNames with the posixGroup auxiliary
//!   class) — every kind of reference a group has is taken;
//! * id: `entryUUID`;
//! * disabled: `pwdAccountLockedTime` present (ppolicy), or `shadowExpire` reached (days since
//!   1970-01-01; checked when the entry is mapped, so an expiry that passes without a change to
//!   the entry is seen at the next full refresh — set `reconcile_every`).

use super::defaults::Defaults;
use super::id::IdAttribute;

/// The `rfc2307` flavour's defaults.
pub(crate) const DEFAULTS: Defaults = Defaults {
    users_filter: "(objectClass=posixAccount)",
    groups_filter: "(objectClass=posixGroup)",
    users_container: None,
    groups_container: None,
    id: IdAttribute::EntryUuid,
    user_name: "uid",
    group_name: "cn",
    enabled: &["pwdAccountLockedTime", "shadowExpire"],
    member: &["member", "uniqueMember"],
    member_uid: &["memberUid"],
    internal_groups: &[],
};
