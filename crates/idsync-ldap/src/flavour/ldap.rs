//! `ldap`: a plain LDAPv3 directory (OpenLDAP and the like).
//!
//! * users: `(objectClass=inetOrgPerson)` below `base`, named by `uid`;
//! * groups: `(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))` below `base`,
//!   named by `cn`, members from `member` and `uniqueMember` (DNs; nested groups allowed; the
//!   optional `#'0101'B` UID suffix of a `uniqueMember` value is dropped);
//! * id: `entryUUID`;
//! * disabled: `pwdAccountLockedTime` present (ppolicy overlay; `000001010000Z` is an
//!   administrative lock, any other value a lockout after failed binds — with the default
//!   `pwdLockoutDuration: 0` that lockout is permanent too, so both count as disabled).

use super::defaults::Defaults;
use super::id::IdAttribute;

/// The `ldap` flavour's defaults.
pub(crate) const DEFAULTS: Defaults = Defaults {
    users_filter: "(objectClass=inetOrgPerson)",
    groups_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
    users_container: None,
    groups_container: None,
    id: IdAttribute::EntryUuid,
    user_name: "uid",
    group_name: "cn",
    enabled: &["pwdAccountLockedTime"],
    member: &["member", "uniqueMember"],
    member_uid: &[],
    internal_groups: &[],
};
