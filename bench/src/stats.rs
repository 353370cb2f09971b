//! Medians, percentiles and the load average.

use std::time::Duration;

/// Measured values of one quantity (seconds, milliseconds or megabytes).
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    /// No values yet.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds a value.
    pub fn push(&mut self, value: f64) {
        self.0.push(value);
    }

    /// Adds a duration in seconds.
    pub fn push_secs(&mut self, value: Duration) {
        self.0.push(value.as_secs_f64());
    }

    /// Adds a duration in milliseconds.
    pub fn push_ms(&mut self, value: Duration) {
        self.0.push(value.as_secs_f64() * 1000.0);
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The values sorted.
    fn sorted(&self) -> Vec<f64> {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
    }

    /// The median (mean of the two middle values for an even count); 0 when empty.
    pub fn median(&self) -> f64 {
        let sorted = self.sorted();
        let n = sorted.len();
        if n == 0 {
            return 0.0;
        }
        let upper = sorted.get(n / 2).copied().unwrap_or_default();
        if n % 2 == 1 {
            upper
        } else {
            let lower = sorted.get(n / 2 - 1).copied().unwrap_or_default();
            (lower + upper) / 2.0
        }
    }

    /// The nearest-rank percentile `p` (0–100); 0 when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        let sorted = self.sorted();
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.clamp(1, sorted.len()) - 1)
            .copied()
            .unwrap_or_default()
    }

    /// The largest value; 0 when empty.
    pub fn max(&self) -> f64 {
        self.0.iter().copied().fold(0.0, f64::max)
    }

    /// The values in order of measurement, each formatted with `decimals`.
    pub fn list(&self, decimals: usize) -> String {
        self.0
            .iter()
            .map(|value| format!("{value:.decimals$}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `/proc/loadavg`'s three load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `ok` or `MISSED` for a figure against its target (smaller is better).
pub fn verdict(value: f64, target: f64) -> &'static str {
    if value <= target {
        "ok"
    } else {
        "MISSED"
    }
}

#[cfg(test)]
mod tests {
    use super::Samples;

    #[test]
    fn median_and_percentiles() {
        let mut samples = Samples::new();
        for value in [5.0, 1.0, 3.0, 2.0, 4.0] {
            samples.push(value);
        }
        assert_eq!(samples.median(), 3.0);
        assert_eq!(samples.percentile(50.0), 3.0);
        assert_eq!(samples.percentile(99.0), 5.0);
        assert_eq!(samples.percentile(0.0), 1.0);
        assert_eq!(samples.max(), 5.0);
        samples.push(6.0);
        assert_eq!(samples.median(), 3.5);
        assert_eq!(Samples::new().median(), 0.0);
    }
}
