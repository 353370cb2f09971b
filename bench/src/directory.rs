//! The directory under test: a private slapd seeded with the synthetic directory, its read
//! floor (`ldapsearch -E sync=ro`), and one persistent LDAP connection for modifies.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use idsync_testkit::slapd::{gen_directory, DirectoryShape, GenOptions, Seed, Slapd, SlapdOptions};
use ldap3::{LdapConn, LdapConnSettings, Mod};

use crate::stats::Samples;

/// The entries idsync reads (the rfc2307 flavour with groupOfNames groups added).
pub const SYNC_FILTER: &str =
    "(|(objectClass=posixAccount)(objectClass=posixGroup)(objectClass=groupOfNames))";
/// The groups' filter in the idsync configuration.
pub const GROUPS_FILTER: &str = "(|(objectClass=posixGroup)(objectClass=groupOfNames))";

/// A running slapd holding the synthetic directory.
pub struct Directory {
    /// The server.
    pub slapd: Slapd,
    /// What was generated.
    pub shape: DirectoryShape,
    /// Direct membership values (`member` and `memberUid`), group-in-group included.
    pub memberships: usize,
    /// Size of the LDIF.
    pub ldif_bytes: usize,
    /// Generating the LDIF, `slapadd -q` and starting the server.
    pub load_time: Duration,
}

impl Directory {
    /// Generates `users` users (groups: a tenth) and starts a slapd holding them.
    pub fn start(users: usize, max_members: usize) -> Result<Self> {
        let start = Instant::now();
        let options = GenOptions {
            max_members,
            ..GenOptions::default()
        };
        let ldif = gen_directory(users, &options);
        let memberships = ldif
            .lines()
            .filter(|line| line.starts_with("member:") || line.starts_with("memberUid:"))
            .count();
        let ldif_bytes = ldif.len();
        let slapd = Slapd::start(SlapdOptions::default().seed(Seed::Ldif(ldif)).debug("0"))
            .context("start slapd")?;
        Ok(Self {
            slapd,
            shape: DirectoryShape::for_users(users),
            memberships,
            ldif_bytes,
            load_time: start.elapsed(),
        })
    }

    /// Groups of every kind.
    pub fn groups(&self) -> usize {
        self.shape.posix_groups + self.shape.plain_groups + self.shape.nested_groups
    }

    /// One line describing the data.
    pub fn describe(&self) -> String {
        format!(
            "{} users, {} groups ({} posixGroup, {} groupOfNames, {} nested), {} membership values, \
             LDIF {:.0} MB, generated + slapadd -q + started in {:.1} s",
            self.shape.users,
            self.groups(),
            self.shape.posix_groups,
            self.shape.plain_groups,
            self.shape.nested_groups,
            self.memberships,
            self.ldif_bytes as f64 / 1e6,
            self.load_time.as_secs_f64()
        )
    }

    /// The `[source]` table for this directory (`rfc2307`, groupOfNames groups too).
    pub fn source_toml(&self, password_file: &Path) -> String {
        format!(
            "[source]\ntype = \"rfc2307\"\nurl = \"{url}\"\nbase = \"{base}\"\nbind_dn = \"{dn}\"\n\
             password_file = \"{pw}\"\n\n[source.groups]\nfilter = \"{filter}\"\n",
            url = self.slapd.url(),
            base = self.slapd.base(),
            dn = self.slapd.admin_dn(),
            pw = password_file.display(),
            filter = GROUPS_FILTER,
        )
    }

    /// The `ldapsearch` command line of the read floor (for the report).
    pub fn floor_command(&self) -> String {
        format!(
            "ldapsearch -x -H {} -D {} -w *** -b {} -E sync=ro '{SYNC_FILTER}' '*' '+' > /dev/null",
            self.slapd.url(),
            self.slapd.admin_dn(),
            self.slapd.base()
        )
    }

    /// CPU time slapd has used so far.
    pub fn slapd_cpu(&self) -> Duration {
        self.slapd
            .pid()
            .and_then(crate::process::process_cpu)
            .unwrap_or_default()
    }

    /// Times `runs` reads of the floor (after one unmeasured warm-up read): wall times, and
    /// CPU times of ldapsearch plus slapd.
    pub fn measure_floor(&self, runs: usize, work: &Path) -> Result<(Samples, Samples)> {
        let mut wall = Samples::new();
        let mut cpu = Samples::new();
        for run in 0..=runs {
            let mut command = Command::new("ldapsearch");
            command
                .env("LDAPNOINIT", "1")
                .args([
                    "-x",
                    "-H",
                    self.slapd.url(),
                    "-D",
                    self.slapd.admin_dn(),
                    "-w",
                ])
                .arg(self.slapd.admin_password())
                .args([
                    "-b",
                    self.slapd.base(),
                    "-E",
                    "sync=ro",
                    SYNC_FILTER,
                    "*",
                    "+",
                ]);
            let before = self.slapd_cpu();
            let timed = crate::process::timed(&mut command, work, &format!("floor-{run}"))?;
            let server = self.slapd_cpu().saturating_sub(before);
            if run > 0 {
                wall.push_secs(timed.wall);
                cpu.push_secs(timed.cpu + server);
            }
        }
        Ok((wall, cpu))
    }

    /// A persistent connection, bound as the admin.
    pub fn writer(&self) -> Result<Writer> {
        let settings = LdapConnSettings::new().set_conn_timeout(Duration::from_secs(10));
        let mut conn = LdapConn::with_settings(settings, self.slapd.url())
            .with_context(|| format!("connect to {}", self.slapd.url()))?;
        conn.simple_bind(self.slapd.admin_dn(), self.slapd.admin_password())
            .context("bind")?
            .success()
            .map_err(|error| anyhow!("bind as the admin: {error}"))?;
        Ok(Writer { conn })
    }
}

/// The login name of user `index`.
pub fn user_uid(index: usize) -> String {
    format!("user{index:06}")
}

/// The DN of user `index`.
fn user_dn(index: usize) -> String {
    format!(
        "uid={},ou=people,{}",
        user_uid(index),
        idsync_testkit::slapd::BASE
    )
}

/// One LDAP connection for every modify (no process per change).
pub struct Writer {
    conn: LdapConn,
}

impl Writer {
    /// Replaces user `index`'s displayName; returns when the server has answered.
    pub fn set_display_name(&mut self, index: usize, value: &str) -> Result<()> {
        let dn = user_dn(index);
        self.conn
            .modify(
                &dn,
                vec![Mod::Replace("displayName", HashSet::from([value]))],
            )
            .with_context(|| format!("modify {dn}"))?
            .success()
            .map_err(|error| anyhow!("modify {dn}: {error}"))?;
        Ok(())
    }
}
