//! End to end into MediaWiki: a real OpenLDAP (the test kit's slapd, ppolicy for disabling)
//! → `idsync sync` (the runner binary, `type = "ldap"`) → the `mediawiki` plugin (.so) → a
//! wiki installed by MediaWiki's own installer on SQLite, MariaDB or PostgreSQL. After every
//! step the whole wiki is read through MediaWiki's own PHP (`check_all`: `User::newFromId`,
//! `newFromName`, `UserGroupManager`, `BlockManager`) and compared with the directory as an
//! independent `ldapsearch` shows it, mapped by the sink's documented rules
//! (`docs/mediawiki.md`):
//!
//! * every directory user with a name MediaWiki accepts (`UserNameUtils`, asked through PHP)
//!   exists by id and by name, in canonical form, with its real name, e-mail (confirmed), the
//!   same wiki id as before (renames, adoption), explicit groups exactly the mapped groups of
//!   its effective (nested) directory groups plus the unmanaged groups it had by hand,
//!   `user_former_groups` holding every managed group it lost, and a block by the configured
//!   blocker with the configured reason iff it is disabled;
//! * sessions end (new token) on disable and rename; users nothing happened to keep theirs;
//! * entries that left the view follow `on_delete` (blocked and out of every managed group,
//!   or deleted when they have no history);
//! * names MediaWiki refuses are quarantined (`idsync_quarantine`) and never written;
//! * every other wiki account (the installer's, the blocker) is as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idsync_testkit::mariadb::MariaDb;
use idsync_testkit::mediawiki::{MediaWiki, MwKind, MwUser};
use idsync_testkit::postgres::Postgres;
use idsync_testkit::runner::{self, wait_until, RunOutput, RunnerProcess};
use idsync_testkit::servers::missing_server;
use idsync_testkit::slapd::{Overlay, Seed, Slapd, SlapdOptions, BASE, SYNC_DN, SYNC_PASSWORD};
use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::ldap_e2e_support::{normalize_dn, parse_ldif};

const PEOPLE: &str = "ou=people,dc=example,dc=org";
const GROUPS: &str = "ou=groups,dc=example,dc=org";
const ALUMNI: &str = "ou=alumni,dc=example,dc=org";
/// The configured blocker and reason (not the defaults, so the test sees they are used).
const BLOCKER: &str = "LDAP sync";
const REASON: &str = "Disabled in the LDAP directory";
/// Directory group → wiki group (`[sink] groups`).
const GROUP_MAP: [(&str, &str); 3] = [
    ("admins", "sysop"),
    ("editors", "editor"),
    ("devs", "developer"),
];
/// Groups MediaWiki adds implicitly to every registered user.
const IMPLICIT: [&str; 3] = ["*", "autoconfirmed", "user"];
/// How long a change may take in persist mode (CI has 2 shared cores).
const LAND: Duration = Duration::from_secs(40);

// ---------------------------------------------------------------------------------------
// The directory
// ---------------------------------------------------------------------------------------

fn user_dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

fn group_dn(cn: &str) -> String {
    format!("cn={cn},{GROUPS}")
}

fn person(uid: &str, display: &str) -> String {
    format!(
        "dn: {}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {display}\nsn: {uid}\n\
         displayName: {display}\nmail: {}@example.org\n\n",
        user_dn(uid),
        uid.replace(['|', '#'], "-")
    )
}

fn group(cn: &str, members: &[String]) -> String {
    let mut ldif = format!(
        "dn: {}\nobjectClass: groupOfNames\ncn: {cn}\n",
        group_dn(cn)
    );
    for member in members {
        ldif.push_str(&format!("member: {member}\n"));
    }
    ldif.push('\n');
    ldif
}

/// The suffix, ou=people, ou=groups, ou=alumni, these users and groups.
fn seed(users: &[(&str, &str)], groups: &[(&str, Vec<String>)]) -> String {
    let mut ldif = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
    );
    for ou in ["people", "groups", "alumni"] {
        ldif.push_str(&format!(
            "dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        ));
    }
    for (uid, display) in users {
        ldif.push_str(&person(uid, display));
    }
    for (cn, members) in groups {
        ldif.push_str(&group(cn, members));
    }
    ldif
}

fn start_slapd(ldif: String) -> Slapd {
    Slapd::start(
        SlapdOptions::default()
            .with_overlay(Overlay::Ppolicy)
            .sync_account(true)
            .seed(Seed::Ldif(ldif)),
    )
    .unwrap()
}

fn modify(slapd: &Slapd, dn: &str, change: &str) {
    slapd
        .modify_ldif(&format!("dn: {dn}\nchangetype: modify\n{change}\n"))
        .unwrap();
}

fn add_member(slapd: &Slapd, cn: &str, member: &str) {
    modify(
        slapd,
        &group_dn(cn),
        &format!("add: member\nmember: {member}"),
    );
}

fn remove_member(slapd: &Slapd, cn: &str, member: &str) {
    modify(
        slapd,
        &group_dn(cn),
        &format!("delete: member\nmember: {member}"),
    );
}

fn modrdn(slapd: &Slapd, dn: &str, new_rdn: &str, superior: Option<&str>) {
    let mut ldif = format!("dn: {dn}\nchangetype: modrdn\nnewrdn: {new_rdn}\ndeleteoldrdn: 1\n");
    if let Some(superior) = superior {
        ldif.push_str(&format!("newsuperior: {superior}\n"));
    }
    slapd.modify_ldif(&ldif).unwrap();
}

/// A directory user as the `ldap` flavour maps it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DirUser {
    name: String,
    display: Option<String>,
    mail: Option<String>,
    enabled: bool,
}

