//! LDAP filters (RFC 4515) parsed and evaluated client-side, to tell users from groups among
//! the entries of the one sync search.
//!
//! The server has already applied `(|(users filter)(groups filter))`; the client only needs to
//! know which of the two an entry matched. Equality, presence and substring assertions are
//! evaluated case-insensitively (the matching rule of the attributes users and groups are
//! selected by); `objectClass` equality also accepts the well-known subclasses of the asserted
//! class (`(objectClass=person)` matches an entry that lists only `inetOrgPerson`, as it does
//! on the server). Ordering, approximate and extensible assertions cannot be evaluated without
//! the schema: they are *unknown*, and an unknown filter result defers to the base check.

use crate::raw::RawAttribute;

use super::dn::is_attribute_description;
use super::table::AttrTable;

/// A three-valued filter result (RFC 4511 §4.5.1.7: Undefined).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Truth {
    /// The entry matches.
    True,
    /// The entry does not match.
    False,
    /// Cannot be decided client-side.
    Unknown,
}

/// Known object class inheritance (subclass, superclass), lower case: what servers match an
/// `objectClass` assertion against besides the literal value.
const SUPERCLASSES: &[(&str, &str)] = &[
    ("organizationalperson", "person"),
    ("residentialperson", "person"),
    ("inetorgperson", "organizationalperson"),
    ("nestedgroup", "groupofnames"),
    ("ipausergroup", "nestedgroup"),
    ("ipahostgroup", "nestedgroup"),
];

/// One parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `(&…)`; empty is absolute true (RFC 4526).
    And(Vec<Filter>),
    /// `(|…)`; empty is absolute false (RFC 4526).
    Or(Vec<Filter>),
    /// `(!…)`.
    Not(Box<Filter>),
    /// `(attr=value)`.
    Equal {
        /// The attribute as written.
        attr: String,
        /// Its slot in the flavour's attribute table (set by [`Filter::bind`]).
        slot: usize,
        /// The asserted value, unescaped.
        value: Vec<u8>,
        /// The value lower-cased, when UTF-8.
        folded: Option<String>,
        /// For `objectClass`: the asserted class and its known subclasses, lower case.
        classes: Vec<String>,
    },
    /// `(attr=*)`.
    Present {
        /// The attribute as written.
        attr: String,
        /// Its slot.
        slot: usize,
    },
    /// `(attr=ini*any*fin)`, pieces lower-cased.
    Substrings {
        /// The attribute as written.
        attr: String,
        /// Its slot.
        slot: usize,
        /// The initial piece.
        initial: Option<String>,
        /// The middle pieces, in order.
        any: Vec<String>,
        /// The final piece.
        last: Option<String>,
    },
    /// `>=`, `<=`, `~=`, extensible match, or a non-UTF-8 substring: not decided client-side.
    Undecidable {
        /// The attribute, when the assertion names one.
        attr: Option<String>,
    },
}

impl Filter {
    /// Parses a filter; a bare item without parentheses (`objectClass=person`) is accepted.
    pub(crate) fn parse(text: &str) -> Result<Filter, String> {
        let text = text.trim();
        let owned;
        let text = if text.starts_with('(') {
            text
        } else {
            owned = format!("({text})");
            owned.as_str()
        };
        let mut parser = Parser { text, pos: 0 };
        let filter = parser.filter()?;
        if parser.pos != text.len() {
            return Err(format!("unexpected text after position {}", parser.pos));
        }
        Ok(filter)
    }

    /// The filter as sent to the server: parenthesised.
    pub(crate) fn canonical_text(text: &str) -> String {
        let text = text.trim();
        if text.starts_with('(') {
            text.to_owned()
        } else {
            format!("({text})")
        }
    }

