//! When a user counts as disabled: the attributes listed in `[source.attributes] enabled`.
//!
//! Each listed attribute disables the user on its own (any of them is enough):
//!
//! * `shadowExpire` (RFC 2307: days since 1970-01-01): disabled from that day on, as
//!   `pam_unix` does (`today >= shadowExpire`); `0`, negative values and `-1` mean "never".
//!   A value that is not an integer is a mapping error.
//! * any other attribute — `nsAccountLock` (389-ds / FreeIPA), `pwdAccountLockedTime`
//!   (OpenLDAP ppolicy; `000001010000Z` is an administrative lock, any other time a lockout after
//!   failed binds), `loginDisabled`, … — disables the user when it has a value other than
//!   `FALSE` (case-insensitive, blanks ignored). Present-with-a-time and `TRUE` both disable;
//!   `FALSE` and absence do not.

use std::time::{SystemTime, UNIX_EPOCH};

/// How one attribute marks a user disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockRule {
    /// Any value other than `FALSE` disables.
    Flag,
    /// `shadowExpire`: a day number; disabled when today is that day or later.
    ExpiryDay,
}

impl LockRule {
    /// The rule for an attribute name.
    pub(crate) fn for_attribute(name: &str) -> Self {
        if name.eq_ignore_ascii_case("shadowExpire") {
            LockRule::ExpiryDay
        } else {
            LockRule::Flag
        }
    }

    /// Whether these values disable the user on day `today` (days since the epoch).
    /// `Err(value)` names a value that does not parse.
    pub(crate) fn disables(self, values: &[Vec<u8>], today: i64) -> Result<bool, &[u8]> {
        match self {
            LockRule::Flag => Ok(values.iter().any(|value| {
                let value = value.trim_ascii();
                !value.is_empty() && !value.eq_ignore_ascii_case(b"FALSE")
            })),
            LockRule::ExpiryDay => {
                for value in values {
                    let day = std::str::from_utf8(value)
                        .ok()
                        .and_then(|text| text.trim().parse::<i64>().ok())
                        .ok_or(value.as_slice())?;
                    if day > 0 && today >= day {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }
}

/// Days since 1970-01-01 (UTC) at `now`.
pub(crate) fn epoch_day(now: SystemTime) -> i64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_secs() / 86_400).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs() / 86_400 + 1).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn values(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|v| v.as_bytes().to_vec()).collect()
    }

    #[test]
    fn flags() {
        let rule = LockRule::for_attribute("nsAccountLock");
        assert_eq!(rule, LockRule::Flag);
        assert_eq!(rule.disables(&values(&["TRUE"]), 0), Ok(true));
        assert_eq!(rule.disables(&values(&["true"]), 0), Ok(true));
        assert_eq!(rule.disables(&values(&["FALSE"]), 0), Ok(false));
        assert_eq!(rule.disables(&values(&[" false "]), 0), Ok(false));
        assert_eq!(rule.disables(&values(&[]), 0), Ok(false));
        assert_eq!(rule.disables(&values(&[""]), 0), Ok(false));
        // ppolicy: an administrative lock and a lockout time both disable.
        assert_eq!(rule.disables(&values(&["000001010000Z"]), 0), Ok(true));
        assert_eq!(rule.disables(&values(&["20260101120000Z"]), 0), Ok(true));
    }

    #[test]
    fn shadow_expire() {
        let rule = LockRule::for_attribute("shadowexpire");
        assert_eq!(rule, LockRule::ExpiryDay);
        assert_eq!(rule.disables(&values(&["20000"]), 19_999), Ok(false));
        assert_eq!(rule.disables(&values(&["20000"]), 20_000), Ok(true));
        assert_eq!(rule.disables(&values(&["20000"]), 20_001), Ok(true));
        assert_eq!(rule.disables(&values(&["-1"]), 20_001), Ok(false));
        assert_eq!(rule.disables(&values(&["0"]), 20_001), Ok(false));
        assert_eq!(rule.disables(&values(&["soon"]), 1), Err(&b"soon"[..]));
    }

    #[test]
    fn epoch_days() {
        assert_eq!(epoch_day(UNIX_EPOCH), 0);
        assert_eq!(epoch_day(UNIX_EPOCH + Duration::from_secs(86_399)), 0);
        assert_eq!(
            epoch_day(UNIX_EPOCH + Duration::from_secs(86_400 * 20_000 + 5)),
            20_000
        );
        assert_eq!(epoch_day(UNIX_EPOCH - Duration::from_secs(10)), -1);
    }
}
