//! The rustls client configuration: trusted roots (a CA file or the system's), an optional
//! client certificate, and verification (on unless explicitly turned off).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::settings::TlsOptions;

/// Why the TLS configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file cannot be read or parsed.
    #[error("cannot read {what} `{path}`: {reason}")]
    File {
        /// `ca_file`, `client_cert_file` or `client_key_file`.
        what: &'static str,
        /// The path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A file holds no certificate (or no key).
    #[error("{what} `{path}` holds no {expected}")]
    Empty {
        /// `ca_file`, `client_cert_file` or `client_key_file`.
        what: &'static str,
        /// The path.
        path: String,
        /// What was looked for.
        expected: &'static str,
    },
    /// rustls refused the configuration.
    #[error("tls configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_error(what: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        what,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Builds the client configuration for `options` (reads the PEM files).
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if options.verify {
        builder.with_root_certificates(roots(options.ca_file.as_deref())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    };
    let config = match (&options.client_cert_file, &options.client_key_file) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "client_cert_file")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| file_error("client_key_file", key, e))?;
            builder.with_client_auth_cert(chain, key)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The trusted roots: the CA file's certificates, or the system's.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for certificate in certificates(path, "ca_file")? {
                store
                    .add(certificate)
                    .map_err(|e| file_error("ca_file", path, e))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                tracing::debug!(%error, "a system certificate could not be loaded");
            }
            let (added, _ignored) = store.add_parsable_certificates(native.certs);
            if added == 0 {
                tracing::warn!(
                    "no system ca certificates found: set `ca_file` to verify the server"
                );
            }
        }
    }
    Ok(store)
}

/// Every certificate of a PEM file (at least one).
fn certificates(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(what, path, e))?;
    if certificates.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: path.display().to_string(),
            expected: "certificate",
        });
    }
    Ok(certificates)
}

/// `tls_verify = false`: any certificate for any name is accepted (the signatures of the
/// handshake are still checked, so the session is encrypted to whoever answered).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_errors_naming_the_key() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let missing = TlsOptions {
            ca_file: Some(dir.path().join("nope.pem")),
            verify: true,
            ..TlsOptions::default()
        };
        let error = client_config(&missing).err().map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("ca_file")),
            "{error:?}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap_or_else(|e| panic!("{e}"));
        let options = TlsOptions {
            ca_file: Some(empty),
            verify: true,
            ..TlsOptions::default()
        };
        assert!(matches!(
            client_config(&options),
            Err(TlsError::Empty { .. })
        ));
    }

    #[test]
    fn without_verification_no_file_is_needed() {
        let options = TlsOptions {
            verify: false,
            ..TlsOptions::default()
        };
        assert!(client_config(&options).is_ok());
    }
}
