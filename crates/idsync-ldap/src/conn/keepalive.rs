//! Opening the TCP connection with keepalive on, for LDAP (and TLS) to run over.

use std::time::Duration;

use tokio::net::TcpStream;

use socket2::{SockRef, TcpKeepalive};

use super::Transport;

/// Idle time before the first keepalive probe.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Time between unanswered probes.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
/// Unanswered probes before the kernel declares the peer dead (about 2 minutes in all).
const KEEPALIVE_RETRIES: u32 = 4;

/// Connects to the host and port of an `ldap://` or `ldaps://` URL and turns TCP keepalive on
/// (the caller bounds the time). Errors are one-line reasons (the caller names the URL).
pub(super) async fn connect(url: &str, transport: Transport) -> Result<TcpStream, String> {
    let parsed = url::Url::parse(url).map_err(|error| format!("invalid URL: {error}"))?;
    let default_port = match transport {
        Transport::Ldaps => 636,
        Transport::Ldap | Transport::Ldapi => 389,
    };
    let port = parsed.port().unwrap_or(default_port);
    let host = match parsed.host() {
        Some(url::Host::Domain("")) | None => "localhost".to_owned(),
        Some(url::Host::Domain(name)) => name.to_owned(),
        Some(url::Host::Ipv4(address)) => address.to_string(),
        Some(url::Host::Ipv6(address)) => address.to_string(),
    };
    let stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|error| error.to_string())?;
    let keepalive = TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_RETRIES);
    SockRef::from(&stream)
        .set_tcp_keepalive(&keepalive)
        .map_err(|error| format!("cannot enable TCP keepalive: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| format!("cannot set TCP_NODELAY: {error}"))?;
    Ok(stream)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keepalive_is_on_for_the_connected_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("ldap://127.0.0.1:{port}");
        let stream = connect(&url, Transport::Ldap).await.unwrap();
        let socket = SockRef::from(&stream);
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), KEEPALIVE_IDLE);
    }

    #[tokio::test]
    async fn a_closed_port_is_a_one_line_reason() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("ldaps://127.0.0.1:{port}");
        let error = connect(&url, Transport::Ldaps).await.unwrap_err();
        assert!(!error.contains('\n'), "{error}");
    }
}
