//! Deterministic choice of the users to modify.

/// SplitMix64 over user indices: the same seed gives the same users.
#[derive(Debug)]
pub struct Picker {
    state: u64,
    users: usize,
    last: Option<usize>,
}

impl Picker {
    /// Picks among `users` users (at least 2 for distinct consecutive picks).
    pub fn new(seed: u64, users: usize) -> Self {
        Self {
            state: seed,
            users: users.max(1),
            last: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next user index, never the same as the previous one (when there are two or more).
    pub fn next_user(&mut self) -> usize {
        loop {
            let users = u64::try_from(self.users).unwrap_or(u64::MAX);
            let index = usize::try_from(self.next_u64() % users).unwrap_or_default();
            if self.users < 2 || self.last != Some(index) {
                self.last = Some(index);
                return index;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Picker;

    #[test]
    fn deterministic_in_range_and_never_repeats() {
        let mut first = Picker::new(7, 10);
        let mut second = Picker::new(7, 10);
        let mut previous = None;
        for _ in 0..1000 {
            let index = first.next_user();
            assert_eq!(index, second.next_user());
            assert!(index < 10);
            assert_ne!(Some(index), previous);
            previous = Some(index);
        }
    }
}
