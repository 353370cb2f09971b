//! idsync-plugin-api
