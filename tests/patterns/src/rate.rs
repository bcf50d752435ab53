//! A rate limiter: the generic cell rate algorithm (a token bucket without
//! the bookkeeping of tokens).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use lwt::{Instant, Promise};

/// Lets through at most `burst` acquisitions at once, then one every
/// `interval`, in the order they asked. A waiting [`RateLimiter::acquire`]
/// that is canceled gives its slot back when it was the last in line (one in
/// the middle leaves a gap: the later turns stay as they were).
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let limiter = lwt_patterns::RateLimiter::new(Duration::from_millis(100), 2);
/// let slots: Vec<_> = (0..4).map(|_| limiter.acquire()).collect();
/// assert!(slots[0].is_fulfilled() && slots[1].is_fulfilled()); // the burst
/// assert!(slots[2].is_pending());
/// engine.advance(Duration::from_millis(100));
/// assert!(slots[2].is_fulfilled() && slots[3].is_pending());
/// ```
#[derive(Clone, Debug)]
pub struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    /// The theoretical arrival time of the next acquisition.
    tat: Rc<Cell<Option<Instant>>>,
}

impl RateLimiter {
    /// One acquisition per `interval`, with bursts of up to `burst` (at
    /// least 1).
    ///
    /// ```
    /// let limiter = lwt_patterns::RateLimiter::new(std::time::Duration::from_secs(1), 10);
    /// # let _ = limiter;
    /// ```
    pub fn new(interval: Duration, burst: u32) -> RateLimiter {
        RateLimiter {
            interval,
            tolerance: interval.saturating_mul(burst.max(1) - 1),
            tat: Rc::new(Cell::new(None)),
        }
    }

    /// A promise fulfilled when this caller may go: at once within the
    /// burst, else at its turn. Rejected if no engine gives the time.
    ///
    /// ```
    /// let limiter = lwt_patterns::RateLimiter::new(std::time::Duration::from_secs(1), 1);
    /// assert!(limiter.acquire().is_rejected()); // no engine installed here
    /// let _engine = lwt::testing::VirtualEngine::new();
    /// assert!(limiter.acquire().is_fulfilled());
    /// ```
    pub fn acquire(&self) -> Promise<()> {
        let now = match lwt::now() {
            Ok(now) => now,
            Err(e) => return Promise::rejected(e),
        };
        let tat = self.tat.get().map_or(now, |t| t.max(now));
        self.tat.set(Some(tat + self.interval));
        let allowed_at = Instant::from_epoch(tat.since_epoch().saturating_sub(self.tolerance));
        if allowed_at <= now {
            return Promise::resolved(());
        }
        let wait = lwt::sleep_until(allowed_at);
        let (slot, next) = (self.tat.clone(), tat + self.interval);
        wait.on_cancel(move || {
            // Only the last in line gives its turn back: the turns after a
            // canceled one in the middle are taken, and must not be shared.
            if slot.get() == Some(next) {
                slot.set(Some(tat));
            }
        });
        wait
    }
}
