//! Exponential backoff with jitter, and the small random source it uses.

use std::time::Duration;

/// Reconnection delays: the ceiling doubles with each failed attempt, from
/// `base` up to `max`, and each delay is drawn in
/// `[ceiling * (1 - jitter), ceiling]` so that clients disconnected together
/// do not all come back at the same instant.
///
/// ```
/// use std::time::Duration;
/// use lwt_www_shared::Backoff;
/// let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1), jitter: 0.5 };
/// assert_eq!(b.ceiling(1), Duration::from_millis(100));
/// assert_eq!(b.ceiling(3), Duration::from_millis(400));
/// assert_eq!(b.ceiling(30), Duration::from_secs(1));
/// assert_eq!(b.delay(3, 0.0), Duration::from_millis(400));
/// assert_eq!(b.delay(3, 1.0), Duration::from_millis(200));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The ceiling of the first attempt's delay.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
    /// The fraction of the ceiling that is random, in `[0, 1]`.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 250 ms doubling up to 8 s, half of it random.
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(250),
            max: Duration::from_secs(8),
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The largest delay of attempt `attempt` (1 is the first retry):
    /// `min(max, base * 2^(attempt-1))`.
    ///
    /// ```
    /// let b = lwt_www_shared::Backoff::default();
    /// assert_eq!(b.ceiling(0), b.ceiling(1));
    /// ```
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(32);
        let factor = 1u64 << doublings;
        let nanos = (self.base.as_nanos()).saturating_mul(factor as u128);
        Duration::from_nanos(nanos.min(self.max.as_nanos()) as u64)
    }

    /// The delay of attempt `attempt`, for a random `unit` in `[0, 1]`
    /// (clamped): `ceiling * (1 - jitter * unit)`.
    ///
    /// ```
    /// let b = lwt_www_shared::Backoff::default();
    /// assert!(b.delay(2, 0.3) <= b.ceiling(2));
    /// ```
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let jitter = self.jitter.clamp(0.0, 1.0);
        let unit = if unit.is_nan() {
            0.0
        } else {
            unit.clamp(0.0, 1.0)
        };
        self.ceiling(attempt).mul_f64(1.0 - jitter * unit)
    }
}

/// A small deterministic random source (SplitMix64): the same code on every
/// engine, seeded by the caller (`Math.random` in the browser, the clock and
/// process id natively, a constant in tests).
///
/// ```
/// let mut a = lwt_www_shared::Rng::new(7);
/// let mut b = lwt_www_shared::Rng::new(7);
/// let x = a.unit();
/// assert!((0.0..1.0).contains(&x));
/// assert_eq!(x, b.unit());
/// ```
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A source seeded with `seed`.
    ///
    /// ```
    /// let _ = lwt_www_shared::Rng::new(0);
    /// ```
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    ///
    /// ```
    /// let mut r = lwt_www_shared::Rng::new(1);
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
    /// let mut r = lwt_www_shared::Rng::new(2);
    /// assert!(r.unit() < 1.0);
    /// ```
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
