//! [`ConnectOptions`]: the connection half of [`LdapSourceConfig`], validated (no I/O).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::LdapSourceConfig;

/// Default for `timeout_seconds`: connecting, binding and every non-streaming operation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `ldap://`, in the clear unless `starttls`.
    Ldap,
    /// `ldaps://`: TLS from the first octet.
    Ldaps,
    /// `ldapi://`: a Unix domain socket.
    Ldapi,
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for the bind request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the bind password comes from (read at every connect, so a rotated file is used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// Inline in the configuration.
    Inline(Secret),
    /// A file (a trailing newline is dropped).
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl PasswordSource {
    /// Reads the password.
    pub fn read(&self) -> Result<Secret, String> {
        match self {
            PasswordSource::Inline(secret) => Ok(secret.clone()),
            PasswordSource::File(path) => std::fs::read_to_string(path)
                .map(|text| {
                    Secret::new(
                        text.strip_suffix('\n')
                            .map(|t| t.strip_suffix('\r').unwrap_or(t))
                            .unwrap_or(&text)
                            .to_owned(),
                    )
                })
                .map_err(|error| {
                    format!("cannot read `password_file` `{}`: {error}", path.display())
                }),
            PasswordSource::Env(name) => std::env::var(name)
                .map(Secret::new)
                .map_err(|_| format!("environment variable `{name}` (`password_env`) is not set")),
        }
    }
}

/// How to authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindMethod {
    /// No bind.
    Anonymous,
    /// Simple bind with a DN and password.
    Simple {
        /// The DN.
        dn: String,
        /// Where its password comes from.
        password: PasswordSource,
    },
    /// SASL EXTERNAL: the identity of the Unix socket peer or of the TLS client certificate.
    External,
    /// SASL GSSAPI (Kerberos), with the default credentials of the process.
    Gssapi,
}

impl BindMethod {
    /// The bind identity as it goes into the source fingerprint (never a secret).
    pub fn identity(&self) -> String {
        match self {
            BindMethod::Anonymous => "anonymous".to_owned(),
            BindMethod::Simple { dn, .. } => dn.clone(),
            BindMethod::External => "sasl:EXTERNAL".to_owned(),
            BindMethod::Gssapi => "sasl:GSSAPI".to_owned(),
        }
    }
}

/// TLS settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM CA certificates to trust (default: the system's roots).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain.
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub client_key_file: Option<PathBuf>,
    /// Verify the server certificate (default true).
    pub verify: bool,
}

/// Everything needed to connect and bind, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The server URL as configured.
    pub url: String,
    /// The transport the URL's scheme selects.
    pub transport: Transport,
    /// Upgrade an `ldap://` connection with StartTLS.
    pub starttls: bool,
    /// TLS settings (used by `ldaps://` and StartTLS).
    pub tls: TlsOptions,
    /// Authentication.
    pub bind: BindMethod,
    /// Connect, bind and non-streaming operation timeout.
    pub timeout: Duration,
}

/// One problem with the connection settings: the key (relative to `[source]`) and what is
/// wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingProblem {
    /// The key.
    pub key: &'static str,
    /// What is wrong, in lower case.
    pub message: String,
}

fn problem(key: &'static str, message: impl Into<String>) -> SettingProblem {
    SettingProblem {
        key,
        message: message.into(),
    }
}

