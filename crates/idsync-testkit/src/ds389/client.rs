//! Talking to a running instance with the OpenLDAP client tools (`ldapmodify`, `ldapdelete`,
//! `ldapsearch`) over `ldap://127.0.0.1:PORT`, as the root DN, the sync account or anonymously.

use std::process::Command;

use crate::daemon::run_tool;
use crate::error::ServerError;
use crate::slapd::process::tool_command;
use crate::slapd::SyncRefresh;

use super::{Ds389, ADMIN_DN, ADMIN_PASSWORD, SERVER, SYNC_DN, SYNC_PASSWORD};

/// Who a client tool binds as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    /// `cn=Directory Manager` (no ACIs, no limits).
    Admin,
    /// The non-admin sync account [`SYNC_DN`](super::SYNC_DN).
    Sync,
    /// No bind.
    Anonymous,
}

/// The retro changelog's range as the root DSE announces it (`firstchangenumber`,
/// `lastchangenumber`; absent while the changelog is empty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangelogNumbers {
    /// The oldest change still in the changelog.
    pub first: Option<u64>,
    /// The newest change.
    pub last: Option<u64>,
}

impl Ds389 {
    /// Adds the entries of `ldif` (plain entry records) as the root DN (`ldapmodify -a`).
    pub fn add_ldif(&self, ldif: &str) -> Result<(), ServerError> {
        self.tool("ldapmodify", Bind::Admin, &["-a"], Some(ldif))
            .map(drop)
    }

    /// Applies change records (`changetype: add|modify|delete|modrdn`) as the root DN;
    /// cn=config changes too.
    pub fn modify_ldif(&self, ldif: &str) -> Result<(), ServerError> {
        self.tool("ldapmodify", Bind::Admin, &[], Some(ldif))
            .map(drop)
    }

    /// Deletes the entry `dn` as the root DN.
    pub fn delete(&self, dn: &str) -> Result<(), ServerError> {
        self.tool("ldapdelete", Bind::Admin, &[dn], None).map(drop)
    }

    /// Renames `dn` to `new_rdn` (the old RDN value is deleted), optionally moving it under
    /// `new_superior`.
    pub fn modrdn(
        &self,
        dn: &str,
        new_rdn: &str,
        new_superior: Option<&str>,
    ) -> Result<(), ServerError> {
        let mut ldif =
            format!("dn: {dn}\nchangetype: modrdn\nnewrdn: {new_rdn}\ndeleteoldrdn: 1\n");
        if let Some(superior) = new_superior {
            ldif.push_str(&format!("newsuperior: {superior}\n"));
        }
        self.modify_ldif(&ldif)
    }

    /// Replaces the values of `attr` of `dn` (no values: removes the attribute, absent or not).
    pub fn replace(&self, dn: &str, attr: &str, values: &[&str]) -> Result<(), ServerError> {
        let mut ldif = format!("dn: {dn}\nchangetype: modify\nreplace: {attr}\n");
        for value in values {
            ldif.push_str(&format!("{attr}: {value}\n"));
        }
        self.modify_ldif(&ldif)
    }

    /// Locks (`nsAccountLock: TRUE`, FreeIPA's disabled user) or unlocks (attribute removed)
    /// the account `dn`.
    pub fn set_account_lock(&self, dn: &str, locked: bool) -> Result<(), ServerError> {
        if locked {
            self.replace(dn, "nsAccountLock", &["TRUE"])
        } else {
            self.replace(dn, "nsAccountLock", &[])
        }
    }

    /// Adds `member` (a DN) to the group `group` (MemberOf updates the member's `memberOf`).
    pub fn add_member(&self, group: &str, member: &str) -> Result<(), ServerError> {
        self.modify_ldif(&format!(
            "dn: {group}\nchangetype: modify\nadd: member\nmember: {member}\n"
        ))
    }

    /// Removes `member` from the group `group`.
    pub fn remove_member(&self, group: &str, member: &str) -> Result<(), ServerError> {
        self.modify_ldif(&format!(
            "dn: {group}\nchangetype: modify\ndelete: member\nmember: {member}\n"
        ))
    }

    /// Searches the subtree `base` as the root DN and returns the entries as LDIF text
    /// (`ldapsearch -LLL -o ldif-wrap=no`); no `attrs` means all user attributes.
    pub fn search(&self, base: &str, filter: &str, attrs: &[&str]) -> Result<String, ServerError> {
        self.search_as(Bind::Admin, base, filter, attrs)
    }

