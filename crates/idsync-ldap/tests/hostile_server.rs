//! The live source against a hostile server (a TCP listener in the test that answers every
//! request with crafted bytes): messages lber would recurse into without bound, or wait for
//! forever, or whose missing parts ldap3 would `expect`, end the run with an error that says
//! why — the process does not abort, panic or hang.

use std::time::Duration;

use idsync_core::{Source, SourceError, SourceStart};
use idsync_ldap::flavour::FlavourKind;
use idsync_ldap::live::LdapSource;
use idsync_ldap::LdapSourceConfig;
use ldap3::asn1::{parse_tag, parse_uint, StructureTag, PL};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(30);

/// `depth` SEQUENCEs around an empty OCTET STRING, built outside-in in linear time.
fn nested(depth: usize) -> Vec<u8> {
    let mut headers = Vec::with_capacity(depth);
    let mut size = 2usize;
    for _ in 0..depth {
        let header = long_header(0x30, size);
        size += header.len();
        headers.push(header);
    }
    let mut bytes: Vec<u8> = headers.into_iter().rev().flatten().collect();
    bytes.extend_from_slice(&[0x04, 0x00]);
    bytes
}

fn long_header(tag: u8, len: usize) -> Vec<u8> {
    let mut header = vec![tag, 0x84];
    header.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    header
}

/// An LDAP message with `message_id` around `op` (an already encoded protocol op).
fn message(message_id: u8, op: &[u8]) -> Vec<u8> {
    let mut content = vec![0x02, 0x01, message_id];
    content.extend_from_slice(op);
    let mut bytes = long_header(0x30, content.len());
    bytes.extend_from_slice(&content);
    bytes
}

/// A SearchResultEntry whose body is nested `depth` deep.
fn deep_entry(message_id: u8, depth: usize) -> Vec<u8> {
    let body = nested(depth);
    let mut op = long_header(0x64, body.len());
    op.extend_from_slice(&body);
    message(message_id, &op)
}

/// A SearchResultEntry whose attribute list claims more bytes than the entry holds.
fn overrunning_entry(message_id: u8) -> Vec<u8> {
    // [APPLICATION 4] { OCTET STRING "", SEQUENCE claiming 200 bytes with 2 present }
    let op = [0x64, 0x06, 0x04, 0x00, 0x30, 0x81, 0xc8, 0x30];
    message(message_id, &op)
}

/// Reads one request and returns its message id.
async fn read_request(stream: &mut TcpStream) -> Option<u8> {
    let mut buffer = Vec::new();
    loop {
        if let Ok((_, tag)) = parse_tag(&buffer) {
            return message_id(tag);
        }
        if stream.read_buf(&mut buffer).await.ok()? == 0 {
            return None;
        }
    }
}

fn message_id(tag: StructureTag) -> Option<u8> {
    let PL::C(parts) = tag.payload else {
        return None;
    };
    let PL::P(id) = &parts.first()?.payload else {
        return None;
    };
    u8::try_from(parse_uint(id).ok()?.1).ok()
}

/// Serves one connection: every request is answered with `answer(message id)`.
async fn serve(answer: fn(u8) -> Vec<u8>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let task = tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        while let Some(id) = read_request(&mut stream).await {
            if stream.write_all(&answer(id)).await.is_err() {
                return;
            }
        }
    });
    (format!("ldap://127.0.0.1:{port}"), task)
}

/// One anonymous refreshOnly run against `url`.
async fn run_once(url: &str) -> Result<(), SourceError> {
    let config = LdapSourceConfig {
        url: url.to_owned(),
        base: Some("dc=example,dc=org".to_owned()),
        timeout_seconds: Some(10),
        ..LdapSourceConfig::default()
    };
    let mut source =
        LdapSource::new(FlavourKind::Ldap, &config).unwrap_or_else(|p| panic!("{p:?}"));
    let (tx, mut rx) = mpsc::channel(64);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let result = tokio::time::timeout(WAIT, source.run(SourceStart::default(), tx))
        .await
        .unwrap_or_else(|_| panic!("the source hung on a hostile answer"));
    drain.abort();
    result
}

fn failure(result: Result<(), SourceError>, why: &str) -> SourceError {
    match result {
        Ok(()) => panic!("{why}"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_message_nested_200000_deep_is_an_error_not_a_stack_overflow() {
    let (url, server) = serve(|id| deep_entry(id, 200_000)).await;
    let error = failure(run_once(&url).await, "a hostile answer must fail the run");
    let text = error.to_string();
    assert!(text.contains("nested deeper than"), "{text}");
    assert!(
        !error.is_retryable(),
        "a hostile server is not retried: {text}"
    );
    server.abort();
}

#[tokio::test]
async fn an_inner_length_past_the_message_end_is_an_error_not_a_hang() {
    let (url, server) = serve(overrunning_entry).await;
    let error = failure(run_once(&url).await, "a malformed answer must fail the run");
    let text = error.to_string();
    assert!(text.contains("runs past its enclosing element"), "{text}");
    server.abort();
}

#[tokio::test]
async fn an_announced_size_of_4_gib_is_refused_before_it_is_read() {
    let (url, server) = serve(|id| {
        let mut bytes = vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xf0, 0x02, 0x01, id];
        bytes.extend_from_slice(&[0u8; 64]);
        bytes
    })
    .await;
    let error = failure(run_once(&url).await, "a huge answer must fail the run");
    let text = error.to_string();
    assert!(text.contains("announced a message of"), "{text}");
    server.abort();
}

#[tokio::test]
async fn an_empty_ldap_message_is_an_error_not_a_panic_in_ldap3() {
    let (url, server) = serve(|_| vec![0x30, 0x00]).await;
    let error = failure(run_once(&url).await, "an empty message must fail the run");
    let text = error.to_string();
    assert!(text.contains("ldap3 cannot read"), "{text}");
    server.abort();
}