impl ConnectOptions {
    /// Validates the connection keys of `config`, reporting every problem at once.
    pub fn from_config(config: &LdapSourceConfig) -> Result<Self, Vec<SettingProblem>> {
        let mut problems = Vec::new();
        let url = config.url.trim().to_owned();
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        let transport = match scheme.as_deref() {
            Some("ldap") => Transport::Ldap,
            Some("ldaps") => Transport::Ldaps,
            Some("ldapi") => Transport::Ldapi,
            _ => {
                problems.push(problem(
                    "url",
                    format!("`{url}` is not an ldap://, ldaps:// or ldapi:// url"),
                ));
                Transport::Ldap
            }
        };
        if config.starttls && transport != Transport::Ldap {
            problems.push(problem("starttls", "starttls needs an ldap:// url"));
        }
        let tls = TlsOptions {
            ca_file: config.ca_file.clone(),
            client_cert_file: config.client_cert_file.clone(),
            client_key_file: config.client_key_file.clone(),
            verify: config.tls_verify.unwrap_or(true),
        };
        if tls.client_cert_file.is_some() != tls.client_key_file.is_some() {
            problems.push(problem(
                "client_cert_file",
                "`client_cert_file` and `client_key_file` go together",
            ));
        }
        let uses_tls = transport == Transport::Ldaps || config.starttls;
        if !uses_tls && (tls.ca_file.is_some() || tls.client_cert_file.is_some() || !tls.verify) {
            problems.push(problem(
                "ca_file",
                "tls settings (`ca_file`, `client_cert_file`, `tls_verify`) need an ldaps:// url \
                 or `starttls = true`",
            ));
        }
        let password_sources = [
            config.password.is_some(),
            config.password_file.is_some(),
            config.password_env.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        if password_sources > 1 {
            problems.push(problem(
                "password",
                "give the password one way: `password`, `password_file` or `password_env`",
            ));
        }
        let password = if let Some(password) = &config.password {
            Some(PasswordSource::Inline(Secret::new(password.clone())))
        } else if let Some(path) = &config.password_file {
            Some(PasswordSource::File(path.clone()))
        } else {
            config.password_env.clone().map(PasswordSource::Env)
        };
        let bind = match config
            .sasl_mechanism
            .as_deref()
            .map(str::to_ascii_uppercase)
        {
            Some(mechanism) => {
                if config.bind_dn.is_some() || password.is_some() {
                    problems.push(problem(
                        "sasl_mechanism",
                        "a sasl bind takes no `bind_dn` or password",
                    ));
                }
                match mechanism.as_str() {
                    "EXTERNAL" => {
                        if transport != Transport::Ldapi && tls.client_cert_file.is_none() {
                            problems.push(problem(
                                "sasl_mechanism",
                                "sasl EXTERNAL needs an ldapi:// url or a tls client \
                                 certificate (`client_cert_file`)",
                            ));
                        }
                        BindMethod::External
                    }
                    "GSSAPI" => {
                        if !cfg!(feature = "gssapi") {
                            problems.push(problem(
                                "sasl_mechanism",
                                "this idsync was built without gssapi support (cargo feature \
                                 `gssapi`)",
                            ));
                        }
                        BindMethod::Gssapi
                    }
                    other => {
                        problems.push(problem(
                            "sasl_mechanism",
                            format!("unknown sasl mechanism `{other}` (EXTERNAL or GSSAPI)"),
                        ));
                        BindMethod::Anonymous
                    }
                }
            }
            None => match (&config.bind_dn, password) {
                (Some(dn), Some(password)) => BindMethod::Simple {
                    dn: dn.clone(),
                    password,
                },
                (Some(_), None) => {
                    problems.push(problem(
                        "bind_dn",
                        "`bind_dn` needs `password_file`, `password_env` or `password`",
                    ));
                    BindMethod::Anonymous
                }
                (None, Some(_)) => {
                    problems.push(problem("password", "a password needs `bind_dn`"));
                    BindMethod::Anonymous
                }
                (None, None) => BindMethod::Anonymous,
            },
        };
        let timeout = match config.timeout_seconds {
            Some(0) => {
                problems.push(problem("timeout_seconds", "must be at least 1"));
                DEFAULT_TIMEOUT
            }
            Some(seconds) => Duration::from_secs(seconds),
            None => DEFAULT_TIMEOUT,
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            url,
            transport,
            starttls: config.starttls,
            tls,
            bind,
            timeout,
        })
    }

    /// True when the connection is encrypted with TLS (ldaps:// or StartTLS).
    pub fn uses_tls(&self) -> bool {
        self.transport == Transport::Ldaps || self.starttls
    }

