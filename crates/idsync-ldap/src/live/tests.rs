//! Building the source: every problem at once, the fingerprint, error mapping. The protocol
//! against a real server is in `tests/live.rs`.

use super::*;

fn config(url: &str) -> LdapSourceConfig {
    LdapSourceConfig {
        url: url.to_owned(),
        base: Some("dc=example,dc=org".to_owned()),
        bind_dn: Some("cn=idsync,dc=example,dc=org".to_owned()),
        password: Some("secret-password".to_owned()),
        ..LdapSourceConfig::default()
    }
}

#[test]
fn fingerprint_names_the_view_and_no_secret() {
    let source = LdapSource::new(FlavourKind::Ldap, &config("ldap://127.0.0.1:3890"))
        .unwrap_or_else(|p| panic!("{p:?}"));
    let print = source.fingerprint().0;
    assert!(
        print.starts_with(
            "ldap:v1:ldap|ldap://127.0.0.1:3890|cn=idsync,dc=example,dc=org|dc=example,dc=org|sub|"
        ),
        "{print}"
    );
    assert!(print.contains("entryUUID"), "{print}");
    assert!(!print.contains("secret-password"), "{print}");
    assert!(!format!("{source:?}").contains("secret-password"));

    let mut other = config("ldap://127.0.0.1:3890");
    other.users.filter = Some("(objectClass=posixAccount)".to_owned());
    let other = LdapSource::new(FlavourKind::Ldap, &other).unwrap_or_else(|p| panic!("{p:?}"));
    assert_ne!(other.fingerprint(), source.fingerprint());
}

#[test]
fn every_problem_at_once() {
    let mut bad = config("http://x");
    bad.base = None;
    bad.reconcile_every = Some("often".to_owned());
    let problems = LdapSource::new(FlavourKind::Ldap, &bad)
        .err()
        .unwrap_or_default();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"url"), "{keys:?}");
    assert!(keys.contains(&"reconcile_every"), "{keys:?}");
    assert!(keys.len() >= 3, "the flavour's problem too: {keys:?}");
}

#[test]
fn reconcile_every_is_a_humantime_duration() {
    let mut c = config("ldap://h");
    c.reconcile_every = Some("6h".to_owned());
    let source = LdapSource::new(FlavourKind::Ldap, &c).unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(
        source.settings.reconcile_every,
        Some(Duration::from_secs(6 * 3600))
    );
}

#[test]
fn result_codes_map_to_source_errors() {
    assert!(matches!(result_error(32, ""), SourceError::Config(_)));
    assert!(matches!(result_error(4, ""), SourceError::Unsupported(_)));
    assert!(result_error(51, "").is_retryable());
    assert!(matches!(result_error(1, ""), SourceError::Other(_)));
    assert!(conn_error(ConnError::Lost("x".to_owned())).is_retryable());
    assert!(matches!(
        conn_error(ConnError::Bind {
            identity: "cn=x".to_owned(),
            code: 49,
            message: String::new()
        }),
        SourceError::Config(_)
    ));
}

#[tokio::test]
async fn a_panic_in_the_session_task_is_a_malformed_error() {
    let result: Result<(), SourceError> = contained(async {
        let items: Vec<u8> = Vec::new();
        if items.is_empty() {
            panic!("unrecognized op id: 99");
        }
        Ok(())
    })
    .await;
    let Err(SourceError::Malformed(message)) = result else {
        panic!("not malformed: {result:?}");
    };
    assert!(message.contains("unrecognized op id: 99"), "{message}");
}