    /// Every attribute the filter names, as written.
    pub(crate) fn attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::And(list) | Filter::Or(list) => {
                list.iter().for_each(|f| f.attributes(out));
            }
            Filter::Not(inner) => inner.attributes(out),
            Filter::Equal { attr, .. }
            | Filter::Present { attr, .. }
            | Filter::Substrings { attr, .. } => out.push(attr),
            Filter::Undecidable { attr } => out.extend(attr.as_deref()),
        }
    }

    /// Resolves attribute names to slots of `table` (which must hold every name).
    pub(crate) fn bind(&mut self, table: &AttrTable) {
        match self {
            Filter::And(list) | Filter::Or(list) => list.iter_mut().for_each(|f| f.bind(table)),
            Filter::Not(inner) => inner.bind(table),
            Filter::Equal { attr, slot, .. }
            | Filter::Present { attr, slot }
            | Filter::Substrings { attr, slot, .. } => {
                *slot = table.slot(attr).unwrap_or(usize::MAX);
            }
            Filter::Undecidable { .. } => {}
        }
    }

    /// Evaluates the filter on an entry's attributes, looked up by slot.
    pub(crate) fn eval(&self, found: &[Option<&RawAttribute>]) -> Truth {
        let values = |slot: &usize| {
            found
                .get(*slot)
                .copied()
                .flatten()
                .map(|a| a.values.as_slice())
                .unwrap_or(&[])
        };
        match self {
            Filter::And(list) => {
                let mut result = Truth::True;
                for filter in list {
                    match filter.eval(found) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => result = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                result
            }
            Filter::Or(list) => {
                let mut result = Truth::False;
                for filter in list {
                    match filter.eval(found) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => result = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                result
            }
            Filter::Not(inner) => match inner.eval(found) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                Truth::Unknown => Truth::Unknown,
            },
            Filter::Present { slot, .. } => truth(!values(slot).is_empty()),
            Filter::Equal {
                slot,
                value,
                folded,
                classes,
                ..
            } => {
                let values = values(slot);
                if classes.is_empty() {
                    truth(
                        values
                            .iter()
                            .any(|v| equal_folded(v, value, folded.as_deref())),
                    )
                } else {
                    truth(values.iter().any(|v| {
                        classes
                            .iter()
                            .any(|class| class.as_bytes().eq_ignore_ascii_case(v))
                    }))
                }
            }
            Filter::Substrings {
                slot,
                initial,
                any,
                last,
                ..
            } => truth(
                values(slot)
                    .iter()
                    .any(|v| substrings_match(v, initial.as_deref(), any, last.as_deref())),
            ),
            Filter::Undecidable { .. } => Truth::Unknown,
        }
    }
}

fn truth(b: bool) -> Truth {
    if b {
        Truth::True
    } else {
        Truth::False
    }
}

/// Case-insensitive equality of a value with an asserted value.
fn equal_folded(value: &[u8], asserted: &[u8], folded: Option<&str>) -> bool {
    if value.is_ascii() && asserted.is_ascii() {
        return value.eq_ignore_ascii_case(asserted);
    }
    match (std::str::from_utf8(value), folded) {
        (Ok(text), Some(folded)) => text.to_lowercase() == folded,
        _ => value == asserted,
    }
}

/// Substring match on the lower-cased value.
fn substrings_match(
    value: &[u8],
    initial: Option<&str>,
    any: &[String],
    last: Option<&str>,
) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    let text = text.to_lowercase();
    let mut rest = text.as_str();
    if let Some(initial) = initial {
        match rest.strip_prefix(initial) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    for piece in any {
        match rest.find(piece.as_str()) {
            Some(at) => rest = rest.get(at + piece.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    match last {
        Some(last) => rest.ends_with(last),
        None => true,
    }
}

/// The object classes an `objectClass=<class>` assertion matches: the class and its known
/// subclasses, lower case.
fn with_subclasses(class: &str) -> Vec<String> {
    let mut classes = vec![class.to_ascii_lowercase()];
    let mut i = 0;
    while let Some(current) = classes.get(i).cloned() {
        for (sub, sup) in SUPERCLASSES {
            if *sup == current && !classes.iter().any(|c| c == sub) {
                classes.push((*sub).to_owned());
            }
        }
        i += 1;
    }
    classes
}

/// A recursive-descent parser over the filter text.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_blanks(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "expected `{}` at position {}",
                char::from(byte),
                self.pos
            ))
        }
    }

    fn filter(&mut self) -> Result<Filter, String> {
        self.skip_blanks();
        self.expect(b'(')?;
        let filter = match self.peek() {
            Some(b'&') => {
                self.pos += 1;
                Filter::And(self.list()?)
            }
            Some(b'|') => {
                self.pos += 1;
                Filter::Or(self.list()?)
            }
            Some(b'!') => {
                self.pos += 1;
                let inner = self.filter()?;
                self.skip_blanks();
                Filter::Not(Box::new(inner))
            }
            _ => self.item()?,
        };
        self.expect(b')')?;
        self.skip_blanks();
        Ok(filter)
    }

    fn list(&mut self) -> Result<Vec<Filter>, String> {
        let mut list = Vec::new();
        self.skip_blanks();
        while self.peek() == Some(b'(') {
            list.push(self.filter()?);
        }
        Ok(list)
    }

    fn item(&mut self) -> Result<Filter, String> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let len = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|&b| b == b')' || b == b'(')
            .ok_or_else(|| format!("unterminated item at position {start}"))?;
        self.pos = start + len;
        let item = self.text.get(start..start + len).unwrap_or_default();
        parse_item(item).map_err(|message| format!("item `{item}`: {message}"))
    }
}