    /// [`Ds389::search`] bound as `bind`.
    pub fn search_as(
        &self,
        bind: Bind,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<String, ServerError> {
        let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-b", base, filter];
        args.extend_from_slice(attrs);
        self.tool("ldapsearch", bind, &args, None)
    }

    /// How many entries under `base` match `filter` (as the root DN).
    pub fn count(&self, base: &str, filter: &str) -> Result<usize, ServerError> {
        let ldif = self.search(base, filter, &["1.1"])?;
        Ok(ldif.lines().filter(|line| line.starts_with("dn:")).count())
    }

    /// Runs `ldapsearch` bound as `bind` with `args` after the connection and bind options and
    /// returns its whole output (comments included, e.g. the `# cookie:` of `-E sync=ro`).
    pub fn ldapsearch(&self, bind: Bind, args: &[&str]) -> Result<String, ServerError> {
        self.tool("ldapsearch", bind, args, None)
    }

    /// The root DSE (all user and operational attributes) as LDIF, read anonymously.
    pub fn root_dse(&self) -> Result<String, ServerError> {
        self.tool(
            "ldapsearch",
            Bind::Anonymous,
            &[
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-b",
                "",
                "-s",
                "base",
                "*",
                "+",
            ],
            None,
        )
    }

    /// `firstchangenumber` and `lastchangenumber` of the root DSE (read anonymously).
    pub fn changelog_numbers(&self) -> Result<ChangelogNumbers, ServerError> {
        let dse = self.tool(
            "ldapsearch",
            Bind::Anonymous,
            &[
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-b",
                "",
                "-s",
                "base",
                "firstchangenumber",
                "lastchangenumber",
            ],
            None,
        )?;
        let value = |name: &str| {
            dse.lines().find_map(|line| {
                let (attr, value) = line.split_once(':')?;
                attr.eq_ignore_ascii_case(name)
                    .then(|| value.trim().parse::<u64>().ok())
                    .flatten()
            })
        };
        Ok(ChangelogNumbers {
            first: value("firstchangenumber"),
            last: value("lastchangenumber"),
        })
    }

    /// A refreshOnly content-sync search (`ldapsearch -E sync=ro[/COOKIE]`) of the subtree
    /// `base` bound as `bind`; returns the raw output and the final cookie, if any.
    pub fn sync_refresh_only(
        &self,
        bind: Bind,
        base: &str,
        filter: &str,
        cookie: Option<&str>,
        attrs: &[&str],
    ) -> Result<SyncRefresh, ServerError> {
        let control = match cookie {
            Some(cookie) => format!("sync=ro/{cookie}"),
            None => "sync=ro".to_owned(),
        };
        let mut args = vec!["-o", "ldif-wrap=no", "-b", base, "-E", &control, filter];
        args.extend_from_slice(attrs);
        let output = self.ldapsearch(bind, &args)?;
        let cookie = output
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("# cookie: "))
            .map(|cookie| cookie.trim().to_owned());
        Ok(SyncRefresh { output, cookie })
    }

    /// Runs an LDAP client tool against this instance.
    fn tool(
        &self,
        program: &str,
        bind: Bind,
        args: &[&str],
        input: Option<&str>,
    ) -> Result<String, ServerError> {
        if !self.is_running() {
            return Err(ServerError::NotRunning { server: SERVER });
        }
        let mut command = tool_command(program);
        command.args(["-x", "-H", self.url()]);
        match bind {
            Bind::Admin => command.args(["-D", ADMIN_DN, "-w", ADMIN_PASSWORD]),
            Bind::Sync => command.args(["-D", SYNC_DN, "-w", SYNC_PASSWORD]),
            Bind::Anonymous => &mut command,
        };
        command.args(args);
        run(command, input)
    }
}

/// Runs `command` and returns its stdout; the error shows the command without passwords.
fn run(command: Command, input: Option<&str>) -> Result<String, ServerError> {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|arg| {
            if arg == ADMIN_PASSWORD || arg == SYNC_PASSWORD {
                "***".to_owned()
            } else {
                arg.to_string_lossy().into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let output = run_tool(command, input, &shown)?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
