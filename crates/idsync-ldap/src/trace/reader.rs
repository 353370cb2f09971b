//! [`TraceReader`]: an idiotrace LDIF trace back into [`RawMessage`]s.
//!
//! A message runs from its `# result:` line to the next one (as idiotrace splits a trace).
//! Everything is checked; a problem is a [`TraceError`] naming the line, never a panic. After
//! an error the reader yields nothing more.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::raw::{op, RawAttribute, RawControl, RawDone, RawEntry, RawIntermediate, RawMessage};

use super::header::{key, SearchHeader};
use super::ldif::split_attribute;
use super::{
    op_of_result, TraceError, CODE_COMMENT, CONTROL_ATTRIBUTE, MATCHED_COMMENT, MESSAGE_COMMENT,
    REREAD_COMMENT,
};

/// The longest physical line accepted (a guard against reading a whole binary file as one line).
const MAX_LINE: usize = 64 << 20;

/// One message read back, with where it was and the search it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedMessage {
    /// The message.
    pub message: RawMessage,
    /// The line of its `# result:` header.
    pub line: usize,
    /// The header of the search this message starts, when the trace recorded one (traces of
    /// idsync do, for every search; idiotrace's do not).
    pub search: Option<SearchHeader>,
    /// `Some(dn)` when the message is not part of the sync search but the re-read of `dn`
    /// (see [`TraceWriter::write_reread`](super::TraceWriter::write_reread)): an entry, or a
    /// done message when the re-read found nothing.
    pub reread: Option<String>,
}

/// Reads a trace, message by message. As an iterator it yields the bare [`RawMessage`]s;
/// [`next_message`](Self::next_message) also gives line numbers and search headers.
#[derive(Debug)]
pub struct TraceReader<R: BufRead = BufReader<File>> {
    input: R,
    /// Physical lines read so far.
    line: usize,
    /// A `# result:` line read while looking for the end of the previous message.
    lookahead: Option<(usize, Vec<u8>)>,
    /// Messages of the current chunk not yet handed out.
    queue: VecDeque<TracedMessage>,
    /// End of input or an error: nothing more.
    finished: bool,
}

impl TraceReader<BufReader<File>> {
    /// Opens the trace file at `path`.
    pub fn open(path: &Path) -> Result<Self, TraceError> {
        Ok(Self::new(BufReader::new(File::open(path)?)))
    }
}

impl<R: BufRead> TraceReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        TraceReader {
            input,
            line: 0,
            lookahead: None,
            queue: VecDeque::new(),
            finished: false,
        }
    }

    /// The next message with its line and search header; `None` at the end (or after an error).
    pub fn next_message(&mut self) -> Option<Result<TracedMessage, TraceError>> {
        loop {
            if let Some(message) = self.queue.pop_front() {
                return Some(Ok(message));
            }
            if self.finished {
                return None;
            }
            match self.read_chunk() {
                Ok(true) => {}
                Ok(false) => self.finished = true,
                Err(error) => {
                    self.finished = true;
                    return Some(Err(error));
                }
            }
        }
    }

    /// Reads one physical line without its terminator; `None` at the end of input.
    fn read_line(&mut self) -> Result<Option<(usize, Vec<u8>)>, TraceError> {
        if let Some(pending) = self.lookahead.take() {
            return Ok(Some(pending));
        }
        let mut buffer = Vec::new();
        let read = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        if buffer.len() > MAX_LINE {
            return Err(syntax(self.line, "line too long"));
        }
        if buffer.last() == Some(&b'\n') {
            buffer.pop();
        }
        if buffer.last() == Some(&b'\r') {
            buffer.pop();
        }
        Ok(Some((self.line, buffer)))
    }

    /// Reads one message chunk into the queue; `false` at the end of input.
    fn read_chunk(&mut self) -> Result<bool, TraceError> {
        let mut chunk = Chunk::default();
        // Up to the `# result:` line: blank lines and comments only.
        let (start, tag_text) = loop {
            let Some((number, line)) = self.read_line()? else {
                return Ok(false);
            };
            if let Some(rest) = line.strip_prefix(RESULT_PREFIX) {
                break (number, rest.to_vec());
            }
            if line.is_empty() {
                continue;
            }
            if line.first() == Some(&b'#') {
                chunk.comment(number, &line)?;
                continue;
            }
            return Err(syntax(number, "expected a `# result: <type>` line"));
        };
        chunk.start = start;
        chunk.kind = result_kind(start, &tag_text)?;
        // `# control:` (and idsync's `# code:` …) lines, up to the first other line; a bare
        // `#` ends them and is consumed.
        let mut body_line = None;
        while let Some((number, line)) = self.read_line()? {
            if line.starts_with(RESULT_PREFIX) {
                self.lookahead = Some((number, line));
                break;
            }
            if chunk.header_line(number, &line)? {
                continue;
            }
            if !is_bare_hash(&line) {
                body_line = Some((number, line));
            }
            break;
        }
        // The LDIF records, up to the next `# result:` line.
        let mut body = Body::default();
        if let Some((number, line)) = body_line {
            body.feed(&mut chunk, number, line)?;
        }
        if self.lookahead.is_none() {
            while let Some((number, line)) = self.read_line()? {
                if line.starts_with(RESULT_PREFIX) {
                    self.lookahead = Some((number, line));
                    break;
                }
                body.feed(&mut chunk, number, line)?;
            }
        }
        body.finish(&mut chunk)?;
        self.queue.extend(chunk.into_messages()?);
        Ok(true)
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<RawMessage, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_message()
            .map(|traced| traced.map(|traced| traced.message))
    }
}

