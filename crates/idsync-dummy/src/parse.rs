//! Turns a directory file's text into entries, checking everything.

use std::collections::btree_map::Entry as MapEntry;
use std::collections::hash_map::Entry as HashEntry;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use idsync_core::model::CANONICAL_ATTRIBUTES;
use idsync_core::{Entry, EntryId, EntryKind, MemberRef};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::DummyError;
use crate::format::{AttrValues, Format, RawDirectory, RawGroup, RawUser};
use crate::ids::{derived_id, locator};

/// Most problems gathered from one file before giving up on finding more.
const MAX_PROBLEMS: usize = 1000;

/// A parsed and validated directory file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directory {
    /// Users, then groups, each in file order.
    pub entries: Vec<Entry>,
    /// Number of users.
    pub users: usize,
    /// Number of groups.
    pub groups: usize,
    /// Number of member references over all groups.
    pub members: usize,
    /// Things worth a warning (member names that name no entry of the file).
    pub warnings: Vec<String>,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub digest: String,
}

impl Directory {
    /// The cookie the dummy source sends for this content: `dummy:v1:<digest>`.
    pub fn cookie(&self) -> Vec<u8> {
        format!("dummy:v1:{}", self.digest).into_bytes()
    }
}

/// Lower-case hex SHA-256 of some bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let hash = Sha256::digest(bytes);
    let mut text = String::with_capacity(64);
    for byte in hash {
        // Writing into a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// Parses and validates the text of a directory file. `file` names the file in messages.
///
/// Every problem of the content is reported at once (see [`DummyError::Invalid`]); syntax
/// errors stop at the first one, with its line and column.
pub fn parse_directory(text: &str, format: Format, file: &Path) -> Result<Directory, DummyError> {
    if text.trim().is_empty() {
        return Err(DummyError::Empty {
            path: file.to_owned(),
        });
    }
    let raw: RawDirectory = match format {
        Format::Yaml => serde_norway::from_str(text).map_err(|source| DummyError::Yaml {
            path: file.to_owned(),
            source,
        })?,
        Format::Toml => toml::from_str(text).map_err(|source| DummyError::Toml {
            path: file.to_owned(),
            source,
        })?,
    };
    let mut builder = Builder::default();
    if raw.users.is_none() && raw.groups.is_none() {
        builder.problem(
            "the file has neither `users` nor `groups`; an empty directory is written \
             `users: []` (YAML) or `users = []` (TOML)"
                .to_owned(),
        );
    }
    let users = raw.users.unwrap_or_default();
    let groups = raw.groups.unwrap_or_default();
    builder.entries.reserve(users.len() + groups.len());
    for (index, user) in users.into_iter().enumerate() {
        builder.user(index, user);
    }
    let mut member_lists = Vec::with_capacity(groups.len());
    for (index, group) in groups.into_iter().enumerate() {
        member_lists.push(builder.group(index, group));
    }
    let group_count = member_lists.len();
    builder.resolve_members(member_lists);
    if !builder.problems.is_empty() {
        return Err(DummyError::Invalid {
            path: file.to_owned(),
            problems: builder.problems,
        });
    }
    let members = builder
        .entries
        .iter()
        .map(|entry| entry.members.len())
        .sum();
    Ok(Directory {
        users: builder.entries.len() - group_count,
        groups: group_count,
        members,
        entries: builder.entries,
        warnings: builder.warnings,
        digest: sha256_hex(text.as_bytes()),
    })
}

/// Builds entries while gathering every problem.
#[derive(Default)]
struct Builder {
    entries: Vec<Entry>,
    problems: Vec<String>,
    warnings: Vec<String>,
    /// Lower-case user name → (id, item path).
    users: HashMap<String, (EntryId, String)>,
    /// Lower-case group name → (id, item path).
    groups: HashMap<String, (EntryId, String)>,
    /// Every id given out → item path.
    ids: HashMap<EntryId, String>,
}

impl Builder {
    fn problem(&mut self, problem: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        }
    }

    fn user(&mut self, index: usize, user: RawUser) {
        let item = format!("users[{index}]");
        let RawUser {
            name,
            id,
            enabled,
            attributes,
        } = user;
        let id = self.identify(&item, EntryKind::User, &name, id.as_deref());
        let attrs = self.attributes(&item, attributes);
        self.entries.push(Entry {
            id,
            kind: EntryKind::User,
            locator: locator(EntryKind::User, &name),
            name,
            enabled: enabled.unwrap_or(true),
            attrs,
            members: Vec::new(),
        });
    }

    /// Adds a group without its members; returns the member names to resolve later.
    fn group(&mut self, index: usize, group: RawGroup) -> Vec<String> {
        let item = format!("groups[{index}]");
        let RawGroup {
            name,
            id,
            description,
            attributes,
            members,
        } = group;
        let id = self.identify(&item, EntryKind::Group, &name, id.as_deref());
        let mut attrs = self.attributes(&item, attributes);
        if let Some(description) = description {
            if description.is_empty() {
                self.problem(format!("{item}.description: empty value"));
            } else {
                match attrs.entry("description".to_owned()) {
                    MapEntry::Occupied(_) => self.problem(format!(
                        "{item}.description: also given as `attributes.description`; keep one"
                    )),
                    MapEntry::Vacant(slot) => {
                        slot.insert(vec![description]);
                    }
                }
            }
        }
        self.entries.push(Entry {
            id,
            kind: EntryKind::Group,
            locator: locator(EntryKind::Group, &name),
            name,
            enabled: true,
            attrs,
            members: Vec::new(),
        });
        members.unwrap_or_default()
    }

    /// Checks the name and the id of an item and registers both.
    fn identify(
        &mut self,
        item: &str,
        kind: EntryKind,
        name: &str,
        explicit: Option<&str>,
    ) -> EntryId {
        let id = match explicit {
            None => derived_id(kind, name),
            Some(text) => match Uuid::parse_str(text.trim()) {
                Ok(uuid) if uuid.is_nil() => {
                    self.problem(format!("{item}.id: the nil UUID is not an id"));
                    derived_id(kind, name)
                }
                Ok(uuid) => EntryId(uuid),
                Err(_) => {
                    self.problem(format!("{item}.id: invalid UUID `{text}`"));
                    derived_id(kind, name)
                }
            },
        };
        if let Some(problem) = name_problem(name) {
            self.problem(format!("{item}.name: {problem}"));
        } else {
            let names = match kind {
                EntryKind::User => &mut self.users,
                EntryKind::Group => &mut self.groups,
            };
            let duplicate = match names.entry(name.to_lowercase()) {
                HashEntry::Occupied(first) => Some(format!(
                    "{item}.name: `{name}` is already the name of {} (names are compared \
                     case-insensitively)",
                    first.get().1
                )),
                HashEntry::Vacant(slot) => {
                    slot.insert((id, item.to_owned()));
                    None
                }
            };
            if let Some(problem) = duplicate {
                self.problem(problem);
            }
        }
        let duplicate = match self.ids.entry(id) {
            HashEntry::Occupied(first) => Some(format!(
                "{item}.id: `{id}` is already the id of {}",
                first.get()
            )),
            HashEntry::Vacant(slot) => {
                slot.insert(item.to_owned());
                None
            }
        };
        if let Some(problem) = duplicate {
            self.problem(problem);
        }
        id
    }

    fn attributes(
        &mut self,
        item: &str,
        attributes: Option<BTreeMap<String, AttrValues>>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut attrs = BTreeMap::new();
        for (name, AttrValues(values)) in attributes.unwrap_or_default() {
            if !CANONICAL_ATTRIBUTES.contains(&name.as_str()) {
                self.problem(format!(
                    "{item}.attributes.{name}: unknown attribute (the canonical names are {})",
                    CANONICAL_ATTRIBUTES.join(", ")
                ));
                continue;
            }
            for (position, value) in values.iter().enumerate() {
                if value.is_empty() {
                    self.problem(format!("{item}.attributes.{name}[{position}]: empty value"));
                }
            }
            if !values.is_empty() {
                attrs.insert(name, values);
            }
        }
        attrs
    }

    /// Resolves member names (users first, then groups) and stores the member lists in the
    /// groups, which follow the users in `entries`.
    fn resolve_members(&mut self, member_lists: Vec<Vec<String>>) {
        let first_group = self.entries.len() - member_lists.len();
        for (index, names) in member_lists.into_iter().enumerate() {
            let mut members = Vec::with_capacity(names.len());
            let mut seen: HashMap<MemberRef, usize> = HashMap::with_capacity(names.len());
            for (position, name) in names.into_iter().enumerate() {
                let item = format!("groups[{index}].members[{position}]");
                if let Some(problem) = name_problem(&name) {
                    self.problem(format!("{item}: {problem}"));
                    continue;
                }
                let key = name.to_lowercase();
                let (member, seen_key) =
                    match self.users.get(&key).or_else(|| self.groups.get(&key)) {
                        Some((id, _)) => (MemberRef::Id(*id), MemberRef::Id(*id)),
                        None => {
                            self.warnings.push(format!(
                                "groups[{index}].members[{position}]: no user or group is named \
                             `{name}`; the reference stays unresolved"
                            ));
                            (MemberRef::Name(name.clone()), MemberRef::Name(key))
                        }
                    };
                if let Some(first) = seen.get(&seen_key) {
                    self.problem(format!(
                        "{item}: `{name}` is already listed as members[{first}]"
                    ));
                    continue;
                }
                seen.insert(seen_key, position);
                members.push(member);
            }
            if let Some(group) = self.entries.get_mut(first_group + index) {
                group.members = members;
            }
        }
    }
}

/// What is wrong with a user, group or member name, if anything.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("empty name")
    } else if name.trim() != name {
        Some("the name starts or ends with white space")
    } else if name.chars().any(char::is_control) {
        Some("the name contains a control character")
    } else {
        None
    }
}
