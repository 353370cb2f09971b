//! The checker: `tests/php/mw-check.php` run on a wiki, its JSON answer deserialised.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::daemon;
use crate::error::ServerError;
use crate::paths::workspace_root;

use super::install::{mediawiki_dir, php_command};
use super::MediaWiki;

/// The marker before the checker's JSON line.
const MARKER: &str = "IDSYNC-JSON:";

/// A user as MediaWiki's own code sees it. Unknown users have `exists == false` and
/// defaults elsewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MwUser {
    /// The name or id asked about.
    pub query: String,
    /// True when MediaWiki finds a registered user.
    pub exists: bool,
    /// `User::getId`.
    pub id: u64,
    /// The canonical name (`User::getName`).
    pub name: String,
    /// `User::getActorId` (0: no actor row, the user is invisible by name).
    pub actor_id: u64,
    /// True when `User::newFromName(name)` finds the same id (false for half-renamed users).
    pub loads_by_name: bool,
    /// `User::isSystemUser`.
    pub is_system: bool,
    /// `User::getRealName`.
    pub real_name: String,
    /// `User::getEmail`.
    pub email: String,
    /// `User::getEmailAuthenticationTimestamp`.
    pub email_authenticated: Option<String>,
    /// The session token MediaWiki hands out (`getToken(false)`); it changes when
    /// `user_token` changes. None when the user has none or it is invalid.
    pub token: Option<String>,
    /// True for `user_token = '*** INVALID ***'` (system users).
    pub token_invalid: bool,
    /// `User::getRegistration`.
    pub registration: Option<String>,
    /// Explicit groups (`UserGroupManager::getUserGroups`), sorted.
    pub groups: Vec<String>,
    /// Effective groups (`getUserEffectiveGroups`: with `*`, `user`, autopromoted), sorted.
    pub effective_groups: Vec<String>,
    /// Former groups (`getUserFormerGroups`), sorted.
    pub former_groups: Vec<String>,
    /// The user's block (`BlockManager::getUserBlock`, from the primary database).
    pub block: Option<MwBlock>,
}

impl MwUser {
    /// True when MediaWiki considers the user blocked.
    pub fn is_blocked(&self) -> bool {
        self.block.is_some()
    }
}

/// A block as MediaWiki loads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MwBlock {
    /// The block id (`ipb_id`).
    pub id: Option<u64>,
    /// The blocker's name (None when MediaWiki has no blocker).
    pub blocker: Option<String>,
    /// The reason (comment text).
    pub reason: String,
    /// `infinity` or a timestamp.
    pub expiry: String,
    /// Sitewide (not partial).
    pub sitewide: bool,
    /// Blocks account creation.
    pub create_account: bool,
    /// The target's name.
    pub target: String,
}

/// `UserNameUtils`' verdicts on one raw name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MwName {
    /// The name asked about.
    pub raw: String,
    /// `getCanonical(raw, RIGOR_VALID)`, None when rejected.
    pub canonical: Option<String>,
    /// `isValid(canonical)`.
    pub valid: bool,
    /// `isUsable(canonical)` (not reserved).
    pub usable: bool,
    /// `getCanonical(raw, RIGOR_CREATABLE)` succeeds (no `@ : >` etc.).
    pub creatable: bool,
}

/// The checker script (`tests/php/mw-check.php` in the workspace).
fn checker() -> std::path::PathBuf {
    workspace_root().join("tests/php/mw-check.php")
}

/// Runs the checker's `command` with `input` (JSON) on stdin and deserialises its answer.
pub(super) fn run<T: DeserializeOwned>(
    wiki: &MediaWiki,
    command: &str,
    input: &(impl Serialize + ?Sized),
) -> Result<Vec<T>, ServerError> {
    let shown = format!("php mw-check.php {command}");
    let input = serde_json::to_string(input).map_err(|error| ServerError::Output {
        command: shown.clone(),
        reason: format!("cannot encode the input: {error}"),
    })?;
    let mut php = php_command()?;
    php.arg(checker())
        .arg("--conf")
        .arg(wiki.local_settings())
        .arg(command);
    let output = daemon::run_tool(php, Some(&input), &shown)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(MARKER))
        .ok_or_else(|| ServerError::Output {
            command: shown.clone(),
            reason: format!(
                "no {MARKER} line; stdout: {}; stderr: {}",
                daemon::tail(&stdout, 20),
                String::from_utf8_lossy(&output.stderr)
            ),
        })?;
    serde_json::from_str(json).map_err(|error| ServerError::Output {
        command: shown,
        reason: format!("{error}: {json}"),
    })
}

/// Runs the maintenance script `NAME.php` of MediaWiki on `wiki`; its stdout.
pub(super) fn maintenance(
    wiki: &MediaWiki,
    script: &str,
    args: &[&str],
) -> Result<String, ServerError> {
    let path = mediawiki_dir()
        .join("maintenance")
        .join(format!("{script}.php"));
    if !script
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || !path.is_file()
    {
        return Err(ServerError::Options {
            server: "mediawiki",
            reason: format!("no maintenance script `{script}`"),
        });
    }
    let mut php = php_command()?;
    php.arg(path)
        .arg("--conf")
        .arg(wiki.local_settings())
        .args(args);
    let output = daemon::run_tool(php, None, &format!("php maintenance/{script}.php"))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
