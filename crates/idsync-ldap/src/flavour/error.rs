//! What can be wrong with a flavour's settings, and with one entry being mapped.

use std::fmt;

/// One problem with the flavour settings: the key it concerns, relative to `[source]`
/// (`users.filter`, `attributes.displayName`, `base`, …), and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct FlavourProblem {
    /// The key, relative to `[source]`.
    pub key: String,
    /// What is wrong, in lower case.
    pub message: String,
}

impl FlavourProblem {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Why one entry could not be mapped to the entry model. Each names the entry's DN.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// A value of an attribute the mapping reads is not valid UTF-8.
    #[error("entry `{dn}`: a value of `{attribute}` is not valid UTF-8")]
    NotUtf8 {
        /// The entry's DN (lossily decoded if it was not UTF-8 itself).
        dn: String,
        /// The attribute as the server spelled it.
        attribute: String,
    },
    /// The entry has no value for the attribute its name comes from.
    #[error("{kind} `{dn}` has no `{attribute}` (the attribute its name comes from)")]
    MissingName {
        /// The entry's DN.
        dn: String,
        /// User or group.
        kind: idsync_core::EntryKind,
        /// The name attribute.
        attribute: String,
    },
    /// The entry has no value for its id attribute (non-sync searches only).
    #[error("entry `{dn}` has no `{attribute}` (request it by name: it is operational)")]
    MissingId {
        /// The entry's DN.
        dn: String,
        /// `entryUUID` or `nsUniqueId`.
        attribute: String,
    },
    /// The id attribute's value is not in the expected format.
    #[error("entry `{dn}`: `{attribute}` value `{value}` is not {expected}")]
    BadId {
        /// The entry's DN.
        dn: String,
        /// `entryUUID` or `nsUniqueId`.
        attribute: String,
        /// The offending value (lossily decoded).
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value the mapping interprets (e.g. `shadowExpire`) is not in its syntax.
    #[error("entry `{dn}`: `{attribute}` value `{value}` is not {expected}")]
    BadValue {
        /// The entry's DN.
        dn: String,
        /// The attribute.
        attribute: String,
        /// The offending value (lossily decoded).
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The entry lies within both the users' and the groups' base and matches both filters.
    #[error(
        "entry `{dn}` matches both the users' and the groups' filter and lies in both bases; \
         make `users.filter` and `groups.filter` exclusive"
    )]
    Ambiguous {
        /// The entry's DN.
        dn: String,
    },
    /// The server returned the entry but, as idsync evaluates them, it matches neither the
    /// users' nor the groups' filter.
    #[error(
        "entry `{dn}` matches neither the users' nor the groups' filter as idsync evaluates them \
         (objectClass values: {object_classes}); filter on object classes the entries list \
         explicitly"
    )]
    Unclassified {
        /// The entry's DN.
        dn: String,
        /// The entry's objectClass values, comma-separated, for the diagnosis.
        object_classes: String,
    },
}

/// Formats a list of problems one per line (for `idsync check` and start-up errors).
pub struct Problems<'a>(pub &'a [FlavourProblem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
