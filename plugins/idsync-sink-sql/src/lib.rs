//! idsync-sink-sql
