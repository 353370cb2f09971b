//! The StartTLS extended operation (RFC 4511 §4.14), run on the plain TCP connection before
//! the TLS handshake. idsync runs TLS itself (see the `guard` module), so it asks for it too.

use ldap3::asn1::{
    parse_tag, parse_uint, write, ASNTag, Integer, OctetString, Sequence, StructureTag, Tag,
    TagClass, PL,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::guard::frame;
use super::ConnError;

/// The StartTLS request name.
const STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";
/// LDAP's ExtendedRequest and ExtendedResponse application tags.
const EXTENDED_REQUEST: u64 = 23;
const EXTENDED_RESPONSE: u64 = 24;
/// The largest answer accepted (a result code and two short strings).
const MAX_ANSWER: usize = 64 * 1024;

/// Asks the server to start TLS on `stream` and waits for its consent.
pub(super) async fn negotiate(stream: &mut TcpStream) -> Result<(), ConnError> {
    let request = request_bytes()?;
    stream
        .write_all(&request)
        .await
        .map_err(|error| ConnError::Lost(format!("sending StartTLS: {error}")))?;
    let answer = read_message(stream).await?;
    let (code, message) = result_of(&answer).ok_or_else(|| {
        ConnError::Lost("the server's answer to StartTLS is not an extended response".to_owned())
    })?;
    if code != 0 {
        return Err(ConnError::Result {
            operation: "StartTLS",
            code,
            message,
        });
    }
    Ok(())
}

/// The encoded request: message 1, ExtendedRequest { requestName }.
fn request_bytes() -> Result<Vec<u8>, ConnError> {
    let request = Tag::Sequence(Sequence {
        inner: vec![
            Tag::Integer(Integer {
                inner: 1,
                ..Integer::default()
            }),
            Tag::Sequence(Sequence {
                class: TagClass::Application,
                id: EXTENDED_REQUEST,
                inner: vec![Tag::OctetString(OctetString {
                    class: TagClass::Context,
                    id: 0,
                    inner: STARTTLS_OID.as_bytes().to_vec(),
                })],
            }),
        ],
        ..Sequence::default()
    });
    let mut bytes = bytes::BytesMut::new();
    write::encode_into(&mut bytes, request.into_structure())
        .map_err(|error| ConnError::Operation(format!("encoding StartTLS: {error}")))?;
    Ok(bytes.to_vec())
}

/// Reads exactly one message; bytes after it (the server must wait for our handshake) are an
/// error.
async fn read_message(stream: &mut TcpStream) -> Result<Vec<u8>, ConnError> {
    let refused = |violation: frame::Violation| {
        ConnError::Lost(format!("the server's answer to StartTLS: {violation}"))
    };
    let mut buffer = Vec::new();
    loop {
        if let Some(len) = frame::message_len(&buffer, MAX_ANSWER).map_err(refused)? {
            if buffer.len() > len {
                return Err(ConnError::Lost(
                    "the server sent data after its answer to StartTLS".to_owned(),
                ));
            }
            if buffer.len() == len {
                frame::check_message(&buffer, frame::MAX_DEPTH).map_err(refused)?;
                return Ok(buffer);
            }
        }
        let read = stream
            .read_buf(&mut buffer)
            .await
            .map_err(|error| ConnError::Lost(format!("waiting for StartTLS: {error}")))?;
        if read == 0 {
            return Err(ConnError::Lost(
                "the server closed the connection instead of answering StartTLS".to_owned(),
            ));
        }
    }
}

/// The result code and diagnostic message of an ExtendedResponse message.
fn result_of(message: &[u8]) -> Option<(u32, String)> {
    let (_, tag) = parse_tag(message).ok()?;
    let mut parts = constructed(tag)?.into_iter();
    let _message_id = parts.next()?;
    let response = parts.next()?;
    if response.class != TagClass::Application || response.id != EXTENDED_RESPONSE {
        return None;
    }
    let mut fields = constructed(response)?.into_iter();
    let code = primitive(fields.next()?)?;
    let code = u32::try_from(parse_uint(&code).ok()?.1).ok()?;
    let _matched_dn = fields.next()?;
    let message = primitive(fields.next()?)?;
    Some((code, String::from_utf8_lossy(&message).into_owned()))
}

fn constructed(tag: StructureTag) -> Option<Vec<StructureTag>> {
    match tag.payload {
        PL::C(children) => Some(children),
        PL::P(_) => None,
    }
}

fn primitive(tag: StructureTag) -> Option<Vec<u8>> {
    match tag.payload {
        PL::P(bytes) => Some(bytes),
        PL::C(_) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_message_1_with_the_starttls_name() {
        let bytes = request_bytes().unwrap();
        let (rest, tag) = parse_tag(&bytes).unwrap();
        assert!(rest.is_empty());
        let mut parts = constructed(tag).unwrap().into_iter();
        assert_eq!(primitive(parts.next().unwrap()).unwrap(), vec![1]);
        let request = parts.next().unwrap();
        assert_eq!(
            (request.class, request.id),
            (TagClass::Application, EXTENDED_REQUEST)
        );
        let name = constructed(request).unwrap().into_iter().next().unwrap();
        assert_eq!(primitive(name).unwrap(), STARTTLS_OID.as_bytes());
    }

    #[test]
    fn results_are_read_and_anything_else_is_not() {
        // message 1, ExtendedResponse { 52, "", "busy" }
        let busy = [
            0x30, 0x10, 0x02, 0x01, 0x01, 0x78, 0x0b, 0x0a, 0x01, 0x34, 0x04, 0x00, 0x04, 0x04,
            b'b', b'u', b's', b'y',
        ];
        assert_eq!(result_of(&busy), Some((52, "busy".to_owned())));
        // a SearchResultDone is no answer to StartTLS
        let done = [
            0x30, 0x0c, 0x02, 0x01, 0x02, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        assert_eq!(result_of(&done), None);
        assert_eq!(result_of(&[0x30, 0x00]), None);
    }
}
