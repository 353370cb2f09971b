//! Reading the file and the environment into [`RunnerConfig`].

use std::path::Path;

use serde_json::{Map, Value};

use super::error::{ConfigError, ConfigProblem};
use super::sections::{RunnerConfig, RunnerSection, SinkSection, SourceSection, SyncSection};

/// Environment variables `IDSYNC__SECTION__KEY=value` override the file.
pub const ENV_PREFIX: &str = "IDSYNC";

/// Reads, merges and validates the configuration. Every problem is reported at once.
pub fn load(path: &Path) -> Result<RunnerConfig, ConfigError> {
    let fail = |problems: Vec<ConfigProblem>| ConfigError {
        file: path.to_path_buf(),
        problems,
    };
    let format = match path.extension().and_then(|ext| ext.to_str()) {
        Some("toml") => config::FileFormat::Toml,
        Some("yaml" | "yml") => config::FileFormat::Yaml,
        _ => {
            return Err(fail(vec![ConfigProblem::new(
                "",
                "the file name must end in .toml, .yaml or .yml",
            )]))
        }
    };
    if let Err(error) = std::fs::metadata(path) {
        return Err(fail(vec![ConfigProblem::new(
            "",
            format!("cannot read the file: {error}"),
        )]));
    }
    let merged = config::Config::builder()
        .add_source(config::File::from(path).format(format).required(true))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()
        .and_then(|merged| merged.try_deserialize::<Value>())
        .map_err(|error| fail(vec![ConfigProblem::new("", error.to_string())]))?;
    from_value(path, merged)
}

/// Splits the merged tree into sections and validates them (no I/O).
pub(crate) fn from_value(path: &Path, tree: Value) -> Result<RunnerConfig, ConfigError> {
    let mut problems = Vec::new();
    let mut root = match tree {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for key in root.keys() {
        if !matches!(key.as_str(), "source" | "sink" | "sync" | "runner") {
            problems.push(ConfigProblem::new(
                key.clone(),
                "unknown section (expected `source`, `sink`, `sync` and `runner`)",
            ));
        }
    }
    let source = take_typed_section(&mut root, "source", "type", &mut problems)
        .map(|(kind, settings)| SourceSection { kind, settings });
    let sink = take_typed_section(&mut root, "sink", "plugin", &mut problems)
        .map(|(plugin, settings)| SinkSection { plugin, settings });
    let sync = match root.remove("sync") {
        None => SyncSection::default(),
        Some(value) => parse_sync(value, &mut problems),
    };
    problems.extend(sync.validate());
    let runner: RunnerSection = match root.remove("runner") {
        None => RunnerSection::default(),
        Some(value) => parse_section("runner", value, &mut problems).unwrap_or_default(),
    };
    problems.extend(runner.validate());
    match (source, sink, problems.is_empty()) {
        (Some(source), Some(sink), true) => Ok(RunnerConfig {
            file: path.to_path_buf(),
            source,
            sink,
            sync,
            runner,
        }),
        _ => Err(ConfigError {
            file: path.to_path_buf(),
            problems,
        }),
    }
}

/// Takes `[section]`, requires its `selector` key to be a string, returns it and the rest.
fn take_typed_section(
    root: &mut Map<String, Value>,
    section: &str,
    selector: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<(String, Value)> {
    let mut table = match root.remove(section) {
        Some(Value::Object(table)) => table,
        Some(_) => {
            problems.push(ConfigProblem::new(section, "must be a table"));
            return None;
        }
        None => {
            problems.push(ConfigProblem::new(section, "missing section"));
            return None;
        }
    };
    match table.remove(selector) {
        Some(Value::String(value)) if !value.trim().is_empty() => {
            Some((value, Value::Object(table)))
        }
        Some(_) => {
            problems.push(ConfigProblem::new(
                format!("{section}.{selector}"),
                "must be a non-empty string",
            ));
            None
        }
        None => {
            problems.push(ConfigProblem::new(
                format!("{section}.{selector}"),
                "missing key",
            ));
            None
        }
    }
}

/// Parses a section, reporting every unknown key and the first type error, each with its
/// dotted key path under `section`.
pub(crate) fn parse_section<T: serde::de::DeserializeOwned>(
    section: &str,
    value: Value,
    problems: &mut Vec<ConfigProblem>,
) -> Option<T> {
    let mut unknown = Vec::new();
    let parsed: Result<T, _> = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        value,
        &mut |path: serde_ignored::Path<'_>| unknown.push(path.to_string()),
    ));
    for key in unknown {
        problems.push(ConfigProblem::new(
            format!("{section}.{key}"),
            "unknown key",
        ));
    }
    match parsed {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let path = error.path().to_string();
            let key = if path.is_empty() || path == "." {
                section.to_owned()
            } else {
                format!("{section}.{path}")
            };
            problems.push(ConfigProblem::new(key, error.into_inner().to_string()));
            None
        }
    }
}

