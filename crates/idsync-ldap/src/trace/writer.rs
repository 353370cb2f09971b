//! [`TraceWriter`]: raw messages out as idiotrace LDIF, one flushed message at a time.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::raw::{RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};

use super::header::SearchHeader;
use super::ldif::{encode_base64, is_attribute_name, push_attribute, push_comment};
use super::{
    result_tag, CODE_COMMENT, CONTROL_ATTRIBUTE, MATCHED_COMMENT, MESSAGE_COMMENT, REREAD_COMMENT,
};

/// Writes [`RawMessage`]s as an idiotrace LDIF trace.
///
/// Every [`write`](Self::write) renders the whole message and flushes it, so a crash keeps
/// every message seen before it. The header given to [`begin_search`](Self::begin_search) is
/// written with the next message (a search that brings no message leaves no header).
#[derive(Debug)]
pub struct TraceWriter<W: Write = BufWriter<File>> {
    out: W,
    pending_header: Option<SearchHeader>,
    messages: u64,
}

impl TraceWriter<BufWriter<File>> {
    /// Creates (or truncates) the trace file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(Self::new(BufWriter::new(File::create(path)?)))
    }
}

impl<W: Write> TraceWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        TraceWriter {
            out,
            pending_header: None,
            messages: 0,
        }
    }

    /// Announces a new search (the first, or a reconnect's): its header goes out with the
    /// search's first message.
    pub fn begin_search(&mut self, header: SearchHeader) {
        self.pending_header = Some(header);
    }

    /// Writes one message and flushes.
    ///
    /// A message the trace format cannot hold faithfully is refused with
    /// [`io::ErrorKind::InvalidData`] and nothing is written: an attribute
    /// name that is not an LDAP attribute description (or is `control`), a control OID (or
    /// responseName) with whitespace in it, an empty control OID. A server that sends such
    /// names would otherwise write lines the reader takes for other messages.
    pub fn write(&mut self, message: &RawMessage) -> io::Result<()> {
        check_writable(message)?;
        let header = self.pending_header.take();
        let rendered = render(message, header.as_ref());
        self.out.write_all(&rendered)?;
        self.out.flush()?;
        self.messages += 1;
        Ok(())
    }

    /// Records the outcome of re-reading `dn` with a normal search (the changed entries of a
    /// 389-ds incremental refresh, see [`crate::protocol::Step::Reread`]): the entry that search
    /// returned, or `None` when it found nothing. Written as an entry message (or, for nothing,
    /// a done message) marked by a `# idsync-reread: <dn>` comment, so that a replay re-reads
    /// from the trace.
    /// Refused like [`write`](Self::write) when the entry cannot be recorded faithfully.
    pub fn write_reread(&mut self, dn: &str, entry: Option<&RawEntry>) -> io::Result<()> {
        if let Some(problem) = entry.and_then(unwritable_entry) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, problem));
        }
        let mut rendered = Vec::new();
        match entry {
            Some(entry) => {
                rendered.extend_from_slice(
                    format!(
                        "# result: {}\n#\n",
                        result_tag(crate::raw::op::SEARCH_RESULT_ENTRY)
                    )
                    .as_bytes(),
                );
                push_comment(&mut rendered, REREAD_COMMENT, dn);
                render_entry(&mut rendered, entry);
            }
            None => {
                rendered.extend_from_slice(
                    format!(
                        "# result: {}\n#\n",
                        result_tag(crate::raw::op::SEARCH_RESULT_DONE)
                    )
                    .as_bytes(),
                );
                push_comment(&mut rendered, REREAD_COMMENT, dn);
            }
        }
        self.out.write_all(&rendered)?;
        self.out.flush()?;
        self.messages += 1;
        Ok(())
    }

    /// How many messages were written.
    pub fn messages_written(&self) -> u64 {
        self.messages
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Why `message` cannot be written to a trace without changing its meaning, if it cannot.
///
/// Attribute names are written unquoted (`name: value`), control OIDs as the first word of a
/// `control:` line; a name or OID from a hostile server could otherwise end the line, start a
/// new message, or be read back as something else.
pub(crate) fn unwritable(message: &RawMessage) -> Option<String> {
    match message {
        RawMessage::Entry(entry) => unwritable_entry(entry),
        RawMessage::Intermediate(intermediate) => intermediate
            .name
            .as_deref()
            .filter(|name| name.contains(char::is_whitespace))
            .map(|name| {
                format!(
                    "intermediate response name `{}` holds whitespace",
                    name.escape_debug()
                )
            })
            .or_else(|| unwritable_controls(&intermediate.controls)),
        RawMessage::Done(done) => unwritable_controls(&done.controls),
        RawMessage::Reference(_) => None,
    }
}

fn check_writable(message: &RawMessage) -> io::Result<()> {
    match unwritable(message) {
        Some(problem) => Err(io::Error::new(io::ErrorKind::InvalidData, problem)),
        None => Ok(()),
    }
}

fn unwritable_entry(entry: &RawEntry) -> Option<String> {
    entry
        .attributes
        .iter()
        .find(|attribute| {
            !is_attribute_name(&attribute.name)
                || attribute.name.eq_ignore_ascii_case(CONTROL_ATTRIBUTE)
        })
        .map(|attribute| {
            format!(
                "entry `{}` has an attribute named `{}`, which a trace cannot hold",
                entry.dn.escape_debug(),
                attribute.name.escape_debug()
            )
        })
        .or_else(|| unwritable_controls(&entry.controls))
}

fn unwritable_controls(controls: &[RawControl]) -> Option<String> {
    controls
        .iter()
        .find(|control| control.oid.is_empty() || control.oid.contains(char::is_whitespace))
        .map(|control| {
            format!(
                "control OID `{}` is empty or holds whitespace",
                control.oid.escape_debug()
            )
        })
}

/// One message as trace text: `# result:` and `# control:` lines, `#`, the search header (if
/// any), then the LDIF records.
pub(crate) fn render(message: &RawMessage, header: Option<&SearchHeader>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("# result: {}\n", result_tag(message.op())).as_bytes());
    if let RawMessage::Done(done) = message {
        render_done_header(&mut out, done);
    }
    out.extend_from_slice(b"#\n");
    if let Some(header) = header {
        for (name, value) in header.comments() {
            push_comment(&mut out, name, &value);
        }
    }
    match message {
        RawMessage::Entry(entry) => render_entry(&mut out, entry),
        RawMessage::Intermediate(intermediate) => render_intermediate(&mut out, intermediate),
        RawMessage::Reference(urls) => {
            push_attribute(&mut out, "dn", b"");
            for url in urls {
                push_attribute(&mut out, "ref", url.as_bytes());
            }
            out.push(b'\n');
        }
        RawMessage::Done(_) => {}
    }
    out
}

