//! Plugin names, shared by the SDK (checked at compile time) and the runner (checked when
//! resolving `plugin = "…"`).

/// True when `name` is a valid plugin name: non-empty, only `a-z`, `0-9`, `_` and `-`.
pub const fn is_valid_plugin_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        // `index < len` is checked by the loop condition (iterators are not `const`).
        #[allow(clippy::indexing_slicing)]
        let byte = bytes[index];
        if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-') {
            return false;
        }
        index += 1;
    }
    true
}
