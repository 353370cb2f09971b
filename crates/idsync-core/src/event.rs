//! What a source tells the engine.

use crate::model::{Entry, EntryId};

/// One message from a source, in protocol order.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An added or modified entry in its full current state (add and modify are alike: upsert by id).
    Changed(Entry),
    /// These entries are unchanged since the cookie (refresh present phase).
    Present(Vec<EntryId>),
    /// These entries are gone from the view (deleted, or moved out of the base or filter).
    Deleted(Vec<EntryId>),
    /// An entry that exists but is not a change: it only warms the member-resolution index
    /// (ids, locators, names and member lists) when a refresh resumes from a cookie. The
    /// warm-up must cover every entry in view: a member reference that resolves to nothing is
    /// left out of its group's member set.
    Known(Entry),
    /// End of the refresh phase. When `delete_unmentioned` is true, every synced entry not
    /// mentioned (changed or present) since the refresh began is gone.
    RefreshDone {
        /// Sweep what was not mentioned.
        delete_unmentioned: bool,
    },
    /// Everything before this point is covered by this opaque cookie.
    Cookie(Vec<u8>),
    /// A new refresh begins: the source (re)connected. Presence counted before it no longer
    /// counts, and a cookie seen but not committed is dropped (the new refresh brings its own).
    /// The runner sends it before every source run.
    RefreshStarted,
    /// The server cannot resume from the cookie: a full refresh (without cookie) follows.
    RefreshRequired,
}
