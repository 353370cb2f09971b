//! Re-reading the changed entries of a 389-ds incremental refresh with normal searches: 389-ds
//! sends them with every user attribute and no operational one (`nsAccountLock`), whatever
//! was requested (389-ds report §4, deviation 3).

use futures::future::join_all;
use idsync_core::{Event, SourceError};
use ldap3::Scope;
use tracing::debug;

use super::session::Session;
use super::{conn_error, result_error};
use crate::conn::{wire, Connection};
use crate::protocol::{RereadTarget, SyncProtocol};
use crate::raw::{RawEntry, RawMessage};

/// Searches sent at once.
const CONCURRENCY: usize = 32;

/// LDAP result `noSuchObject`: the entry is gone (or renamed) since.
const NO_SUCH_OBJECT: u32 = 32;

/// Re-reads every target (base-scope searches with the sync filter and attributes, a few at
/// a time) and hands the outcomes to the protocol, sending the events as it goes.
pub(super) async fn run(
    session: &Session,
    conn: &mut Connection,
    protocol: &mut SyncProtocol,
    targets: &[RereadTarget],
    out: &mut Vec<Event>,
) -> Result<(), SourceError> {
    let flavour = &session.settings.flavour;
    debug!(
        entries = targets.len(),
        "re-reading the entries of an incremental refresh"
    );
    for chunk in targets.chunks(CONCURRENCY) {
        let searches = chunk.iter().map(|target| {
            let mut ldap = conn.ldap.clone();
            let attributes = flavour.sync_attributes().to_vec();
            let filter = flavour.sync_filter();
            async move {
                ldap.search(&target.dn, Scope::Base, filter, attributes)
                    .await
            }
        });
        let results = conn
            .driver
            .run_timed(conn.timeout, join_all(searches))
            .await
            .map_err(conn_error)?;
        for (target, result) in chunk.iter().zip(results) {
            let ldap3::SearchResult(items, done) =
                result.map_err(|error| SourceError::Unavailable {
                    message: format!("re-reading `{}` failed: {error}", target.dn),
                    cause: Some(Box::new(error)),
                })?;
            let entry = match done.rc {
                0 => first_entry(items)?,
                NO_SUCH_OBJECT => None,
                code => return Err(result_error(code, &done.text)),
            };
            session.record_reread(&target.dn, entry.as_ref())?;
            protocol.reread_result(target, entry.as_ref(), out);
        }
        session.deliver(None, out).await?;
    }
    Ok(())
}

fn first_entry(items: Vec<ldap3::ResultEntry>) -> Result<Option<RawEntry>, SourceError> {
    for item in items {
        if let RawMessage::Entry(entry) = wire::message_from_result_entry(item)
            .map_err(|error| SourceError::Malformed(error.to_string()))?
        {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}
