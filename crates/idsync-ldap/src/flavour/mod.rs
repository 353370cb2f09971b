//! What a user and a group are in each LDAP directory flavour, and how a raw entry maps to
//! idsync's [`Entry`](idsync_core::Entry) model. Pure logic: no I/O.
//!
//! # API (what the live source, the protocol machine and the replay source use)
//!
//! ```text
//! FlavourKind { Ldap, Rfc2307, FreeIpa }        FromStr / Display: "ldap" "rfc2307" "freeipa"
//! FlavourSettings::from(&LdapSourceConfig)      base, domain, users, groups, attributes,
//! FlavourSettings::from(&ReplaySourceConfig)    include_internal_groups
//! Flavour::new(kind, &settings) -> Result<Flavour, Vec<FlavourProblem>>   every problem at once,
//!                                               each keyed relative to [source] (`users.filter`)
//! // the one sync search that covers users and groups:
//! flavour.sync_base() -> &str                   common ancestor of the users' and groups' bases
//! flavour.sync_scope() -> ldap3::Scope
//! flavour.sync_filter() -> &str                 (|(users filter)(groups filter))
//! flavour.sync_attributes() -> &[String]        all the mapping reads, operational ones by name
//!                                               (entryUUID / nsUniqueId, nsAccountLock,
//!                                               pwdAccountLockedTime, …); never memberOf
//! flavour.light_attributes() -> &[String]       index warm-up: id, objectClass, names, members,
//!                                               filter attributes
//! flavour.id_attribute() -> IdAttribute         .name(): "entryUUID" | "nsUniqueId"
//! flavour.quirks_389() -> bool                  389-ds content sync quirks apply (freeipa, or
//!                                               nsUniqueId as id)
//! flavour.map(id, &RawEntry) -> Result<Mapped, MapError>      Mapped::Entry(Entry) | OutOfView
//! flavour.map_at(id, &RawEntry, SystemTime)     the same, as of a given time (shadowExpire)
//! flavour.id_of(&RawEntry) -> Result<EntryId, MapError>       from the id attribute
//! id_from_sync_uuid([u8; 16]) -> EntryId        the id a syncUUID stands for
//! ```
//!
//! # The flavours
//!
//! | | `ldap` | `rfc2307` | `freeipa` |
//! |---|---|---|---|
//! | base | `base` (or `domain`) | `base` (or `domain`) | `base`, or `domain` → `dc=…` |
//! | users | `(objectClass=inetOrgPerson)` below `base` | `(objectClass=posixAccount)` below `base` | `(objectClass=person)` below `cn=users,cn=accounts,<base>` |
//! | groups | `(\|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))` below `base` | `(objectClass=posixGroup)` below `base` | `(objectClass=ipaUserGroup)` below `cn=groups,cn=accounts,<base>` |
//! | name | `uid` / `cn` | `uid` / `cn` | `uid` / `cn` |
//! | members | `member`, `uniqueMember` (DNs) | `memberUid` (names) and `member`, `uniqueMember` (DNs, rfc2307bis) | `member` (DNs) |
//! | id | `entryUUID` | `entryUUID` | `nsUniqueId` |
//! | disabled | `pwdAccountLockedTime` | `pwdAccountLockedTime`, `shadowExpire` | `nsAccountLock` |
//!
//! Scopes default to `sub`. Nested groups are member DNs like any other. `freeipa` leaves out
//! FreeIPA's built-in groups (`admins`, `editors`, `ipausers`, `trust admins`,
//! `Default SMB Group`) unless `include_internal_groups = true`.
//!
//! # Classification
//!
//! One sync search on [`Flavour::sync_base`] with [`Flavour::sync_filter`] returns users and
//! groups together; the server has applied the filter (filter on `objectClass`: 389-ds
//! silently drops entries that stop matching a filter from incremental refreshes). Client
//! side, [`Flavour::map`] evaluates each kind's filter on the entry (equality, presence and
//! substrings case-insensitively, `objectClass` with the well-known subclasses; `>=`, `<=`,
//! `~=` and extensible matches are undecided) and checks the DN against that kind's base and
//! scope. An entry in neither view is [`Mapped::OutOfView`].
//!
//! # `[source.attributes]`
//!
//! Keys are case-insensitive. A canonical attribute name (`uid`, `commonName`, `displayName`,
//! `givenName`, `surname`, `initials`, `mail`, `mobile`, `telephoneNumber`, `title`,
//! `employeeNumber`, `description`, `uidNumber`, `gidNumber`) maps to one directory attribute
//! (default: the same name, except `commonName` = `cn`, `surname` = `sn`); an empty value
//! leaves it unmapped. Special keys:
//!
//! * `user_name` (or `name`), `group_name`: the attribute the entry's name comes from;
//! * `member`: the member attributes holding DNs, `member_uid`: those holding user names
//!   (comma-separated lists; empty for none);
//! * `enabled`: the attributes that mark a user disabled (comma-separated; empty: never
//!   disabled) — `shadowExpire` by its day number, any other by a value other than `FALSE`
//!   (see [`disabled`]);
//! * `id`: `entryUUID` or `nsUniqueId` (must be what the server's syncUUID is made of).
//!
//! `memberOf` is refused everywhere: memberships come from the groups' member attributes.

