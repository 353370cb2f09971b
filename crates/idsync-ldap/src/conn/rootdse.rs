//! The root DSE: what the server supports, and 389-ds's changelog range.

use ldap3::Scope;

use super::{wire, ConnError, Connection};
use crate::raw::{RawEntry, RawMessage};
use crate::sync::SYNC_REQUEST_OID;

/// What the root DSE tells idsync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RootDse {
    /// `supportedControl` OIDs.
    pub supported_controls: Vec<String>,
    /// `namingContexts`.
    pub naming_contexts: Vec<String>,
    /// `vendorName` (`389 Project` for 389-ds).
    pub vendor_name: Option<String>,
    /// `vendorVersion`.
    pub vendor_version: Option<String>,
    /// 389-ds retro changelog: the first change number still in the changelog.
    pub first_change_number: Option<u64>,
    /// 389-ds retro changelog: the last change number.
    pub last_change_number: Option<u64>,
    /// The root DSE carries `objectClass: OpenLDAProotDSE`.
    pub openldap: bool,
}

/// The attributes read (all operational: requested by name).
const ATTRIBUTES: &[&str] = &[
    "objectClass",
    "supportedControl",
    "namingContexts",
    "vendorName",
    "vendorVersion",
    "firstchangenumber",
    "lastchangenumber",
];

impl RootDse {
    /// True when the server offers RFC 4533 content sync.
    pub fn supports_content_sync(&self) -> bool {
        self.supports(SYNC_REQUEST_OID)
    }

    /// True when `supportedControl` lists `oid`.
    pub fn supports(&self, oid: &str) -> bool {
        self.supported_controls.iter().any(|c| c == oid)
    }

    /// True when the server is 389-ds (FreeIPA's directory).
    pub fn is_389(&self) -> bool {
        self.vendor_name
            .as_deref()
            .is_some_and(|v| v.contains("389"))
    }

    /// A short description for logs: vendor and version, or the server family.
    pub fn describe(&self) -> String {
        match (&self.vendor_name, &self.vendor_version) {
            (_, Some(version)) => version.clone(),
            (Some(name), None) => name.clone(),
            (None, None) if self.openldap => "OpenLDAP".to_owned(),
            (None, None) => "unknown server".to_owned(),
        }
    }

    /// Reads the root DSE from its raw entry.
    pub fn from_entry(entry: &RawEntry) -> Self {
        let strings = |name: &str| -> Vec<String> {
            entry
                .values(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        };
        let first = |name: &str| strings(name).into_iter().next();
        let number = |name: &str| first(name).and_then(|v| v.trim().parse().ok());
        Self {
            supported_controls: strings("supportedControl"),
            naming_contexts: strings("namingContexts"),
            vendor_name: first("vendorName"),
            vendor_version: first("vendorVersion"),
            first_change_number: number("firstchangenumber"),
            last_change_number: number("lastchangenumber"),
            openldap: strings("objectClass")
                .iter()
                .any(|c| c.eq_ignore_ascii_case("OpenLDAProotDSE")),
        }
    }
}

/// Reads the root DSE over `connection`.
pub(super) async fn read(connection: &mut Connection) -> Result<RootDse, ConnError> {
    let limit = connection.timeout;
    let search = connection
        .ldap
        .search("", Scope::Base, "(objectClass=*)", ATTRIBUTES.to_vec());
    let result = connection
        .driver
        .run_timed(limit, search)
        .await?
        .map_err(|error| ConnError::Operation(error.to_string()))?;
    let ldap3::SearchResult(items, done) = result;
    if done.rc != 0 {
        return Err(ConnError::Result {
            operation: "reading the root dse",
            code: done.rc,
            message: done.text,
        });
    }
    for item in items {
        if let RawMessage::Entry(entry) = wire::message_from_result_entry(item)? {
            return Ok(RootDse::from_entry(&entry));
        }
    }
    Ok(RootDse::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::RawAttribute;

    #[test]
    fn root_dse_fields() {
        let attribute = |name: &str, values: &[&str]| RawAttribute {
            name: name.to_owned(),
            values: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
        };
        let entry = RawEntry {
            dn: String::new(),
            attributes: vec![
                attribute(
                    "supportedControl",
                    &[SYNC_REQUEST_OID, "1.2.840.113556.1.4.319"],
                ),
                attribute("vendorName", &["389 Project"]),
                attribute("vendorVersion", &["389-Directory/2.3.1 B2023.044.0000"]),
                attribute("firstchangenumber", &["12"]),
                attribute("lastchangenumber", &["40415"]),
            ],
            controls: Vec::new(),
        };
        let dse = RootDse::from_entry(&entry);
        assert!(dse.supports_content_sync());
        assert!(dse.is_389());
        assert_eq!(dse.first_change_number, Some(12));
        assert_eq!(dse.last_change_number, Some(40415));
        assert_eq!(dse.describe(), "389-Directory/2.3.1 B2023.044.0000");
        assert!(!RootDse::default().supports_content_sync());
    }
}