/// The directory: users by entryUUID, and each group's effective (nested) user members.
#[derive(Clone, Debug, Default)]
struct Directory {
    users: BTreeMap<String, DirUser>,
    /// Group cn → entryUUIDs of its users, through nested groups.
    members: BTreeMap<String, BTreeSet<String>>,
}

impl Directory {
    /// Reads the directory as the admin sees it (not through idsync).
    fn read(slapd: &Slapd) -> Self {
        let ldif = slapd
            .search(
                BASE,
                "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",
                &["*", "entryUUID", "pwdAccountLockedTime"],
            )
            .unwrap();
        let mut directory = Self::default();
        let mut users_by_dn = BTreeMap::new();
        let mut groups_by_dn: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for entry in parse_ldif(&ldif) {
            let dn = normalize_dn(&entry.dn);
            let first = |attr: &str| entry.attrs.get(attr).and_then(|v| v.first()).cloned();
            let classes = entry.attrs.get("objectclass").cloned().unwrap_or_default();
            let has = |class: &str| classes.iter().any(|c| c.eq_ignore_ascii_case(class));
            if has("inetOrgPerson") && dn.ends_with(&format!(",{}", normalize_dn(PEOPLE))) {
                let id = first("entryuuid").unwrap().to_lowercase();
                directory.users.insert(
                    id.clone(),
                    DirUser {
                        name: first("uid").unwrap(),
                        display: first("displayname"),
                        mail: first("mail"),
                        enabled: first("pwdaccountlockedtime").is_none(),
                    },
                );
                users_by_dn.insert(dn, id);
            } else if has("groupOfNames") && dn.ends_with(&format!(",{}", normalize_dn(GROUPS))) {
                let members = entry
                    .attrs
                    .get("member")
                    .map(|m| m.iter().map(|d| normalize_dn(d)).collect())
                    .unwrap_or_default();
                groups_by_dn.insert(dn, (first("cn").unwrap(), members));
            }
        }
        for (dn, (cn, _)) in &groups_by_dn {
            let mut seen = BTreeSet::from([dn.clone()]);
            let mut stack = vec![dn.clone()];
            let mut users = BTreeSet::new();
            while let Some(current) = stack.pop() {
                for member in groups_by_dn
                    .get(&current)
                    .map(|g| &g.1)
                    .into_iter()
                    .flatten()
                {
                    if let Some(user) = users_by_dn.get(member) {
                        users.insert(user.clone());
                    } else if groups_by_dn.contains_key(member) && seen.insert(member.clone()) {
                        stack.push(member.clone());
                    }
                }
            }
            directory.members.insert(cn.clone(), users);
        }
        directory
    }

