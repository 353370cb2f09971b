//! The little DN handling the flavours need: syntax checks, `domain` → base, "is this DN
//! within that base and scope", the first RDN's value, common ancestors.
//!
//! DNs are compared after [`idsync_core::normalize_dn`] (lower case, no blanks around
//! separators). Escapes (`\,`, `\2C`) are respected when splitting but not canonicalised: a
//! server writes its own entries' DNs consistently, which is all the comparisons need.

use crate::config::Scope;

/// Splits `s` at every `sep` byte that is not escaped with a backslash.
pub(crate) fn split_unescaped(s: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, byte) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if byte == b'\\' {
            escaped = true;
        } else if byte == sep {
            parts.push(s.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

/// Whether `s` holds a `sep` byte that is not escaped.
fn has_unescaped(s: &str, sep: u8) -> bool {
    let mut escaped = false;
    for byte in s.bytes() {
        if escaped {
            escaped = false;
        } else if byte == b'\\' {
            escaped = true;
        } else if byte == sep {
            return true;
        }
    }
    false
}

/// Whether `name` is an attribute description: a descriptor (`cn`, `ipaUniqueID`) or a numeric
/// OID, optionally followed by `;options`.
pub(crate) fn is_attribute_description(name: &str) -> bool {
    let mut parts = name.split(';');
    let base = parts.next().unwrap_or_default();
    let descriptor = base.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let oid = !base.is_empty()
        && base
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    (descriptor || oid)
        && parts.all(|option| {
            !option.is_empty()
                && option
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Checks the syntax of a DN (RFC 4514, leniently: blanks around separators are allowed).
/// Returns what is wrong.
pub(crate) fn check_dn(dn: &str) -> Result<(), String> {
    if dn.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    check_escapes(dn)?;
    for rdn in split_unescaped(dn, b',') {
        if rdn.trim().is_empty() {
            return Err(format!("`{dn}` has an empty RDN"));
        }
        for ava in split_unescaped(rdn, b'+') {
            let Some((attribute, _value)) = ava.split_once('=') else {
                return Err(format!("RDN `{}` of `{dn}` has no `=`", rdn.trim()));
            };
            if !is_attribute_description(attribute.trim()) || attribute.contains(';') {
                return Err(format!(
                    "`{}` in `{dn}` is not an attribute type",
                    attribute.trim()
                ));
            }
        }
    }
    Ok(())
}

/// Checks that every backslash escapes a character or starts two hex digits.
fn check_escapes(dn: &str) -> Result<(), String> {
    let bytes = dn.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'\\' {
            match bytes.get(i + 1) {
                None => return Err(format!("`{dn}` ends with a lone backslash")),
                Some(next) if next.is_ascii_hexdigit() => {
                    if !bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
                        return Err(format!("`{dn}` has a bad hex escape"));
                    }
                    i += 3;
                }
                Some(_) => i += 2,
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// `example.org` → `dc=example,dc=org`.
pub(crate) fn domain_to_base(domain: &str) -> Result<String, String> {
    let domain = domain.trim().trim_end_matches('.');
    if domain.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let mut base = String::with_capacity(domain.len() * 2);
    for label in domain.split('.') {
        let valid = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(format!(
                "`{domain}` is not a DNS domain (label `{label}`); give `base` instead"
            ));
        }
        if !base.is_empty() {
            base.push(',');
        }
        base.push_str("dc=");
        base.push_str(label);
    }
    Ok(base)
}

/// Whether the normalised DN `dn` lies within the normalised `base` for `scope`.
pub(crate) fn within(dn: &str, base: &str, scope: Scope) -> bool {
    let Some(relative) = dn.strip_suffix(base) else {
        return false;
    };
    if relative.is_empty() {
        return scope != Scope::One;
    }
    if scope == Scope::Base {
        return false;
    }
    // `relative` must end in a separating (unescaped) comma: count the backslashes before it.
    let Some(rdns) = relative.strip_suffix(',') else {
        return false;
    };
    let backslashes = rdns.bytes().rev().take_while(|&b| b == b'\\').count();
    if backslashes % 2 == 1 || rdns.is_empty() {
        return false;
    }
    match scope {
        Scope::One => !has_unescaped(rdns, b','),
        Scope::Sub | Scope::Base => true,
    }
}

/// The value of `attribute` in the DN's first RDN (unescaped), if that RDN has it.
pub(crate) fn rdn_value(dn: &str, attribute: &str) -> Option<String> {
    let first = split_unescaped(dn, b',').into_iter().next()?;
    split_unescaped(first, b'+').into_iter().find_map(|ava| {
        let (name, value) = ava.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case(attribute)
            .then(|| unescape_value(value.trim()))
            .flatten()
    })
}

/// Unescapes an RDN value (`\,` → `,`, `\2C` → `,`); `None` if it does not decode to UTF-8.
fn unescape_value(value: &str) -> Option<String> {
    if !value.contains('\\') {
        return Some(value.to_owned());
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'\\' {
            out.push(byte);
            i += 1;
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match hex {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.extend(bytes.get(i + 1).copied());
                i += 2;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The deepest common ancestor of two DNs, spelled as in `a`; `None` if they share no RDN.
pub(crate) fn common_ancestor(a: &str, b: &str) -> Option<String> {
    let a_rdns = split_unescaped(a, b',');
    let b_rdns = split_unescaped(b, b',');
    let common = a_rdns
        .iter()
        .rev()
        .zip(b_rdns.iter().rev())
        .take_while(|(x, y)| idsync_core::normalize_dn(x) == idsync_core::normalize_dn(y))
        .count();
    if common == 0 {
        return None;
    }
    let skip = a_rdns.len() - common;
    let rdns: Vec<&str> = a_rdns.iter().skip(skip).map(|rdn| rdn.trim()).collect();
    Some(rdns.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_respects_escapes() {
        assert_eq!(
            split_unescaped(r"cn=a\,b,dc=x", b','),
            vec![r"cn=a\,b", "dc=x"]
        );
        assert_eq!(
            split_unescaped(r"cn=a\\,dc=x", b','),
            vec![r"cn=a\\", "dc=x"]
        );
    }

    #[test]
    fn dn_syntax() {
        assert!(check_dn("ou=People, dc=example,dc=org").is_ok());
        assert!(check_dn("cn=a+uid=b,dc=x").is_ok());
        assert!(check_dn(r"cn=Lee\, Ann,dc=x").is_ok());
        assert!(check_dn(r"cn=Lee\2C Ann,dc=x").is_ok());
        assert!(check_dn("2.5.4.3=x,dc=y").is_ok());
        assert!(check_dn("").is_err());
        assert!(check_dn("dc=x,,dc=y").is_err());
        assert!(check_dn("example.org").is_err());
        assert!(check_dn("c n=x").is_err());
        assert!(check_dn(r"cn=x\").is_err());
        assert!(check_dn(r"cn=x\2").is_err());
        assert!(check_dn("cn;lang-de=x").is_err());
    }

    #[test]
    fn attribute_descriptions() {
        for good in ["cn", "ipaUniqueID", "x-attr", "2.5.4.3", "cn;lang-de"] {
            assert!(is_attribute_description(good), "{good}");
        }
        for bad in ["", "1cn", "c n", "cn;", "2.5..3", "cn=x", "é"] {
            assert!(!is_attribute_description(bad), "{bad}");
        }
    }

    #[test]
    fn domains_become_dc_bases() {
        assert_eq!(
            domain_to_base("example.org").as_deref(),
            Ok("dc=example,dc=org")
        );
        assert_eq!(
            domain_to_base("ipa.example.org.").as_deref(),
            Ok("dc=ipa,dc=example,dc=org")
        );
        assert_eq!(
            domain_to_base("localdomain").as_deref(),
            Ok("dc=localdomain")
        );
        assert!(domain_to_base("").is_err());
        assert!(domain_to_base("example..org").is_err());
        assert!(domain_to_base("dc=example,dc=org").is_err());
        assert!(domain_to_base("-x.org").is_err());
    }

    #[test]
    fn within_base_and_scope() {
        let base = "ou=people,dc=x";
        assert!(within("ou=people,dc=x", base, Scope::Base));
        assert!(within("ou=people,dc=x", base, Scope::Sub));
        assert!(!within("ou=people,dc=x", base, Scope::One));
        assert!(within("uid=a,ou=people,dc=x", base, Scope::One));
        assert!(within("uid=a,ou=people,dc=x", base, Scope::Sub));
        assert!(!within("uid=a,ou=people,dc=x", base, Scope::Base));
        assert!(!within("uid=a,ou=sub,ou=people,dc=x", base, Scope::One));
        assert!(within("uid=a,ou=sub,ou=people,dc=x", base, Scope::Sub));
        assert!(within(r"uid=a\,b,ou=people,dc=x", base, Scope::One));
        // Suffix matches that are not RDN boundaries.
        assert!(!within("uid=a,xou=people,dc=x", base, Scope::Sub));
        assert!(!within(r"uid=a\,ou=people,dc=x", base, Scope::Sub));
        assert!(!within("dc=x", base, Scope::Sub));
    }

    #[test]
    fn rdn_values() {
        assert_eq!(
            rdn_value("uid=Ann,ou=p,dc=x", "UID").as_deref(),
            Some("Ann")
        );
        assert_eq!(
            rdn_value("cn=x+uid=ann,dc=x", "uid").as_deref(),
            Some("ann")
        );
        assert_eq!(
            rdn_value(r"cn=Lee\, Ann,dc=x", "cn").as_deref(),
            Some("Lee, Ann")
        );
        assert_eq!(
            rdn_value(r"cn=Lee\2C Ann,dc=x", "cn").as_deref(),
            Some("Lee, Ann")
        );
        assert_eq!(
            rdn_value(r"cn=J\C3\BCrgen,dc=x", "cn").as_deref(),
            Some("Jürgen")
        );
        assert_eq!(rdn_value("cn=x,dc=x", "uid"), None);
        assert_eq!(rdn_value(r"cn=\FF,dc=x", "cn"), None);
    }

    #[test]
    fn common_ancestors() {
        assert_eq!(
            common_ancestor(
                "cn=users,cn=accounts,dc=example,dc=org",
                "CN=groups, cn=Accounts,dc=example,dc=org"
            )
            .as_deref(),
            Some("cn=accounts,dc=example,dc=org")
        );
        assert_eq!(
            common_ancestor("ou=people,dc=x", "dc=x").as_deref(),
            Some("dc=x")
        );
        assert_eq!(common_ancestor("dc=x", "dc=x").as_deref(), Some("dc=x"));
        assert_eq!(common_ancestor("dc=x", "dc=y"), None);
    }
}
