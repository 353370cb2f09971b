//! Directory files: both formats, ids, members and every validation error.

use std::path::Path;

use idsync_core::{EntryId, EntryKind, MemberRef};

use crate::file::read_directory_limited;
use crate::{derived_id, parse_directory, read_directory, Directory, DummyError, Format};

const SAMPLE_YAML: &str = include_str!("../../examples/directory.yaml");
const SAMPLE_TOML: &str = include_str!("../../examples/directory.toml");

fn yaml(text: &str) -> Result<Directory, DummyError> {
    parse_directory(text, Format::Yaml, Path::new("dir.yaml"))
}

fn toml(text: &str) -> Result<Directory, DummyError> {
    parse_directory(text, Format::Toml, Path::new("dir.toml"))
}

fn problems(result: Result<Directory, DummyError>) -> Vec<String> {
    match result {
        Err(DummyError::Invalid { problems, .. }) => problems,
        other => panic!("expected an invalid file, got {other:?}"),
    }
}

fn id(text: &str) -> EntryId {
    text.parse().unwrap()
}

#[test]
fn the_sample_parses_the_same_in_both_formats() {
    let from_yaml = yaml(SAMPLE_YAML).unwrap();
    let from_toml = toml(SAMPLE_TOML).unwrap();
    assert_eq!(from_yaml.entries, from_toml.entries);
    assert_eq!(
        (from_yaml.users, from_yaml.groups, from_yaml.members),
        (3, 2, 4)
    );
    assert!(from_yaml.warnings.is_empty());

    let entries = &from_yaml.entries;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "mallory", "staff", "admins"]);

    let alice = &entries[0];
    assert_eq!(alice.id, id("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"));
    assert_eq!(alice.kind, EntryKind::User);
    assert_eq!(alice.locator, "uid=alice,ou=users,dc=dummy");
    assert!(alice.enabled);
    assert_eq!(
        alice.attrs["mail"],
        ["alice@example.org", "a.liddell@example.org"]
    );
    assert_eq!(alice.attrs["uidNumber"], ["10001"]);
    assert_eq!(alice.attr("displayName"), Some("Alice Liddell"));

    let bob = &entries[1];
    assert_eq!(bob.id, derived_id(EntryKind::User, "bob"));
    assert_eq!(bob.attrs["mail"], ["bob@example.org"]);
    assert!(!entries[2].enabled);

    let staff = &entries[3];
    assert_eq!(staff.kind, EntryKind::Group);
    assert_eq!(staff.id, derived_id(EntryKind::Group, "staff"));
    assert_eq!(staff.locator, "cn=staff,ou=groups,dc=dummy");
    assert_eq!(staff.attr("description"), Some("Everyone who works here"));
    assert!(staff.enabled);
    let admins = id("0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a");
    assert_eq!(
        staff.members,
        [
            MemberRef::Id(alice.id),
            MemberRef::Id(bob.id),
            MemberRef::Id(admins)
        ]
    );
    assert_eq!(entries[4].id, admins);
    assert_eq!(entries[4].attrs["gidNumber"], ["20001"]);
}

#[test]
fn v5_ids_are_stable() {
    let directory = yaml("users:\n  - name: alice\ngroups:\n  - name: alice\n").unwrap();
    // Pinned: the same values as the ids module's test, through the file.
    assert_eq!(
        directory.entries[0].id.to_string(),
        "51569366-ed41-524c-b546-d60386686673"
    );
    assert_eq!(
        directory.entries[1].id.to_string(),
        "080116ac-9fcb-5a7a-a270-5a723b804cb6"
    );
}

