//! Database URLs: which backend, where, and with which password — never printed in clear.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::error::SqlError;

/// The database kinds idsync can write to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (a file, or memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

impl Backend {
    /// A short name: `sqlite`, `postgres` or `mysql`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret string (a password). Its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a password comes from when it is not in the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// A file holding the password (surrounding white space is trimmed).
    File(PathBuf),
    /// An environment variable holding the password.
    Env(String),
}

impl PasswordSource {
    /// Reads the password.
    pub fn read(&self) -> Result<Secret, SqlError> {
        match self {
            PasswordSource::File(path) => std::fs::read_to_string(path)
                .map(|text| Secret::new(text.trim()))
                .map_err(|source| SqlError::PasswordFile {
                    path: path.clone(),
                    source,
                }),
            PasswordSource::Env(name) => std::env::var(name)
                .map(Secret::new)
                .map_err(|_| SqlError::PasswordEnv { name: name.clone() }),
        }
    }
}

/// A parsed database URL. `Debug` and `Display` mask the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    target: Target,
}

#[derive(Clone, PartialEq, Eq)]
enum Target {
    /// A SQLite file path, or `:memory:`.
    Sqlite(String),
    /// A server URL (scheme normalised to what the driver expects).
    Server(Url),
}

/// Query parameters that carry a password in libpq-style URLs.
const SECRET_PARAMS: &[&str] = &["password", "pass", "passwd"];

