//! [`LwtTimer`]: hyper's timer on the loop's own timers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use lwt::Promise;

/// A value that never leaves the thread that made it, in a type that may.
///
/// hyper asks for `Send + Sync` sleeps, while the loop's timers are
/// single-threaded promises. hyper on one loop never moves a sleep to another
/// thread; if something did, this wrapper would refuse to touch the value
/// there: [`OnThread::get_mut`] gives `None`, and dropping it there leaks the
/// value instead of dropping it.
struct OnThread<T> {
    owner: ThreadId,
    /// `Some` until a drop on a foreign thread forgets it.
    value: Option<T>,
}

thread_local! {
    /// This thread's id, read once (`thread::current()` clones a handle).
    static THIS_THREAD: ThreadId = thread::current().id();
}

/// This thread's id: the cached one, or, late in the thread's exit when the
/// cache is gone, asked the slow way.
fn this_thread() -> ThreadId {
    THIS_THREAD
        .try_with(|id| *id)
        .unwrap_or_else(|_| thread::current().id())
}

impl<T> OnThread<T> {
    fn new(value: T) -> OnThread<T> {
        OnThread {
            owner: this_thread(),
            value: Some(value),
        }
    }

    fn on_owner(&self) -> bool {
        this_thread() == self.owner
    }

    /// The value, on the thread that made it; `None` on any other.
    fn get_mut(&mut self) -> Option<&mut T> {
        if self.on_owner() {
            self.value.as_mut()
        } else {
            None
        }
    }
}

impl<T> Drop for OnThread<T> {
    fn drop(&mut self) {
        if !self.on_owner() {
            // Dropping it here would touch its thread's data (an `Rc`'s
            // count) from this one: leak it instead.
            std::mem::forget(self.value.take());
        }
    }
}

// SAFETY: the wrapped value is only ever reached on the thread that made it:
// `get_mut` checks the current thread against `owner` (thread ids are never
// reused) and returns `None` elsewhere, and `Drop` forgets the value instead
// of dropping it on any other thread. Moving the wrapper itself moves only
// the bytes of `owner` and of the `Option`, which nobody reads on the way.
unsafe impl<T> Send for OnThread<T> {}

// SAFETY: a shared `&OnThread<T>` gives no access to the value at all (every
// accessor takes `&mut self`), so sharing one between threads shares nothing
// but `owner`, a plain `ThreadId`.
unsafe impl<T> Sync for OnThread<T> {}

/// hyper's [`Timer`](hyper::rt::Timer) on this thread's loop: each sleep is
/// an lwt-native timer ([`lwt::sleep`]), released as soon as the sleep is
/// dropped or reset. With it, hyper's time-outs work: `header_read_timeout`
/// (which, for a keep-alive HTTP/1 connection, is also how long it may sit
/// idle between requests) and HTTP/2's keep-alive pings.
///
/// ```
/// use std::time::Duration;
/// let mut http1 = hyper::server::conn::http1::Builder::new();
/// http1.timer(lwt_native::hyper::LwtTimer).header_read_timeout(Duration::from_secs(5));
/// ```
///
/// Sleeps belong to the thread that makes them, whose loop times them (it
/// counts from when they are made, even before [`run`](crate::run) starts).
/// hyper never moves them; a sleep polled or reset on another thread panics,
/// and one dropped there is leaked (see [`LwtSleep`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct LwtTimer;

impl hyper::rt::Timer for LwtTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(LwtSleep::new(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(LwtSleep::until(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<LwtSleep>() {
            Some(mine) => mine.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// One sleep of [`LwtTimer`]: a future that is ready at its deadline, backed
/// by one armed timer of the loop ([`timer_count`](crate::timer_count) counts
/// it) until it fires, is dropped or is [reset](LwtSleep::reset).
///
/// It is `Send + Sync`, as hyper requires, but it belongs to the loop's
/// thread: polled or reset on another thread it panics, and dropped on
/// another thread it is leaked (its timer then fires on its loop, and frees
/// nothing). Neither happens under hyper on one loop.
///
/// ```
/// use std::time::{Duration, Instant};
/// lwt_native::run(async {
///     let start = Instant::now();
///     let mut sleep = lwt_native::hyper::LwtSleep::new(Duration::from_secs(60));
///     assert_eq!(lwt_native::timer_count(), 1);
///     sleep.reset(Instant::now() + Duration::from_millis(5)); // the old timer is released
///     assert_eq!(lwt_native::timer_count(), 1);
///     sleep.await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
///     assert_eq!(lwt_native::timer_count(), 0);
///     Ok(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct LwtSleep {
    deadline: Instant,
    timer: OnThread<Promise<()>>,
}

impl<T> std::fmt::Debug for OnThread<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnThread")
            .field("owner", &self.owner)
            .finish()
    }
}

/// Arms a loop timer for `deadline` (a `std` instant, as hyper gives them;
/// the loop's clock reads the same monotonic clock, so the deadline is
/// converted without reading the clock again).
fn arm(deadline: Instant) -> Promise<()> {
    // Installs this thread's loop as its engine if nothing did yet.
    crate::engine::sleep_until_std(deadline)
}

impl LwtSleep {
    /// A sleep of `duration` from now, on this thread's loop.
    ///
    /// ```
    /// use std::time::Duration;
    /// lwt_native::run(lwt::spawn(async {
    ///     lwt_native::hyper::LwtSleep::new(Duration::from_millis(1)).await;
    ///     Ok(())
    /// })).unwrap();
    /// ```
    pub fn new(duration: Duration) -> LwtSleep {
        let now = Instant::now();
        LwtSleep::until(
            now.checked_add(duration)
                .unwrap_or(now + Duration::from_secs(1 << 40)),
        )
    }

    /// A sleep until `deadline`, on this thread's loop.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_millis(2);
    /// lwt_native::run(async move {
    ///     lwt_native::hyper::LwtSleep::until(deadline).await;
    ///     assert!(Instant::now() >= deadline);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn until(deadline: Instant) -> LwtSleep {
        LwtSleep {
            deadline,
            timer: OnThread::new(arm(deadline)),
        }
    }

    /// When the sleep is ready.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// lwt_native::run(async move {
    ///     assert_eq!(lwt_native::hyper::LwtSleep::until(deadline).deadline(), deadline);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline, earlier or later, even after the sleep was ready:
    /// the current timer is released and another one armed.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// lwt_native::run(async {
    ///     let mut sleep = lwt_native::hyper::LwtSleep::new(Duration::ZERO);
    ///     (&mut sleep).await;
    ///     let later = Instant::now() + Duration::from_millis(3);
    ///     sleep.reset(later);
    ///     sleep.await;
    ///     assert!(Instant::now() >= later);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        let timer = self.timer.get_mut().expect(
            "lwt_native::hyper::LwtSleep: reset on a thread other than the loop's that made it",
        );
        timer.cancel();
        *timer = arm(deadline);
        self.deadline = deadline;
    }
}

impl Future for LwtSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let timer = self.get_mut().timer.get_mut().expect(
            "lwt_native::hyper::LwtSleep: polled on a thread other than the loop's that made it",
        );
        // A rejection is a cancellation of the task that awaits the sleep
        // (the cancel walk reaches the timer): the time-out then happens at
        // once, and hyper ends the connection.
        Pin::new(timer).poll(cx).map(|_| ())
    }
}

impl hyper::rt::Sleep for LwtSleep {}

impl Drop for LwtSleep {
    fn drop(&mut self) {
        // Releases the loop's timer now rather than when it would fire.
        if let Some(timer) = self.timer.get_mut() {
            timer.cancel();
        }
    }
}
