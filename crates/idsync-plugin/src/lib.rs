//! idsync-plugin