    /// The host name the server certificate must carry (and the GSSAPI service host).
    pub fn host(&self) -> Option<String> {
        let rest = self.url.split_once("://")?.1;
        let authority = rest.split(['/', '?']).next()?;
        let host = if let Some(bracketed) = authority.strip_prefix('[') {
            bracketed.split(']').next()?
        } else {
            authority.rsplit_once(':').map_or(authority, |(h, _)| h)
        };
        (!host.is_empty()).then(|| host.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> LdapSourceConfig {
        LdapSourceConfig {
            url: url.to_owned(),
            ..LdapSourceConfig::default()
        }
    }

    #[test]
    fn anonymous_ldap() {
        let options = ConnectOptions::from_config(&config("ldap://127.0.0.1:3890"))
            .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(options.transport, Transport::Ldap);
        assert_eq!(options.bind, BindMethod::Anonymous);
        assert!(options.tls.verify);
        assert_eq!(options.host().as_deref(), Some("127.0.0.1"));
        assert_eq!(options.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn every_problem_at_once() {
        let mut c = config("http://x");
        c.starttls = true;
        c.password = Some("a".to_owned());
        c.password_env = Some("B".to_owned());
        c.client_cert_file = Some("c.pem".into());
        c.timeout_seconds = Some(0);
        let problems = ConnectOptions::from_config(&c).err().unwrap_or_default();
        let keys: Vec<&str> = problems.iter().map(|p| p.key).collect();
        assert!(keys.contains(&"url"), "{keys:?}");
        assert!(keys.contains(&"password"), "{keys:?}");
        assert!(keys.contains(&"client_cert_file"), "{keys:?}");
        assert!(keys.contains(&"timeout_seconds"), "{keys:?}");
    }

    #[test]
    fn starttls_needs_ldap() {
        let mut c = config("ldaps://x");
        c.starttls = true;
        let problems = ConnectOptions::from_config(&c).err().unwrap_or_default();
        assert_eq!(problems.first().map(|p| p.key), Some("starttls"));
    }

    #[test]
    fn external_needs_ldapi_or_a_client_certificate() {
        let mut c = config("ldap://h");
        c.sasl_mechanism = Some("external".to_owned());
        assert!(ConnectOptions::from_config(&c).is_err());
        let mut c = config("ldapi://%2Frun%2Fslapd%2Fldapi");
        c.sasl_mechanism = Some("EXTERNAL".to_owned());
        let options = ConnectOptions::from_config(&c).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(options.bind, BindMethod::External);
        assert_eq!(options.bind.identity(), "sasl:EXTERNAL");
    }

    #[test]
    fn password_file_drops_the_trailing_newline_and_is_never_debug_printed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap_or_else(|e| panic!("{e}"));
        let mut c = config("ldaps://ldap.example.org");
        c.bind_dn = Some("cn=idsync".to_owned());
        c.password_file = Some(path);
        let options = ConnectOptions::from_config(&c).unwrap_or_else(|p| panic!("{p:?}"));
        let BindMethod::Simple { password, .. } = &options.bind else {
            panic!("not a simple bind");
        };
        let secret = password.read().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(secret.expose(), "s3cret");
        assert!(!format!("{secret:?}").contains("s3cret"));
        let mut inline = c.clone();
        inline.password_file = None;
        inline.password = Some("inline-pw".to_owned());
        let options = ConnectOptions::from_config(&inline).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(!format!("{options:?}").contains("inline-pw"));
    }

    #[test]
    fn tls_settings_need_tls() {
        let mut c = config("ldap://h");
        c.ca_file = Some("ca.pem".into());
        assert!(ConnectOptions::from_config(&c).is_err());
        c.starttls = true;
        assert!(ConnectOptions::from_config(&c).is_ok());
    }

    #[test]
    fn host_of_urls() {
        let host = |url: &str| {
            ConnectOptions::from_config(&config(url))
                .ok()
                .and_then(|o| o.host())
        };
        assert_eq!(
            host("ldaps://ipa.example.org").as_deref(),
            Some("ipa.example.org")
        );
        assert_eq!(host("ldap://[::1]:389/").as_deref(), Some("::1"));
        assert_eq!(host("ldap://h:389/??sub").as_deref(), Some("h"));
    }
}
