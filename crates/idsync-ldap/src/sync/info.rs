//! The Sync Info Message (RFC 4533 §2.5): the value of an IntermediateResponse whose
//! responseName is [`super::SYNC_INFO_OID`].
//!
//! ```text
//! syncInfoValue ::= CHOICE {
//!     newcookie      [0] syncCookie,
//!     refreshDelete  [1] SEQUENCE {
//!         cookie         syncCookie OPTIONAL,
//!         refreshDone    BOOLEAN DEFAULT TRUE
//!     },
//!     refreshPresent [2] SEQUENCE {
//!         cookie         syncCookie OPTIONAL,
//!         refreshDone    BOOLEAN DEFAULT TRUE
//!     },
//!     syncIdSet      [3] SEQUENCE {
//!         cookie         syncCookie OPTIONAL,
//!         refreshDeletes BOOLEAN DEFAULT FALSE,
//!         syncUUIDs      SET OF syncUUID
//!     }
//! }
//! ```
//!
//! The module uses implicit tags, so `[0]` is a primitive `0x80` and `[1]`..`[3]` are
//! constructed `0xA1`..`0xA3`; any other form of those tags is an error.

use idsync_core::{EntryId, Event};

use super::ber::{tag, Reader, Writer};
use super::{entry_id, read_cookie, read_default_bool, DecodeError};

/// A decoded syncInfo value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SyncInfoValue {
    /// `newcookie [0]`: a new cookie, nothing else (persist stage).
    NewCookie(Vec<u8>),
    /// `refreshDelete [1]`: the delete phase of the refresh ends (with `refresh_done`, the
    /// whole refresh ends; in refreshAndPersist the persist stage follows).
    RefreshDelete {
        /// The cookie covering what was sent so far.
        cookie: Option<Vec<u8>>,
        /// TRUE (the default): the refresh is complete.
        refresh_done: bool,
    },
    /// `refreshPresent [2]`: the present phase of the refresh ends; entries neither sent nor
    /// listed as present are gone.
    RefreshPresent {
        /// The cookie covering what was sent so far.
        cookie: Option<Vec<u8>>,
        /// TRUE (the default): the refresh is complete; FALSE: a delete phase follows.
        refresh_done: bool,
    },
    /// `syncIdSet [3]`: many entries at once, by syncUUID only.
    SyncIdSet {
        /// The cookie covering this message.
        cookie: Option<Vec<u8>>,
        /// TRUE: these entries are deleted; FALSE (the default): they are present.
        refresh_deletes: bool,
        /// The entries' syncUUIDs.
        sync_uuids: Vec<[u8; 16]>,
    },
}

impl SyncInfoValue {
    /// The cookie the message carries, if any.
    pub fn cookie(&self) -> Option<&[u8]> {
        match self {
            Self::NewCookie(cookie) => Some(cookie),
            Self::RefreshDelete { cookie, .. }
            | Self::RefreshPresent { cookie, .. }
            | Self::SyncIdSet { cookie, .. } => cookie.as_deref(),
        }
    }

    /// The entry ids of a syncIdSet (empty for the other alternatives).
    pub fn entry_ids(&self) -> Vec<EntryId> {
        match self {
            Self::SyncIdSet { sync_uuids, .. } => {
                sync_uuids.iter().copied().map(entry_id).collect()
            }
            _ => Vec::new(),
        }
    }

    /// What a syncIdSet tells the engine: [`Event::Deleted`] when `refresh_deletes`, else
    /// [`Event::Present`]. `None` for the other alternatives, whose meaning depends on the
    /// mode and phase the source is in (and on server quirks): the source maps those itself.
    pub fn id_set_event(&self) -> Option<Event> {
        match self {
            Self::SyncIdSet {
                refresh_deletes, ..
            } => {
                let ids = self.entry_ids();
                Some(if *refresh_deletes {
                    Event::Deleted(ids)
                } else {
                    Event::Present(ids)
                })
            }
            _ => None,
        }
    }

    /// Encodes the intermediate response value (DEFAULT components left out when they have
    /// their default value).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Self::NewCookie(cookie) => w.element(tag::context(0), cookie),
            Self::RefreshDelete {
                cookie,
                refresh_done,
            }
            | Self::RefreshPresent {
                cookie,
                refresh_done,
            } => {
                let n = if matches!(self, Self::RefreshDelete { .. }) {
                    1
                } else {
                    2
                };
                w.constructed(tag::context_constructed(n), |w| {
                    if let Some(cookie) = cookie {
                        w.element(tag::OCTET_STRING, cookie);
                    }
                    if !refresh_done {
                        w.boolean(false);
                    }
                });
            }
            Self::SyncIdSet {
                cookie,
                refresh_deletes,
                sync_uuids,
            } => w.constructed(tag::context_constructed(3), |w| {
                if let Some(cookie) = cookie {
                    w.element(tag::OCTET_STRING, cookie);
                }
                if *refresh_deletes {
                    w.boolean(true);
                }
                w.constructed(tag::SET, |w| {
                    for uuid in sync_uuids {
                        w.element(tag::OCTET_STRING, uuid);
                    }
                });
            }),
        }
        w.into_bytes()
    }

    /// Decodes an intermediate response value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(value);
        let outer = reader.read("syncinfovalue")?;
        reader.finish("syncinfovalue")?;
        let mut r = outer.reader();
        let decoded = match outer.tag {
            t if t == tag::context(0) => Self::NewCookie(outer.content.to_vec()),
            t if t == tag::context_constructed(1) || t == tag::context_constructed(2) => {
                let cookie = read_cookie(&mut r)?;
                let refresh_done = read_default_bool(&mut r, "refreshdone", true)?;
                r.skip_extensions(&[tag::OCTET_STRING, tag::BOOLEAN], "refresh phase info")?;
                if t == tag::context_constructed(1) {
                    Self::RefreshDelete {
                        cookie,
                        refresh_done,
                    }
                } else {
                    Self::RefreshPresent {
                        cookie,
                        refresh_done,
                    }
                }
            }
            t if t == tag::context_constructed(3) => {
                let cookie = read_cookie(&mut r)?;
                let refresh_deletes = read_default_bool(&mut r, "refreshdeletes", false)?;
                let set = r.read_tagged(tag::SET, "syncuuids")?;
                let mut items = set.reader();
                let mut sync_uuids = Vec::new();
                while !items.is_empty() {
                    let uuid = items
                        .read_tagged(tag::OCTET_STRING, "syncuuid")?
                        .uuid("syncuuid")?;
                    sync_uuids.push(uuid);
                }
                r.skip_extensions(&[tag::OCTET_STRING, tag::BOOLEAN, tag::SET], "syncidset")?;
                Self::SyncIdSet {
                    cookie,
                    refresh_deletes,
                    sync_uuids,
                }
            }
            found => {
                return Err(DecodeError::UnknownChoice {
                    offset: outer.offset,
                    found,
                })
            }
        };
        Ok(decoded)
    }
}
