//! What every SQL sink's `apply` shares: why a batch's transaction ended without committing,
//! and the merge-diff of sorted member keys.

use idsync_core::ApplyReport;

use crate::error::SqlError;

/// Why a batch's transaction ended without committing (the error type of
/// [`Database::transaction`](crate::Database::transaction) in a sink's `apply`).
#[derive(Debug)]
pub enum Abort {
    /// A dry run finished: roll back, but report what would have happened.
    DryRun(Box<ApplyReport>),
    /// Something failed.
    Failed(SqlError),
}

impl From<SqlError> for Abort {
    fn from(error: SqlError) -> Self {
        Abort::Failed(error)
    }
}

impl From<diesel::result::Error> for Abort {
    fn from(error: diesel::result::Error) -> Self {
        Abort::Failed(SqlError::from(error))
    }
}

/// Compares two sorted, duplicate-free key lists: (in `wanted` only, in `existing` only).
pub fn diff_sorted(wanted: &[i64], existing: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut added, mut extra) = (Vec::new(), Vec::new());
    let (mut w, mut e) = (wanted.iter().peekable(), existing.iter().peekable());
    loop {
        match (w.peek(), e.peek()) {
            (Some(a), Some(b)) if a == b => {
                w.next();
                e.next();
            }
            (Some(a), Some(b)) if a < b => {
                added.push(**a);
                w.next();
            }
            (Some(_), Some(b)) => {
                extra.push(**b);
                e.next();
            }
            (Some(a), None) => {
                added.push(**a);
                w.next();
            }
            (None, Some(b)) => {
                extra.push(**b);
                e.next();
            }
            (None, None) => return (added, extra),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::diff_sorted;

    #[test]
    fn sorted_lists_diff_both_ways() {
        assert_eq!(
            diff_sorted(&[1, 3, 5, 7], &[2, 3, 7, 9]),
            (vec![1, 5], vec![2, 9])
        );
        assert_eq!(diff_sorted(&[], &[4]), (vec![], vec![4]));
        assert_eq!(diff_sorted(&[4], &[]), (vec![4], vec![]));
        assert_eq!(diff_sorted(&[], &[]), (vec![], vec![]));
        assert_eq!(diff_sorted(&[1, 2], &[1, 2]), (vec![], vec![]));
    }
}
