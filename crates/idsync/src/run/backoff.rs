//! Exponential backoff with jitter for retries of sources and sinks.

use std::time::Duration;

use rand::Rng;

/// Delays that double from `initial` up to `max`, each with ±20 % jitter so that many runners
/// restarted together do not hammer a server in step.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    max_attempts: u32,
    attempt: u32,
}

impl Backoff {
    /// `max_attempts == 0` retries forever.
    pub fn new(initial: Duration, max: Duration, max_attempts: u32) -> Self {
        Self {
            initial,
            max,
            max_attempts,
            attempt: 0,
        }
    }

    /// The next delay, or None when the attempts are used up. Also returns the attempt number.
    pub fn next_delay(&mut self) -> Option<(u32, Duration)> {
        if self.max_attempts != 0 && self.attempt >= self.max_attempts {
            return None;
        }
        self.attempt += 1;
        let exponent = self.attempt.saturating_sub(1).min(20);
        let base = self.initial.saturating_mul(1u32 << exponent).min(self.max);
        let jitter = rand::rng().random_range(0.8..1.2);
        Some((self.attempt, base.mul_f64(jitter).min(self.max)))
    }

    /// Attempts made since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts counting again (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn delays_grow_up_to_the_maximum_and_attempts_run_out() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 6);
        let delays: Vec<Duration> =
            std::iter::from_fn(|| backoff.next_delay().map(|(_, d)| d)).collect();
        assert_eq!(delays.len(), 6);
        assert!(delays[0] >= Duration::from_millis(80) && delays[0] <= Duration::from_millis(120));
        assert!(delays[2] >= Duration::from_millis(320));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(1)));
        backoff.reset();
        assert!(backoff.next_delay().is_some());
    }
}