fn parse_item(item: &str) -> Result<Filter, String> {
    let Some((left, value)) = item.split_once('=') else {
        return Err("no `=`".to_owned());
    };
    if let Some(left) = left.strip_suffix(':') {
        // Extensible match: attr[:dn][:rule]:=value or [:dn]:rule:=value.
        unescape(value)?;
        let attr = left.split(':').next().unwrap_or_default();
        if !attr.is_empty() && !is_attribute_description(attr) {
            return Err(format!("`{attr}` is not an attribute description"));
        }
        if attr.is_empty() && left.is_empty() {
            return Err("an extensible match needs an attribute or a matching rule".to_owned());
        }
        return Ok(Filter::Undecidable {
            attr: (!attr.is_empty()).then(|| attr.to_owned()),
        });
    }
    let (attr, ordering) = match left.strip_suffix(['~', '>', '<']) {
        Some(attr) => (attr, true),
        None => (left, false),
    };
    if !is_attribute_description(attr) {
        return Err(format!("`{attr}` is not an attribute description"));
    }
    let attr = attr.to_owned();
    if ordering {
        unescape(value)?;
        return Ok(Filter::Undecidable { attr: Some(attr) });
    }
    if value == "*" {
        return Ok(Filter::Present {
            attr,
            slot: usize::MAX,
        });
    }
    if value.contains('*') {
        let pieces: Vec<&str> = value.split('*').collect();
        let mut folded = Vec::with_capacity(pieces.len());
        let mut decidable = true;
        for piece in &pieces {
            match String::from_utf8(unescape(piece)?) {
                Ok(text) => folded.push(text.to_lowercase()),
                Err(_) => decidable = false,
            }
        }
        if !decidable {
            return Ok(Filter::Undecidable { attr: Some(attr) });
        }
        let last_index = folded.len().saturating_sub(1);
        let mut initial = None;
        let mut any = Vec::new();
        let mut last = None;
        for (i, piece) in folded.into_iter().enumerate() {
            if piece.is_empty() {
                continue;
            }
            if i == 0 {
                initial = Some(piece);
            } else if i == last_index {
                last = Some(piece);
            } else {
                any.push(piece);
            }
        }
        return Ok(Filter::Substrings {
            attr,
            slot: usize::MAX,
            initial,
            any,
            last,
        });
    }
    let value = unescape(value)?;
    let folded = std::str::from_utf8(&value).ok().map(str::to_lowercase);
    let classes = match (&folded, attr.eq_ignore_ascii_case("objectClass")) {
        (Some(class), true) => with_subclasses(class),
        _ => Vec::new(),
    };
    Ok(Filter::Equal {
        attr,
        slot: usize::MAX,
        value,
        folded,
        classes,
    })
}

