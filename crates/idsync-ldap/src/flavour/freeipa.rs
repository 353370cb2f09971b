//! `freeipa`: FreeIPA, on 389-ds.
//!
//! * base: `base`, or derived from `domain` (`example.org` → `dc=example,dc=org`);
//! * users: `(objectClass=person)` below `cn=users,cn=accounts,<base>` (staged and deleted
//!   users live under `cn=provisioning` and are not seen), named by `uid`;
//! * groups: `(objectClass=ipaUserGroup)` below `cn=groups,cn=accounts,<base>` (user private
//!   groups and `Default SMB Group` lack that class), named by `cn`, members from `member`
//!   (DNs of users and of nested groups);
//! * FreeIPA's built-in groups are left out unless `include_internal_groups = true`:
//!   `admins`, `editors`, `ipausers` (every user is in it), `trust admins` and
//!   `Default SMB Group` — the groups FreeIPA creates itself (`bootstrap-template.ldif`,
//!   `60-trusts.update`, `ipa-adtrust-install`), matched by DN;
//! * id: `nsUniqueId` (389-ds derives the syncUUID from it, not from entryUUID);
//! * disabled: `nsAccountLock: TRUE` (operational: requested by name).
//!
//! The one sync search runs on `cn=accounts,<base>` (the common ancestor of the two bases).

use super::defaults::Defaults;
use super::id::IdAttribute;

/// The `freeipa` flavour's defaults.
pub(crate) const DEFAULTS: Defaults = Defaults {
    users_filter: "(objectClass=person)",
    groups_filter: "(objectClass=ipaUserGroup)",
    users_container: Some("cn=users,cn=accounts"),
    groups_container: Some("cn=groups,cn=accounts"),
    id: IdAttribute::NsUniqueId,
    user_name: "uid",
    group_name: "cn",
    enabled: &["nsAccountLock"],
    member: &["member"],
    member_uid: &[],
    internal_groups: &[
        "admins",
        "editors",
        "ipausers",
        "trust admins",
        "default smb group",
    ],
};
