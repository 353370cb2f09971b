//! A tiny deterministic pseudo-random generator for the synthetic directory.
//!
//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014): 64 bits of state, one addition and a few multiply/xor-shifts per number. It
//! is not `rand`'s `StdRng` on purpose: `StdRng`'s algorithm may change between `rand`
//! versions, and the generated directory must stay the same for a given seed forever (its
//! digest is pinned by a test).

/// SplitMix64.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl SplitMix64 {
    /// An independent stream for item `index` of some `domain` under `seed`.
    pub(crate) fn stream(seed: u64, domain: u64, index: u64) -> Self {
        let mut mixer = Self { state: seed };
        let base = mixer.next_u64() ^ domain.wrapping_mul(0xd1b5_4a32_d192_ed03);
        let mut stream = Self {
            state: base ^ index.wrapping_mul(0x8cb9_2ba7_2f3d_8dd7),
        };
        stream.next_u64();
        stream
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0), by multiply-shift (the tiny bias does not
    /// matter here).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(bound);
        u64::try_from(wide >> 64).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The reference implementation seeded with 0 starts with these outputs.
        let mut rng = SplitMix64 { state: 0 };
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn below_stays_below_the_bound() {
        let mut rng = SplitMix64::stream(7, 1, 2);
        for bound in [1, 2, 3, 10, 1000] {
            for _ in 0..100 {
                assert!(rng.below(bound) < bound);
            }
        }
        assert_eq!(rng.below(0), 0);
    }
}
