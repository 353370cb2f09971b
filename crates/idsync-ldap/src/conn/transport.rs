//! Opening the byte stream to the server — TCP with keepalive, TLS (`ldaps://` or StartTLS),
//! or the `ldapi://` socket — and putting the [`guard`](super::guard) in front of it.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;

use super::guard::{self, Guarded};
use super::{keepalive, starttls, tls, ConnError, ConnectOptions, Transport};

/// Connects as `options` says (TLS verified unless turned off) and returns ldap3's end of the
/// guarded stream.
pub(super) async fn open(options: &ConnectOptions) -> Result<Guarded, ConnError> {
    let unreachable = |reason: String| ConnError::Unreachable {
        url: options.url.clone(),
        reason,
    };
    let guarded = match options.transport {
        Transport::Ldapi => {
            let path = ldapi_path(&options.url).map_err(unreachable)?;
            let stream = UnixStream::connect(&path)
                .await
                .map_err(|error| unreachable(format!("{path}: {error}")))?;
            guard::interpose(stream)
        }
        Transport::Ldap | Transport::Ldaps => {
            let mut stream = keepalive::connect(&options.url, options.transport)
                .await
                .map_err(unreachable)?;
            if options.transport == Transport::Ldap && !options.starttls {
                guard::interpose(stream)
            } else {
                if options.starttls {
                    starttls::negotiate(&mut stream).await?;
                }
                guard::interpose(handshake(options, stream).await?)
            }
        }
    };
    guarded.map_err(|error| unreachable(format!("cannot set up the connection: {error}")))
}

/// The TLS handshake, verifying the server's certificate unless `tls_verify = false`.
async fn handshake(
    options: &ConnectOptions,
    stream: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ConnError> {
    let config = tls::client_config(&options.tls)?;
    let host = options.host().unwrap_or_else(|| "localhost".to_owned());
    let name = ServerName::try_from(host.clone()).map_err(|error| ConnError::Unreachable {
        url: options.url.clone(),
        reason: format!("`{host}` is not a valid TLS server name: {error}"),
    })?;
    TlsConnector::from(Arc::clone(&config))
        .connect(name, stream)
        .await
        .map_err(|error| {
            let certificate = error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|inner| {
                    matches!(
                        inner,
                        rustls::Error::InvalidCertificate(_)
                            | rustls::Error::NoCertificatesPresented
                    )
                });
            if certificate {
                ConnError::Certificate {
                    url: options.url.clone(),
                    reason: error.to_string(),
                }
            } else {
                ConnError::Unreachable {
                    url: options.url.clone(),
                    reason: format!("tls handshake: {error}"),
                }
            }
        })
}

/// The socket path of an `ldapi://` URL: its percent-encoded host (`ldapi://%2Frun%2Fldapi`).
fn ldapi_path(url: &str) -> Result<String, String> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| "not an ldapi:// URL".to_owned())?;
    let encoded = rest.split(['/', '?']).next().unwrap_or_default();
    if encoded.is_empty() {
        return Err(
            "an ldapi:// URL needs the socket path as its host, percent-encoded \
             (ldapi://%2Frun%2Fslapd%2Fldapi)"
                .to_owned(),
        );
    }
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map(|path| path.into_owned())
        .map_err(|_| "the ldapi:// socket path is not UTF-8".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ldapi_paths_are_decoded_from_the_host() {
        assert_eq!(
            ldapi_path("ldapi://%2Ftmp%2Fx%2Fldapi").unwrap(),
            "/tmp/x/ldapi"
        );
        assert_eq!(
            ldapi_path("ldapi://%2Ftmp%2Fldapi/??sub").unwrap(),
            "/tmp/ldapi"
        );
        assert!(ldapi_path("ldapi:///").is_err());
    }
}