/// The done's controls as `# control:` lines, and what idiotrace never recorded (a result
/// code other than success, matchedDN, diagnosticMessage) as `# code:`, `# matched:` and
/// `# message:` lines, only when they carry something.
fn render_done_header(out: &mut Vec<u8>, done: &RawDone) {
    for control in &done.controls {
        out.extend_from_slice(b"# control: ");
        out.extend_from_slice(control_text(control).as_bytes());
        out.push(b'\n');
    }
    if done.result_code != 0 {
        out.extend_from_slice(format!("# {CODE_COMMENT}: {}\n", done.result_code).as_bytes());
    }
    if !done.matched_dn.is_empty() {
        push_comment(out, MATCHED_COMMENT, &done.matched_dn);
    }
    if !done.message.is_empty() {
        push_comment(out, MESSAGE_COMMENT, &done.message);
    }
}

/// An entry as python-ldap's `LDIFWriter` writes idiotrace's record: the DN, then every
/// attribute and the `control` pseudo-attribute in sorted name order (a stable sort: values
/// keep their order).
fn render_entry(out: &mut Vec<u8>, entry: &RawEntry) {
    push_attribute(out, "dn", entry.dn.as_bytes());
    let controls: Vec<Vec<u8>> = entry
        .controls
        .iter()
        .map(|control| control_text(control).into_bytes())
        .collect();
    let mut groups: Vec<(&str, &[Vec<u8>])> = entry
        .attributes
        .iter()
        .map(|attribute| (attribute.name.as_str(), attribute.values.as_slice()))
        .collect();
    if !controls.is_empty() {
        groups.push((CONTROL_ATTRIBUTE, controls.as_slice()));
    }
    groups.sort_by(|left, right| left.0.cmp(right.0));
    for (name, values) in groups {
        for value in values {
            push_attribute(out, name, value);
        }
    }
    out.push(b'\n');
}

/// An intermediate response as idiotrace writes it: a record with an empty DN whose first
/// `control:` line is `<responseName> false <base64 responseValue>`, followed by the
/// message's controls.
fn render_intermediate(out: &mut Vec<u8>, intermediate: &RawIntermediate) {
    push_attribute(out, "dn", b"");
    let response = RawControl {
        oid: intermediate.name.clone().unwrap_or_default(),
        critical: false,
        value: intermediate.value.clone(),
    };
    push_attribute(out, CONTROL_ATTRIBUTE, control_text(&response).as_bytes());
    for control in &intermediate.controls {
        push_attribute(out, CONTROL_ATTRIBUTE, control_text(control).as_bytes());
    }
    out.push(b'\n');
}

/// `<oid> <true|false> <base64 value>`; without a value, `<oid> <true|false>` (an idsync
/// extension: idiotrace could not record a control without a value).
pub(crate) fn control_text(control: &RawControl) -> String {
    let criticality = if control.critical { "true" } else { "false" };
    match &control.value {
        Some(value) => format!("{} {criticality} {}", control.oid, encode_base64(value)),
        None => format!("{} {criticality}", control.oid),
    }
}
