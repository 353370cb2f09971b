//! The search header: what idsync asked the server, recorded with the first message of each
//! search so that a trace explains itself and a replay starts as the traced search started.

/// What one sync search asked for. Recorded as `# idsync-…:` comment lines right after the
/// `#` line of the search's first message (where `idiotrace`'s reader skips comments).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchHeader {
    /// The idsync version that wrote the trace.
    pub version: String,
    /// The server URL, without user information or URL extensions (no secrets).
    pub url: String,
    /// The search base.
    pub base: String,
    /// The search scope (`base`, `one` or `sub`).
    pub scope: String,
    /// The search filter.
    pub filter: String,
    /// The requested attributes.
    pub attributes: Vec<String>,
    /// `refreshAndPersist` (follow changes) or `refreshOnly`.
    pub persist: bool,
    /// True when the search carried a cookie (an incremental refresh); false for a full one.
    pub cookie_sent: bool,
}

/// Comment keys of the header, in the order written.
pub(crate) mod key {
    /// Starts a header: the idsync version.
    pub const VERSION: &str = "idsync-version";
    /// The redacted server URL.
    pub const URL: &str = "idsync-url";
    /// The search base.
    pub const BASE: &str = "idsync-base";
    /// The scope.
    pub const SCOPE: &str = "idsync-scope";
    /// The filter.
    pub const FILTER: &str = "idsync-filter";
    /// The attributes, space-separated.
    pub const ATTRIBUTES: &str = "idsync-attributes";
    /// `refreshAndPersist` or `refreshOnly`.
    pub const MODE: &str = "idsync-mode";
    /// `sent` or `none`.
    pub const COOKIE: &str = "idsync-cookie";
}

/// The mode names of RFC 4533's sync request.
const REFRESH_AND_PERSIST: &str = "refreshAndPersist";
const REFRESH_ONLY: &str = "refreshOnly";

impl SearchHeader {
    /// A header for a search by this idsync build; `url` is redacted here.
    pub fn new(
        url: &str,
        base: impl Into<String>,
        scope: impl Into<String>,
        filter: impl Into<String>,
        attributes: Vec<String>,
        persist: bool,
        cookie_sent: bool,
    ) -> Self {
        SearchHeader {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            url: redact_url(url),
            base: base.into(),
            scope: scope.into(),
            filter: filter.into(),
            attributes,
            persist,
            cookie_sent,
        }
    }

    /// The header as `(key, value)` comment pairs, in the order written.
    pub(crate) fn comments(&self) -> Vec<(&'static str, String)> {
        vec![
            (key::VERSION, self.version.clone()),
            (key::URL, self.url.clone()),
            (key::BASE, self.base.clone()),
            (key::SCOPE, self.scope.clone()),
            (key::FILTER, self.filter.clone()),
            (key::ATTRIBUTES, self.attributes.join(" ")),
            (
                key::MODE,
                if self.persist {
                    REFRESH_AND_PERSIST
                } else {
                    REFRESH_ONLY
                }
                .to_owned(),
            ),
            (
                key::COOKIE,
                if self.cookie_sent { "sent" } else { "none" }.to_owned(),
            ),
        ]
    }

    /// Applies one comment pair read back; `Err` names what is wrong with the value.
    pub(crate) fn apply(&mut self, name: &str, value: String) -> Result<(), String> {
        match name {
            key::VERSION => self.version = value,
            key::URL => self.url = value,
            key::BASE => self.base = value,
            key::SCOPE => self.scope = value,
            key::FILTER => self.filter = value,
            key::ATTRIBUTES => {
                self.attributes = value.split_whitespace().map(str::to_owned).collect();
            }
            key::MODE => {
                self.persist = match value.as_str() {
                    REFRESH_AND_PERSIST => true,
                    REFRESH_ONLY => false,
                    other => {
                        return Err(format!(
                        "`{}` must be `{REFRESH_AND_PERSIST}` or `{REFRESH_ONLY}`, not `{other}`",
                        key::MODE
                    ))
                    }
                }
            }
            key::COOKIE => {
                self.cookie_sent = match value.as_str() {
                    "sent" => true,
                    "none" => false,
                    other => {
                        return Err(format!(
                            "`{}` must be `sent` or `none`, not `{other}`",
                            key::COOKIE
                        ))
                    }
                }
            }
            // Keys of later idsync versions are skipped.
            _ => {}
        }
        Ok(())
    }
}

/// A URL without user information (`user:password@`) and without anything from `?` on (LDAP
/// URL extensions may carry bind names).
pub fn redact_url(url: &str) -> String {
    let url = url.split('?').next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(redact_url("ldap://host:389"), "ldap://host:389");
        assert_eq!(
            redact_url("ldaps://cn=admin:s3cret@host:636/dc=x?cn?sub?(a=b)?bindname=x"),
            "ldaps://host:636/dc=x"
        );
        assert_eq!(
            redact_url("ldapi://%2Frun%2Fslapd%2Fldapi"),
            "ldapi://%2Frun%2Fslapd%2Fldapi"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn comments_apply_back() {
        let header = SearchHeader::new(
            "ldap://u:p@h",
            "dc=example,dc=org",
            "sub",
            "(objectClass=*)",
            vec!["*".into(), "+".into()],
            true,
            true,
        );
        let mut read = SearchHeader::default();
        for (name, value) in header.comments() {
            assert_eq!(read.apply(name, value), Ok(()));
        }
        assert_eq!(read, header);
        assert_eq!(read.url, "ldap://h");
        assert!(read.apply(key::MODE, "sometimes".into()).is_err());
        assert!(read.apply(key::COOKIE, "maybe".into()).is_err());
        assert_eq!(read.apply("idsync-future", "x".into()), Ok(()));
    }
}
