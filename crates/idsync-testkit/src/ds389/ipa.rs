//! FreeIPA-shaped schema and data for a 389-ds instance.
//!
//! The schema holds the FreeIPA definitions idsync cares about (OIDs and definitions as
//! FreeIPA publishes them): `ipaUniqueID`, the AUXILIARY `ipaObject` (MUST ipaUniqueID), the
//! STRUCTURAL `nestedGroup` (SUP groupOfNames, MAY memberOf) and `ipaUserGroup`/`ipaHostGroup`
//! (SUP nestedGroup). The data is a whole backend for an offline import (`ldif2db`, which runs
//! no plugins): `memberOf` is precomputed (nested closure) as the MemberOf plugin would.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{ACCOUNTS_DN, GROUPS_DN, SUFFIX, SYNC_DN, SYNC_PASSWORD, USERS_DN};

/// Namespace of the deterministic `ipaUniqueID` values (UUID v5 of the entry's DN).
const IPA_UNIQUE_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1d_4c3a_9b2e_4d7f_8a10_2b3c_4d5e_6f70);

/// The attributes the sync account may read under `cn=accounts` (REPORT §5 of the 389-ds probe).
pub const SYNC_READABLE_ATTRIBUTES: [&str; 18] = [
    "objectClass",
    "uid",
    "cn",
    "sn",
    "givenName",
    "displayName",
    "mail",
    "uidNumber",
    "gidNumber",
    "homeDirectory",
    "loginShell",
    "description",
    "ipaUniqueID",
    "member",
    "memberOf",
    "nsAccountLock",
    "nsUniqueId",
    "entryUUID",
];

/// The schema file put in the instance's schema directory (`60idsync-ipa.ldif`).
pub(crate) fn schema_ldif() -> &'static str {
    "dn: cn=schema
objectClass: top
objectClass: ldapSubentry
objectClass: subschema
attributeTypes: ( 2.16.840.1.113730.3.8.3.1 NAME 'ipaUniqueID' DESC 'Unique identifier' EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN 'IPA v2' )
objectClasses: ( 2.16.840.1.113730.3.8.4.12 NAME 'ipaObject' DESC 'IPA objectclass' AUXILIARY MUST ( ipaUniqueID ) X-ORIGIN 'IPA v2' )
objectClasses: ( 2.16.840.1.113730.3.8.4.3 NAME 'nestedGroup' DESC 'Group that supports nesting' SUP groupOfNames STRUCTURAL MAY memberOf X-ORIGIN 'IPA v2' )
objectClasses: ( 2.16.840.1.113730.3.8.4.4 NAME 'ipaUserGroup' DESC 'IPA user group object class' SUP nestedGroup STRUCTURAL X-ORIGIN 'IPA v2' )
objectClasses: ( 2.16.840.1.113730.3.8.4.5 NAME 'ipaHostGroup' DESC 'IPA host group object class' SUP nestedGroup STRUCTURAL X-ORIGIN 'IPA v2' )
"
}

/// The shape of the FreeIPA-like seed. Defaults: 20 users, every 5th locked, teams of 5.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpaSeed {
    /// How many ordinary users (`uid=userNNNNN`, from 1); the `admin` user comes on top.
    pub users: usize,
    /// Every n-th user gets `nsAccountLock: TRUE` (0: none).
    pub locked_every: usize,
    /// Users per `teamNNNN` group (0: no teams).
    pub team_size: usize,
}

impl Default for IpaSeed {
    fn default() -> Self {
        Self {
            users: 20,
            locked_every: 5,
            team_size: 5,
        }
    }
}

/// One user of an [`IpaDirectory`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpaUser {
    /// `uid` (`admin` or `userNNNNN`).
    pub uid: String,
    /// The entry's DN.
    pub dn: String,
    /// Whether it carries `nsAccountLock: TRUE`.
    pub locked: bool,
    /// `uidNumber`.
    pub uid_number: u32,
}

/// One group of an [`IpaDirectory`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpaGroup {
    /// `cn`.
    pub cn: String,
    /// The entry's DN.
    pub dn: String,
    /// `gidNumber` for POSIX groups (`ipausers` and `trust admins` are not POSIX, as in FreeIPA).
    pub gid_number: Option<u32>,
    /// Direct `member` values (user and group DNs).
    pub members: Vec<String>,
    /// `description`.
    pub description: String,
}

/// The planned content of a seed: what tests can assert against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpaDirectory {
    /// `admin` first, then `user00001…`.
    pub users: Vec<IpaUser>,
    /// FreeIPA's internal groups (`admins`, `ipausers`, `editors`, `trust admins`), the teams,
    /// `allteams` (nested: the teams and user00001) and `staff` (nested: allteams and admins).
    pub groups: Vec<IpaGroup>,
}

