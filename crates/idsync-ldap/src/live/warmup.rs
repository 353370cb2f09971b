//! The member-index warm-up before a refresh that resumes from a cookie: a paged (RFC 2696)
//! search of the view with the flavour's light attribute list, sent as [`Event::Known`].
//!
//! An incremental refresh only sends what changed, but the engine resolves member references
//! against every entry in view; after a restart of the process its index is empty.

use idsync_core::{Event, SourceError};
use ldap3::adapters::{Adapter, PagedResults};
use tracing::{debug, info, warn};

use super::session::{search_start_error, Session, Stream};
use super::{conn_error, result_error, set_warm};
use crate::conn::{wire, Connection};
use crate::flavour::Mapped;
use crate::raw::RawMessage;

/// Entries per page.
const PAGE_SIZE: i32 = 1000;

/// Runs the warm-up search, sending one `Known` per user or group in view.
pub(super) async fn run(session: &Session, conn: &mut Connection) -> Result<(), SourceError> {
    let flavour = &session.settings.flavour;
    let adapters: Vec<Box<dyn Adapter<'static, String, Vec<String>>>> =
        vec![Box::new(PagedResults::new(PAGE_SIZE))];
    let mut ldap = conn.ldap.clone();
    let start = ldap.streaming_search_with(
        adapters,
        flavour.sync_base(),
        flavour.sync_scope(),
        flavour.sync_filter(),
        flavour.light_attributes().to_vec(),
    );
    let mut stream: Stream = conn
        .driver
        .run_timed(conn.timeout, start)
        .await
        .map_err(conn_error)?
        .map_err(|error| search_start_error(&error))?;
    let mut known: u64 = 0;
    loop {
        let permit = session.events.reserve().await.map_err(SourceError::from)?;
        let item = match conn.driver.run(stream.next()).await.map_err(conn_error)? {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(error) => {
                return Err(SourceError::Unavailable {
                    message: format!("the index warm-up search broke off: {error}"),
                    cause: Some(Box::new(error)),
                })
            }
        };
        let RawMessage::Entry(entry) = wire::message_from_result_entry(item)
            .map_err(|error| SourceError::Malformed(error.to_string()))?
        else {
            continue;
        };
        let mapped = flavour.id_of(&entry).and_then(|id| flavour.map(id, &entry));
        match mapped {
            Ok(Mapped::Entry(mapped)) => {
                permit.send(Event::Known(mapped));
                known += 1;
            }
            Ok(Mapped::OutOfView) => {}
            Err(error) => warn!(%error, "entry skipped by the index warm-up"),
        }
    }
    let result = stream.finish().await;
    if result.rc != 0 {
        return Err(result_error(result.rc, &result.text));
    }
    debug!(known, "member index warmed up");
    info!(entries = known, "resuming from the stored cookie");
    set_warm(&session.index_warm);
    Ok(())
}
