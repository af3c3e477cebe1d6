//! `rand` as HumanEval-X's Rust records use it: rand 0.4's API (upstream's Cargo manifest pins
//! rand 0.4) over rand 0.8, the version Debian bookworm packages (no crate registry is reachable).
//!
//! Built once in the image as the crate `rand` (`--extern rand=...`), so `use rand::Rng;`,
//! `rand::thread_rng()` and `rand::random()` in a record or a sample name this crate.
//! What differs from rand 0.8 is what rand 0.4 had: `gen_range(low, high)` takes two arguments
//! (half-open, panics when low >= high, as 0.4 did), and the 0.4 helpers `gen_weighted_bool`,
//! `choose`, `shuffle`, `gen_iter`, `gen_ascii_chars`. Everything a test asserts stays as written:
//! the draws come from rand 0.8's generators and distributions (same ranges, uniform).
//!
//! `HxRng` is a generator of the harness's own (SplitMix64: specified by its few lines below, not by
//! a crate version), for tests whose random inputs are seeded (`--dataset-variant errata-v2`).

pub use rand08::distributions;
pub use rand08::rngs;
pub use rand08::seq;
pub use rand08::{CryptoRng, Error, RngCore, SeedableRng};
pub use rand08::rngs::{OsRng, StdRng, ThreadRng};

use rand08::distributions::uniform::SampleUniform;
use rand08::distributions::{Distribution, Standard};

/// rand 0.4's `Rng`: every generator has it (a blanket implementation over `RngCore`).
pub trait Rng: RngCore {
    /// A random value of `T` (rand 0.4: `Rand`; here rand 0.8's `Standard` distribution).
    fn gen<T>(&mut self) -> T
    where
        Standard: Distribution<T>,
        Self: Sized,
    {
        Standard.sample(self)
    }

    /// A value uniformly in `[low, high)`; panics when `low >= high` (rand 0.4's two-argument form).
    fn gen_range<T: SampleUniform + PartialOrd>(&mut self, low: T, high: T) -> T
    where
        Self: Sized,
    {
        assert!(low < high, "Rng.gen_range called with low >= high");
        rand08::Rng::gen_range(self, low..high)
    }

    /// True with probability 1/n (rand 0.4).
    fn gen_weighted_bool(&mut self, n: u32) -> bool
    where
        Self: Sized,
    {
        n <= 1 || self.gen_range(0, n) == 0
    }

    /// True with probability p.
    fn gen_bool(&mut self, p: f64) -> bool
    where
        Self: Sized,
    {
        rand08::Rng::gen_bool(self, p)
    }

    /// An endless iterator of random values (rand 0.4).
    fn gen_iter<T>(&mut self) -> Generator<'_, T, Self>
    where
        Standard: Distribution<T>,
        Self: Sized,
    {
        Generator { rng: self, _marker: ::std::marker::PhantomData }
    }

    /// An endless iterator of random ASCII letters and digits (rand 0.4).
    fn gen_ascii_chars(&mut self) -> AsciiGenerator<'_, Self>
    where
        Self: Sized,
    {
        AsciiGenerator { rng: self }
    }

    /// A random element of the slice, None if it is empty (rand 0.4).
    fn choose<'a, T>(&mut self, values: &'a [T]) -> Option<&'a T>
    where
        Self: Sized,
    {
        if values.is_empty() {
            None
        } else {
            Some(&values[self.gen_range(0, values.len())])
        }
    }

    /// Shuffles the slice in place (rand 0.4).
    fn shuffle<T>(&mut self, values: &mut [T])
    where
        Self: Sized,
    {
        rand08::seq::SliceRandom::shuffle(values, self)
    }

    /// A value drawn from a distribution.
    fn sample<T, D: Distribution<T>>(&mut self, distr: D) -> T
    where
        Self: Sized,
    {
        distr.sample(self)
    }
}

impl<R: RngCore + ?Sized> Rng for R {}

/// rand 0.4's `Generator` (from `gen_iter`).
pub struct Generator<'a, T, R: 'a> {
    rng: &'a mut R,
    _marker: ::std::marker::PhantomData<fn() -> T>,
}

impl<'a, T, R: RngCore> Iterator for Generator<'a, T, R>
where
    Standard: Distribution<T>,
{
    type Item = T;
    fn next(&mut self) -> Option<T> {
        Some(Standard.sample(&mut *self.rng))
    }
}

/// rand 0.4's `AsciiGenerator` (from `gen_ascii_chars`).
pub struct AsciiGenerator<'a, R: 'a> {
    rng: &'a mut R,
}

impl<'a, R: RngCore> Iterator for AsciiGenerator<'a, R> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        Some(CHARS[rand08::Rng::gen_range(&mut *self.rng, 0..CHARS.len())] as char)
    }
}

/// The thread's generator (rand 0.8's, seeded by the system).
pub fn thread_rng() -> ThreadRng {
    rand08::thread_rng()
}

/// A random value from the thread's generator.
pub fn random<T>() -> T
where
    Standard: Distribution<T>,
{
    rand08::random()
}

/// The harness's seeded generator: SplitMix64 (Steele, Lea, Flood 2014), the same numbers on every
/// machine and toolchain for one seed.
#[derive(Clone, Debug)]
pub struct HxRng {
    state: u64,
}

impl HxRng {
    pub fn new(seed: u64) -> HxRng {
        HxRng { state: seed }
    }
}

impl RngCore for HxRng {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
