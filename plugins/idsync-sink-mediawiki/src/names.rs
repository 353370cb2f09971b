//! MediaWiki user names: the canonical form MediaWiki 1.39 stores and looks up, and the
//! names it refuses.
//!
//! This follows `UserNameUtils::getCanonical( $name, RIGOR_CREATABLE )`: `Language::ucfirst`,
//! the title rules of `MediaWikiTitleCodec::splitTitleString` (white space runs become one
//! space, bidi marks vanish, forbidden characters, `%XX`, `&entity;`, `~~~`, relative paths,
//! namespace and interwiki prefixes, 255 bytes), then `isValid` (IP addresses, `/`, invisible
//! and private-use characters), `isUsable` (`$wgReservedUsernames`) and `isCreatable`
//! (`$wgInvalidUsernameCharacters`, 235 bytes). Stricter than MediaWiki in two places: a
//! name starting with a namespace prefix (`User:Bob`) is refused rather than stripped, and a
//! name holding an HTML entity (`a&amp;b`) is refused rather than decoded.

use std::collections::BTreeSet;
use std::net::Ipv6Addr;

/// Why MediaWiki would refuse a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameError(pub String);

/// MediaWiki's default `$wgReservedUsernames`, the `msg:` entries in their English text.
pub const DEFAULT_RESERVED: &[&str] = &[
    "MediaWiki default",
    "Conversion script",
    "Maintenance script",
    "Template namespace initialisation script",
    "ScriptImporter",
    "Delete page script",
    "Move page script",
    "Command line script",
    "Unknown user",
    "Redirect fixer",
    "System messenger",
    "Proxy blocker",
    "DNSBL",
    "MediaWiki spam cleanup",
    "MediaWiki automatic change",
];

/// The built-in English namespace names and aliases (compared case-insensitively).
const NAMESPACES: &[&str] = &[
    "media",
    "special",
    "talk",
    "user",
    "user talk",
    "project",
    "project talk",
    "file",
    "file talk",
    "image",
    "image talk",
    "mediawiki",
    "mediawiki talk",
    "template",
    "template talk",
    "help",
    "help talk",
    "category",
    "category talk",
];

/// Longest title, and longest name MediaWiki accepts (`$wgMaxNameChars`), in bytes.
const MAX_BYTES: usize = 255;
/// Longest name MediaWiki lets an account be created with, in bytes.
const MAX_CREATABLE_BYTES: usize = 235;

/// The rules of one wiki.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameRules {
    /// Upper-case the first letter (MediaWiki always does for user names); when false, a
    /// name whose first letter would change is refused instead.
    pub capitalize: bool,
    /// `$wgInvalidUsernameCharacters`.
    pub invalid_chars: String,
    /// Reserved names beyond [`DEFAULT_RESERVED`].
    pub reserved: Vec<String>,
    /// Namespace names beyond the built-in ones.
    pub namespaces: Vec<String>,
    /// Interwiki prefixes, lower case (read from the wiki's `interwiki` table).
    pub interwiki: BTreeSet<String>,
}

/// `Language::ucfirst`: the first character upper-cased (full Unicode mapping, as PHP's
/// `mb_strtoupper`).
pub fn ucfirst(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            out
        }
        None => String::new(),
    }
}

fn refuse(reason: impl Into<String>) -> Result<String, NameError> {
    Err(NameError(reason.into()))
}

fn is_title_space(ch: char) -> bool {
    matches!(
        ch,
        ' ' | '_' | '\u{A0}' | '\u{1680}' | '\u{180E}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

fn is_bidi_mark(ch: char) -> bool {
    matches!(ch, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}')
}

/// Characters `isValid` refuses even though titles allow them.
fn is_troublemaker(ch: char) -> bool {
    matches!(ch, '\u{80}'..='\u{9F}' | '\u{A0}' | '\u{2000}'..='\u{200F}' | '\u{2028}'..='\u{202F}'
        | '\u{3000}' | '\u{E000}'..='\u{F8FF}')
}

/// ASCII characters outside `$wgLegalTitleChars`.
fn is_illegal_title_char(ch: char) -> bool {
    ch.is_ascii_control() || matches!(ch, '#' | '<' | '>' | '[' | ']' | '|' | '{' | '}')
}

/// `%XX` or `&name;` anywhere in the text (`MediaWikiTitleCodec::getTitleInvalidRegex`).
fn has_escape_sequence(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        match byte {
            b'%' => {
                let hex = bytes
                    .get(index + 1..index + 3)
                    .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit));
                if hex {
                    return text.get(index..index + 3).map(str::to_owned);
                }
            }
            b'&' => {
                let rest = bytes.get(index + 1..).unwrap_or_default();
                let run = rest
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b >= 0x80)
                    .count();
                if run > 0 && rest.get(run) == Some(&b';') {
                    return text.get(index..index + run + 2).map(str::to_owned);
                }
            }
            _ => {}
        }
    }
    None
}