/// Parses `[sync]`.
fn parse_sync(value: Value, problems: &mut Vec<ConfigProblem>) -> SyncSection {
    parse_section("sync", value, problems).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const MINIMAL: &str = "[source]\ntype = \"dummy\"\npath = \"d.yaml\"\n\n[sink]\nplugin = \"sql\"\nurl = \"sqlite://x.db\"\n\n[sink.users.columns]\nEmailAddress = \"mail\"\n";

    #[test]
    fn keys_keep_their_case_and_sections_split() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(&write(dir.path(), "c.toml", MINIMAL)).unwrap();
        assert_eq!(config.source.kind, "dummy");
        assert_eq!(config.sink.plugin, "sql");
        assert_eq!(
            config.sink.settings["users"]["columns"]["EmailAddress"],
            serde_json::json!("mail")
        );
        assert!(config.sink.settings.get("plugin").is_none());
        assert_eq!(config.sync, SyncSection::default());
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[source]\npath = \"d.yaml\"\n\n[sink]\nplugin = 3\n\n[sync]\nbatch_size = 0\nfoo = 1\n\n[extra]\nx = 1\n";
        let error = load(&write(dir.path(), "c.toml", text)).unwrap_err();
        let keys: Vec<&str> = error.problems.iter().map(|p| p.key.as_str()).collect();
        for expected in [
            "extra",
            "source.type",
            "sink.plugin",
            "sync.foo",
            "sync.batch_size",
        ] {
            assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
        }
        assert!(error.to_string().contains("c.toml"));
    }

    #[test]
    fn runner_state_dir_falls_back_to_systemds_state_directory() {
        use std::ffi::OsString;
        use std::path::PathBuf;
        let unset = crate::config::RunnerSection::default();
        assert_eq!(unset.effective_state_dir(None), None);
        assert_eq!(
            unset.effective_state_dir(Some(OsString::from("/var/lib/idsync:/var/lib/other"))),
            Some(PathBuf::from("/var/lib/idsync"))
        );
        assert_eq!(unset.effective_state_dir(Some(OsString::from(""))), None);
        let set = crate::config::RunnerSection {
            state_dir: Some(PathBuf::from("/srv/idsync")),
        };
        assert_eq!(
            set.effective_state_dir(Some(OsString::from("/var/lib/idsync"))),
            Some(PathBuf::from("/srv/idsync"))
        );
    }

    #[test]
    fn runner_state_dir_is_optional_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let config = load(&write(dir.path(), "c.toml", MINIMAL)).unwrap();
        assert_eq!(config.runner.state_dir, None);
        let text = format!("{MINIMAL}\n[runner]\nstate_dir = \"/var/lib/idsync\"\n");
        let config = load(&write(dir.path(), "c.toml", &text)).unwrap();
        assert_eq!(
            config.runner.state_dir.as_deref(),
            Some(Path::new("/var/lib/idsync"))
        );
        let text = format!("{MINIMAL}\n[runner]\nstate_dir = \"\"\nstate = 1\n");
        let error = load(&write(dir.path(), "c.toml", &text)).unwrap_err();
        let keys: Vec<&str> = error.problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"runner.state_dir"), "{keys:?}");
        assert!(keys.contains(&"runner.state"), "{keys:?}");
    }

    #[test]
    fn a_type_error_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{MINIMAL}\n[sync]\non_delete = \"shred\"\n");
        let error = load(&write(dir.path(), "c.toml", &text)).unwrap_err();
        assert_eq!(error.problems[0].key, "sync.on_delete", "{error}");
    }

    #[test]
    fn yaml_is_accepted_and_other_extensions_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "source:\n  type: dummy\n  path: d.yaml\nsink:\n  plugin: sql\n";
        assert!(load(&write(dir.path(), "c.yaml", yaml)).is_ok());
        let error = load(&write(dir.path(), "c.ini", yaml)).unwrap_err();
        assert!(error.to_string().contains(".toml"));
    }

    #[test]
    fn a_missing_file_is_a_problem_naming_the_file() {
        let error = load(Path::new("/nonexistent/idsync.toml")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/idsync.toml"));
    }
}