#[test]
fn members_resolve_to_users_first_then_groups_case_insensitively() {
    let directory = yaml(
        "users:\n  - name: ops\n  - name: Bob\ngroups:\n  - name: ops\n    members: [bob]\n  \
         - name: all\n    members: [OPS, Ops-Team, carol]\n",
    )
    .unwrap();
    let all = &directory.entries[3];
    assert_eq!(
        all.members,
        [
            MemberRef::Id(derived_id(EntryKind::User, "ops")),
            MemberRef::Name("Ops-Team".to_owned()),
            MemberRef::Name("carol".to_owned()),
        ]
    );
    assert_eq!(
        directory.entries[2].members,
        [MemberRef::Id(derived_id(EntryKind::User, "Bob"))]
    );
    assert_eq!(
        directory.warnings,
        [
            "groups[1].members[1]: no user or group is named `Ops-Team`; the reference stays \
             unresolved",
            "groups[1].members[2]: no user or group is named `carol`; the reference stays \
             unresolved",
        ]
    );
}

#[test]
fn a_group_can_be_a_member_and_members_may_come_before_their_group() {
    let directory = yaml(
        "groups:\n  - name: all\n    members: [admins]\n  - name: admins\n    members: [all]\n",
    )
    .unwrap();
    assert_eq!(
        directory.entries[0].members,
        [MemberRef::Id(derived_id(EntryKind::Group, "admins"))]
    );
    assert_eq!(
        directory.entries[1].members,
        [MemberRef::Id(derived_id(EntryKind::Group, "all"))]
    );
}

#[test]
fn null_and_empty_values_are_absent() {
    let directory = yaml(
        "users:\n  - name: a\n    attributes:\n      mail: []\n      title:\n      \
         displayName: [A]\ngroups:\n",
    )
    .unwrap();
    let attrs: Vec<&String> = directory.entries[0].attrs.keys().collect();
    assert_eq!(attrs, ["displayName"]);
    assert_eq!(directory.groups, 0);
}

#[test]
fn every_content_problem_is_reported_at_once() {
    let text = r#"
users:
  - name: ""
  - name: " bob"
  - name: "tab	name"
  - name: carol
    id: xyz
  - name: dave
    id: 00000000-0000-0000-0000-000000000000
  - name: Carol
  - name: erin
    id: 6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f
  - name: frank
    id: 6F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F
    attributes:
      email: frank@example.org
      mail: ["frank@example.org", ""]
groups:
  - name: staff
    description: Staff
    attributes:
      description: Also staff
    members: [carol, "", erin, ERIN]
  - name: empty
    description: ""
"#;
    let canonical = idsync_core::model::CANONICAL_ATTRIBUTES.join(", ");
    assert_eq!(
        problems(yaml(text)),
        [
            "users[0].name: empty name".to_owned(),
            "users[1].name: the name starts or ends with white space".to_owned(),
            "users[2].name: the name contains a control character".to_owned(),
            "users[3].id: invalid UUID `xyz`".to_owned(),
            "users[4].id: the nil UUID is not an id".to_owned(),
            "users[5].name: `Carol` is already the name of users[3] (names are compared \
             case-insensitively)"
                .to_owned(),
            "users[7].id: `6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f` is already the id of users[6]"
                .to_owned(),
            format!(
                "users[7].attributes.email: unknown attribute (the canonical names are \
                 {canonical})"
            ),
            "users[7].attributes.mail[1]: empty value".to_owned(),
            "groups[0].description: also given as `attributes.description`; keep one".to_owned(),
            "groups[1].description: empty value".to_owned(),
            "groups[0].members[1]: empty name".to_owned(),
            "groups[0].members[3]: `ERIN` is already listed as members[2]".to_owned(),
        ]
    );
}

#[test]
fn the_error_names_the_file_and_the_item() {
    let error = yaml("users:\n  - name: a\n  - name: b\n  - name: c\n  - name: d\n    id: xyz\n")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`dir.yaml`: users[3].id: invalid UUID `xyz`"
    );
    let error = toml("[[groups]]\nname = \"g\"\nid = \"nope\"\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`dir.toml`: groups[0].id: invalid UUID `nope`"
    );
}