impl IpaSeed {
    /// The users and groups this seed produces.
    pub fn directory(&self) -> IpaDirectory {
        let user_dn = |uid: &str| format!("uid={uid},{USERS_DN}");
        let group_dn = |cn: &str| format!("cn={cn},{GROUPS_DN}");
        let mut users = vec![IpaUser {
            uid: "admin".to_owned(),
            dn: user_dn("admin"),
            locked: false,
            uid_number: 100_000,
        }];
        for index in 1..=self.users {
            let uid = format!("user{index:05}");
            users.push(IpaUser {
                dn: user_dn(&uid),
                uid,
                locked: self.locked_every != 0 && index % self.locked_every == 0,
                uid_number: 100_000 + u32::try_from(index).unwrap_or(u32::MAX - 100_000),
            });
        }
        let ordinary: Vec<String> = users.iter().skip(1).map(|user| user.dn.clone()).collect();
        let admin = user_dn("admin");
        let group =
            |cn: &str, gid: Option<u32>, members: Vec<String>, description: &str| IpaGroup {
                cn: cn.to_owned(),
                dn: group_dn(cn),
                gid_number: gid,
                members,
                description: description.to_owned(),
            };
        let mut groups = vec![
            group(
                "admins",
                Some(100_000),
                vec![admin.clone()],
                "Account administrators group",
            ),
            group(
                "ipausers",
                None,
                ordinary.clone(),
                "Default group for all users",
            ),
            group(
                "editors",
                Some(100_002),
                ordinary.iter().skip(1).take(1).cloned().collect(),
                "Limited admins who can edit other users",
            ),
            group(
                "trust admins",
                None,
                vec![admin],
                "Trusts administrators group",
            ),
        ];
        let mut teams = Vec::new();
        if self.team_size > 0 {
            for (number, chunk) in ordinary.chunks(self.team_size).enumerate() {
                let cn = format!("team{:04}", number + 1);
                let gid = 101_000 + u32::try_from(number + 1).unwrap_or(0);
                teams.push(group_dn(&cn));
                groups.push(group(&cn, Some(gid), chunk.to_vec(), "A team"));
            }
        }
        let mut allteams = teams;
        allteams.extend(ordinary.first().cloned());
        groups.push(group(
            "allteams",
            Some(100_010),
            allteams,
            "Nested group of all teams",
        ));
        groups.push(group(
            "staff",
            Some(100_011),
            vec![group_dn("allteams"), group_dn("admins")],
            "Nested two levels deep",
        ));
        IpaDirectory { users, groups }
    }

    /// The whole backend as LDIF for an offline import: [`base_ldif`] then the users and
    /// groups with precomputed `memberOf`.
    pub fn ldif(&self) -> String {
        self.directory().ldif()
    }
}

impl IpaDirectory {
    /// The user with this `uid`.
    pub fn user(&self, uid: &str) -> Option<&IpaUser> {
        self.users.iter().find(|user| user.uid == uid)
    }

    /// The group with this `cn`.
    pub fn group(&self, cn: &str) -> Option<&IpaGroup> {
        self.groups.iter().find(|group| group.cn == cn)
    }

    /// The groups `dn` belongs to, directly or through nesting (what MemberOf computes),
    /// in the order found.
    pub fn member_of(&self, dn: &str) -> Vec<String> {
        let mut direct: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for group in &self.groups {
            for member in &group.members {
                direct.entry(member).or_default().push(&group.dn);
            }
        }
        let mut found: Vec<String> = Vec::new();
        let mut stack: Vec<&str> = direct.get(dn).cloned().unwrap_or_default();
        stack.reverse();
        while let Some(group) = stack.pop() {
            if found.iter().any(|seen| seen == group) {
                continue;
            }
            found.push(group.to_owned());
            let mut parents = direct.get(group).cloned().unwrap_or_default();
            parents.reverse();
            stack.extend(parents);
        }
        found
    }