mod attributes;
mod build;
mod defaults;
pub mod disabled;
mod dn;
mod error;
mod filter;
mod freeipa;
mod id;
mod kind;
mod ldap;
mod map;
mod rfc2307;
mod settings;
mod table;

#[cfg(test)]
mod tests;

use idsync_core::Entry;

use crate::config::Scope;

pub use error::{FlavourProblem, MapError, Problems};
pub use id::{id_from_sync_uuid, IdAttribute};
pub use kind::{FlavourKind, UnknownFlavour};
pub use settings::FlavourSettings;

use attributes::AttributeMap;
use defaults::Defaults;
use disabled::LockRule;
use filter::Filter;
use table::AttrTable;

/// What [`Flavour::map`] made of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// A user or a group of this view.
    Entry(Entry),
    /// Not a user or group of this view (wrong object classes, outside the users' or groups'
    /// base or scope, an excluded internal group). If the engine knew it, it is gone.
    OutOfView,
}

/// One directory flavour with its settings applied: the sync search's parameters and the
/// mapping of entries. Cheap to share (`Arc`) between the live source and the protocol
/// machine; immutable.
#[derive(Clone, Debug)]
pub struct Flavour {
    kind: FlavourKind,
    map: AttributeMap,
    users: View,
    groups: View,
    sync_base: String,
    sync_scope: Scope,
    sync_filter: String,
    sync_attributes: Vec<String>,
    light_attributes: Vec<String>,
    table: AttrTable,
    slots: Slots,
    /// Normalised DNs of the excluded internal groups, sorted.
    internal_groups: Vec<String>,
}

/// Where and what one kind of entry is.
#[derive(Clone, Debug)]
struct View {
    base: String,
    base_norm: String,
    scope: Scope,
    filter_text: String,
    filter: Filter,
}

/// The attribute table slots the mapping reads.
#[derive(Clone, Debug)]
struct Slots {
    object_class: usize,
    user_name: usize,
    group_name: usize,
    enabled: Vec<(usize, LockRule)>,
    /// Member DN attributes, with "strip the `#'…'B` UID suffix" (uniqueMember).
    member: Vec<(usize, bool)>,
    member_uid: Vec<usize>,
    canonical: Vec<(&'static str, usize)>,
}

impl FlavourKind {
    /// This flavour's defaults.
    fn defaults(self) -> &'static Defaults {
        match self {
            FlavourKind::Ldap => &ldap::DEFAULTS,
            FlavourKind::Rfc2307 => &rfc2307::DEFAULTS,
            FlavourKind::FreeIpa => &freeipa::DEFAULTS,
        }
    }
}

impl Flavour {
    /// Which flavour this is.
    pub fn kind(&self) -> FlavourKind {
        self.kind
    }

    /// Base DN of the one sync search: the deepest common ancestor of the users' and the
    /// groups' bases (`cn=accounts,<base>` for `freeipa`).
    pub fn sync_base(&self) -> &str {
        &self.sync_base
    }

    /// Scope of the sync search: the users' and groups' scope when both kinds share the base
    /// and the scope, otherwise the whole subtree.
    pub fn sync_scope(&self) -> ldap3::Scope {
        match self.sync_scope {
            Scope::Base => ldap3::Scope::Base,
            Scope::One => ldap3::Scope::OneLevel,
            Scope::Sub => ldap3::Scope::Subtree,
        }
    }

    /// Filter of the sync search: `(|(<users filter>)(<groups filter>))` (one of them when
    /// they are the same).
    pub fn sync_filter(&self) -> &str {
        &self.sync_filter
    }

    /// The attributes to request in the sync search: everything the mapping reads, the
    /// operational ones by name (the id attribute, `nsAccountLock`, `pwdAccountLockedTime`).
    /// Never `memberOf`.
    pub fn sync_attributes(&self) -> &[String] {
        &self.sync_attributes
    }

    /// The attributes to request in a search that only warms the member index: the id
    /// attribute, `objectClass` and the filters' attributes, the name and member attributes.
    /// [`Flavour::map`] works on such entries (their `attrs` are empty and `enabled` is not
    /// meaningful).
    pub fn light_attributes(&self) -> &[String] {
        &self.light_attributes
    }

    /// The attribute holding the entry id (for [`Flavour::id_of`]).
    pub fn id_attribute(&self) -> IdAttribute {
        self.map.id
    }

    /// Whether the server is a 389-ds whose content sync quirks apply (`freeipa`, or any
    /// flavour told to take its ids from `nsUniqueId`): incremental refreshes drop
    /// operational attributes and entries that stop matching the filter, a refresh after a
    /// cookie signals the wrong phase.
    pub fn quirks_389(&self) -> bool {
        self.kind == FlavourKind::FreeIpa || self.map.id == IdAttribute::NsUniqueId
    }

    /// The users' base DN.
    pub fn users_base(&self) -> &str {
        &self.users.base
    }

    /// The groups' base DN.
    pub fn groups_base(&self) -> &str {
        &self.groups.base
    }

    /// The users' filter, parenthesised.
    pub fn users_filter(&self) -> &str {
        &self.users.filter_text
    }

    /// The groups' filter, parenthesised.
    pub fn groups_filter(&self) -> &str {
        &self.groups.filter_text
    }
}
