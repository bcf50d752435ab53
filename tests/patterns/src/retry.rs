//! Retry with exponential backoff and jitter.

use lwt::{Error, Promise};

use crate::backoff::{Backoff, Rng};

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
    let mut rng = Rng::new(backoff.seed);
    lwt::spawn(async move {
        let mut n = 0;
        loop {
            let p = attempt();
            match p.await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_canceled() || !retryable(&e) => return Err(e),
                Err(e) if n + 1 >= backoff.attempts.max(1) => {
                    return Err(e.context(format!("gave up after {} attempts", n + 1)))
                }
                Err(_) => {
                    n += 1;
                    // `n` attempts have failed: the backoff counts failures.
                    lwt::sleep(backoff.delay(n, rng.unit())).await?;
                }
            }
        }
    })
}