/// Decodes RFC 4515 `\XX` escapes.
fn unescape(value: &str) -> Result<Vec<u8>, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'\\' {
            let decoded = bytes
                .get(i + 1..i + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| "a backslash must start two hex digits (`\\2a`)".to_owned())?;
            out.push(decoded);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(filter: &str, attrs: &[(&str, &[&str])]) -> Truth {
        let mut filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{e}"));
        let mut names = Vec::new();
        filter.attributes(&mut names);
        let mut all: Vec<&str> = names.clone();
        all.extend(attrs.iter().map(|(n, _)| *n));
        let table = AttrTable::new(all.iter().copied());
        filter.bind(&table);
        let raw: Vec<RawAttribute> = attrs
            .iter()
            .map(|(name, values)| RawAttribute {
                name: (*name).to_owned(),
                values: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
            })
            .collect();
        let mut found = vec![None; table.len()];
        for attribute in &raw {
            if let Some(slot) = table.slot(&attribute.name) {
                if let Some(cell) = found.get_mut(slot) {
                    *cell = Some(attribute);
                }
            }
        }
        filter.eval(&found)
    }

    #[test]
    fn object_class_equality_is_case_insensitive_and_knows_subclasses() {
        let oc: &[&str] = &["top", "InetOrgPerson"];
        assert_eq!(
            eval("(objectClass=inetOrgPerson)", &[("objectclass", oc)]),
            Truth::True
        );
        assert_eq!(
            eval("(objectclass=PERSON)", &[("objectClass", oc)]),
            Truth::True
        );
        assert_eq!(
            eval("(objectClass=posixAccount)", &[("objectClass", oc)]),
            Truth::False
        );
        let ipa: &[&str] = &["ipaUserGroup"];
        assert_eq!(
            eval("(objectClass=groupOfNames)", &[("objectClass", ipa)]),
            Truth::True
        );
        assert_eq!(
            eval(
                "(objectClass=ipaUserGroup)",
                &[("objectClass", &["nestedGroup"])]
            ),
            Truth::False
        );
    }

    #[test]
    fn boolean_operators_and_three_valued_logic() {
        let attrs: &[(&str, &[&str])] = &[("objectClass", &["posixAccount"]), ("uid", &["Ann"])];
        assert_eq!(
            eval("(&(objectClass=posixAccount)(uid=ann))", attrs),
            Truth::True
        );
        assert_eq!(
            eval("(&(objectClass=posixAccount)(uid=bob))", attrs),
            Truth::False
        );
        assert_eq!(
            eval("(|(uid=bob)(objectClass=posixAccount))", attrs),
            Truth::True
        );
        assert_eq!(eval("(!(uid=bob))", attrs), Truth::True);
        assert_eq!(
            eval("(&(objectClass=posixAccount)(uidNumber>=1000))", attrs),
            Truth::Unknown
        );
        assert_eq!(
            eval("(&(objectClass=inetOrgPerson)(uidNumber>=1000))", attrs),
            Truth::False
        );
        assert_eq!(
            eval("(|(uid=bob)(uid:caseExactMatch:=Ann))", attrs),
            Truth::Unknown
        );
        assert_eq!(eval("(!(cn~=x))", attrs), Truth::Unknown);
        assert_eq!(eval("(&)", attrs), Truth::True);
        assert_eq!(eval("(|)", attrs), Truth::False);
    }

    #[test]
    fn presence_substrings_and_escapes() {
        let attrs: &[(&str, &[&str])] = &[("mail", &["Ann.Lee@Example.org"]), ("cn", &["a*b (x)"])];
        assert_eq!(eval("(mail=*)", attrs), Truth::True);
        assert_eq!(eval("(title=*)", attrs), Truth::False);
        assert_eq!(eval("(mail=ann*@example.org)", attrs), Truth::True);
        assert_eq!(eval("(mail=*lee*exa*)", attrs), Truth::True);
        assert_eq!(eval("(mail=*.com)", attrs), Truth::False);
        assert_eq!(eval("(mail=ann*lee*lee*)", attrs), Truth::False);
        assert_eq!(eval(r"(cn=a\2ab \28x\29)", attrs), Truth::True);
        assert_eq!(
            eval("objectClass=*", &[("objectClass", &["top"])]),
            Truth::True
        );
    }

    #[test]
    fn non_ascii_values_compare_case_insensitively() {
        let attrs: &[(&str, &[&str])] = &[("cn", &["JÜRGEN"])];
        assert_eq!(eval("(cn=jürgen)", attrs), Truth::True);
        assert_eq!(eval(r"(cn=j\c3\bcrgen)", attrs), Truth::True);
        assert_eq!(eval("(cn=jür*)", attrs), Truth::True);
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            "(",
            "(uid=a",
            "(uid=a))",
            "(&(uid=a)",
            "(=a)",
            "(u id=a)",
            "(uid)",
            r"(uid=\zz)",
            r"(uid=a\2)",
            "(!)",
            "(uid=a)(uid=b)",
            "(:=x)",
            r"(cn:=\zz)",
            "(c n:=x)",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn collects_attributes_and_canonical_text() {
        let filter = Filter::parse("(&(objectClass=x)(!(uid=*a*))(uidNumber>=5)(:dn:2.4.8.10:=y))")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut names = Vec::new();
        filter.attributes(&mut names);
        assert_eq!(names, vec!["objectClass", "uid", "uidNumber"]);
        assert_eq!(Filter::canonical_text(" objectClass=x "), "(objectClass=x)");
        assert_eq!(Filter::canonical_text("(a=b)"), "(a=b)");
    }
}
