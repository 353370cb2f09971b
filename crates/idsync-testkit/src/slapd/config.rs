//! The cn=config LDIF of a private instance (loaded offline with `slapadd -n0`).

use std::fmt::Write as _;
use std::path::Path;

use super::{Overlay, SlapdOptions, ADMIN_DN, BASE, SYNC_DN};

/// Where Debian's slapd keeps its loadable modules (back_mdb, syncprov, …).
pub(crate) const MODULE_PATH: &str = "/usr/lib/ldap";
/// Where the schema LDIFs are copied from (only read, never changed).
pub(crate) const SCHEMA_SOURCE: &str = "/etc/ldap/schema";
/// The schemas every instance loads, in order.
pub(crate) const SCHEMAS: [&str; 4] = ["core", "cosine", "inetorgperson", "nis"];

/// Equality indexes of the database.
const INDEXES: [&str; 9] = [
    "objectClass",
    "entryUUID",
    "entryCSN",
    "uid",
    "cn",
    "memberUid",
    "member",
    "uniqueMember",
    "memberOf",
];

/// Everything the config LDIF depends on besides the options.
pub(crate) struct ConfigInput<'a> {
    /// The instance directory (pid file, schema copies, data).
    pub dir: &'a Path,
    /// SSHA hash of the admin password (from `slappasswd`).
    pub password_hash: &'a str,
    /// Effective uid of this process (its peercred over ldapi gets `manage`).
    pub uid: u32,
    /// Effective gid of this process.
    pub gid: u32,
    /// The test PKI when TLS is on.
    pub pki: Option<&'a crate::tls::TestPki>,
}

/// What the sync account may read (besides `entry` and `children`); `pwdAccountLockedTime`
/// is added when the ppolicy overlay (which defines it) is configured.
pub const SYNC_READABLE_ATTRIBUTES: [&str; 22] = [
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
    "member",
    "memberUid",
    "memberOf",
    "uniqueMember",
    "shadowExpire",
    "shadowInactive",
    "entryUUID",
    "entryCSN",
    "contextCSN",
    "ou",
];

/// The LDIF for `slapadd -n0`: global settings, modules, schemas, frontend, config and mdb
/// databases, and the overlays in the order of `options.overlays`.
pub(crate) fn config_ldif(options: &SlapdOptions, input: &ConfigInput<'_>) -> String {
    let dir = input.dir.display();
    let peercred = format!(
        "dn.exact=gidNumber={}+uidNumber={},cn=peercred,cn=external,cn=auth",
        input.gid, input.uid
    );
    let hash = input.password_hash;
    let nosync = if options.no_sync { "TRUE" } else { "FALSE" };
    let mut ldif = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        ldif,
        "dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {dir}/slapd.pid
olcArgsFile: {dir}/slapd.args
olcLogLevel: none
olcToolThreads: 2
olcSizeLimit: unlimited
"
    );
    if let Some(pki) = input.pki {
        let _ = write!(
            ldif,
            "olcTLSCACertificateFile: {ca}
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}
olcTLSVerifyClient: {verify}
olcAuthzRegexp: {{0}}\"^{subject}$\" \"{SYNC_DN}\"
",
            ca = pki.ca_cert().display(),
            cert = pki.server_cert().display(),
            key = pki.server_key().display(),
            verify = options.tls_verify_client.name(),
            subject = crate::tls::CLIENT_SUBJECT,
        );
    }
    let _ = write!(
        ldif,
        "
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_PATH}
olcModuleLoad: {{0}}back_mdb
"
    );
    let mut modules: Vec<&str> = Vec::new();
    for overlay in &options.overlays {
        if !modules.contains(&overlay.name()) {
            modules.push(overlay.name());
        }
    }
    for (index, module) in modules.iter().enumerate() {
        let _ = writeln!(ldif, "olcModuleLoad: {{{}}}{module}", index + 1);
    }
    let _ = write!(
        ldif,
        "
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

"
    );
    for schema in SCHEMAS {
        let _ = write!(ldif, "include: file://{dir}/schema/{schema}.ldif\n\n");
    }
    let _ = write!(
        ldif,
        "dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited
olcAccess: {{0}}to * by {peercred} manage by * break
olcAccess: {{1}}to dn.base=\"\" by * read
olcAccess: {{2}}to dn.base=\"cn=Subschema\" by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: cn=admin,cn=config
olcRootPW: {hash}
olcAccess: {{0}}to * by {peercred} manage by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE}
olcRootDN: {ADMIN_DN}
olcRootPW: {hash}
olcDbDirectory: {dir}/data
olcDbMaxSize: {max_size}
olcDbNoSync: {nosync}
",
        max_size = options.max_size,
    );
    for index in INDEXES {
        let _ = writeln!(ldif, "olcDbIndex: {index} eq");
    }
    let size_limit = options
        .size_limit
        .map_or_else(|| "unlimited".to_owned(), |limit| limit.to_string());
    let _ = write!(
        ldif,
        "olcSizeLimit: {size_limit}
olcTimeLimit: unlimited
olcLimits: {{0}}dn.exact=\"{ADMIN_DN}\" size=unlimited time=unlimited
olcLimits: {{1}}dn.exact=\"{SYNC_DN}\" size=unlimited time=unlimited
olcAccess: {{0}}to * by {peercred} manage by * break
olcAccess: {{1}}to attrs=userPassword by self write by anonymous auth by * none
"
    );
    if options.sync_account {
        let mut readable = vec!["entry", "children"];
        readable.extend(SYNC_READABLE_ATTRIBUTES);
        if options.overlays.contains(&Overlay::Ppolicy) {
            readable.push("pwdAccountLockedTime");
        }
        let _ = write!(
            ldif,
            "olcAccess: {{2}}to dn.subtree=\"{BASE}\" attrs={} by dn.exact=\"{SYNC_DN}\" read by * none
olcAccess: {{3}}to * by * none
",
            readable.join(",")
        );
    } else {
        ldif.push_str("olcAccess: {2}to * by * read\n");
    }
    for (index, overlay) in options.overlays.iter().enumerate() {
        ldif.push('\n');
        ldif.push_str(&overlay_ldif(index, *overlay, options));
    }
    ldif
}

