//! Small values MediaWiki stores in its own formats: timestamps, tokens, comment hashes.

use std::time::{SystemTime, UNIX_EPOCH};

/// `user_token` of a system user (`User::newSystemUser`): nobody can log in with it.
pub const INVALID_TOKEN: &str = "*** INVALID ***";

/// A UTC point in time, as MediaWiki writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Timestamp {
    /// Now.
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        Self::from_unix(secs)
    }

    /// The time `secs` seconds after 1970-01-01 00:00:00 UTC.
    pub fn from_unix(secs: u64) -> Self {
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        let rest = secs % 86_400;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
        let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            hour: rest / 3_600,
            minute: rest % 3_600 / 60,
            second: rest % 60,
        }
    }

    /// `YYYYMMDDHHMMSS` (MySQL, SQLite).
    pub fn mw14(&self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `YYYY-MM-DD HH:MM:SS+00` (PostgreSQL `timestamptz`).
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}+00",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// A fresh `user_token`: 32 random hex digits (`MWCryptRand::generateHex(32)`). A new token
/// ends every session and "remember me" cookie of the user.
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// `CommentStore::hash($text, null)`: CRC32 of the text as a signed 32-bit integer.
pub fn comment_hash(text: &str) -> i64 {
    let crc = crc32fast::hash(text.as_bytes());
    i64::from(i32::from_ne_bytes(crc.to_ne_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_formatted() {
        let t = Timestamp::from_unix(1_700_000_000);
        assert_eq!(t.mw14(), "20231114221320");
        assert_eq!(t.iso(), "2023-11-14 22:13:20+00");
        assert_eq!(Timestamp::from_unix(951_782_400).mw14(), "20000229000000");
    }

    #[test]
    fn comment_hashes_match_mediawiki() {
        assert_eq!(comment_hash("Disabled in LDAP"), -16_115_598);
        assert_eq!(comment_hash("sync from LDAP"), -790_799_956);
        assert_eq!(comment_hash(""), 0);
    }

    #[test]
    fn tokens_are_32_hex_digits() {
        let token = new_token();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(token, new_token());
    }
}
