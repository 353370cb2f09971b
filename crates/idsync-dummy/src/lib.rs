//! idsync-dummy
