//! The guard between the server and ldap3.
//!
//! ldap3 decodes every message with lber, which descends into nested BER elements recursively
//! without a limit (a hostile or broken server can overflow the stack — an abort, not an
//! error) and which, when an inner length promises more bytes than the message holds, waits
//! for them forever while buffering whatever follows. Neither can be configured away, so idsync
//! opens the connection itself (TCP with keepalive, TLS, StartTLS, or the ldapi socket) and
//! hands ldap3 one end of a socket pair. A relay task copies requests to the server unchanged
//! and passes the server's bytes on only in whole messages that [`frame::check_message`] and
//! [`envelope::check_envelope`] accepted. A refused message closes the connection; the
//! [`Verdict`] says why, and the operation that was waiting reports it.
//!
//! Buffering stays bounded: the relay holds at most one incomplete message plus one read, and
//! it stops reading from the server while ldap3 does not read the socket pair (which happens
//! whenever nobody waits for the server, see the `conn` module docs).

pub mod envelope;
pub mod frame;

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;

pub use frame::Violation;

/// Bytes read from the server at a time (more when a message is larger).
const READ_CHUNK: usize = 64 * 1024;

/// How long the relay waits for the server to close once ldap3 closed its end.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the relay ended the connection, when it was not a plain end of stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closed {
    /// The server sent a message the guard refused.
    Refused(Violation),
    /// Reading from or writing to the server failed.
    Io(String),
}

/// What the relay saw when it ended the connection (shared with the connection's driver).
#[derive(Clone, Debug, Default)]
pub struct Verdict(Arc<Mutex<Option<Closed>>>);

impl Verdict {
    /// Why the connection ended, if the relay knows.
    pub fn get(&self) -> Option<Closed> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, closed: Closed) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(closed);
    }
}

/// ldap3's end of the socket pair, and the relay's verdict.
#[derive(Debug)]
pub struct Guarded {
    /// Hand this to ldap3 (`StdStream::Unix` with an `ldapi:///` URL).
    pub stream: std::os::unix::net::UnixStream,
    /// Why the relay closed the connection.
    pub verdict: Verdict,
}

/// Puts the guard in front of `upstream` (an open, possibly TLS-wrapped, connection to the
/// server). Must be called inside a tokio runtime: the relay is a task on it.
pub fn interpose<S>(upstream: S) -> io::Result<Guarded>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (ours, theirs) = UnixStream::pair()?;
    let stream = theirs.into_std()?;
    let verdict = Verdict::default();
    tokio::spawn(relay(upstream, ours, verdict.clone()));
    Ok(Guarded { stream, verdict })
}

/// Copies requests to the server, and the server's checked messages back, until the server's
/// side ends or a message is refused; returning drops (closes) both connections.
async fn relay<S>(upstream: S, ours: UnixStream, verdict: Verdict)
where
    S: AsyncRead + AsyncWrite + Send,
{
    let (mut from_server, mut to_server) = tokio::io::split(upstream);
    let (mut from_client, mut to_client) = ours.into_split();
    let requests = async {
        // ldap3 closed its end (unbind, drop): pass the end of stream on and give the server a
        // moment to close its side (the other branch ends the relay when it does).
        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        let _ = to_server.shutdown().await;
        tokio::time::sleep(CLOSE_GRACE).await;
    };
    let answers = async {
        if let Err(closed) = forward_messages(&mut from_server, &mut to_client).await {
            verdict.set(closed);
        }
    };
    tokio::select! {
        () = answers => {}
        () = requests => {}
    }
}

/// Passes whole, checked messages from `server` to `client` until the server's end of stream.
async fn forward_messages<R, W>(server: &mut R, client: &mut W) -> Result<(), Closed>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    loop {
        let (checked, refused) = checked_prefix(&buffer);
        if checked > 0 {
            let messages = buffer.get(..checked).unwrap_or_default();
            if client.write_all(messages).await.is_err() {
                // ldap3 is gone: nobody is left to tell.
                return Ok(());
            }
            buffer.drain(..checked);
        }
        if let Some(violation) = refused {
            return Err(Closed::Refused(violation));
        }
        buffer.reserve(READ_CHUNK);
        match server.read_buf(&mut buffer).await {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(error) => return Err(Closed::Io(error.to_string())),
        }
    }
}

/// The length of the complete, accepted messages at the start of `buffer`, and the violation
/// of the message after them, if it is refused.
fn checked_prefix(buffer: &[u8]) -> (usize, Option<Violation>) {
    let mut offset = 0;
    loop {
        let rest = buffer.get(offset..).unwrap_or_default();
        let len = match frame::message_len(rest, frame::MAX_MESSAGE_BYTES) {
            Ok(Some(len)) => len,
            Ok(None) => return (offset, None),
            Err(violation) => return (offset, Some(violation)),
        };
        let Some(message) = rest.get(..len) else {
            return (offset, None);
        };
        if let Err(violation) = frame::check_message(message, frame::MAX_DEPTH)
            .and_then(|()| envelope::check_envelope(message))
        {
            return (offset, Some(violation));
        }
        offset += len;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DONE: &[u8] = &[
        0x30, 0x0c, 0x02, 0x01, 0x02, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
    ];

    #[test]
    fn only_whole_messages_are_passed() {
        let mut two = DONE.to_vec();
        two.extend_from_slice(DONE);
        assert_eq!(checked_prefix(&two), (2 * DONE.len(), None));
        let partial = two.get(..DONE.len() + 5).unwrap();
        assert_eq!(checked_prefix(partial), (DONE.len(), None));
        assert_eq!(checked_prefix(&[]), (0, None));
        let mut bad = DONE.to_vec();
        bad.extend_from_slice(&[0x30, 0x80]);
        assert!(matches!(
            checked_prefix(&bad),
            (14, Some(Violation::LengthForm(_)))
        ));
    }

    #[tokio::test]
    async fn the_relay_passes_messages_split_anyhow_and_requests_unchanged() {
        let (server, mut server_side) = tokio::io::duplex(64);
        let guarded = interpose(server).unwrap();
        let mut client = UnixStream::from_std(guarded.stream).unwrap();
        client.write_all(b"request").await.unwrap();
        let mut request = [0u8; 7];
        server_side.read_exact(&mut request).await.unwrap();
        assert_eq!(&request, b"request");
        for byte in DONE.iter().chain(DONE) {
            server_side.write_all(&[*byte]).await.unwrap();
        }
        let mut answer = vec![0u8; 2 * DONE.len()];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer.get(..DONE.len()).unwrap(), DONE);
        drop(server_side);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        assert_eq!(guarded.verdict.get(), None);
    }

    #[tokio::test]
    async fn a_refused_message_closes_the_connection_with_a_verdict() {
        let (server, mut server_side) = tokio::io::duplex(1024);
        let guarded = interpose(server).unwrap();
        let mut client = UnixStream::from_std(guarded.stream).unwrap();
        server_side.write_all(DONE).await.unwrap();
        // indefinite length: refused
        server_side
            .write_all(&[0x30, 0x80, 0x00, 0x00])
            .await
            .unwrap();
        let mut received = Vec::new();
        client.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, DONE, "the good message before it still arrives");
        assert!(matches!(
            guarded.verdict.get(),
            Some(Closed::Refused(Violation::LengthForm(_)))
        ));
    }
}