    /// The wiki groups the user `id` should hold: the mapped groups of its effective groups.
    fn wiki_groups(&self, id: &str) -> BTreeSet<String> {
        GROUP_MAP
            .iter()
            .filter(|(cn, _)| self.members.get(*cn).is_some_and(|m| m.contains(id)))
            .map(|(_, wiki)| (*wiki).to_owned())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The runner's workspace
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnDelete {
    Disable,
    Delete,
}

/// A temp dir with `idsync.toml` (ldap source → mediawiki sink) and the bind password.
struct Workspace {
    dir: TempDir,
}

impl Workspace {
    fn new(slapd: &Slapd, wiki: &MediaWiki, on_delete: OnDelete) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("idsync-mw-e2e-")
            .tempdir()
            .unwrap();
        let password = dir.path().join("bind.pw");
        std::fs::write(&password, format!("{SYNC_PASSWORD}\n")).unwrap();
        // The wiki's database password from a file where the URL allows it.
        let (url, db_password) = split_password(wiki.url());
        let db_password_line = match db_password {
            Some(secret) => {
                let path = dir.path().join("wiki-db.pw");
                std::fs::write(&path, format!("{secret}\n")).unwrap();
                format!("password_file = {:?}\n", path.display().to_string())
            }
            None => String::new(),
        };
        let groups = GROUP_MAP
            .iter()
            .map(|(cn, wiki)| format!("{cn} = {wiki:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let on_delete = match on_delete {
            OnDelete::Disable => "disable",
            OnDelete::Delete => "delete",
        };
        let config = format!(
            r#"[source]
type = "ldap"
url = {ldap:?}
base = {BASE:?}
bind_dn = {SYNC_DN:?}
password_file = {password:?}
timeout_seconds = 10

[source.users]
base = {PEOPLE:?}

[source.groups]
base = {GROUPS:?}

[sink]
plugin = "mediawiki"
url = {url:?}
{db_password_line}prefix = {prefix:?}
schema = "mediawiki"
groups = {{ {groups} }}
blocker = {BLOCKER:?}
block_reason = {REASON:?}

[sync]
on_delete = "{on_delete}"
match = "name"
retry_initial_delay = 0.2
retry_max_delay = 1
"#,
            ldap = slapd.url(),
            password = password.display().to_string(),
            prefix = wiki.prefix(),
        );
        std::fs::write(dir.path().join("idsync.toml"), config).unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn sync_once(&self) -> RunOutput {
        let out = runner::run(&["sync", "--once", "--config", "idsync.toml"], self.path());
        assert_eq!(out.code, Some(0), "sync --once failed:\n{}", out.stderr);
        out
    }

    fn follow(&self) -> RunnerProcess {
        RunnerProcess::spawn(&["sync", "--config", "idsync.toml"], self.path())
    }
}

/// `scheme://user:secret@host/db` → (`scheme://user@host/db`, Some(secret)).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return (url.to_owned(), None);
    };
    match userinfo.split_once(':') {
        Some((user, secret)) => (format!("{scheme}://{user}@{host}"), Some(secret.to_owned())),
        None => (url.to_owned(), None),
    }
}

// ---------------------------------------------------------------------------------------
// The wiki
// ---------------------------------------------------------------------------------------

/// Installs a wiki on `kind` (with its own server), or None after a loud skip.
fn servers(kind: MwKind) -> bool {
    let checks = [
        ("slapd", Slapd::available()),
        ("mediawiki", MediaWiki::available()),
        (
            "database server",
            match kind {
                MwKind::Sqlite => Ok(()),
                MwKind::MariaDb => MariaDb::available(),
                MwKind::Postgres => Postgres::available(),
            },
        ),
    ];
    for (what, check) in checks {
        if let Err(why) = check {
            missing_server(what, &why);
            return false;
        }
    }
    true
}

/// Runs a MediaWiki maintenance script with `stdin` (the kit's helper gives none).
fn maintenance_with_input(wiki: &MediaWiki, script: &str, args: &[&str], stdin: &str) {
    let ip = std::env::var_os("MW_INSTALL_PATH")
        .map_or_else(|| PathBuf::from("/usr/share/mediawiki"), PathBuf::from);
    let mut child = Command::new("php")
        .arg(ip.join("maintenance").join(format!("{script}.php")))
        .arg("--conf")
        .arg(wiki.local_settings())
        .args(args)
        .env("MW_INSTALL_PATH", &ip)
        .current_dir(&ip)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{script}.php failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Entry ids the sink has quarantined (its documented bookkeeping table).
fn quarantined(wiki: &MediaWiki) -> BTreeSet<String> {
    let table = match wiki.kind() {
        MwKind::Postgres => "\"mediawiki\".idsync_quarantine",
        _ => "idsync_quarantine",
    };
    wiki.query(&format!("SELECT entry_id FROM {table}"))
        .unwrap()
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .map(|id| id.to_lowercase())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The expectation: the wiki equals the directory
// ---------------------------------------------------------------------------------------

/// What a comparison found besides differences.
struct Outcome {
    /// entryUUID → wiki id, seen for the first time (created or adopted).
    learned: BTreeMap<String, u64>,
    /// Entries the sink must have quarantined (and nothing else).
    refused: BTreeSet<String>,
}

/// What the last equal state held for a managed account.
#[derive(Clone, Debug)]
struct Last {
    name: String,
    enabled: bool,
    real_name: String,
    email: String,
    groups: BTreeSet<String>,
    token: Option<String>,
}

/// The expected wiki, built from the directory, and what earlier steps established.
struct Expect {
    on_delete: OnDelete,
    managed: BTreeSet<String>,
    /// entryUUID → wiki user id (learned at the first equal step, or adopted).
    ids: BTreeMap<String, u64>,
    /// Per wiki id of a managed account: the last equal state.
    last: BTreeMap<u64, Last>,
    /// Per wiki id: managed groups it lost (`user_former_groups`).
    former: BTreeMap<u64, BTreeSet<String>>,
    /// Per wiki id: groups set by hand that the sink must leave (unmanaged).
    unmanaged: BTreeMap<u64, BTreeSet<String>>,
    /// Wiki ids with history (kept and disabled by `on_delete = "delete"`).
    history: BTreeSet<u64>,
    /// Accounts the directory does not hold, as they were before the first sync.
    foreign: BTreeMap<u64, MwUser>,
    /// Canonical names MediaWiki gives the directory's raw names (None: refused).
    canonical: BTreeMap<String, Option<String>>,
}

impl Expect {
    /// Remembers every account of the wiki before the first sync.
    fn new(wiki: &MediaWiki, on_delete: OnDelete) -> Self {
        let foreign = wiki
            .check_all()
            .unwrap()
            .into_iter()
            .filter(|user| user.exists)
            .map(|user| (user.id, user))
            .collect();
        Self {
            on_delete,
            managed: GROUP_MAP
                .iter()
                .map(|(_, wiki)| (*wiki).to_owned())
                .collect(),
            ids: BTreeMap::new(),
            last: BTreeMap::new(),
            former: BTreeMap::new(),
            unmanaged: BTreeMap::new(),
            history: BTreeSet::new(),
            foreign,
            canonical: BTreeMap::new(),
        }
    }

    /// Asks MediaWiki (`UserNameUtils`) for the canonical form of every new raw name; a name
    /// the sink may write is creatable, valid and usable.
    fn learn_names(&mut self, wiki: &MediaWiki, directory: &Directory) {
        let new: Vec<&str> = directory
            .users
            .values()
            .map(|user| user.name.as_str())
            .filter(|name| !self.canonical.contains_key(*name))
            .collect();
        if new.is_empty() {
            return;
        }
        for verdict in wiki.check_names(&new).unwrap() {
            let ok = verdict.creatable && verdict.valid && verdict.usable;
            self.canonical
                .insert(verdict.raw, verdict.canonical.filter(|_| ok));
        }
    }

    fn canonical(&self, raw: &str) -> Option<&str> {
        self.canonical.get(raw).and_then(Option::as_deref)
    }

    /// The directory users whose names MediaWiki refuses (more entries are refused when
    /// their name belongs to another entry's account: see [`Expect::differences`]).
    fn invalid(&self, directory: &Directory) -> BTreeSet<String> {
        directory
            .users
            .iter()
            .filter(|(_, user)| self.canonical(&user.name).is_none())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Every difference between the wiki (`check_all`) and the directory; on success the
    /// entry → wiki id pairs seen for the first time and the entries that must be
    /// quarantined.
    fn differences(&self, directory: &Directory, wiki: &[MwUser]) -> Result<Outcome, Vec<String>> {
        let mut problems = Vec::new();
        let mut learned = BTreeMap::new();
        let mut refused = self.invalid(directory);
        let by_id: BTreeMap<u64, &MwUser> = wiki
            .iter()
            .filter(|u| u.exists)
            .map(|u| (u.id, u))
            .collect();
        let by_name: BTreeMap<&str, &MwUser> =
            by_id.values().map(|u| (u.name.as_str(), *u)).collect();
        let mut accounted = BTreeSet::new();
        for (entry, user) in &directory.users {
            let Some(name) = self.canonical(&user.name) else {
                // Refused: never written. Any account it had would be unaccounted below.
                continue;
            };
            let found = match self.ids.get(entry) {
                Some(id) => by_id.get(id).copied(),
                None => by_name.get(name).copied(),
            };
            let Some(found) = found else {
                problems.push(format!("{name} ({entry}) is not in the wiki"));
                continue;
            };
            let id = found.id;
            if !self.ids.contains_key(entry) {
                if self.ids.values().any(|known| *known == id) {
                    // The name belongs to another entry's account (present or gone): this
                    // entry is refused; that account is checked as the other entry's.
                    refused.insert(entry.clone());
                    continue;
                }
                learned.insert(entry.clone(), id);
            }
            accounted.insert(id);
            let mut groups = directory.wiki_groups(entry);
            groups.extend(self.unmanaged_groups(id));
            let last = self.last.get(&id);
            self.check_account(&mut problems, found, name, user, &groups, last);
        }
        // Entries that left the view.
        for (entry, id) in &self.ids {
            if directory.users.contains_key(entry) {
                continue;
            }
            let last = self.last.get(id);
            let last_name = last.map_or("?", |l| l.name.as_str());
            let kept = self.on_delete == OnDelete::Disable || self.history.contains(id);
            match by_id.get(id) {
                Some(found) if kept => {
                    accounted.insert(*id);
                    let gone = DirUser {
                        name: last_name.to_owned(),
                        display: last.map(|l| l.real_name.clone()),
                        mail: last.map(|l| l.email.clone()),
                        enabled: false,
                    };
                    let groups = self.unmanaged_groups(*id);
                    self.check_account(&mut problems, found, last_name, &gone, &groups, last);
                }
                Some(found) => problems.push(format!(
                    "{} ({entry}) left the view without history but was not deleted",
                    found.name
                )),
                None if kept => {
                    problems.push(format!("{last_name} ({entry}) left the view and vanished"))
                }
                None => {
                    if by_name.contains_key(last_name) {
                        problems.push(format!(
                            "the deleted account's name {last_name} is still taken"
                        ));
                    }
                }
            }
        }
        // Everything else is as it was, or the blocker.
        for user in by_id.values() {
            if accounted.contains(&user.id) {
                continue;
            }
            if let Some(before) = self.foreign.get(&user.id) {
                if *user != before {
                    problems.push(format!(
                        "the foreign account {} changed: {before:?} → {user:?}",
                        user.name
                    ));
                }
            } else if user.name == BLOCKER {
                if !(user.is_system
                    && user.token_invalid
                    && user.groups.is_empty()
                    && !user.is_blocked())
                {
                    problems.push(format!("the blocker is not a plain system user: {user:?}"));
                }
            } else {
                problems.push(format!("an account the directory does not hold: {user:?}"));
            }
        }
        if problems.is_empty() {
            Ok(Outcome { learned, refused })
        } else {
            Err(problems)
        }
    }

    /// The unmanaged groups account `id` keeps.
    fn unmanaged_groups(&self, id: u64) -> BTreeSet<String> {
        self.unmanaged.get(&id).cloned().unwrap_or_else(|| {
            self.foreign
                .get(&id)
                .map(|user| {
                    user.groups
                        .iter()
                        .filter(|g| !self.managed.contains(*g))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// The groups account `id` held at the last equal step (an adopted account: its own).
    fn last_groups(&self, id: u64) -> BTreeSet<String> {
        match (self.last.get(&id), self.foreign.get(&id)) {
            (Some(last), _) => last.groups.clone(),
            (None, Some(user)) => user.groups.iter().cloned().collect(),
            (None, None) => BTreeSet::new(),
        }
    }

    fn expected_former(&self, id: u64, groups: &BTreeSet<String>) -> BTreeSet<String> {
        let mut former = self.former.get(&id).cloned().unwrap_or_else(|| {
            self.foreign
                .get(&id)
                .map(|user| user.former_groups.iter().cloned().collect())
                .unwrap_or_default()
        });
        former.extend(
            self.last_groups(id)
                .difference(groups)
                .filter(|g| self.managed.contains(*g))
                .cloned(),
        );
        former
    }

    fn check_account(
        &self,
        problems: &mut Vec<String>,
        found: &MwUser,
        name: &str,
        user: &DirUser,
        groups: &BTreeSet<String>,
        last: Option<&Last>,
    ) {
        let mut wrong = |what: String| problems.push(format!("{name} (id {}): {what}", found.id));
        if found.name != name {
            wrong(format!("named {:?}", found.name));
        }
        if !found.loads_by_name || found.actor_id == 0 {
            wrong(format!("does not load by name (actor {})", found.actor_id));
        }
        if found.is_system || found.token_invalid {
            wrong("is a system user".to_owned());
        }
        let real_name = user.display.clone().unwrap_or_default();
        if found.real_name != real_name {
            wrong(format!(
                "real name {:?}, directory {real_name:?}",
                found.real_name
            ));
        }
        let email = user.mail.clone().unwrap_or_default();
        if found.email != email {
            wrong(format!("email {:?}, directory {email:?}", found.email));
        }
        if !email.is_empty() && found.email_authenticated.is_none() {
            wrong("email not confirmed".to_owned());
        }
        let actual: BTreeSet<String> = found.groups.iter().cloned().collect();
        if actual != *groups {
            wrong(format!("groups {actual:?}, expected {groups:?}"));
        }
        let effective: BTreeSet<String> = found.effective_groups.iter().cloned().collect();
        let implicit: BTreeSet<String> = effective.difference(groups).cloned().collect();
        if !groups.is_subset(&effective)
            || !implicit.iter().all(|g| IMPLICIT.contains(&g.as_str()))
            || !implicit.contains("user")
        {
            wrong(format!(
                "effective groups {effective:?} for explicit {groups:?}"
            ));
        }
        let former = self.expected_former(found.id, groups);
        let actual_former: BTreeSet<String> = found.former_groups.iter().cloned().collect();
        if actual_former != former {
            wrong(format!(
                "former groups {actual_former:?}, expected {former:?}"
            ));
        }
        match (&found.block, user.enabled) {
            (None, true) => {}
            (Some(block), true) => wrong(format!("blocked though enabled: {block:?}")),
            (None, false) => wrong("not blocked though disabled".to_owned()),
            (Some(block), false) => {
                if block.blocker.as_deref() != Some(BLOCKER)
                    || block.reason != REASON
                    || block.expiry != "infinity"
                    || !block.sitewide
                    || !block.create_account
                    || block.target != name
                {
                    wrong(format!("wrong block {block:?}"));
                }
            }
        }
        if let Some(last) = last {
            let renamed = last.name != name;
            let disabled_now = last.enabled && !user.enabled;
            let untouched = !renamed
                && last.enabled == user.enabled
                && last.real_name == real_name
                && last.email == email
                && last.groups == *groups;
            if (renamed || disabled_now) && found.token == last.token {
                wrong("sessions not ended (same token) after a rename or disable".to_owned());
            }
            if untouched && found.token != last.token {
                wrong("token changed though nothing happened to the account".to_owned());
            }
        }
    }

    /// Records an equal state: learned ids, last states, former groups.
    fn commit(&mut self, directory: &Directory, wiki: &[MwUser], learned: BTreeMap<String, u64>) {
        for (entry, id) in learned {
            let unmanaged = self.unmanaged_groups(id);
            self.unmanaged.insert(id, unmanaged);
            self.ids.insert(entry, id);
        }
        let by_id: BTreeMap<u64, &MwUser> = wiki
            .iter()
            .filter(|u| u.exists)
            .map(|u| (u.id, u))
            .collect();
        for (entry, id) in &self.ids {
            let Some(found) = by_id.get(id) else {
                // Deleted: its last state stays (its name must stay free).
                continue;
            };
            let groups: BTreeSet<String> = found.groups.iter().cloned().collect();
            let former = self.expected_former(*id, &groups);
            self.former.insert(*id, former);
            let enabled = directory.users.get(entry).is_some_and(|u| u.enabled);
            self.last.insert(
                *id,
                Last {
                    name: found.name.clone(),
                    enabled,
                    real_name: found.real_name.clone(),
                    email: found.email.clone(),
                    groups,
                    token: found.token.clone(),
                },
            );
        }
    }
}

/// One scenario: the directory, the wiki, the runner's workspace and the expectation.
struct Scenario {
    slapd: Slapd,
    wiki: MediaWiki,
    ws: Workspace,
    expect: Expect,
    steps: usize,
    started: Instant,
}

impl Scenario {
    /// `prepare` runs on the wiki before the expectation snapshots it (accounts made by hand).
    fn new(
        kind: MwKind,
        prefix: Option<&str>,
        on_delete: OnDelete,
        ldif: String,
        prepare: impl FnOnce(&MediaWiki),
    ) -> Self {
        let started = Instant::now();
        let wiki = MediaWiki::install_with_own_server(kind, prefix).unwrap();
        prepare(&wiki);
        let slapd = start_slapd(ldif);
        let ws = Workspace::new(&slapd, &wiki, on_delete);
        let expect = Expect::new(&wiki, on_delete);
        eprintln!(
            "{kind:?}: servers and wiki ready in {:?}",
            started.elapsed()
        );
        Self {
            slapd,
            wiki,
            ws,
            expect,
            steps: 0,
            started,
        }
    }

    fn directory(&mut self) -> Directory {
        let directory = Directory::read(&self.slapd);
        self.expect.learn_names(&self.wiki, &directory);
        directory
    }

    /// Compares once; on success records the state.
    fn try_equal(&mut self, directory: &Directory) -> Result<(), Vec<String>> {
        let wiki = self.wiki.check_all().unwrap();
        let outcome = self.expect.differences(directory, &wiki)?;
        let quarantined = quarantined(&self.wiki);
        if quarantined != outcome.refused {
            return Err(vec![format!(
                "quarantined {quarantined:?}, but the refused entries are {:?}",
                outcome.refused
            )]);
        }
        self.expect.commit(directory, &wiki, outcome.learned);
        Ok(())
    }

    /// `idsync sync --once`, then the wiki must equal the directory.
    fn step(&mut self, what: &str) -> Directory {
        let step = Instant::now();
        let out = self.ws.sync_once();
        let directory = self.directory();
        if let Err(problems) = self.try_equal(&directory) {
            panic!(
                "{what}: the wiki does not equal the directory:\n  {}\ndirectory: {directory:#?}\nrunner:\n{}",
                problems.join("\n  "),
                out.stderr
            );
        }
        self.steps += 1;
        eprintln!(
            "{:?} step {what}: equal after {:?}",
            self.wiki.kind(),
            step.elapsed()
        );
        directory
    }

    /// Waits (persist mode) until the wiki equals the directory.
    fn wait_equal(&mut self, what: &str, runner: &RunnerProcess) -> Directory {
        let step = Instant::now();
        let directory = self.directory();
        let mut last = Vec::new();
        let equal = wait_until(LAND, || match self.try_equal(&directory) {
            Ok(()) => true,
            Err(problems) => {
                last = problems;
                false
            }
        });
        assert!(
            equal,
            "{what}: the wiki does not equal the directory:\n  {}\ndirectory: {directory:#?}\nrunner:\n{}",
            last.join("\n  "),
            runner.log()
        );
        self.steps += 1;
        eprintln!(
            "{:?} step {what}: equal after {:?}",
            self.wiki.kind(),
            step.elapsed()
        );
        directory
    }

    fn user(&self, name: &str) -> MwUser {
        self.wiki.check_user(name).unwrap()
    }

    fn done(&self) {
        eprintln!(
            "{:?}: {} steps equal, {:?} in all",
            self.wiki.kind(),
            self.steps,
            self.started.elapsed()
        );
    }
}

fn dns(uids: &[&str]) -> Vec<String> {
    uids.iter().map(|uid| user_dn(uid)).collect()
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// The full scenario on SQLite without a prefix, `sync --once` per step (so every step is a
/// runner restart resuming from its cookie).
#[test]
fn mediawiki_e2e_sqlite_every_change_through_the_runner() {
    if !servers(MwKind::Sqlite) {
        return;
    }
    let mut devs = dns(&["bob", "dave"]);
    devs.sort();
    let ldif = seed(
        &[
            ("admin", "Wiki Admin"),
            ("alice", "Alice Liddell"),
            ("bob", "Bob Builder"),
            ("carol", "Carol Danvers"),
            ("dave", "Dave Lister"),
            ("émile", "Émile Zola"),
            ("jean_luc", "Jean-Luc Picard"),
            ("bad|name", "Bad Name"),
            ("10.0.0.1", "An Address"),
        ],
        &[
            ("admins", dns(&["admin", "alice"])),
            ("devs", devs),
            ("editors", vec![group_dn("devs"), user_dn("carol")]),
        ],
    );
    let carol_password = "Carol-Passw0rd!2024";
    let mut s = Scenario::new(MwKind::Sqlite, None, OnDelete::Disable, ldif, |wiki| {
        // An account made through MediaWiki itself, with an unmanaged group, to be adopted.
        wiki.maintenance("createAndPromote", &["--bot", "Carol", carol_password])
            .unwrap();
    });
    let carol_before = s.user("Carol");
    assert!(
        carol_before.exists && carol_before.groups == ["bot"],
        "{carol_before:?}"
    );

    // Initial sync: adoption of Admin (installer) and Carol (createAndPromote), canonical
    // names, nested groups, two refused names.
    let dir = s.step("initial sync");
    assert_eq!(
        s.expect.invalid(&dir).len(),
        2,
        "bad|name and 10.0.0.1 are refused"
    );
    let admin = s.user("Admin");
    assert_eq!(
        admin.id, 1,
        "the installer's Admin was adopted, not duplicated"
    );
    assert_eq!(admin.groups, ["bureaucrat", "interface-admin", "sysop"]);
    assert_eq!(admin.real_name, "Wiki Admin");
    let carol = s.user("Carol");
    assert_eq!(carol.id, carol_before.id, "Carol was adopted");
    assert_eq!(carol.groups, ["bot", "editor"]);
    assert_eq!(s.user("Émile").real_name, "Émile Zola");
    assert!(s.user("Jean luc").exists, "jean_luc is stored canonically");
    assert_eq!(
        s.user("Bob").groups,
        ["developer", "editor"],
        "editor through devs ⊂ editors"
    );
    assert!(!s.user("Bad|name").exists && !s.user("10.0.0.1").exists);

    // Create.
    s.slapd.add_ldif(&person("frank", "Frank Zappa")).unwrap();
    add_member(&s.slapd, "devs", &user_dn("frank"));
    s.step("create (into a nested group)");
    assert_eq!(s.user("Frank").groups, ["developer", "editor"]);

    // Modify.
    modify(
        &s.slapd,
        &user_dn("alice"),
        "replace: displayName\ndisplayName: Alice Pleasance Liddell\n-\nreplace: mail\nmail: alice@wonderland.example",
    );
    s.step("modify real name and email");
    assert_eq!(s.user("Alice").email, "alice@wonderland.example");

    // Disable, rename while disabled, enable.
    let dave = s.user("Dave");
    s.slapd.set_account_lock(&user_dn("dave"), true).unwrap();
    s.step("disable (ppolicy lock)");
    let blocked = s.user("Dave");
    assert!(blocked.is_blocked() && blocked.token != dave.token);
    modrdn(&s.slapd, &user_dn("dave"), "uid=david", None);
    s.step("rename a disabled user");
    assert!(!s.user("Dave").exists, "the old name is free");
    let david = s.user("David");
    assert_eq!(david.id, dave.id);
    assert_eq!(
        david.block.as_ref().map(|b| b.target.as_str()),
        Some("David"),
        "the block follows"
    );
    s.slapd.set_account_lock(&user_dn("david"), false).unwrap();
    s.step("enable");
    assert!(!s.user("David").is_blocked());

    // Group membership: remove, add, the adopted Admin loses only the managed group.
    remove_member(&s.slapd, "admins", &user_dn("alice"));
    add_member(&s.slapd, "admins", &user_dn("carol"));
    remove_member(&s.slapd, "admins", &user_dn("admin"));
    s.step("group add and remove");
    let admin = s.user("Admin");
    assert_eq!(admin.groups, ["bureaucrat", "interface-admin"]);
    assert_eq!(admin.former_groups, ["sysop"]);
    assert_eq!(s.user("Alice").former_groups, ["sysop"]);
    assert_eq!(s.user("Carol").groups, ["bot", "editor", "sysop"]);

    // Nested groups: devs leaves editors; leads (unmapped) nests into admins, devs into leads.
    remove_member(&s.slapd, "editors", &group_dn("devs"));
    s.slapd
        .add_ldif(&group("leads", &dns(&["jean_luc"])))
        .unwrap();
    add_member(&s.slapd, "admins", &group_dn("leads"));
    s.step("nested: a group leaves, an unmapped group nests in");
    assert_eq!(s.user("Jean luc").groups, ["sysop"]);
    assert_eq!(s.user("Bob").groups, ["developer"]);
    add_member(&s.slapd, "leads", &group_dn("devs"));
    s.step("nested two levels deep");
    assert_eq!(s.user("Frank").groups, ["developer", "sysop"]);

    // Invalid names: one more refused, a refused one renamed to a valid name is created.
    s.slapd.add_ldif(&person("x#y", "Hash Name")).unwrap();
    modrdn(&s.slapd, &user_dn("bad|name"), "uid=goodname", None);
    s.step("a refused name added, another renamed to a valid one");
    assert!(s.user("Goodname").exists);

    // Leaving the view (on_delete = disable) and coming back; a real delete.
    modrdn(&s.slapd, &user_dn("carol"), "uid=carol", Some(ALUMNI));
    s.step("move out of the view");
    let gone = s.user("Carol");
    assert!(gone.is_blocked() && gone.groups == ["bot"], "{gone:?}");
    modrdn(
        &s.slapd,
        &format!("uid=carol,{ALUMNI}"),
        "uid=carol",
        Some(PEOPLE),
    );
    s.step("move back");
    assert_eq!(s.user("Carol").groups, ["bot", "editor", "sysop"]);
    s.slapd.delete(&user_dn("bob")).unwrap();
    s.step("delete");
    let bob = s.user("Bob");
    assert!(bob.is_blocked() && bob.groups.is_empty(), "{bob:?}");
    assert_eq!(bob.former_groups, ["developer", "editor", "sysop"]);

    // A directory group renamed: devs → developers (unmapped); refint keeps the nesting.
    modrdn(&s.slapd, &group_dn("devs"), "cn=developers", None);
    s.step("a mapped group renamed to an unmapped name");
    assert_eq!(s.user("Frank").groups, ["sysop"]);

    // A refused entry in a mapped group: nothing of it is written, the others are unaffected.
    add_member(&s.slapd, "admins", &user_dn("x#y"));
    s.step("a refused entry in a mapped group");

    // A second entry whose name is canonically that of a synced account is refused.
    s.slapd
        .add_ldif(&person("Jean luc", "Another Jean-Luc"))
        .unwrap();
    s.step("a second entry with a synced account's name");
    assert_eq!(
        s.user("Jean luc").real_name,
        "Jean-Luc Picard",
        "the first keeps its account"
    );

    // Deleted and re-created under the same name (a new entryUUID): the blocked account
    // belongs to the gone entry (it may come back), so the new entry is refused.
    s.slapd.delete(&user_dn("frank")).unwrap();
    s.step("delete frank");
    s.slapd.add_ldif(&person("frank", "Frank Again")).unwrap();
    s.step("re-create frank with a new entryUUID");
    assert!(s.user("Frank").is_blocked());

    // A run with nothing to do changes nothing (tokens, rows: checked by the comparison).
    let dir = s.step("no change");

    // The comparison has teeth: differences made by hand behind the sink are each reported.
    let (alice, goodname, bob) = (s.user("Alice").id, s.user("Goodname").id, s.user("Bob").id);
    let sql = format!(
        "INSERT INTO {groups} (ug_user, ug_group, ug_expiry) VALUES ({alice}, 'editor', NULL);
         UPDATE {user} SET user_token = 'ffffffffffffffffffffffffffffffff' WHERE user_id = {goodname};
         DELETE FROM {ipblocks} WHERE ipb_user = {bob};",
        groups = s.wiki.table("user_groups"),
        user = s.wiki.table("user"),
        ipblocks = s.wiki.table("ipblocks"),
    );
    s.wiki.execute(&sql).unwrap();
    let problems = s
        .expect
        .differences(&dir, &s.wiki.check_all().unwrap())
        .err()
        .unwrap_or_default();
    let reported = |what: &str| problems.iter().any(|p| p.contains(what));
    assert!(
        reported("Alice (id")
            && reported("token changed")
            && reported("not blocked though disabled"),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .all(|p| ["Alice (id", "Goodname (id", "Bob (id"]
                .iter()
                .any(|who| p.starts_with(who))),
        "only the tampered accounts differ: {problems:#?}"
    );
    s.done();
}

/// Persist mode on SQLite with a table prefix: the runner follows the directory; it is
/// stopped, the directory changes, it is restarted and catches up.
#[test]
fn mediawiki_e2e_sqlite_prefix_persist_and_restart() {
    if !servers(MwKind::Sqlite) {
        return;
    }
    let ldif = seed(
        &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
        &[
            ("admins", dns(&["alice"])),
            ("devs", dns(&["bob"])),
            ("editors", vec![group_dn("devs")]),
        ],
    );
    let mut s = Scenario::new(MwKind::Sqlite, Some("mw_"), OnDelete::Disable, ldif, |_| {});
    let mut runner = s.ws.follow();
    s.wait_equal("initial refresh", &runner);

    s.slapd.add_ldif(&person("dave", "Dave")).unwrap();
    s.wait_equal("create", &runner);
    add_member(&s.slapd, "devs", &user_dn("dave"));
    s.wait_equal("group add (nested)", &runner);
    modify(
        &s.slapd,
        &user_dn("bob"),
        "replace: mail\nmail: robert@example.org",
    );
    s.wait_equal("modify", &runner);
    s.slapd.set_account_lock(&user_dn("carol"), true).unwrap();
    s.wait_equal("disable", &runner);
    assert_eq!(
        s.user("Carol").block.map(|b| b.reason),
        Some(REASON.to_owned())
    );

    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "runner:\n{}",
        runner.log()
    );

    // While it is stopped: rename, enable, delete, membership and nesting changes.
    modrdn(&s.slapd, &user_dn("alice"), "uid=alicia", None);
    s.slapd.set_account_lock(&user_dn("carol"), false).unwrap();
    s.slapd.delete(&user_dn("bob")).unwrap();
    add_member(&s.slapd, "admins", &group_dn("editors"));
    s.slapd.add_ldif(&person("erin", "Erin")).unwrap();
    let mut runner = s.ws.follow();
    s.wait_equal("restart after changes", &runner);
    assert!(!s.user("Alice").exists && s.user("Alicia").groups == ["sysop"]);
    assert_eq!(s.user("Dave").groups, ["developer", "editor", "sysop"]);

    modify(
        &s.slapd,
        &user_dn("erin"),
        "replace: displayName\ndisplayName: Erin E.",
    );
    s.wait_equal("modify after restart", &runner);
    runner.signal(Signal::SIGTERM);
    let status = runner.wait_timeout(Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "runner:\n{}",
        runner.log()
    );
    s.done();
}

/// A refused entry that leaves the directory leaves the quarantine too (`idsync_quarantine`
/// lists what the directory holds and the wiki refused, nothing else).
#[test]
fn mediawiki_e2e_sqlite_quarantine_follows_the_directory() {
    if !servers(MwKind::Sqlite) {
        return;
    }
    let ldif = seed(
        &[
            ("alice", "Alice"),
            ("a|b", "Refused"),
            ("10.1.2.3", "Refused"),
        ],
        &[("admins", dns(&["alice", "a|b"]))],
    );
    let mut s = Scenario::new(MwKind::Sqlite, None, OnDelete::Disable, ldif, |_| {});
    s.step("initial sync");
    // `alice_` is `Alice` in MediaWiki's canonical form.
    s.slapd.add_ldif(&person("alice_", "Second Alice")).unwrap();
    s.step("a second entry with a synced account's name");
    s.slapd.delete(&user_dn("a|b")).unwrap();
    s.slapd.delete(&user_dn("alice_")).unwrap();
    s.step("refused entries deleted");
    s.done();
}

/// The shorter scenario for the database servers.
fn short_scenario(kind: MwKind, prefix: Option<&str>, on_delete: OnDelete) {
    if !servers(kind) {
        return;
    }
    let ldif = seed(
        &[
            ("admin", "Wiki Admin"),
            ("alice", "Alice"),
            ("bob", "Bob"),
            ("carol", "Carol"),
            ("émile", "Émile"),
            ("a|b", "Refused"),
        ],
        &[
            ("admins", dns(&["admin", "alice"])),
            ("devs", dns(&["bob"])),
            ("editors", vec![group_dn("devs"), user_dn("carol")]),
        ],
    );
    let mut s = Scenario::new(kind, prefix, on_delete, ldif, |_| {});
    s.step("initial sync");
    assert_eq!(s.user("Admin").id, 1, "Admin adopted");
    assert_eq!(s.user("Bob").groups, ["developer", "editor"]);
    // Alice gets history: an edit through MediaWiki's own edit.php.
    maintenance_with_input(
        &s.wiki,
        "edit",
        &["--user", "Alice", "Sandbox"],
        "Hello from Alice.",
    );
    s.expect.history.insert(s.user("Alice").id);

    s.slapd.add_ldif(&person("dave", "Dave")).unwrap();
    add_member(&s.slapd, "devs", &user_dn("dave"));
    modify(
        &s.slapd,
        &user_dn("carol"),
        "replace: mail\nmail: carol@new.example",
    );
    modrdn(&s.slapd, &user_dn("bob"), "uid=robert", None);
    s.slapd.set_account_lock(&user_dn("émile"), true).unwrap();
    remove_member(&s.slapd, "editors", &group_dn("devs"));
    add_member(&s.slapd, "admins", &group_dn("devs"));
    s.step("create, modify, rename, disable, nested group change");
    assert!(!s.user("Bob").exists && s.user("Robert").groups == ["developer", "sysop"]);
    assert!(s.user("Émile").is_blocked());

    s.slapd.delete(&user_dn("alice")).unwrap();
    s.slapd.delete(&user_dn("carol")).unwrap();
    s.step("delete (one account with history, one without)");
    assert!(
        s.user("Alice").is_blocked(),
        "an account with history is kept, blocked"
    );
    match on_delete {
        OnDelete::Delete => assert!(!s.user("Carol").exists, "no history: deleted"),
        OnDelete::Disable => assert!(s.user("Carol").is_blocked()),
    }
    s.done();
}

#[test]
fn mediawiki_e2e_mariadb_with_prefix() {
    short_scenario(MwKind::MariaDb, Some("mw_"), OnDelete::Disable);
}

#[test]
fn mediawiki_e2e_postgres_delete() {
    short_scenario(MwKind::Postgres, None, OnDelete::Delete);
}