/// How a message starts (idiotrace's delimiter).
const RESULT_PREFIX: &[u8] = b"# result:";

fn syntax(line: usize, message: impl Into<String>) -> TraceError {
    TraceError::Syntax {
        line,
        message: message.into(),
    }
}

fn is_bare_hash(line: &[u8]) -> bool {
    line.first() == Some(&b'#')
        && line
            .get(1..)
            .unwrap_or_default()
            .iter()
            .all(u8::is_ascii_whitespace)
}

/// The op of a `# result:` value: python-ldap's result types (100, 101, 115, 121) as idiotrace
/// writes them, or the bare protocol op numbers (4, 5, 19, 25).
fn result_kind(line: usize, text: &[u8]) -> Result<u64, TraceError> {
    let text = std::str::from_utf8(text)
        .map_err(|_| syntax(line, "the result type is not a number"))?
        .trim();
    let number: u64 = text
        .parse()
        .map_err(|_| syntax(line, format!("the result type `{text}` is not a number")))?;
    op_of_result(number).ok_or_else(|| {
        syntax(
            line,
            format!(
                "unknown result type {number} (expected 100 entry, 101 done, 115 reference or \
                 121 intermediate)"
            ),
        )
    })
}

/// One LDIF record of a message body.
#[derive(Debug)]
struct Record {
    line: usize,
    dn: String,
    /// `(line, name, value)` in file order.
    values: Vec<(usize, String, Vec<u8>)>,
}

/// What one message chunk holds while it is read.
#[derive(Debug, Default)]
struct Chunk {
    start: usize,
    kind: u64,
    /// `# control:` lines of the header.
    controls: Vec<RawControl>,
    result_code: Option<u32>,
    matched_dn: Option<String>,
    message: Option<String>,
    records: Vec<Record>,
    search: Option<SearchHeader>,
    reread: Option<String>,
}

