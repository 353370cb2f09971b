use super::*;
use crate::config::{DisableConfig, SqlSinkConfig};

#[test]
fn a_valid_configuration_passes() {
    let config = config("sqlite://demo.db");
    assert!(config.validate().is_ok());
    assert!(matches!(config.users.disable, DisableConfig::Flag(_)));
    assert_eq!(config.scope, "default");
    assert_eq!(config.batch_rows, 500);
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut json = config_json("oracle://x");
    json["scope"] = "".into();
    json["batch_rows"] = 0.into();
    json["password_file"] = "/x".into();
    json["password_env"] = "X".into();
    json["users"]["table"] = "users; drop".into();
    json["users"]["key"] = "1id".into();
    json["users"]["columns"]["username"] = "uid".into();
    json["users"]["columns"]["bad-col"] = "nosuchfield".into();
    json["users"]["disable"]["enabled_value"] = "0".into();
    json.as_object_mut().unwrap().remove("groups");
    let config: SqlSinkConfig = serde_json::from_value(json).unwrap();
    let errors = config.validate().unwrap_err();
    let keys: Vec<&str> = errors
        .0
        .iter()
        .map(|problem| problem.key.as_str())
        .collect();
    for expected in [
        "sink.url",
        "sink.password_env",
        "sink.scope",
        "sink.batch_rows",
        "sink.users.table",
        "sink.users.key",
        "sink.users.columns.bad-col",
        "sink.users.columns",
        "sink.users.disable.enabled_value",
        "sink.memberships",
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    let message = errors.to_string();
    assert!(
        message.contains("`sink.users.columns.bad-col`"),
        "{message}"
    );
    assert!(message.contains("nosuchfield"), "{message}");
}

#[test]
fn unknown_keys_are_rejected_with_their_path() {
    let mut json = config_json("sqlite://x.db");
    json["users"]["colums"] = serde_json::json!({});
    let error =
        idsync_plugin::decode_config::<SqlSinkConfig>("sql", &json.to_string()).unwrap_err();
    assert_eq!(error.kind, idsync_core::SinkErrorKind::Config);
    assert!(error.message.contains("users"), "{}", error.message);
    assert!(error.message.contains("colums"), "{}", error.message);

    let mut json = config_json("sqlite://x.db");
    json["users"]["disable"]["colour"] = "red".into();
    let error =
        idsync_plugin::decode_config::<SqlSinkConfig>("sql", &json.to_string()).unwrap_err();
    assert!(error.message.contains("colour"), "{}", error.message);

    let mut json = config_json("sqlite://x.db");
    json["users"]["disable"] = "delete".into();
    json["groups"]["disable"] = "keep".into();
    let config = idsync_plugin::decode_config::<SqlSinkConfig>("sql", &json.to_string()).unwrap();
    assert_eq!(config.users.disable, DisableConfig::Delete);
    json["users"]["disable"] = "remove".into();
    assert!(idsync_plugin::decode_config::<SqlSinkConfig>("sql", &json.to_string()).is_err());
}

#[test]
fn passwords_do_not_mix() {
    let mut json = config_json("postgres://app:secret@db/app");
    json["password_env"] = "DB_PASSWORD".into();
    let config: SqlSinkConfig = serde_json::from_value(json).unwrap();
    let errors = config.validate().unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].key, "sink.url");
    assert!(!errors.to_string().contains("secret"));
}

#[test]
fn membership_mode_drives_capabilities() {
    let mut json = config_json("sqlite://x.db");
    json["memberships"]["mode"] = "direct".into();
    let config: SqlSinkConfig = serde_json::from_value(json).unwrap();
    let sink = SqlSink::new(config).unwrap();
    assert_eq!(
        sink.capabilities().membership,
        idsync_core::MembershipMode::Direct
    );
}
