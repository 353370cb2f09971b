//! Shared pieces of the LDAP end-to-end tests (`ldap_e2e_slapd`, `ldap_e2e_389`): a workspace
//! with an `idsync.toml` for an LDAP source and the sql sink on SQLite, and "the sink equals
//! the directory": the directory's state as an independent `ldapsearch` shows it, mapped by
//! the documented flavour rules (written again here, not taken from idsync-ldap), compared
//! with the whole SQLite state — users (id, name, DN, displayName, mail, enabled), groups
//! (id, name, DN, description) and the effective memberships.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idsync_testkit::runner::{self, wait_until, RunOutput, RunnerProcess};
use idsync_testkit::Sqlite;
use tempfile::TempDir;

/// How long a change may take to reach the sink (generous: CI has 2 shared cores).
pub const LAND: Duration = Duration::from_secs(30);

/// The sql sink, with the id and the DN stored next to the mapped attributes.
const SINK: &str = r#"[sink]
plugin = "sql"
url = "sqlite://app.db"
create_tables = true

[sink.users]
table = "users"
key = "id"
disable = { column = "active", disabled_value = "0", enabled_value = "1" }

[sink.users.columns]
ext_id = "id"
dn = "locator"
username = "name"
display_name = "displayName"
email = "mail"

[sink.groups]
table = "groups"
key = "id"

[sink.groups.columns]
ext_id = "id"
dn = "locator"
name = "name"
description = "description"

[sink.memberships]
table = "group_members"
group = "group_id"
member = "user_id"
mode = "effective"
"#;

/// What happens to accounts that left the view (`[sync] on_delete`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDelete {
    /// The default: the user row stays with `active = 0`; group rows stay without members.
    Disable,
    /// Rows are deleted.
    Delete,
}

/// The `[source]` table, built key by key (values are TOML literals).
#[derive(Clone, Debug)]
pub struct SourceToml {
    lines: Vec<String>,
    tables: Vec<String>,
}

impl SourceToml {
    /// `type = KIND`, `url = URL`.
    pub fn new(kind: &str, url: &str) -> Self {
        Self {
            lines: vec![format!("type = {kind:?}"), format!("url = {url:?}")],
            tables: Vec::new(),
        }
    }

    /// A string key.
    #[must_use]
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.lines.push(format!("{key} = {value:?}"));
        self
    }

    /// A key with a raw TOML value (`true`, `30`).
    #[must_use]
    pub fn raw(mut self, key: &str, value: &str) -> Self {
        self.lines.push(format!("{key} = {value}"));
        self
    }

    /// A path key.
    #[must_use]
    pub fn path(self, key: &str, value: &Path) -> Self {
        let text = value.display().to_string();
        self.set(key, &text)
    }

    /// A sub-table such as `[source.users]` with string keys.
    #[must_use]
    pub fn table(mut self, name: &str, keys: &[(&str, &str)]) -> Self {
        let mut text = format!("[source.{name}]\n");
        for (key, value) in keys {
            let _ = writeln!(text, "{key} = {value:?}");
        }
        self.tables.push(text);
        self
    }

    fn render(&self) -> String {
        let mut text = String::from("[source]\n");
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        for table in &self.tables {
            text.push('\n');
            text.push_str(table);
        }
        text
    }
}

/// A temp dir holding `idsync.toml`, a password file and `app.db`.
pub struct LdapWorkspace {
    dir: TempDir,
}

