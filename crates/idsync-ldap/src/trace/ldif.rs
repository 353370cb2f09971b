//! The LDIF line rules of a trace, as python-ldap's `LDIFWriter` applies them (so that a trace
//! idsync writes is byte for byte what `idiotrace` would have written for the same messages),
//! and their inverse for reading.
//!
//! * A value is written as `name: value` when it is "safe", otherwise as `name:: base64`. A
//!   value is unsafe when it starts with NUL, LF, CR, space, `:` or `<`, contains NUL, LF, CR
//!   or a byte above 0x7F, or ends with a space.
//! * A line longer than 76 characters is folded: the first 76, then continuation lines of a
//!   space and the next 75.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Longest physical line before folding (python-ldap's default `cols`).
const COLUMNS: usize = 76;

/// True when `value` must be base64-encoded in LDIF.
pub(crate) fn needs_base64(value: &[u8]) -> bool {
    let starts_unsafe = matches!(value.first(), Some(0 | b'\n' | b'\r' | b' ' | b':' | b'<'));
    let ends_with_space = value.last() == Some(&b' ');
    let has_unsafe = value
        .iter()
        .any(|&byte| matches!(byte, 0 | b'\n' | b'\r') || byte > 0x7F);
    starts_unsafe || ends_with_space || has_unsafe
}

/// Appends one attribute line (`name: value` or `name:: base64`), folded, to `out`.
pub(crate) fn push_attribute(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    let mut line = Vec::with_capacity(name.len() + 3 + value.len());
    line.extend_from_slice(name.as_bytes());
    if needs_base64(value) {
        line.extend_from_slice(b":: ");
        line.extend_from_slice(STANDARD.encode(value).as_bytes());
    } else {
        line.extend_from_slice(b": ");
        line.extend_from_slice(value);
    }
    push_folded(out, &line);
}

/// Appends `line` to `out`, folded at [`COLUMNS`], each physical line ended by LF.
fn push_folded(out: &mut Vec<u8>, line: &[u8]) {
    let (first, mut rest) = line.split_at(line.len().min(COLUMNS));
    out.extend_from_slice(first);
    out.push(b'\n');
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(rest.len().min(COLUMNS - 1));
        out.push(b' ');
        out.extend_from_slice(piece);
        out.push(b'\n');
        rest = tail;
    }
}

/// Appends a comment line `# name: value` (or `# name:: base64` when the value is unsafe).
/// Comment lines are never folded: a reader that does not know them skips them whole.
pub(crate) fn push_comment(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b"# ");
    out.extend_from_slice(name.as_bytes());
    if needs_base64(value.as_bytes()) {
        out.extend_from_slice(b":: ");
        out.extend_from_slice(STANDARD.encode(value).as_bytes());
    } else {
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'\n');
}

/// Decodes standard padded base64, as python's `b64encode` writes it.
pub(crate) fn decode_base64(text: &[u8]) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|error| format!("invalid base64: {error}"))
}

/// Encodes bytes as standard padded base64.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Splits one unfolded LDIF line `name: value` / `name:: base64` / `name:< url` into its
/// name and decoded value. `line` has no line terminator.
pub(crate) fn split_attribute(line: &[u8]) -> Result<(String, Vec<u8>), String> {
    let colon = line
        .iter()
        .position(|&byte| byte == b':')
        .ok_or_else(|| "expected `name: value`".to_owned())?;
    let (name, rest) = line.split_at(colon);
    let name = std::str::from_utf8(name)
        .ok()
        .filter(|name| is_attribute_name(name))
        .ok_or_else(|| {
            format!(
                "invalid attribute name `{}`",
                String::from_utf8_lossy(name).escape_debug()
            )
        })?;
    // `rest` starts with the colon.
    let rest = rest.get(1..).unwrap_or_default();
    let value = match rest.first() {
        Some(b':') => decode_base64(trim_spaces(rest.get(1..).unwrap_or_default()))?,
        Some(b'<') => return Err(format!("`{name}:<` (a value from a URL) is not supported")),
        _ => trim_leading_spaces(rest).to_vec(),
    };
    Ok((name.to_owned(), value))
}

/// An LDIF attribute description: letters, digits, `-`, `.`, `_` and `;` (options), not
/// empty; options may hold `=` and `*` (Active Directory's ranged values:
/// `member;range=0-1499`, `member;range=1500-*`).
pub(crate) fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b';' | b'_' | b'=' | b'*')
        })
}

fn trim_leading_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&byte| byte != b' ')
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let bytes = trim_leading_spaces(bytes);
    let end = bytes
        .iter()
        .rposition(|&byte| byte != b' ')
        .map_or(0, |position| position + 1);
    bytes.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_and_unsafe_values() {
        assert!(!needs_base64(b""));
        assert!(!needs_base64(b"alice"));
        assert!(!needs_base64(b"a b"));
        for unsafe_value in [
            &b" a"[..],
            b"a ",
            b":a",
            b"<a",
            b"a\nb",
            b"a\rb",
            b"a\0",
            "Zoë".as_bytes(),
        ] {
            assert!(needs_base64(unsafe_value), "{unsafe_value:?}");
        }
    }

    #[test]
    fn folding_matches_python_ldap() {
        let mut out = Vec::new();
        let value = "x".repeat(200);
        push_attribute(&mut out, "description", value.as_bytes());
        let text = String::from_utf8(out).unwrap_or_default();
        let lengths: Vec<usize> = text.lines().map(str::len).collect();
        assert_eq!(lengths, vec![76, 76, 63]);
        assert!(text.lines().skip(1).all(|line| line.starts_with(' ')));
    }

    #[test]
    fn split_plain_base64_and_url() {
        assert_eq!(
            split_attribute(b"cn: Alice").ok(),
            Some(("cn".to_owned(), b"Alice".to_vec()))
        );
        assert_eq!(
            split_attribute(b"dn:").ok(),
            Some(("dn".to_owned(), Vec::new()))
        );
        assert_eq!(
            split_attribute(b"cn:: Wm/Dqw==").ok(),
            Some(("cn".to_owned(), "Zoë".as_bytes().to_vec()))
        );
        assert!(split_attribute(b"jpegPhoto:< file:///etc/passwd").is_err());
        assert!(split_attribute(b"no colon").is_err());
        assert!(split_attribute(b": value").is_err());
        assert!(split_attribute(b"cn:: !!!").is_err());
    }
}