#[test]
fn syntax_and_shape_errors_carry_the_location() {
    let error = yaml("users:\n  - name: a\n    nmae: b\n").unwrap_err();
    let report = error.report();
    assert!(
        report.starts_with("`dir.yaml`: invalid directory file: "),
        "{report}"
    );
    assert!(report.contains("unknown field `nmae`"), "{report}");
    assert!(report.contains("line 3"), "{report}");

    let report = yaml("users: [\n").unwrap_err().report();
    assert!(
        report.starts_with("`dir.yaml`: invalid directory file: "),
        "{report}"
    );

    let report = yaml("users:\n  - name: a\n    attributes:\n      title: true\n")
        .unwrap_err()
        .report();
    assert!(
        report.contains("expected a string or a list of strings"),
        "{report}"
    );

    let report = yaml("users:\n  - name: a\n    attributes:\n      mail: [[x]]\n")
        .unwrap_err()
        .report();
    assert!(report.contains("expected a string"), "{report}");

    let report = toml("[[users]]\nname = \"a\"\nenabled = \"yes\"\n")
        .unwrap_err()
        .report();
    assert!(
        report.starts_with("`dir.toml`: invalid directory file: "),
        "{report}"
    );
    assert!(report.contains("enabled"), "{report}");

    let report = toml("[[users]\n").unwrap_err().report();
    assert!(
        report.starts_with("`dir.toml`: invalid directory file: "),
        "{report}"
    );

    let report = yaml("people: []\n").unwrap_err().report();
    assert!(report.contains("unknown field `people`"), "{report}");
}

#[test]
fn empty_files_are_refused_but_empty_lists_are_fine() {
    for text in ["", "  \n\n"] {
        assert!(matches!(yaml(text), Err(DummyError::Empty { .. })));
        assert!(matches!(toml(text), Err(DummyError::Empty { .. })));
    }
    assert!(yaml("# only a comment\n").is_err());
    assert_eq!(
        problems(toml("# only a comment\n")),
        [
            "the file has neither `users` nor `groups`; an empty directory is written `users: []` \
          (YAML) or `users = []` (TOML)"
        ]
    );
    assert!(yaml("users: []\n").unwrap().entries.is_empty());
    assert!(toml("users = []\n").unwrap().entries.is_empty());
    assert!(yaml("users:\n").unwrap().entries.is_empty());
}

#[test]
fn hostile_yaml_does_not_panic() {
    let deep = format!("users: {}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(yaml(&deep).is_err());
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                users: [*f]\n";
    assert!(yaml(bomb).is_err());
    assert!(toml(&format!(
        "users = {}{}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    ))
    .is_err());
}

#[test]
fn files_are_read_with_a_size_limit_and_must_be_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dir.yaml");
    std::fs::write(&path, SAMPLE_YAML).unwrap();
    assert_eq!(read_directory(&path).unwrap().entries.len(), 5);
    let error = read_directory_limited(&path, 100).unwrap_err();
    assert!(
        matches!(error, DummyError::TooLarge { limit: 100, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("at most 100 bytes"), "{error}");

    std::fs::write(&path, b"users:\n  - name: \xff\n").unwrap();
    let error = read_directory(&path).unwrap_err();
    assert!(matches!(error, DummyError::NotUtf8 { .. }), "{error:?}");

    let missing = dir.path().join("missing.toml");
    let error = read_directory(&missing).unwrap_err();
    assert!(
        matches!(&error, DummyError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(error.to_string().contains("missing.toml"), "{error}");

    let json = dir.path().join("dir.json");
    std::fs::write(&json, "{}").unwrap();
    assert!(matches!(
        read_directory(&json),
        Err(DummyError::Invalid { .. })
    ));
}

#[test]
fn the_digest_is_the_sha256_of_the_bytes() {
    let directory = yaml("users: []\n").unwrap();
    assert_eq!(directory.digest, crate::parse::sha256_hex(b"users: []\n"));
    assert!(directory.cookie().starts_with(b"dummy:v1:"));
    // SHA-256 of the empty string, to pin the hex encoding.
    assert_eq!(
        crate::parse::sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}
