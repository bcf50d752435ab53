//! Exponential backoff with jitter, and the small seeded random source that
//! draws the jitter.
//!
//! # The numbering convention
//!
//! Delays are numbered by **failures so far**: `failures` is how many
//! attempts in a row have failed, so the wait after the first failure is
//! `delay(1, ..)`, after the second `delay(2, ..)`, and so on. The ceiling of
//! the wait after `failures` failures is `base × factor^(failures − 1)`,
//! capped at `max`; `0` is read as `1` (no failure yet waits like the first).
//! [`crate::retry`] and the www client both count this way.

use std::time::Duration;

/// How long to wait between attempts: a ceiling that grows by `factor` with
/// each failure, from `base` up to `max`, shortened by a random fraction of
/// at most `jitter` so that callers that failed together do not all come
/// back at the same instant.
///
/// Delays are numbered by **failures so far**: `failures` is how many
/// attempts in a row have failed, so the wait after the first failure is
/// `delay(1, ..)`, after the second `delay(2, ..)`; `0` is read as `1`.
/// [`crate::retry`] and the www client both count this way.
///
/// [`crate::retry`] also reads `attempts` (how many attempts in all) and
/// `seed` (its jitter generator's seed); other users (a reconnecting client)
/// may ignore them.
///
/// ```
/// use std::time::Duration;
/// use lwt_patterns::Backoff;
/// let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1), ..Backoff::default() };
/// assert_eq!(b.ceiling(1), Duration::from_millis(100));
/// assert_eq!(b.ceiling(3), Duration::from_millis(400));
/// assert_eq!(b.ceiling(30), Duration::from_secs(1));
/// assert_eq!(b.delay(3, 0.0), Duration::from_millis(400));
/// assert_eq!(b.delay(3, 1.0), Duration::from_millis(200)); // jitter 0.5
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The ceiling of the wait after the first failure.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
    /// The largest fraction a wait is shortened by, in `[0, 1]` (clamped
    /// when used).
    pub jitter: f64,
    /// How much the ceiling grows with each failure (at least 1 when used).
    pub factor: u32,
    /// How many attempts [`crate::retry`] makes in all (at least 1 when
    /// used).
    pub attempts: u32,
    /// The seed of [`crate::retry`]'s jitter generator: the same seed, the
    /// same waits.
    pub seed: u64,
}

impl Default for Backoff {
    /// 250 ms doubling up to 8 s, half of it random; 5 attempts for
    /// [`crate::retry`].
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::default();
    /// assert_eq!(b.ceiling(1).as_millis(), 250);
    /// assert_eq!(b.ceiling(10).as_secs(), 8);
    /// ```
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(250),
            max: Duration::from_secs(8),
            jitter: 0.5,
            factor: 2,
            attempts: 5,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl Backoff {
    /// Starts at `base`, doubles each time up to 30 s, with 50% jitter and
    /// 5 attempts in all.
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(50));
    /// assert_eq!(b.delay(2, 0.0).as_millis(), 100);
    /// ```
    pub fn new(base: Duration) -> Backoff {
        Backoff {
            base,
            max: Duration::from_secs(30),
            ..Backoff::default()
        }
    }

    /// The number of attempts in all (at least 1).
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(1)).attempts(0);
    /// assert_eq!(b.attempts, 1);
    /// ```
    pub fn attempts(mut self, n: u32) -> Backoff {
        self.attempts = n.max(1);
        self
    }

    /// The growth factor (at least 1).
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(10)).factor(3);
    /// assert_eq!(b.delay(3, 0.0).as_millis(), 90);
    /// ```
    pub fn factor(mut self, f: u32) -> Backoff {
        self.factor = f.max(1);
        self
    }

    /// The longest wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = lwt_patterns::Backoff::new(Duration::from_secs(1)).max(Duration::from_secs(5));
    /// assert_eq!(b.delay(10, 0.0), Duration::from_secs(5));
    /// ```
    pub fn max(mut self, max: Duration) -> Backoff {
        self.max = max;
        self
    }

    /// The largest fraction a wait is shortened by, clamped to 0.0..=1.0.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = lwt_patterns::Backoff::new(Duration::from_millis(100)).jitter(0.25);
    /// assert_eq!(b.delay(1, 1.0), Duration::from_millis(75));
    /// ```
    pub fn jitter(mut self, jitter: f64) -> Backoff {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The seed of [`crate::retry`]'s jitter generator.
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(1)).seed(42);
    /// assert_eq!(b.seed, 42);
    /// ```
    pub fn seed(mut self, seed: u64) -> Backoff {
        self.seed = seed;
        self
    }

    /// The longest wait after `failures` failures in a row (1 after the
    /// first): `min(max, base × factor^(failures − 1))`, 0 read as 1.
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::default();
    /// assert_eq!(b.ceiling(0), b.ceiling(1));
    /// assert_eq!(b.ceiling(2), 2 * b.ceiling(1));
    /// ```
    pub fn ceiling(&self, failures: u32) -> Duration {
        let growths = failures.saturating_sub(1).min(64);
        let grown = self
            .base
            .saturating_mul(self.factor.max(1).saturating_pow(growths));
        grown.min(self.max)
    }

    /// The wait after `failures` failures in a row, for a random draw `unit`
    /// in `[0, 1]` (clamped; NaN reads as 0): `ceiling × (1 − jitter × unit)`,
    /// so never more than the ceiling, never less than `1 − jitter` of it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = lwt_patterns::Backoff::new(Duration::from_millis(100)).jitter(0.5);
    /// let d = b.delay(2, 0.5);
    /// assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(200));
    /// assert_eq!(b.delay(2, f64::NAN), b.ceiling(2));
    /// ```
    pub fn delay(&self, failures: u32, unit: f64) -> Duration {
        let jitter = self.jitter.clamp(0.0, 1.0);
        let unit = if unit.is_nan() {
            0.0
        } else {
            unit.clamp(0.0, 1.0)
        };
        self.ceiling(failures).mul_f64(1.0 - jitter * unit)
    }
}

/// A small deterministic random source (SplitMix64), seeded by the caller:
/// the same code on every engine, nothing platform-specific. Seed it with a
/// constant in tests, and with something that differs between processes
/// (`Math.random` in a browser, the clock and process id natively) in
/// programs.
///
/// ```
/// let mut a = lwt_patterns::Rng::new(7);
/// let mut b = lwt_patterns::Rng::new(7);
/// let x = a.unit();
/// assert!((0.0..1.0).contains(&x));
/// assert_eq!(x, b.unit());
/// ```
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A source seeded with `seed` (any value, 0 included).
    ///
    /// ```
    /// let mut r = lwt_patterns::Rng::new(0);
    /// assert!(r.unit() < 1.0);
    /// ```
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    ///
    /// ```
    /// let mut r = lwt_patterns::Rng::new(1);
    /// assert_ne!(r.next_u64(), r.next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    ///
    /// ```
    /// let mut r = lwt_patterns::Rng::new(2);
    /// assert!(r.unit() < 1.0);
    /// ```
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_failure_counts_saturate_at_max() {
        let b = Backoff::new(Duration::from_secs(1)).factor(10);
        assert_eq!(b.ceiling(u32::MAX), b.max);
        assert_eq!(b.delay(1000, 0.0), b.max);
    }

    #[test]
    fn same_seed_same_draws() {
        let mut a = Rng::new(99);
        let mut b = Rng::new(99);
        for _ in 0..100 {
            let x = a.unit();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x, b.unit());
        }
    }
}