/// One overlay entry at position `index` of the mdb database.
fn overlay_ldif(index: usize, overlay: Overlay, options: &SlapdOptions) -> String {
    let name = overlay.name();
    let mut ldif = format!(
        "dn: olcOverlay={{{index}}}{name},olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
olcOverlay: {{{index}}}{name}
"
    );
    let specific = match overlay {
        Overlay::Syncprov => format!(
            "objectClass: olcSyncProvConfig
olcSpCheckpoint: {} {}
olcSpSessionlog: {}
",
            options.checkpoint_ops, options.checkpoint_minutes, options.sessionlog
        ),
        Overlay::Memberof => "objectClass: olcMemberOfConfig
olcMemberOfDangling: ignore
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
"
        .to_owned(),
        Overlay::Refint => format!(
            "objectClass: olcRefintConfig
olcRefintAttribute: member
olcRefintNothing: cn=nobody,{BASE}
"
        ),
        Overlay::Ppolicy => "objectClass: olcPPolicyConfig\n".to_owned(),
    };
    ldif.push_str(&specific);
    ldif
}

/// The sync account entry (`userPassword` already hashed).
pub(crate) fn sync_account_ldif(password_hash: &str) -> String {
    format!(
        "dn: {SYNC_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: idsync\nuserPassword: {password_hash}\ndescription: idsync's non-admin sync account\n"
    )
}

/// The LDIF of the suffix entry alone.
pub(crate) fn suffix_ldif() -> String {
    format!("dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Org\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlays_follow_the_requested_order() {
        let options = SlapdOptions::default()
            .overlays(&[Overlay::Refint, Overlay::Syncprov])
            .sessionlog(7);
        let input = ConfigInput {
            dir: Path::new("/tmp/x"),
            password_hash: "{SSHA}abc",
            uid: 1000,
            gid: 100,
            pki: None,
        };
        let ldif = config_ldif(&options, &input);
        assert!(ldif.contains("dn: olcOverlay={0}refint,olcDatabase={1}mdb,cn=config"));
        assert!(ldif.contains("dn: olcOverlay={1}syncprov,olcDatabase={1}mdb,cn=config"));
        assert!(!ldif.contains("memberof,olcDatabase"));
        assert!(ldif.contains("olcSpSessionlog: 7\n"));
        assert!(ldif.contains("olcDbNoSync: TRUE\n"));
        assert!(ldif.contains("gidNumber=100+uidNumber=1000,cn=peercred"));
        assert!(ldif.contains("include: file:///tmp/x/schema/nis.ldif\n"));
    }
}