impl DatabaseUrl {
    /// Parses `sqlite://PATH` (relative or absolute), `sqlite::memory:`, `postgres://…`,
    /// `postgresql://…`, `mysql://…` or `mariadb://…`.
    pub fn parse(raw: &str) -> Result<Self, SqlError> {
        let raw = raw.trim();
        if raw == "sqlite::memory:" || raw == "sqlite://:memory:" {
            return Ok(Self {
                backend: Backend::Sqlite,
                target: Target::Sqlite(":memory:".to_owned()),
            });
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(SqlError::Config {
                    key: "url".to_owned(),
                    problem: "a sqlite url needs a file path, e.g. `sqlite://idsync.db`".to_owned(),
                });
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: Target::Sqlite(path.to_owned()),
            });
        }
        let mut url = Url::parse(raw).map_err(|source| SqlError::InvalidUrl { source })?;
        let backend = match url.scheme() {
            "postgres" | "postgresql" => Backend::Postgres,
            "mysql" | "mariadb" => Backend::Mysql,
            other => {
                return Err(SqlError::UnsupportedScheme {
                    scheme: other.to_owned(),
                })
            }
        };
        if url.scheme() == "mariadb" {
            // The MySQL driver only accepts `mysql://`; both schemes name the same protocol.
            let rewritten = format!("mysql{}", &url.as_str()["mariadb".len()..]);
            url = Url::parse(&rewritten).map_err(|source| SqlError::InvalidUrl { source })?;
        }
        Ok(Self {
            backend,
            target: Target::Server(url),
        })
    }

    /// Parses `raw` and inserts the password of a sink's `password_file` (which wins) or
    /// `password_env` key, when one is given.
    pub fn parse_with_password(
        raw: &str,
        password_file: Option<&Path>,
        password_env: Option<&str>,
    ) -> Result<Self, SqlError> {
        let url = Self::parse(raw)?;
        let source = match (password_file, password_env) {
            (Some(path), _) => Some(PasswordSource::File(path.to_path_buf())),
            (None, Some(name)) => Some(PasswordSource::Env(name.to_owned())),
            (None, None) => None,
        };
        match source {
            Some(source) => url.with_password(&source.read()?),
            None => Ok(url),
        }
    }

    /// The same URL with this password (percent-encoded into the URL).
    pub fn with_password(mut self, password: &Secret) -> Result<Self, SqlError> {
        match &mut self.target {
            Target::Sqlite(_) => Err(SqlError::PasswordNotApplicable {
                reason: "sqlite databases take no password",
            }),
            Target::Server(url) => {
                if url.password().is_some() {
                    return Err(SqlError::PasswordNotApplicable {
                        reason: "the url already holds a password",
                    });
                }
                if url.username().is_empty() {
                    return Err(SqlError::PasswordNotApplicable {
                        reason: "the url names no user",
                    });
                }
                url.set_password(Some(password.expose())).map_err(|()| {
                    SqlError::PasswordNotApplicable {
                        reason: "the url cannot hold a password",
                    }
                })?;
                Ok(self)
            }
        }
    }

    /// The database kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True when the URL carries a password (in its user info or a query parameter).
    pub fn has_password(&self) -> bool {
        match &self.target {
            Target::Sqlite(_) => false,
            Target::Server(url) => {
                url.password().is_some()
                    || url
                        .query_pairs()
                        .any(|(key, _)| SECRET_PARAMS.contains(&key.as_ref()))
            }
        }
    }

    /// The SQLite file path (`:memory:` for an in-memory database); `None` for servers.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Sqlite(path) => Some(Path::new(path)),
            Target::Server(_) => None,
        }
    }

    /// The full connection string, password included. Only for handing to the driver.
    pub fn expose(&self) -> &str {
        match &self.target {
            Target::Sqlite(path) => path,
            Target::Server(url) => url.as_str(),
        }
    }

    /// The URL with every password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        match &self.target {
            Target::Sqlite(path) => format!("sqlite://{path}"),
            Target::Server(url) => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    // Cannot fail: the URL already holds a password, so it can hold another.
                    let _ = shown.set_password(Some("***"));
                }
                if shown.query().is_some() {
                    let pairs: Vec<(String, String)> = url
                        .query_pairs()
                        .map(|(key, value)| {
                            let value = if SECRET_PARAMS.contains(&key.as_ref()) {
                                "***".to_owned()
                            } else {
                                value.into_owned()
                            };
                            (key.into_owned(), value)
                        })
                        .collect();
                    shown.query_pairs_mut().clear().extend_pairs(pairs);
                }
                shown.to_string()
            }
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sqlite_urls_keep_their_path() {
        let url = DatabaseUrl::parse("sqlite://demo.db").unwrap();
        assert_eq!(url.backend(), Backend::Sqlite);
        assert_eq!(url.sqlite_path(), Some(Path::new("demo.db")));
        let url = DatabaseUrl::parse("sqlite:///var/lib/idsync/x.db").unwrap();
        assert_eq!(url.expose(), "/var/lib/idsync/x.db");
        let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
        assert_eq!(url.expose(), ":memory:");
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn server_schemes_are_recognised() {
        for (raw, backend) in [
            ("postgres://u@h/db", Backend::Postgres),
            ("postgresql://u@h/db", Backend::Postgres),
            ("mysql://u@h/db", Backend::Mysql),
            ("mariadb://u@h/db", Backend::Mysql),
        ] {
            assert_eq!(DatabaseUrl::parse(raw).unwrap().backend(), backend, "{raw}");
        }
        assert_eq!(
            DatabaseUrl::parse("mariadb://u@h:3307/db")
                .unwrap()
                .expose(),
            "mysql://u@h:3307/db"
        );
        assert!(matches!(
            DatabaseUrl::parse("oracle://u@h/db"),
            Err(SqlError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn passwords_are_never_displayed() {
        let url = DatabaseUrl::parse("postgres://app:s3cr%40t@db.example:5432/wiki").unwrap();
        assert!(url.has_password());
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(
            shown.contains("postgres://app:***@db.example:5432/wiki"),
            "{shown}"
        );

        let url =
            DatabaseUrl::parse("postgres://app@h/db?sslmode=require&password=hunter2").unwrap();
        assert!(url.has_password());
        let shown = url.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("sslmode=require"), "{shown}");
    }

    #[test]
    fn a_password_from_elsewhere_is_percent_encoded() {
        let url = DatabaseUrl::parse("mysql://wiki@localhost/wikidb")
            .unwrap()
            .with_password(&Secret::new("p@ss:w/rd#"))
            .unwrap();
        assert_eq!(
            url.expose(),
            "mysql://wiki:p%40ss%3Aw%2Frd%23@localhost/wikidb"
        );
        assert_eq!(url.to_string(), "mysql://wiki:***@localhost/wikidb");
        assert!(!format!("{:?}", Secret::new("x")).contains('x'));
    }

    #[test]
    fn a_second_password_is_refused() {
        let url = DatabaseUrl::parse("mysql://wiki:a@localhost/wikidb").unwrap();
        assert!(url.with_password(&Secret::new("b")).is_err());
        let url = DatabaseUrl::parse("sqlite://x.db").unwrap();
        assert!(url.with_password(&Secret::new("b")).is_err());
    }

    #[test]
    fn password_files_are_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "  secret\n").unwrap();
        let secret = PasswordSource::File(path).read().unwrap();
        assert_eq!(secret.expose(), "secret");
        assert!(PasswordSource::Env("IDSYNC_TEST_SURELY_UNSET_VAR".into())
            .read()
            .is_err());
    }
}
