//! Talking to a running instance with the OpenLDAP client tools (`ldapadd`, `ldapmodify`,
//! `ldapdelete`, `ldapsearch`): simple bind as the admin over TCP, or SASL EXTERNAL over ldapi.

use std::process::Command;

use crate::error::ServerError;

use super::process::tool_command;
use super::{Slapd, PERMANENTLY_LOCKED, SERVER, SYNC_DN, SYNC_PASSWORD};
use crate::daemon::run_tool;

/// How a tool authenticates.
#[derive(Clone, Copy)]
enum Auth {
    /// Simple bind as the rootdn over `ldap://127.0.0.1:PORT/`.
    Admin,
    /// SASL EXTERNAL (peer credentials) over the ldapi socket: `manage` on everything.
    External,
    /// Simple bind as the sync account over TCP.
    Sync,
}

impl Slapd {
    /// Adds the entries of `ldif` (plain entry records) with `ldapadd` as the admin.
    pub fn add_ldif(&self, ldif: &str) -> Result<(), ServerError> {
        self.tool("ldapadd", Auth::Admin, &[], Some(ldif)).map(drop)
    }

    /// Applies change records (`changetype: add|modify|delete|modrdn`) with `ldapmodify` as
    /// the admin.
    pub fn modify_ldif(&self, ldif: &str) -> Result<(), ServerError> {
        self.tool("ldapmodify", Auth::Admin, &[], Some(ldif))
            .map(drop)
    }

    /// Deletes the entry `dn` with `ldapdelete` as the admin.
    pub fn delete(&self, dn: &str) -> Result<(), ServerError> {
        self.tool("ldapdelete", Auth::Admin, &[dn], None).map(drop)
    }

    /// Searches the subtree `base` as the admin and returns the entries as LDIF text
    /// (`ldapsearch -LLL -o ldif-wrap=no`); no `attrs` means all user attributes.
    pub fn search(&self, base: &str, filter: &str, attrs: &[&str]) -> Result<String, ServerError> {
        let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-b", base, filter];
        args.extend_from_slice(attrs);
        self.tool("ldapsearch", Auth::Admin, &args, None)
    }

    /// [`Slapd::search`] bound as the sync account ([`super::SlapdOptions::sync_account`]).
    pub fn search_as_sync(
        &self,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<String, ServerError> {
        let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-b", base, filter];
        args.extend_from_slice(attrs);
        self.tool("ldapsearch", Auth::Sync, &args, None)
    }

    /// Locks (`pwdAccountLockedTime: 000001010000Z`, permanently) or unlocks (attribute
    /// removed) the account `dn`; needs the ppolicy overlay ([`super::Overlay::Ppolicy`]).
    pub fn set_account_lock(&self, dn: &str, locked: bool) -> Result<(), ServerError> {
        let ldif = if locked {
            format!("dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: {PERMANENTLY_LOCKED}\n")
        } else {
            format!("dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\n")
        };
        self.modify_ldif(&ldif)
    }

    /// How many entries under `base` match `filter`.
    pub fn count(&self, base: &str, filter: &str) -> Result<usize, ServerError> {
        let ldif = self.search(base, filter, &["1.1"])?;
        Ok(ldif.lines().filter(|line| line.starts_with("dn:")).count())
    }

    /// Runs `ldapsearch` as the admin with `args` after the connection and bind options, and
    /// returns its whole output (comments included, e.g. the `# cookie:` of `-E sync=ro`).
    pub fn ldapsearch(&self, args: &[&str]) -> Result<String, ServerError> {
        self.tool("ldapsearch", Auth::Admin, args, None)
    }

    /// The root DSE (all user and operational attributes) as LDIF, read anonymously.
    pub fn root_dse(&self) -> Result<String, ServerError> {
        let mut command = tool_command("ldapsearch");
        command.args([
            "-x",
            "-H",
            self.url(),
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-b",
            "",
            "-s",
            "base",
            "*",
            "+",
        ]);
        self.run(command, None)
    }

    /// A refreshOnly content-sync search (`ldapsearch -E sync=ro[/COOKIE]`) of the subtree under
    /// the base; returns the raw output and the final cookie, if the server sent one.
    pub fn sync_refresh_only(
        &self,
        filter: &str,
        cookie: Option<&str>,
        attrs: &[&str],
    ) -> Result<SyncRefresh, ServerError> {
        let control = match cookie {
            Some(cookie) => format!("sync=ro/{cookie}"),
            None => "sync=ro".to_owned(),
        };
        let mut args = vec![
            "-o",
            "ldif-wrap=no",
            "-b",
            self.base(),
            "-E",
            &control,
            filter,
        ];
        args.extend_from_slice(attrs);
        let output = self.ldapsearch(&args)?;
        let cookie = output
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("# cookie: "))
            .map(|cookie| cookie.trim().to_owned());
        Ok(SyncRefresh { output, cookie })
    }

    /// Changes cn=config live with `ldapmodify -Y EXTERNAL` over ldapi (change records, e.g.
    /// `olcSpSessionlog` of `olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config`).
    pub fn config_modify(&self, ldif: &str) -> Result<(), ServerError> {
        self.tool("ldapmodify", Auth::External, &[], Some(ldif))
            .map(drop)
    }

    /// Searches cn=config (or any base) with EXTERNAL over ldapi; LDIF text as [`Slapd::search`].
    pub fn config_search(
        &self,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<String, ServerError> {
        let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-b", base, filter];
        args.extend_from_slice(attrs);
        self.tool("ldapsearch", Auth::External, &args, None)
    }

    /// Runs an LDAP client tool against this instance.
    fn tool(
        &self,
        program: &str,
        auth: Auth,
        args: &[&str],
        input: Option<&str>,
    ) -> Result<String, ServerError> {
        if !self.is_running() {
            return Err(ServerError::NotRunning { server: SERVER });
        }
        let mut command = tool_command(program);
        match auth {
            Auth::Admin => command.args([
                "-x",
                "-H",
                self.url(),
                "-D",
                self.admin_dn(),
                "-w",
                self.admin_password(),
            ]),
            Auth::External => command.args(["-Q", "-Y", "EXTERNAL", "-H", self.ldapi_url()]),
            Auth::Sync => {
                command.args(["-x", "-H", self.url(), "-D", SYNC_DN, "-w", SYNC_PASSWORD])
            }
        };
        command.args(args);
        self.run(command, input)
    }

    /// Runs `command` and returns its stdout; the error shows the command without the password.
    fn run(&self, command: Command, input: Option<&str>) -> Result<String, ServerError> {
        let password = self.admin_password();
        let shown = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|arg| {
                if (!password.is_empty() && arg == password) || arg == SYNC_PASSWORD {
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
}

/// The result of [`Slapd::sync_refresh_only`].
#[derive(Clone, Debug)]
pub struct SyncRefresh {
    /// Everything `ldapsearch` printed (entries with their SyncState comments, SyncDone, cookie).
    pub output: String,
    /// The cookie at the end of the refresh (`rid=000,csn=…`), if any.
    pub cookie: Option<String>,
}
