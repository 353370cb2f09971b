//! idsync-testkit