impl Chunk {
    /// Takes one header line; `false` when it is not one (the header ends there).
    fn header_line(&mut self, number: usize, line: &[u8]) -> Result<bool, TraceError> {
        let Some(text) = line.strip_prefix(b"#") else {
            return Ok(false);
        };
        let text = trim_start(text);
        if let Some(control) = text.strip_prefix(b"control:") {
            let control = parse_control(trim_start(control)).map_err(|e| syntax(number, e))?;
            self.controls.push(control);
            return Ok(true);
        }
        let Some((name, value)) = comment_pair(text) else {
            return Ok(false);
        };
        let value = value.map_err(|message| syntax(number, message))?;
        match name.as_str() {
            CODE_COMMENT => {
                let code = String::from_utf8_lossy(&value)
                    .trim()
                    .parse()
                    .map_err(|_| {
                        syntax(number, format!("`{CODE_COMMENT}` must be a result code"))
                    })?;
                self.result_code = Some(code);
            }
            MATCHED_COMMENT => self.matched_dn = Some(utf8(number, value, MATCHED_COMMENT)?),
            MESSAGE_COMMENT => self.message = Some(utf8(number, value, MESSAGE_COMMENT)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A comment line of the body: idsync's search header keys are read, others skipped.
    fn comment(&mut self, number: usize, line: &[u8]) -> Result<(), TraceError> {
        let text = trim_start(line.strip_prefix(b"#").unwrap_or(line));
        let Some((name, value)) = comment_pair(text) else {
            return Ok(());
        };
        if !name.starts_with("idsync-") {
            return Ok(());
        }
        let value = utf8(number, value.map_err(|e| syntax(number, e))?, &name)?;
        if name == REREAD_COMMENT {
            self.reread = Some(value);
            return Ok(());
        }
        if name == key::VERSION {
            self.search = Some(SearchHeader::default());
        }
        match self.search.as_mut() {
            Some(search) => search
                .apply(&name, value)
                .map_err(|message| syntax(number, message)),
            None => Err(syntax(
                number,
                format!(
                    "`# {name}:` outside a search header (it starts with `# {}:`)",
                    key::VERSION
                ),
            )),
        }
    }

    /// The chunk's messages, checked.
    fn into_messages(self) -> Result<Vec<TracedMessage>, TraceError> {
        let start = self.start;
        if self.reread.is_some()
            && !matches!(self.kind, op::SEARCH_RESULT_ENTRY | op::SEARCH_RESULT_DONE)
        {
            return Err(syntax(
                start,
                format!("`# {REREAD_COMMENT}:` marks an entry (100) or done (101) message only"),
            ));
        }
        let mut messages = Vec::new();
        match self.kind {
            op::SEARCH_RESULT_ENTRY => {
                if self.records.is_empty() {
                    return Err(syntax(start, "an entry message (100) without its entry"));
                }
                for record in self.records {
                    messages.push(entry(record, &self.controls)?);
                }
            }
            op::INTERMEDIATE_RESPONSE => {
                if self.records.is_empty() {
                    return Err(syntax(
                        start,
                        "an intermediate message (121) without its record",
                    ));
                }
                for record in self.records {
                    messages.push(intermediate(record, &self.controls)?);
                }
            }
            op::SEARCH_RESULT_REFERENCE => {
                if self.records.is_empty() {
                    return Err(syntax(
                        start,
                        "a reference message (115) without its record",
                    ));
                }
                for record in self.records {
                    messages.push(reference(record)?);
                }
            }
            _ => {
                if let Some(record) = self.records.first() {
                    return Err(syntax(record.line, "a done message (101) holds no records"));
                }
                messages.push(RawMessage::Done(RawDone {
                    result_code: self.result_code.unwrap_or(0),
                    matched_dn: self.matched_dn.unwrap_or_default(),
                    message: self.message.unwrap_or_default(),
                    controls: self.controls,
                }));
            }
        }
        let mut search = self.search;
        let reread = self.reread;
        Ok(messages
            .into_iter()
            .map(|message| TracedMessage {
                message,
                line: start,
                search: search.take(),
                reread: reread.clone(),
            })
            .collect())
    }
}

fn entry(record: Record, header_controls: &[RawControl]) -> Result<RawMessage, TraceError> {
    let mut attributes: Vec<RawAttribute> = Vec::new();
    let mut controls = Vec::new();
    for (line, name, value) in record.values {
        if name.eq_ignore_ascii_case(CONTROL_ATTRIBUTE) {
            controls.push(parse_control(&value).map_err(|message| syntax(line, message))?);
        } else if let Some(attribute) = attributes.iter_mut().find(|a| a.name == name) {
            attribute.values.push(value);
        } else {
            attributes.push(RawAttribute {
                name,
                values: vec![value],
            });
        }
    }
    controls.extend_from_slice(header_controls);
    Ok(RawMessage::Entry(RawEntry {
        dn: record.dn,
        attributes,
        controls,
    }))
}

fn intermediate(record: Record, header_controls: &[RawControl]) -> Result<RawMessage, TraceError> {
    let mut controls = Vec::new();
    for (line, name, value) in record.values {
        if !name.eq_ignore_ascii_case(CONTROL_ATTRIBUTE) {
            return Err(syntax(
                line,
                format!("an intermediate message has only `control:` lines, not `{name}:`"),
            ));
        }
        controls.push(parse_control(&value).map_err(|message| syntax(line, message))?);
    }
    let mut controls = controls.into_iter();
    let Some(response) = controls.next() else {
        return Err(syntax(
            record.line,
            "an intermediate message needs a `control:` line with its name and value",
        ));
    };
    let mut controls: Vec<RawControl> = controls.collect();
    controls.extend_from_slice(header_controls);
    Ok(RawMessage::Intermediate(RawIntermediate {
        name: Some(response.oid).filter(|name| !name.is_empty()),
        value: response.value,
        controls,
    }))
}

fn reference(record: Record) -> Result<RawMessage, TraceError> {
    let mut urls = Vec::new();
    for (line, name, value) in record.values {
        if !name.eq_ignore_ascii_case("ref") {
            return Err(syntax(
                line,
                format!("a reference message has only `ref:` lines, not `{name}:`"),
            ));
        }
        urls.push(utf8(line, value, "ref")?);
    }
    Ok(RawMessage::Reference(urls))
}

/// The LDIF body of a chunk: unfolding, comments, records separated by blank lines.
#[derive(Debug, Default)]
struct Body {
    /// The logical line being unfolded: (first line number, bytes).
    logical: Option<(usize, Vec<u8>)>,
    record: Option<Record>,
}

impl Body {
    fn feed(&mut self, chunk: &mut Chunk, number: usize, line: Vec<u8>) -> Result<(), TraceError> {
        if let Some(continuation) = line.strip_prefix(b" ") {
            return match self.logical.as_mut() {
                Some((_, logical)) => {
                    logical.extend_from_slice(continuation);
                    Ok(())
                }
                None => Err(syntax(
                    number,
                    "a continuation line with nothing to continue",
                )),
            };
        }
        self.end_logical(chunk)?;
        if line.is_empty() {
            if let Some(record) = self.record.take() {
                chunk.records.push(record);
            }
        } else {
            self.logical = Some((number, line));
        }
        Ok(())
    }

    fn finish(&mut self, chunk: &mut Chunk) -> Result<(), TraceError> {
        self.end_logical(chunk)?;
        if let Some(record) = self.record.take() {
            chunk.records.push(record);
        }
        Ok(())
    }

    fn end_logical(&mut self, chunk: &mut Chunk) -> Result<(), TraceError> {
        let Some((number, line)) = self.logical.take() else {
            return Ok(());
        };
        if line.first() == Some(&b'#') {
            return chunk.comment(number, &line);
        }
        if line == b"-" || line.starts_with(b"changetype:") {
            return Err(syntax(number, "change records are not part of a trace"));
        }
        let (name, value) = split_attribute(&line).map_err(|message| syntax(number, message))?;
        match self.record.as_mut() {
            Some(record) => record.values.push((number, name, value)),
            None if name.eq_ignore_ascii_case("dn") => {
                self.record = Some(Record {
                    line: number,
                    dn: utf8(number, value, "dn")?,
                    values: Vec::new(),
                });
            }
            None if name.eq_ignore_ascii_case("version") && chunk.records.is_empty() => {}
            None => {
                return Err(syntax(
                    number,
                    format!("a record starts with `dn:`, not `{name}:`"),
                ))
            }
        }
        Ok(())
    }
}

/// `name: value` / `name:: base64` of a comment's text; `None` when the text is free prose.
fn comment_pair(text: &[u8]) -> Option<(String, Result<Vec<u8>, String>)> {
    let colon = text.iter().position(|&byte| byte == b':')?;
    let name = std::str::from_utf8(text.get(..colon)?).ok()?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    Some((
        name.to_owned(),
        split_attribute(text).map(|(_, value)| value),
    ))
}

fn utf8(line: usize, value: Vec<u8>, what: &str) -> Result<String, TraceError> {
    String::from_utf8(value).map_err(|_| syntax(line, format!("`{what}` is not UTF-8")))
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// `<oid> <true|false> [<base64 value>]`. An empty OID (the text starts with a space) is an
/// intermediate message without a responseName; a value that is present but empty is written
/// as a trailing space.
pub(crate) fn parse_control(text: &[u8]) -> Result<RawControl, String> {
    let text = std::str::from_utf8(text).map_err(|_| "a control line is not UTF-8".to_owned())?;
    let shape = || {
        format!(
            "expected `<oid> <true|false> <base64 value>`, not `{}`",
            text.escape_debug()
        )
    };
    let (oid, rest) = text.split_at(text.find(char::is_whitespace).ok_or_else(shape)?);
    let rest = rest.trim_start();
    let (criticality, value) = match rest.find(char::is_whitespace) {
        Some(end) => {
            let (criticality, value) = rest.split_at(end);
            (criticality, Some(value.trim()))
        }
        None => (rest, None),
    };
    let critical = if criticality.eq_ignore_ascii_case("true") {
        true
    } else if criticality.eq_ignore_ascii_case("false") {
        false
    } else {
        return Err(shape());
    };
    let value = match value {
        Some(value) if value.contains(char::is_whitespace) => return Err(shape()),
        Some(value) => Some(super::ldif::decode_base64(value.as_bytes())?),
        None => None,
    };
    Ok(RawControl {
        oid: oid.to_owned(),
        critical,
        value,
    })
}
