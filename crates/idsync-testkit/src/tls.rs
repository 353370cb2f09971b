//! A throw-away PKI for TLS tests, generated in-process with `rcgen` (ECDSA P-256):
//!
//! * a test CA (`ca.pem`) and a server certificate it signed for `localhost` (DNS SAN) and
//!   `127.0.0.1` (IP SAN) (`server.pem`, `server.key`);
//! * a client certificate it signed, subject [`CLIENT_SUBJECT`], for SASL EXTERNAL over TLS
//!   (`client.pem`, `client.key`);
//! * a second, untrusted CA (`untrusted-ca.pem`) and a client certificate that CA signed
//!   (`untrusted-client.pem`, `untrusted-client.key`): what a server or client must refuse.
//!
//! Keys are written with mode 0600.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::error::ServerError;

/// The client certificate's subject, as LDAP servers show it (RFC 4514 order).
pub const CLIENT_SUBJECT: &str = "cn=idsync-client,o=idsync tests";

/// An OpenLDAP client tool (`ldapsearch`, `ldapwhoami`, …) that reads no `ldap.conf` or
/// `ldaprc` but honours the `LDAPTLS_CACERT`/`LDAPTLS_CERT`/`LDAPTLS_KEY` variables the caller
/// sets (`LDAPNOINIT`, which the other helpers use, disables those variables too).
pub fn ldap_client(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env_remove("LDAPNOINIT")
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "idsync-testkit-no-ldaprc")
        .stdin(Stdio::null());
    command
}

/// The files of a generated PKI.
#[derive(Clone, Debug)]
pub struct TestPki {
    dir: PathBuf,
}

impl TestPki {
    /// Generates the CAs and certificates into `dir` (created if missing).
    pub fn generate(dir: &Path) -> Result<Self, ServerError> {
        std::fs::create_dir_all(dir).map_err(ServerError::io("create", dir))?;
        let pki = Self {
            dir: dir.to_path_buf(),
        };
        let (ca_pem, ca) = certificate_authority("idsync test CA")?;
        pki.write("ca.pem", &ca_pem, 0o644)?;
        let (untrusted_pem, untrusted) = certificate_authority("idsync untrusted CA")?;
        pki.write("untrusted-ca.pem", &untrusted_pem, 0o644)?;

        let mut server = leaf_params(&["localhost", "127.0.0.1"], "localhost", None)?;
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        pki.issue("server", &server, &ca)?;
        let mut client = leaf_params(&[], "idsync-client", Some("idsync tests"))?;
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        pki.issue("client", &client, &ca)?;
        pki.issue("untrusted-client", &client, &untrusted)?;
        Ok(pki)
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The trusted test CA certificate (PEM).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The server certificate (PEM) for `localhost` and `127.0.0.1`.
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    /// The server's private key (PKCS#8 PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }

    /// The client certificate (PEM), subject [`CLIENT_SUBJECT`], signed by the test CA.
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join("client.pem")
    }

    /// The client's private key (PKCS#8 PEM).
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client.key")
    }

    /// A second CA that nothing trusts (PEM).
    pub fn untrusted_ca_cert(&self) -> PathBuf {
        self.dir.join("untrusted-ca.pem")
    }

    /// A client certificate with the same subject, signed by the untrusted CA (PEM).
    pub fn untrusted_client_cert(&self) -> PathBuf {
        self.dir.join("untrusted-client.pem")
    }

    /// The untrusted client certificate's key (PKCS#8 PEM).
    pub fn untrusted_client_key(&self) -> PathBuf {
        self.dir.join("untrusted-client.key")
    }

    /// Signs a fresh key's certificate with `issuer`; writes `NAME.pem` and `NAME.key`.
    fn issue(
        &self,
        name: &str,
        params: &CertificateParams,
        issuer: &Issuer<'_, KeyPair>,
    ) -> Result<(), ServerError> {
        let key = KeyPair::generate().map_err(tls_error)?;
        let cert = params.signed_by(&key, issuer).map_err(tls_error)?;
        self.write(&format!("{name}.pem"), &cert.pem(), 0o644)?;
        self.write(&format!("{name}.key"), &key.serialize_pem(), 0o600)
    }

    /// Writes `text` to `DIR/NAME` with `mode`.
    fn write(&self, name: &str, text: &str, mode: u32) -> Result<(), ServerError> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(ServerError::io("write", &path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(ServerError::io("chmod", &path))
    }
}

/// A self-signed CA: its PEM and an issuer for signing.
fn certificate_authority(name: &str) -> Result<(String, Issuer<'static, KeyPair>), ServerError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    set_validity(&mut params);
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, "idsync tests");
    subject.push(DnType::CommonName, name);
    params.distinguished_name = subject;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().map_err(tls_error)?;
    let cert = params.self_signed(&key).map_err(tls_error)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// The parameters of an end-entity certificate (SAN strings that parse as IPs become IP SANs).
fn leaf_params(
    names: &[&str],
    common_name: &str,
    organization: Option<&str>,
) -> Result<CertificateParams, ServerError> {
    let sans: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(sans).map_err(tls_error)?;
    set_validity(&mut params);
    params.use_authority_key_identifier_extension = true;
    let mut subject = DistinguishedName::new();
    if let Some(organization) = organization {
        subject.push(DnType::OrganizationName, organization);
    }
    subject.push(DnType::CommonName, common_name);
    params.distinguished_name = subject;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    Ok(params)
}

/// 2020-01-01 to 2049-12-31: GnuTLS (Debian's OpenLDAP) does not accept rcgen's default
/// 4096 expiry of the CA.
fn set_validity(params: &mut CertificateParams) {
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
}

/// A certificate generation error.
fn tls_error(error: rcgen::Error) -> ServerError {
    ServerError::Options {
        server: "test PKI",
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let pki = TestPki::generate(dir.path()).unwrap_or_else(|error| panic!("{error}"));
        for path in [
            pki.ca_cert(),
            pki.server_cert(),
            pki.server_key(),
            pki.client_cert(),
            pki.client_key(),
            pki.untrusted_ca_cert(),
            pki.untrusted_client_cert(),
            pki.untrusted_client_key(),
        ] {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(text.starts_with("-----BEGIN "), "{}", path.display());
        }
        let mode = std::fs::metadata(pki.client_key())
            .map(|meta| meta.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600);
    }
}