/// What `IPUtils::isValid` or the "any IPv4" pattern of `UserNameUtils::isIP` accepts.
fn looks_like_ip(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    let digits =
        |part: &str| (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    if let [a, b, c, d] = parts.as_slice() {
        if digits(a) && digits(b) && digits(c) && (digits(d) || *d == "xxx") {
            return true;
        }
    }
    name.contains(':') && name.parse::<Ipv6Addr>().is_ok()
}

impl NameRules {
    /// The name as MediaWiki stores it in `user.user_name`, or why MediaWiki would refuse it.
    pub fn canonical(&self, raw: &str) -> Result<String, NameError> {
        if raw.contains('#') {
            return refuse("contains `#`, which MediaWiki user names forbid");
        }
        // Title normalisation: bidi marks vanish, runs of spaces and underscores become one.
        let mut key = String::with_capacity(raw.len());
        let mut pending_space = false;
        for ch in raw.chars().filter(|ch| !is_bidi_mark(*ch)) {
            if is_title_space(ch) {
                pending_space = true;
                continue;
            }
            if pending_space && !key.is_empty() {
                key.push(' ');
            }
            pending_space = false;
            key.push(ch);
        }
        if key.is_empty() {
            return refuse("the name is empty");
        }
        if key.contains('\u{FFFD}') {
            return refuse("contains the replacement character U+FFFD (invalid UTF-8)");
        }
        if key.starts_with(':') {
            return refuse("starts with `:`");
        }
        if let Some((prefix, _)) = key.split_once(':') {
            let prefix = prefix.trim_end().to_lowercase();
            let namespace = NAMESPACES.contains(&prefix.as_str())
                || self
                    .namespaces
                    .iter()
                    .any(|ns| ns.replace('_', " ").to_lowercase() == prefix);
            if namespace {
                return refuse(format!(
                    "starts with a namespace prefix (`{prefix}:`): MediaWiki would not read it as a user name"
                ));
            }
            if self.interwiki.contains(&prefix.replace(' ', "_")) {
                return refuse(format!(
                    "starts with the interwiki prefix `{prefix}:`: MediaWiki would read it as a link to another wiki"
                ));
            }
        }
        if let Some(ch) = key.chars().find(|ch| is_illegal_title_char(*ch)) {
            return refuse(format!(
                "contains {:?}, a character MediaWiki titles forbid",
                ch
            ));
        }
        if let Some(sequence) = has_escape_sequence(&key) {
            return refuse(format!(
                "contains `{sequence}`, which MediaWiki would read as an escape sequence"
            ));
        }
        if key == "."
            || key == ".."
            || key.starts_with("./")
            || key.starts_with("../")
            || key.contains("/./")
            || key.contains("/../")
            || key.ends_with("/.")
            || key.ends_with("/..")
        {
            return refuse("is a relative path (`.` or `..`)");
        }
        if key.contains("~~~") {
            return refuse("contains `~~~` (a signature)");
        }
        let name = ucfirst(&key);
        if !self.capitalize && name != key {
            return refuse(format!(
                "MediaWiki would store it as `{name}` (first letter upper case) and capital_links is false"
            ));
        }
        if name.len() > MAX_BYTES {
            return refuse(format!("is longer than {MAX_BYTES} bytes"));
        }
        if looks_like_ip(&name) {
            return refuse("looks like an IP address");
        }
        if name.contains('/') {
            return refuse("contains `/`");
        }
        if let Some(ch) = name.chars().find(|ch| is_troublemaker(*ch)) {
            return refuse(format!(
                "contains U+{:04X}, an invisible or private-use character MediaWiki forbids in user names",
                u32::from(ch)
            ));
        }
        if DEFAULT_RESERVED.contains(&name.as_str()) || self.reserved.contains(&name) {
            return refuse(format!("`{name}` is a reserved user name"));
        }
        if name.len() > MAX_CREATABLE_BYTES {
            return refuse(format!(
                "is longer than {MAX_CREATABLE_BYTES} bytes (MediaWiki creates no such account)"
            ));
        }
        if let Some(ch) = name.chars().find(|ch| self.invalid_chars.contains(*ch)) {
            return refuse(format!(
                "contains `{ch}`, listed in $wgInvalidUsernameCharacters"
            ));
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rules() -> NameRules {
        NameRules {
            capitalize: true,
            invalid_chars: "@:>".to_owned(),
            interwiki: BTreeSet::from(["wikipedia".to_owned()]),
            ..NameRules::default()
        }
    }

    #[test]
    fn names_are_canonicalised() {
        let rules = rules();
        assert_eq!(rules.canonical("alice").unwrap(), "Alice");
        assert_eq!(rules.canonical("  ann__lee ").unwrap(), "Ann lee");
        assert_eq!(rules.canonical("émile").unwrap(), "Émile");
        assert_eq!(rules.canonical("ßtraße").unwrap(), "SStraße");
        assert_eq!(rules.canonical("a\u{200E}b").unwrap(), "Ab");
        assert_eq!(rules.canonical("a\u{3000}b").unwrap(), "A b");
    }

    #[test]
    fn bad_names_are_refused() {
        let rules = rules();
        for bad in [
            "",
            "  ",
            "a#b",
            "a/b",
            "a<b",
            "a[b",
            "a|b",
            "a{b",
            "1.2.3.4",
            "1.2.3.xxx",
            "a%41b",
            "a&amp;b",
            "~~~x",
            "..",
            "Maintenance script",
            "a@b",
            "a:b",
            "a\u{200B}b",
            "a\u{E000}",
            "a\tb",
            ":x",
        ] {
            assert!(rules.canonical(bad).is_err(), "{bad:?} accepted");
        }
        assert!(rules.canonical(&"x".repeat(236)).is_err());
        let mut open = rules.clone();
        open.invalid_chars = String::new();
        assert!(open.canonical("Talk:x").is_err());
        assert!(open.canonical("Wikipedia:x").is_err());
        assert_eq!(open.canonical("foo:x").unwrap(), "Foo:x");
        assert!(open.canonical("::1").is_err());
        let strict = NameRules {
            capitalize: false,
            ..rules
        };
        assert!(strict.canonical("bob").is_err());
        assert_eq!(strict.canonical("Bob").unwrap(), "Bob");
    }
}
