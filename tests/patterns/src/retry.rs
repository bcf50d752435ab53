//! Retry with exponential backoff and jitter.

use std::cell::Cell;
use std::time::Duration;

use lwt::{Error, Promise};

/// How [`retry`] waits between attempts: `base × factor^n`, capped at `max`,
/// then shortened by a random fraction of at most `jitter` (0.0 to 1.0),
/// drawn from a generator seeded with `seed`.
///
/// ```
/// use std::time::Duration;
/// let b = lwt_patterns::Backoff::new(Duration::from_millis(10)).attempts(3);
/// assert_eq!(b.delay(0, 0.0), Duration::from_millis(10));
/// assert_eq!(b.delay(2, 0.0), Duration::from_millis(40));
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    factor: u32,
    max: Duration,
    jitter: f64,
    attempts: u32,
    seed: u64,
}

impl Backoff {
    /// Starts at `base`, doubles each time up to 30 s, with 50% jitter and
    /// 5 attempts in all.
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(50));
    /// assert_eq!(b.delay(1, 0.0).as_millis(), 100);
    /// ```
    pub fn new(base: Duration) -> Backoff {
        Backoff {
            base,
            factor: 2,
            max: Duration::from_secs(30),
            jitter: 0.5,
            attempts: 5,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The number of attempts in all (at least 1).
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(1)).attempts(0);
    /// # let _ = b; // clamped to one attempt
    /// ```
    pub fn attempts(mut self, n: u32) -> Backoff {
        self.attempts = n.max(1);
        self
    }

    /// The growth factor (at least 1).
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(10)).factor(3);
    /// assert_eq!(b.delay(2, 0.0).as_millis(), 90);
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
    /// assert_eq!(b.delay(0, 1.0), Duration::from_millis(75));
    /// ```
    pub fn jitter(mut self, jitter: f64) -> Backoff {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The seed of the jitter generator: the same seed, the same waits.
    ///
    /// ```
    /// let b = lwt_patterns::Backoff::new(std::time::Duration::from_millis(1)).seed(42);
    /// # let _ = b;
    /// ```
    pub fn seed(mut self, seed: u64) -> Backoff {
        self.seed = seed.max(1);
        self
    }

    /// The wait after the `n`-th failure (from 0), for a random draw `r` in
    /// 0.0..1.0: never more than the cap, never less than `(1 - jitter)` of it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = lwt_patterns::Backoff::new(Duration::from_millis(100)).jitter(0.5);
    /// let d = b.delay(1, 0.5);
    /// assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(200));
    /// ```
    pub fn delay(&self, n: u32, r: f64) -> Duration {
        let grown = self
            .base
            .saturating_mul(self.factor.saturating_pow(n.min(64)));
        let capped = grown.min(self.max);
        capped.mul_f64(1.0 - self.jitter * r.clamp(0.0, 1.0))
    }
}

/// xorshift64*: small, seeded, good enough for jitter.
fn next_unit(state: &Cell<u64>) -> f64 {
    let mut x = state.get();
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    state.set(x);
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

/// Calls `attempt` until its promise is fulfilled, at most `backoff`'s
/// number of attempts, waiting as `backoff` says in between. An error for
/// which `retryable` is false (and any cancellation) ends it at once. The
/// result is the last error otherwise. Canceling the result cancels the
/// attempt or the wait in progress.
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// let engine = lwt::testing::VirtualEngine::new();
/// let tries = Rc::new(Cell::new(0));
/// let t = tries.clone();
/// let p = lwt_patterns::retry(
///     lwt_patterns::Backoff::new(Duration::from_millis(100)),
///     |_| true,
///     move || {
///         t.set(t.get() + 1);
///         if t.get() < 3 { lwt::Promise::rejected(lwt::Error::msg("busy")) } else { lwt::Promise::resolved("ok") }
///     },
/// );
/// assert_eq!(engine.run(&p).unwrap(), "ok");
/// assert_eq!(tries.get(), 3);
/// ```
pub fn retry<T: Clone + 'static>(
    backoff: Backoff,
    retryable: impl Fn(&Error) -> bool + 'static,
    mut attempt: impl FnMut() -> Promise<T> + 'static,
) -> Promise<T> {
    let rng = Cell::new(backoff.seed);
    lwt::spawn(async move {
        let mut n = 0;
        loop {
            let p = attempt();
            match p.await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_canceled() || !retryable(&e) => return Err(e),
                Err(e) if n + 1 >= backoff.attempts => {
                    return Err(e.context(format!("gave up after {} attempts", n + 1)))
                }
                Err(_) => {
                    lwt::sleep(backoff.delay(n, next_unit(&rng))).await?;
                    n += 1;
                }
            }
        }
    })
}
