//! Traces: the raw protocol messages of sync searches, recorded as LDIF in the format of
//! idiosync's `idiotrace`, and read back for the `replay` source.
//!
//! # The format
//!
//! A trace is a sequence of messages, in the order the server sent them. Each message starts
//! with a `# result: <type>` line, where the type is python-ldap's result type (the BER tag of
//! the LDAP operation): `100` SearchResultEntry, `101` SearchResultDone, `115`
//! SearchResultReference, `121` IntermediateResponse. The reader also takes the bare protocol
//! op numbers (`4`, `5`, `19`, `25`). Then come the message's `# control: <oid> <true|false>
//! <base64 value>` lines, a `#` line, and the message's LDIF records:
//!
//! * an **entry** is one record: its DN, then its attributes and `control:` lines (the
//!   per-entry controls, e.g. the syncState control) sorted by attribute name, as python-ldap's
//!   `LDIFWriter` writes them (unsafe values as `name:: base64`, lines folded at 76 columns);
//! * an **intermediate** message (syncInfo) is a record with an empty DN whose first `control:`
//!   line holds the responseName, `false` and the base64 responseValue;
//! * a **done** message has no record: its controls (the syncDone control) are the `# control:`
//!   lines;
//! * a **reference** is a record with an empty DN and one `ref:` line per URL.
//!
//! ```text
//! # result: 100
//! #
//! dn: uid=alice,ou=people,dc=example,dc=org
//! cn: Alice Archer
//! control: 1.3.6.1.4.1.4203.1.9.1.2 false MBUKAQEEEC7vtKk0ChHqrLrCmtEQNQk=
//! objectClass: inetOrgPerson
//! uid: alice
//!
//! # result: 121
//! #
//! dn:
//! control: 1.3.6.1.4.1.4203.1.9.1.4 false oQ8EDXJpZDowMDAsY3NuPTE=
//!
//! ```
//!
//! For the same messages idsync writes exactly what idiotrace writes, and reads idiotrace's
//! captures. What idsync adds stays in comment lines, which idiotrace's reader skips:
//!
//! * the **search header**, `# idsync-version:`, `# idsync-url:` (without credentials),
//!   `# idsync-base:`, `# idsync-scope:`, `# idsync-filter:`, `# idsync-attributes:`,
//!   `# idsync-mode:` (`refreshAndPersist` or `refreshOnly`) and `# idsync-cookie:` (`sent` or
//!   `none`), right after the `#` line of each search's first message (a reconnect starts a
//!   new search with a new header);
//! * on a done message, `# code:`, `# matched:` and `# message:` lines after its `# control:`
//!   lines, when the result is not a plain success (idiotrace could not record a failed
//!   search).
//!
//! * the **re-read** of a changed entry after a 389-ds incremental refresh (which leaves out
//!   operational attributes): an entry message, or a done message when the entry is gone,
//!   marked by a `# idsync-reread: <dn>` comment after its `#` line.
//!
//! A control without a value is written `<oid> <true|false>` (idiotrace cannot record one).

mod header;
mod ldif;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use header::{redact_url, SearchHeader};
pub use reader::{TraceReader, TracedMessage};
pub use writer::TraceWriter;

use crate::raw::op;

/// A trace that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("cannot read the trace: {0}")]
    Io(#[from] std::io::Error),
    /// The text is not a trace.
    #[error("line {line}: {message}")]
    Syntax {
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl TraceError {
    /// The line the error is on, for syntax errors.
    pub fn line(&self) -> Option<usize> {
        match self {
            TraceError::Io(_) => None,
            TraceError::Syntax { line, .. } => Some(*line),
        }
    }
}

/// The attribute name of control lines in records.
pub(crate) const CONTROL_ATTRIBUTE: &str = "control";
/// Comment key of a done's result code (an idsync extension).
pub(crate) const CODE_COMMENT: &str = "code";
/// Comment key of a done's matchedDN (an idsync extension).
pub(crate) const MATCHED_COMMENT: &str = "matched";
/// Comment key of a done's diagnosticMessage (an idsync extension).
pub(crate) const MESSAGE_COMMENT: &str = "message";

/// Comment key marking the re-read of a changed 389-ds entry (an idsync extension).
pub(crate) const REREAD_COMMENT: &str = "idsync-reread";

/// python-ldap's result type of a protocol op: its BER application tag (`0x60 | op`).
pub fn result_tag(op: u64) -> u64 {
    0x60 | op
}

/// The protocol op of a `# result:` value: a python-ldap result type or a bare op number.
pub fn op_of_result(value: u64) -> Option<u64> {
    let op = if value >= 0x60 { value ^ 0x60 } else { value };
    [
        op::SEARCH_RESULT_ENTRY,
        op::SEARCH_RESULT_DONE,
        op::SEARCH_RESULT_REFERENCE,
        op::INTERMEDIATE_RESPONSE,
    ]
    .contains(&op)
    .then_some(op)
}
