//! The serde shape of a directory file (YAML or TOML), before any validation.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// The syntax of a directory file, chosen by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.yaml` or `.yml`.
    Yaml,
    /// `.toml`.
    Toml,
}

impl Format {
    /// The format of a file by its extension (case-insensitive), if it is one of ours.
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

/// The whole file. `None` means the key is absent; a key present with a null value (YAML
/// `users:` with nothing under it) is an empty list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDirectory {
    #[serde(default, deserialize_with = "present_list")]
    pub(crate) users: Option<Vec<RawUser>>,
    #[serde(default, deserialize_with = "present_list")]
    pub(crate) groups: Option<Vec<RawGroup>>,
}

/// One item of `users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUser {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
    #[serde(default)]
    pub(crate) attributes: Option<BTreeMap<String, AttrValues>>,
}

/// One item of `groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroup {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) attributes: Option<BTreeMap<String, AttrValues>>,
    #[serde(default)]
    pub(crate) members: Option<Vec<String>>,
}

/// An attribute's values: a string, an integer (written in decimal), a list of those, or
/// null (no values).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct AttrValues(pub(crate) Vec<String>);

fn present_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(|list| Some(list.unwrap_or_default()))
}

impl<'de> Deserialize<'de> for AttrValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValuesVisitor)
    }
}

struct ValuesVisitor;

impl<'de> Visitor<'de> for ValuesVisitor {
    type Value = AttrValues;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(AttrValues(vec![value.to_owned()]))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(AttrValues(vec![value]))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(AttrValues(vec![value.to_string()]))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(AttrValues(vec![value.to_string()]))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AttrValues(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(AttrValues(Vec::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(OneValue(value)) = seq.next_element()? {
            values.push(value);
        }
        Ok(AttrValues(values))
    }
}

/// One attribute value inside a list: a string or an integer.
struct OneValue(String);

impl<'de> Deserialize<'de> for OneValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OneValueVisitor)
    }
}

struct OneValueVisitor;

impl Visitor<'_> for OneValueVisitor {
    type Value = OneValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(OneValue(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(OneValue(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(OneValue(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(OneValue(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.yml")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("b.YAML")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("b.toml")), Some(Format::Toml));
        assert_eq!(Format::from_path(Path::new("b.json")), None);
        assert_eq!(Format::from_path(Path::new("yaml")), None);
    }
}