impl LdapWorkspace {
    /// An empty workspace (write the config with [`LdapWorkspace::write_config`]).
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("idsync-ldap-e2e-")
            .tempdir()
            .unwrap();
        Self { dir }
    }

    /// Writes `idsync.toml`: `source`, the sql sink, and `[sync]` with `on_delete`, fast
    /// retries and `extra_sync` lines (e.g. `retry_max_attempts = 1`).
    pub fn write_config(&self, source: &SourceToml, on_delete: OnDelete, extra_sync: &str) {
        let on_delete = match on_delete {
            OnDelete::Disable => "disable",
            OnDelete::Delete => "delete",
        };
        let text = format!(
            "{}\n{SINK}\n[sync]\non_delete = \"{on_delete}\"\nretry_initial_delay = 0.2\nretry_max_delay = 1\n{extra_sync}\n",
            source.render()
        );
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `idsync.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.path().join("idsync.toml")
    }

    /// Writes `password` to `bind.pw` (mode 0600) and returns its path.
    pub fn password_file(&self, password: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.path().join("bind.pw");
        std::fs::write(&path, format!("{password}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// The sink database.
    pub fn db(&self) -> Sqlite {
        Sqlite::new(self.path().join("app.db"))
    }

    /// `idsync sync --once`, whatever its outcome.
    pub fn try_sync_once(&self) -> RunOutput {
        runner::run(&["sync", "--once", "--config", "idsync.toml"], self.path())
    }

    /// `idsync sync --once`, which must succeed.
    pub fn sync_once(&self) -> RunOutput {
        let out = self.try_sync_once();
        assert_eq!(out.code, Some(0), "sync --once failed:\n{}", out.stderr);
        out
    }

    /// `idsync sync` following the directory in the background.
    pub fn follow(&self) -> RunnerProcess {
        RunnerProcess::spawn(&["sync", "--config", "idsync.toml"], self.path())
    }

    /// The stored cookie as text.
    pub fn cookie(&self) -> Option<String> {
        self.db()
            .try_query("select cast(cookie as text) from idsync_state")
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .and_then(|row| row.into_iter().next().flatten())
    }

    /// Replaces the stored cookie (the sink must not be running).
    pub fn set_cookie(&self, cookie: &str) {
        self.db().execute(&format!(
            "update idsync_state set cookie = cast('{}' as blob)",
            cookie.replace('\'', "''")
        ));
    }

    /// The application key of the user row with this entry id.
    pub fn user_key(&self, id: &str) -> Option<String> {
        self.db()
            .try_query(&format!("select id from users where ext_id = '{id}'"))
            .ok()
            .and_then(|rows| rows.into_iter().next())
            .and_then(|row| row.into_iter().next().flatten())
    }

    /// The whole sink state, or None while the tables do not exist yet.
    pub fn sink_state(&self) -> Option<State> {
        let db = self.db();
        let users = db
            .try_query("select ext_id, username, dn, display_name, email, active from users")
            .ok()?;
        let groups = db
            .try_query("select ext_id, name, dn, description from groups")
            .ok()?;
        let members = db
            .try_query(
                "select g.ext_id, u.ext_id from group_members m \
                 join groups g on g.id = m.group_id join users u on u.id = m.user_id",
            )
            .ok()?;
        let mut state = State::default();
        for row in users {
            let text = |i: usize| row.get(i).cloned().flatten();
            let id = text(0).unwrap_or_default();
            state.users.insert(
                id,
                User {
                    name: text(1).unwrap_or_default(),
                    dn: normalize_dn(&text(2).unwrap_or_default()),
                    display_name: text(3),
                    mail: text(4),
                    enabled: text(5).as_deref() == Some("1"),
                },
            );
        }
        for row in groups {
            let text = |i: usize| row.get(i).cloned().flatten();
            state.groups.insert(
                text(0).unwrap_or_default(),
                Group {
                    name: text(1).unwrap_or_default(),
                    dn: normalize_dn(&text(2).unwrap_or_default()),
                    description: text(3),
                },
            );
        }
        for row in members {
            let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            state.members.insert((text(0), text(1)));
        }
        Some(state)
    }
}

/// A user as the sink should hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// Normalised (lower case, no blanks around separators).
    pub dn: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub enabled: bool,
}

/// A group as the sink should hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub dn: String,
    pub description: Option<String>,
}

/// Users and groups by entry id (hyphenated UUID), effective memberships as (group id, user id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub members: BTreeSet<(String, String)>,
}

impl State {
    /// The id of the user named `name`.
    pub fn user_id(&self, name: &str) -> String {
        self.users
            .iter()
            .find(|(_, user)| user.name == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no user `{name}` in {:#?}", self.users))
    }

    /// The names of the effective user members of the group named `group`, sorted.
    pub fn member_names(&self, group: &str) -> Vec<String> {
        let Some((group_id, _)) = self.groups.iter().find(|(_, g)| g.name == group) else {
            return Vec::new();
        };
        let mut names: Vec<String> = self
            .members
            .iter()
            .filter(|(g, _)| g == group_id)
            .filter_map(|(_, u)| self.users.get(u).map(|user| user.name.clone()))
            .collect();
        names.sort();
        names
    }

    /// A readable summary: `name[enabled] <dn>` per user, `group: members` per group.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        for user in self.users.values() {
            let _ = writeln!(
                text,
                "  user {} [{}] {} {:?} {:?}",
                user.name,
                if user.enabled { "on" } else { "off" },
                user.dn,
                user.display_name,
                user.mail
            );
        }
        for group in self.groups.values() {
            let _ = writeln!(
                text,
                "  group {} {} {:?}: {:?}",
                group.name,
                group.dn,
                group.description,
                self.member_names(&group.name)
            );
        }
        text
    }
}

/// Lower case, no blanks around `,`, `=` and `+` (enough for the DNs of these tests).
pub fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| rdn.split('=').map(str::trim).collect::<Vec<_>>().join("="))
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

/// One entry of `ldapsearch -LLL -o ldif-wrap=no` output; attribute names in lower case.
#[derive(Clone, Debug)]
pub struct LdifEntry {
    pub dn: String,
    pub attrs: BTreeMap<String, Vec<String>>,
}

impl LdifEntry {
    /// The values of `attr` (any case).
    pub fn values(&self, attr: &str) -> &[String] {
        self.attrs
            .get(&attr.to_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The first value of `attr`.
    pub fn first(&self, attr: &str) -> Option<String> {
        self.values(attr).first().cloned()
    }

    /// Whether it has this object class (any case).
    pub fn has_class(&self, class: &str) -> bool {
        self.values("objectClass")
            .iter()
            .any(|value| value.eq_ignore_ascii_case(class))
    }
}

/// Parses unwrapped LDIF (`attr: value`, `attr:: base64`).
pub fn parse_ldif(text: &str) -> Vec<LdifEntry> {
    let mut entries = Vec::new();
    for block in text.split("\n\n") {
        let mut dn = None;
        let mut attrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in block.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let Some((name, rest)) = line.split_once(':') else {
                continue;
            };
            let value = match rest.strip_prefix(':') {
                Some(encoded) => STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .unwrap_or_else(|| format!("<binary {name}>")),
                None => rest.strip_prefix(' ').unwrap_or(rest).to_owned(),
            };
            if name.eq_ignore_ascii_case("dn") {
                dn = Some(value);
            } else {
                attrs.entry(name.to_lowercase()).or_default().push(value);
            }
        }
        if let Some(dn) = dn {
            entries.push(LdifEntry { dn, attrs });
        }
    }
    entries
}

/// `796a8a91-e76311f1-81758cdf-7223d497` (389-ds nsUniqueId) → the UUID with those bytes.
pub fn ns_unique_id_to_uuid(value: &str) -> String {
    let hex: String = value.chars().filter(char::is_ascii_hexdigit).collect();
    let hex = hex.to_lowercase();
    assert_eq!(hex.len(), 32, "bad nsUniqueId {value}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// How to read a directory into a [`State`]: the flavour's rules, restated.
#[derive(Clone, Debug)]
pub struct View {
    /// Users: entries with one of these object classes…
    pub user_classes: Vec<String>,
    /// …at or below this DN (normalised).
    pub users_base: String,
    /// Groups: entries with one of these object classes…
    pub group_classes: Vec<String>,
    /// …at or below this DN (normalised).
    pub groups_base: String,
    /// Groups left out (normalised DNs): FreeIPA's internal groups.
    pub excluded_groups: Vec<String>,
    /// The id attribute: `entryUUID` or `nsUniqueId`.
    pub id_attribute: String,
    /// Attributes whose presence (other than `FALSE`) disables a user.
    pub lock_attributes: Vec<String>,
    /// `shadowExpire` counts (rfc2307).
    pub shadow_expire: bool,
    /// Group attributes holding member DNs.
    pub member_dn: Vec<String>,
    /// Group attributes holding member user names.
    pub member_uid: Vec<String>,
}

impl View {
    /// The `ldap` flavour with users below `users_base` and groups below `groups_base`.
    pub fn ldap(users_base: &str, groups_base: &str) -> Self {
        Self {
            user_classes: vec!["inetOrgPerson".into()],
            users_base: normalize_dn(users_base),
            group_classes: vec!["groupOfNames".into(), "groupOfUniqueNames".into()],
            groups_base: normalize_dn(groups_base),
            excluded_groups: Vec::new(),
            id_attribute: "entryUUID".into(),
            lock_attributes: vec!["pwdAccountLockedTime".into()],
            shadow_expire: false,
            member_dn: vec!["member".into(), "uniqueMember".into()],
            member_uid: Vec::new(),
        }
    }

    /// The `rfc2307` flavour.
    pub fn rfc2307(users_base: &str, groups_base: &str) -> Self {
        Self {
            user_classes: vec!["posixAccount".into()],
            group_classes: vec!["posixGroup".into()],
            shadow_expire: true,
            member_uid: vec!["memberUid".into()],
            ..Self::ldap(users_base, groups_base)
        }
    }

    /// The `freeipa` flavour for `dc=example,dc=org`.
    pub fn freeipa() -> Self {
        let groups = "cn=groups,cn=accounts,dc=example,dc=org";
        Self {
            user_classes: vec!["person".into()],
            users_base: "cn=users,cn=accounts,dc=example,dc=org".into(),
            group_classes: vec!["ipaUserGroup".into()],
            groups_base: groups.into(),
            excluded_groups: ["admins", "editors", "ipausers", "trust admins"]
                .iter()
                .map(|cn| format!("cn={cn},{groups}"))
                .collect(),
            id_attribute: "nsUniqueId".into(),
            lock_attributes: vec!["nsAccountLock".into()],
            shadow_expire: false,
            member_dn: vec!["member".into()],
            member_uid: Vec::new(),
        }
    }

    /// The attributes to request besides `*`.
    pub fn operational(&self) -> Vec<&str> {
        let mut attrs = vec!["*", self.id_attribute.as_str()];
        attrs.extend(self.lock_attributes.iter().map(String::as_str));
        attrs
    }

    /// The directory's state from a search of everything below the view (as the admin).
    pub fn state(&self, ldif: &str) -> State {
        let entries = parse_ldif(ldif);
        let id = |entry: &LdifEntry| -> String {
            let value = entry
                .first(&self.id_attribute)
                .unwrap_or_else(|| panic!("{} has no {}", entry.dn, self.id_attribute));
            if self.id_attribute.eq_ignore_ascii_case("nsUniqueId") {
                ns_unique_id_to_uuid(&value)
            } else {
                value.to_lowercase()
            }
        };
        let today = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                / 86_400,
        )
        .unwrap();
        let mut state = State::default();
        // DN → (id, is group) of everything in view, and the raw member references.
        let mut by_dn: BTreeMap<String, (String, bool)> = BTreeMap::new();
        let mut refs: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for entry in &entries {
            let dn = normalize_dn(&entry.dn);
            let is_user = self.user_classes.iter().any(|c| entry.has_class(c))
                && within(&dn, &self.users_base);
            let is_group = self.group_classes.iter().any(|c| entry.has_class(c))
                && within(&dn, &self.groups_base)
                && !self.excluded_groups.contains(&dn);
            if is_user {
                let mut enabled = true;
                for attr in &self.lock_attributes {
                    if entry
                        .values(attr)
                        .iter()
                        .any(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("FALSE"))
                    {
                        enabled = false;
                    }
                }
                if self.shadow_expire {
                    for value in entry.values("shadowExpire") {
                        let day: i64 = value.trim().parse().unwrap();
                        if day > 0 && today >= day {
                            enabled = false;
                        }
                    }
                }
                let name = pick_name(entry, "uid");
                let user_id = id(entry);
                state.users.insert(
                    user_id.clone(),
                    User {
                        name,
                        dn: dn.clone(),
                        display_name: entry.first("displayName"),
                        mail: entry.first("mail"),
                        enabled,
                    },
                );
                by_dn.insert(dn, (user_id, false));
            } else if is_group {
                let group_id = id(entry);
                state.groups.insert(
                    group_id.clone(),
                    Group {
                        name: pick_name(entry, "cn"),
                        dn: dn.clone(),
                        description: entry.first("description"),
                    },
                );
                let dns = self
                    .member_dn
                    .iter()
                    .flat_map(|attr| entry.values(attr).iter())
                    .map(|value| normalize_dn(strip_uid(value)))
                    .collect();
                let names = self
                    .member_uid
                    .iter()
                    .flat_map(|attr| entry.values(attr).iter().cloned())
                    .collect();
                refs.insert(group_id.clone(), (dns, names));
                by_dn.insert(dn, (group_id, true));
            }
        }
        let by_name: BTreeMap<&str, &str> = state
            .users
            .iter()
            .map(|(id, user)| (user.name.as_str(), id.as_str()))
            .collect();
        // Effective members: users reachable through nested groups in view.
        for group_id in state.groups.keys() {
            let mut seen = BTreeSet::from([group_id.clone()]);
            let mut stack = vec![group_id.clone()];
            while let Some(current) = stack.pop() {
                let Some((dns, names)) = refs.get(&current) else {
                    continue;
                };
                for dn in dns {
                    match by_dn.get(dn) {
                        Some((user, false)) => {
                            state.members.insert((group_id.clone(), user.clone()));
                        }
                        Some((nested, true)) if seen.insert(nested.clone()) => {
                            stack.push(nested.clone());
                        }
                        Some(_) | None => {}
                    }
                }
                for name in names {
                    if let Some(user) = by_name.get(name.as_str()) {
                        state.members.insert((group_id.clone(), (*user).to_owned()));
                    }
                }
            }
        }
        state
    }
}

/// The name attribute's value; of several, the one in the RDN.
fn pick_name(entry: &LdifEntry, attr: &str) -> String {
    let values = entry.values(attr);
    if values.len() > 1 {
        let rdn = entry
            .dn
            .split(',')
            .next()
            .and_then(|rdn| rdn.split_once('='))
            .map(|(_, value)| value.trim().to_lowercase())
            .unwrap_or_default();
        if let Some(value) = values.iter().find(|v| v.to_lowercase() == rdn) {
            return value.clone();
        }
    }
    values
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("{} has no {attr}", entry.dn))
}

/// `<dn>#'0101'B` → `<dn>`.
fn strip_uid(value: &str) -> &str {
    match value.rfind("#'") {
        Some(hash) if value.ends_with("'B") => &value[..hash],
        _ => value,
    }
}

/// `dn` is `base` or below it.
fn within(dn: &str, base: &str) -> bool {
    dn == base || dn.ends_with(&format!(",{base}"))
}

/// Compares the sink with the directory and remembers every entry seen, so that entries that
/// left the view are expected as `on_delete` says.
pub struct Expect {
    on_delete: OnDelete,
    seen_users: BTreeSet<String>,
    seen_groups: BTreeSet<String>,
}

impl Expect {
    pub fn new(on_delete: OnDelete) -> Self {
        Self {
            on_delete,
            seen_users: BTreeSet::new(),
            seen_groups: BTreeSet::new(),
        }
    }

    /// Remembers the entries of a directory state (call with every state waited for).
    pub fn remember(&mut self, directory: &State) {
        self.seen_users.extend(directory.users.keys().cloned());
        self.seen_groups.extend(directory.groups.keys().cloned());
    }

    /// Every difference between the sink and the directory (empty: equal).
    pub fn differences(&self, directory: &State, sink: &State) -> Vec<String> {
        let mut problems = Vec::new();
        for (id, user) in &directory.users {
            match sink.users.get(id) {
                None => problems.push(format!("user {} ({id}) missing", user.name)),
                Some(row) if row != user => {
                    problems.push(format!("user {id}: sink {row:?} ≠ directory {user:?}"));
                }
                Some(_) => {}
            }
        }
        for (id, row) in &sink.users {
            if directory.users.contains_key(id) {
                continue;
            }
            if !self.seen_users.contains(id) {
                problems.push(format!("unknown user row {} ({id})", row.name));
            } else if self.on_delete == OnDelete::Delete {
                problems.push(format!(
                    "user {} ({id}) left the view but was not deleted",
                    row.name
                ));
            } else if row.enabled {
                problems.push(format!(
                    "user {} ({id}) left the view but is enabled",
                    row.name
                ));
            }
        }
        if self.on_delete == OnDelete::Disable {
            for id in &self.seen_users {
                if !directory.users.contains_key(id) && !sink.users.contains_key(id) {
                    problems.push(format!(
                        "user {id} left the view; its row should stay, disabled"
                    ));
                }
            }
        }
        for (id, group) in &directory.groups {
            match sink.groups.get(id) {
                None => problems.push(format!("group {} ({id}) missing", group.name)),
                Some(row) if row != group => {
                    problems.push(format!("group {id}: sink {row:?} ≠ directory {group:?}"));
                }
                Some(_) => {}
            }
        }
        for (id, row) in &sink.groups {
            if directory.groups.contains_key(id) {
                continue;
            }
            if !self.seen_groups.contains(id) {
                problems.push(format!("unknown group row {} ({id})", row.name));
            } else if self.on_delete == OnDelete::Delete {
                problems.push(format!(
                    "group {} ({id}) left the view but was not deleted",
                    row.name
                ));
            }
        }
        let name = |state: &State, (group, user): &(String, String)| {
            format!(
                "{} ∋ {}",
                state
                    .groups
                    .get(group)
                    .map_or(group.as_str(), |g| g.name.as_str()),
                state
                    .users
                    .get(user)
                    .map_or(user.as_str(), |u| u.name.as_str())
            )
        };
        for pair in directory.members.difference(&sink.members) {
            problems.push(format!("membership missing: {}", name(directory, pair)));
        }
        for pair in sink.members.difference(&directory.members) {
            problems.push(format!(
                "membership not in the directory: {}",
                name(sink, pair)
            ));
        }
        problems
    }

    /// Waits until the sink equals `directory` (remembered first); panics with the differences
    /// and the runner's log otherwise.
    pub fn wait_equal(
        &mut self,
        what: &str,
        ws: &LdapWorkspace,
        directory: &State,
        log: impl Fn() -> String,
    ) {
        self.remember(directory);
        let mut last = Vec::new();
        let equal = wait_until(LAND, || {
            match ws.sink_state() {
                Some(sink) => {
                    last = self.differences(directory, &sink);
                }
                None => last = vec!["the sink tables do not exist yet".to_owned()],
            }
            last.is_empty()
        });
        assert!(
            equal,
            "{what}: the sink does not equal the directory:\n  {}\ndirectory:\n{}sink:\n{}log:\n{}",
            last.join("\n  "),
            directory.summary(),
            ws.sink_state().map(|s| s.summary()).unwrap_or_default(),
            log()
        );
    }

    /// Asserts that the sink equals `directory` now (after a `sync --once`).
    pub fn assert_equal(&mut self, what: &str, ws: &LdapWorkspace, directory: &State, log: &str) {
        self.remember(directory);
        let sink = ws.sink_state().unwrap_or_default();
        let problems = self.differences(directory, &sink);
        assert!(
            problems.is_empty(),
            "{what}: the sink does not equal the directory:\n  {}\ndirectory:\n{}sink:\n{}log:\n{log}",
            problems.join("\n  "),
            directory.summary(),
            sink.summary(),
        );
    }
}
