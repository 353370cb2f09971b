//! The member-index snapshot: the engine's [`MemberIndex`] written at a clean stop and read at
//! the next start, so a source that resumes from a cookie needs no index warm-up (for LDAP, a
//! paged read of every entry in view with all member values).
//!
//! # Format
//!
//! `IDSYNCIX` (8 bytes), the format version (u32, little endian), then a postcard
//! [`Header`] (the source fingerprint, the cookie, the body's length and CRC-32), then the
//! body: the postcard-encoded index. The header is checked before the body is decoded; a
//! wrong magic, version, fingerprint or cookie, a short or long body, a bad checksum or a
//! body that does not decode is a [`SnapshotError`], never a panic.
//!
//! # Why the index may be reused
//!
//! A snapshot is only taken when the engine is *settled* ([`Engine::index_snapshot`]): the
//! refresh is over (persist phase), nothing is pending or queued, no batch failed, no group
//! waits to be recomputed (`dirty` is empty), no fresh entry waits for the refresh end, a
//! cookie was committed and this is not a dry run. Then every event the index has seen has
//! been committed to the sink, member sets included: the sink reflects the index exactly. The
//! header carries the committed cookie `C`. The index may be *newer* than `C` (persist events
//! committed without a newer cookie): the server re-sends those changes after a restart from
//! `C`. Re-applying them is idempotent: an upsert of the state the index already holds
//! unlinks and relinks the same keys and references (the groups become dirty and are
//! recomputed to the sets the sink already has: no change), a user's rename is only acted on
//! when the name differs from the indexed one, and a delete of an id the index no longer knows
//! is a removal with the kind the sink reported (a no-op for a removed entry).
//!
//! Changes made while the runner was stopped arrive in the incremental refresh as for any
//! reconnect within one process (the index was complete then too): an upsert moves an entry
//! from its snapshot state to its current one (a renamed `memberUid` user leaves the groups
//! that name it only by name, a group's new member list is resolved), deletes remove entries
//! and leave their groups waiting under [`super::index`]'s departed keys, and a present phase
//! sweeps what was not mentioned from the index as well as from the sink.
//!
//! What else the warm-up establishes: nothing beyond the index. `synced` comes from the
//! sink's `load_state`; `mentioned`, `pending`, the pending cookie and the refresh removals
//! start empty at every start; `fresh` (entries the sink did not hold whose groups resolved
//! them through the warm-up) is gathered during the refresh, as after a warm-up — with a
//! snapshot such a group either changed itself or was waiting for the member (a departed or
//! unresolved key) and becomes dirty when it arrives; marking it again is harmless. `dirty`
//! is empty in a snapshot by construction.
//!
//! The runner deletes the file once it is loaded: a crash later leaves a sink whose cookie
//! moved on while the file would still describe the old state, and it must not be reused.

use serde::{Deserialize, Serialize};

use super::index::MemberIndex;
use super::{Engine, Phase};
use crate::source::SourceFingerprint;

/// The snapshot format version; bump it whenever the index's types change.
pub const INDEX_SNAPSHOT_VERSION: u32 = 1;

/// The file's first bytes.
const MAGIC: [u8; 8] = *b"IDSYNCIX";

/// What precedes the body.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    fingerprint: String,
    cookie: Vec<u8>,
    body_len: u64,
    body_crc32: u32,
}

