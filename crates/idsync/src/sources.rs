//! Builds the configured source.

use idsync_core::Source;

use crate::config::{ConfigProblem, SourceSection};

/// The source types this runner knows.
pub const SOURCE_TYPES: &[&str] = &["dummy", "ldap", "rfc2307", "freeipa", "replay"];

/// Validates the `[source]` table and builds the source (no I/O yet).
pub fn build(section: &SourceSection) -> Result<Box<dyn Source>, Vec<ConfigProblem>> {
    match section.kind.as_str() {
        "dummy" => {
            let config = parse::<idsync_dummy::DummyConfig>(&section.settings)?;
            let problems: Vec<ConfigProblem> = config
                .validate()
                .into_iter()
                .map(|problem| {
                    ConfigProblem::new(format!("source.{}", problem.key), problem.message)
                })
                .collect();
            if !problems.is_empty() {
                return Err(problems);
            }
            idsync_dummy::DummySource::new(config)
                .map(|source| Box::new(source) as Box<dyn Source>)
                .map_err(|error| vec![ConfigProblem::new("source", error.to_string())])
        }
        "ldap" | "rfc2307" | "freeipa" => build_ldap(section),
        "replay" => build_replay(section),
        other => Err(vec![ConfigProblem::new(
            "source.type",
            format!(
                "unknown source type `{other}` (this runner knows: {})",
                SOURCE_TYPES.join(", ")
            ),
        )]),
    }
}

/// The live LDAP sources: `ldap`, `rfc2307` and `freeipa` (RFC 4533 content sync).
fn build_ldap(section: &SourceSection) -> Result<Box<dyn Source>, Vec<ConfigProblem>> {
    let kind: idsync_ldap::flavour::FlavourKind =
        section
            .kind
            .parse()
            .map_err(|error: idsync_ldap::flavour::UnknownFlavour| {
                vec![ConfigProblem::new("source.type", error.to_string())]
            })?;
    let config = parse::<idsync_ldap::LdapSourceConfig>(&section.settings)?;
    idsync_ldap::live::LdapSource::new(kind, &config)
        .map(|source| Box::new(source) as Box<dyn Source>)
        .map_err(|problems| {
            problems
                .into_iter()
                .map(|problem| {
                    ConfigProblem::new(format!("source.{}", problem.key), problem.message)
                })
                .collect()
        })
}

/// The `replay` source: a recorded trace through the same protocol machine and flavours.
fn build_replay(section: &SourceSection) -> Result<Box<dyn Source>, Vec<ConfigProblem>> {
    let config = parse::<idsync_ldap::ReplaySourceConfig>(&section.settings)?;
    idsync_ldap::replay::ReplaySource::new(&config)
        .map(|source| Box::new(source) as Box<dyn Source>)
        .map_err(|problems| {
            problems
                .into_iter()
                .map(|problem| {
                    ConfigProblem::new(format!("source.{}", problem.key), problem.message)
                })
                .collect()
        })
}

/// Deserialises a source's settings, reporting every unknown key and the first type error.
fn parse<T: serde::de::DeserializeOwned>(
    settings: &serde_json::Value,
) -> Result<T, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    match crate::config::parse_section("source", settings.clone(), &mut problems) {
        Some(parsed) if problems.is_empty() => Ok(parsed),
        _ => Err(problems),
    }
}
