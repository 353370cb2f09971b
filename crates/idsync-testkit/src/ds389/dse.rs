//! Offline edits of LDIF configuration files (`dse.ldif`, `template-dse.ldif`): records are
//! unfolded (389-ds reads long lines), found by DN and changed attribute by attribute.

/// An LDIF file as records of unfolded lines (the first line of a record is `dn: …`; blocks
/// without one, such as a comment header, are kept as they are).
#[derive(Clone, Debug)]
pub(crate) struct Dse {
    records: Vec<Vec<String>>,
}

impl Dse {
    /// Parses `text`, joining continuation lines (a line starting with one space).
    pub(crate) fn parse(text: &str) -> Self {
        let mut records = Vec::new();
        let mut current: Vec<String> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix(' ') {
                if let Some(last) = current.last_mut() {
                    last.push_str(rest);
                    continue;
                }
            }
            if line.is_empty() {
                if !current.is_empty() {
                    records.push(std::mem::take(&mut current));
                }
            } else {
                current.push(line.to_owned());
            }
        }
        if !current.is_empty() {
            records.push(current);
        }
        Self { records }
    }

    /// The file text: records separated by one blank line, lines unfolded.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        for record in &self.records {
            for line in record {
                text.push_str(line);
                text.push('\n');
            }
            text.push('\n');
        }
        text
    }

    /// Replaces every value of `attr` in the record `dn` by `values` (no values: removes the
    /// attribute). Fails when there is no such record.
    pub(crate) fn set(&mut self, dn: &str, attr: &str, values: &[&str]) -> Result<(), String> {
        let record = self
            .records
            .iter_mut()
            .find(|record| record.first().is_some_and(|line| is_dn(line, dn)))
            .ok_or_else(|| format!("no entry `{dn}`"))?;
        let position = record.iter().position(|line| is_attr(line, attr));
        record.retain(|line| !is_attr(line, attr));
        let at = position.unwrap_or(record.len()).min(record.len());
        for (offset, value) in values.iter().enumerate() {
            record.insert(at + offset, format!("{attr}: {value}"));
        }
        Ok(())
    }

    /// The first value of `attr` in the record `dn`.
    #[cfg(test)]
    pub(crate) fn get(&self, dn: &str, attr: &str) -> Option<&str> {
        self.records
            .iter()
            .find(|record| record.first().is_some_and(|line| is_dn(line, dn)))?
            .iter()
            .find(|line| is_attr(line, attr))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim_start())
    }

    /// Replaces `from` by `to` in every line (paths of a copied instance).
    pub(crate) fn replace_all(&mut self, from: &str, to: &str) {
        for line in self.records.iter_mut().flatten() {
            if line.contains(from) {
                *line = line.replace(from, to);
            }
        }
    }
}

/// True when `line` is `dn: DN` (case-insensitive, as 389-ds compares config DNs).
fn is_dn(line: &str, dn: &str) -> bool {
    line.strip_prefix("dn:")
        .is_some_and(|value| value.trim().eq_ignore_ascii_case(dn))
}

/// True when `line` holds a value of `attr` (case-insensitive; `attr;option` counts).
fn is_attr(line: &str, attr: &str) -> bool {
    line.split_once(':').is_some_and(|(name, _)| {
        name.split(';')
            .next()
            .is_some_and(|base| base.eq_ignore_ascii_case(attr))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# header\n\ndn: cn=config\ncn: config\nnsslapd-port: 389\nnsslapd-errorlog: /a/very/lo\n ng/path\n\ndn: cn=MemberOf Plugin,cn=plugins,cn=config\nnsslapd-pluginEnabled: off\ncn: MemberOf Plugin\n";

    #[test]
    fn unfolds_edits_and_renders() {
        let mut dse = Dse::parse(TEXT);
        assert_eq!(
            dse.get("cn=config", "nsslapd-errorlog"),
            Some("/a/very/long/path")
        );
        dse.set("cn=config", "nsslapd-port", &["1234"])
            .unwrap_or_default();
        dse.set("cn=config", "nsslapd-listenhost", &["127.0.0.1"])
            .unwrap_or_default();
        dse.set(
            "cn=memberof plugin,cn=plugins,cn=config",
            "nsslapd-pluginenabled",
            &["on"],
        )
        .unwrap_or_default();
        dse.replace_all("/a/very/", "/b/");
        let text = dse.render();
        assert!(text.starts_with("# header\n\ndn: cn=config\n"), "{text}");
        assert!(text.contains("nsslapd-port: 1234\nnsslapd-errorlog: /b/long/path\nnsslapd-listenhost: 127.0.0.1\n"), "{text}");
        assert!(
            text.contains(
                "dn: cn=MemberOf Plugin,cn=plugins,cn=config\nnsslapd-pluginenabled: on\n"
            ),
            "{text}"
        );
        assert!(dse.set("cn=nothing", "a", &[]).is_err());
    }
}