/// Why a snapshot was not written or not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The engine holds changes the sink has not committed (or this is a dry run).
    #[error("the engine is not settled: {0}")]
    NotSettled(&'static str),
    /// No cookie was committed: nothing to resume from.
    #[error("no cookie was committed")]
    NoCookie,
    /// Not a snapshot file.
    #[error("not an idsync index snapshot (wrong magic bytes)")]
    NotSnapshot,
    /// Written by another format version.
    #[error("format version {found}, this idsync reads version {expected}")]
    Version {
        /// The file's version.
        found: u32,
        /// This build's version.
        expected: u32,
    },
    /// Written for another source view.
    #[error("written for another source view (`{found}`)")]
    Fingerprint {
        /// The file's fingerprint.
        found: String,
    },
    /// Written at another cookie than the one the sink stores.
    #[error("written at another cookie than the one the sink stores")]
    Cookie,
    /// The file ends early or has trailing bytes.
    #[error("truncated or overlong: the body should have {expected} bytes, it has {found}")]
    Length {
        /// Bytes the header announces.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The body's checksum does not match.
    #[error("checksum mismatch (the file is corrupt)")]
    Checksum,
    /// The header or body does not decode.
    #[error("cannot decode: {0}")]
    Decode(#[from] postcard::Error),
}

/// The snapshot's file name for a source view: `index-<CRC-32 of the fingerprint>.bin`. A
/// collision is harmless (the header names the fingerprint).
pub fn index_snapshot_file_name(fingerprint: &SourceFingerprint) -> String {
    format!(
        "index-{:08x}.bin",
        crc32fast::hash(fingerprint.0.as_bytes())
    )
}

impl Engine {
    /// Encodes the member index with a header naming the source fingerprint and the
    /// committed cookie. Refused unless the engine is settled (see the
    /// [module docs](self)): the index must correspond exactly to what the sink committed.
    pub fn index_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        let unsettled = if self.config.dry_run {
            Some("a dry run commits nothing")
        } else if self.phase != Phase::Persist {
            Some("a refresh is unfinished")
        } else if self.failed.is_some() {
            Some("a failed batch waits for a retry")
        } else if !self.queued.is_empty() || self.pending.len() > 0 {
            Some("changes are not committed")
        } else if self.index.dirty_len() > 0 || !self.fresh.is_empty() {
            Some("member sets are not recomputed")
        } else if self.pending_cookie.is_some() {
            Some("a cookie is not committed")
        } else {
            None
        };
        if let Some(reason) = unsettled {
            return Err(SnapshotError::NotSettled(reason));
        }
        let cookie = self
            .committed_cookie
            .clone()
            .ok_or(SnapshotError::NoCookie)?;
        let body = postcard::to_stdvec(&self.index)?;
        let header = Header {
            fingerprint: self.fingerprint.clone(),
            cookie,
            body_len: body.len() as u64,
            body_crc32: crc32fast::hash(&body),
        };
        let mut out = Vec::with_capacity(body.len() + 256);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&INDEX_SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&postcard::to_stdvec(&header)?);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Replaces the member index with a snapshot taken by [`Engine::index_snapshot`], when its
    /// version, fingerprint and cookie equal this build's, the current source view's and the
    /// sink's stored cookie. Returns the number of entries loaded. On any error the index is
    /// left as it was.
    pub fn restore_index_snapshot(&mut self, bytes: &[u8]) -> Result<usize, SnapshotError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(SnapshotError::NotSnapshot)?;
        let (version, rest) = rest.split_first_chunk::<4>().ok_or(SnapshotError::Length {
            expected: 4,
            found: rest.len() as u64,
        })?;
        let version = u32::from_le_bytes(*version);
        if version != INDEX_SNAPSHOT_VERSION {
            return Err(SnapshotError::Version {
                found: version,
                expected: INDEX_SNAPSHOT_VERSION,
            });
        }
        let (header, body): (Header, &[u8]) = postcard::take_from_bytes(rest)?;
        if header.fingerprint != self.fingerprint {
            return Err(SnapshotError::Fingerprint {
                found: header.fingerprint,
            });
        }
        if self.committed_cookie.as_deref() != Some(header.cookie.as_slice()) {
            return Err(SnapshotError::Cookie);
        }
        if body.len() as u64 != header.body_len {
            return Err(SnapshotError::Length {
                expected: header.body_len,
                found: body.len() as u64,
            });
        }
        if crc32fast::hash(body) != header.body_crc32 {
            return Err(SnapshotError::Checksum);
        }
        let (index, trailing): (MemberIndex, &[u8]) = postcard::take_from_bytes(body)?;
        if !trailing.is_empty() {
            return Err(SnapshotError::Length {
                expected: header.body_len.saturating_sub(trailing.len() as u64),
                found: header.body_len,
            });
        }
        self.index = index;
        Ok(self.index.len())
    }
}
