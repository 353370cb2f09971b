//! idsync-sql