    /// The whole backend as LDIF (see [`IpaSeed::ldif`]).
    pub fn ldif(&self) -> String {
        let mut ldif = base_ldif();
        for user in &self.users {
            let (given, surname) = if user.uid == "admin" {
                ("Administrator", "Administrator")
            } else {
                ("Test", user.uid.as_str())
            };
            let _ = write!(
                ldif,
                "dn: {dn}
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: inetUser
objectClass: posixAccount
objectClass: ipaObject
uid: {uid}
cn: {given} {surname}
givenName: {given}
sn: {surname}
displayName: {given} {surname}
mail: {uid}@example.org
uidNumber: {number}
gidNumber: {number}
homeDirectory: /home/{uid}
loginShell: /bin/bash
ipaUniqueID: {unique}
",
                dn = user.dn,
                uid = user.uid,
                number = user.uid_number,
                unique = ipa_unique_id(&user.dn),
            );
            if user.locked {
                ldif.push_str("nsAccountLock: TRUE\n");
            }
            for group in self.member_of(&user.dn) {
                let _ = writeln!(ldif, "memberOf: {group}");
            }
            ldif.push('\n');
        }
        for group in &self.groups {
            let _ = write!(
                ldif,
                "dn: {dn}
objectClass: top
objectClass: groupOfNames
objectClass: nestedGroup
objectClass: ipaUserGroup
objectClass: ipaObject
",
                dn = group.dn
            );
            if group.gid_number.is_some() {
                ldif.push_str("objectClass: posixGroup\n");
            }
            let _ = write!(
                ldif,
                "cn: {cn}\ndescription: {description}\nipaUniqueID: {unique}\n",
                cn = group.cn,
                description = group.description,
                unique = ipa_unique_id(&group.dn),
            );
            if let Some(gid) = group.gid_number {
                let _ = writeln!(ldif, "gidNumber: {gid}");
            }
            for member in &group.members {
                let _ = writeln!(ldif, "member: {member}");
            }
            for parent in self.member_of(&group.dn) {
                let _ = writeln!(ldif, "memberOf: {parent}");
            }
            ldif.push('\n');
        }
        ldif
    }
}

/// The deterministic `ipaUniqueID` of an entry.
fn ipa_unique_id(dn: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&IPA_UNIQUE_ID_NAMESPACE, dn.as_bytes())
}

/// The frame every seed starts with: the suffix entry (with dscreate's anonymous read ACI),
/// `cn=accounts` with the sync account's read ACI, the FreeIPA containers under it
/// (`users`, `groups`, `computers`, `services`, `hostgroups`), and `cn=etc`/`cn=sysaccounts`
/// with the sync account ([`SYNC_DN`], password [`SYNC_PASSWORD`], unlimited size, time and
/// look-through limits). A custom [`super::Ds389Seed::Ldif`] should start with this.
pub fn base_ldif() -> String {
    let readable = SYNC_READABLE_ATTRIBUTES.join(" || ");
    let mut ldif = format!(
        "dn: {SUFFIX}
objectClass: top
objectClass: domain
dc: example
description: {SUFFIX}
aci: (targetattr=\"dc || description || objectClass\")(targetfilter=\"(objectClass=domain)\")(version 3.0; acl \"Enable anyone domain read\"; allow (read, search, compare)(userdn=\"ldap:///anyone\");)

dn: {ACCOUNTS_DN}
objectClass: top
objectClass: nsContainer
cn: accounts
aci: (targetattr=\"{readable}\")(version 3.0; acl \"idsync: read identities for sync\"; allow (read, search, compare) userdn=\"ldap:///{SYNC_DN}\";)

"
    );
    for container in ["users", "groups", "computers", "services", "hostgroups"] {
        let _ = write!(
            ldif,
            "dn: cn={container},{ACCOUNTS_DN}\nobjectClass: top\nobjectClass: nsContainer\ncn: {container}\n\n"
        );
    }
    let _ = write!(
        ldif,
        "dn: cn=etc,{SUFFIX}
objectClass: top
objectClass: nsContainer
cn: etc

dn: cn=sysaccounts,cn=etc,{SUFFIX}
objectClass: top
objectClass: nsContainer
cn: sysaccounts

dn: {SYNC_DN}
objectClass: top
objectClass: account
objectClass: simpleSecurityObject
uid: idsync
userPassword: {SYNC_PASSWORD}
nsSizeLimit: -1
nsLookThroughLimit: -1
nsTimeLimit: -1

"
    );
    ldif
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_member_of_is_the_closure() {
        let directory = IpaSeed::default().directory();
        assert_eq!(directory.users.len(), 21);
        let user1 = format!("uid=user00001,{USERS_DN}");
        let of = directory.member_of(&user1);
        for cn in ["ipausers", "team0001", "allteams", "staff"] {
            assert!(of.contains(&format!("cn={cn},{GROUPS_DN}")), "{of:?}");
        }
        assert_eq!(of.len(), 4, "{of:?}");
        let admin = directory.member_of(&format!("uid=admin,{USERS_DN}"));
        assert_eq!(admin.len(), 3, "admins, trust admins, staff: {admin:?}");
        assert!(directory.user("user00005").is_some_and(|user| user.locked));
        assert!(directory.user("user00004").is_some_and(|user| !user.locked));
        assert_eq!(
            directory
                .groups
                .iter()
                .filter(|group| group.cn.starts_with("team"))
                .count(),
            4
        );
        let ldif = directory.ldif();
        assert!(ldif.starts_with(&format!("dn: {SUFFIX}\n")));
        assert_eq!(ldif.matches("nsAccountLock: TRUE").count(), 4);
        assert!(ldif.contains("dn: cn=ipausers,"));
    }
}
