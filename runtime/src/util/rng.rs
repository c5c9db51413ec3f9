//! A small, fast, seedable pseudo-random generator (wyrand): the multi-thread scheduler's steal
//! victims, and every choice of a shuffled scheduler (`util/shuffle.rs`). Not for anything
//! that must be unpredictable: the same seed gives the same numbers, which is the point.

/// The generator's state: one word, advanced by a constant and folded with a multiply.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let product = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        (product >> 64) as u64 ^ product as u64
    }

    /// A number in `0..bound` (`bound` > 0), by Lemire's multiply-shift: no division, and a bias
    /// of at most `bound / 2^64`.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_below_stays_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let mut seen = [0u32; 5];
        for _ in 0..1000 {
            let n = a.below(5);
            assert_eq!(n, b.below(5));
            seen[n] += 1;
        }
        assert!(seen.iter().all(|&count| count > 150), "roughly uniform: {seen:?}");
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }
}
