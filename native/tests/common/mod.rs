//! What several test files of lwt-native share: a leak-checked run on a
//! fresh loop, and a time bound for a task. Each test file that uses it
//! says `mod common;`; not every file uses every item.
#![allow(dead_code)]

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use lwt::{Error, Promise};

/// File descriptors are counted for the whole process: one leak-checked
/// test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the other fd-counting tests of this file off while it lives.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `body` on a new thread's loop, bounded to 20 s, then `settle` (for
/// work that ends a turn or two after the body, like connection tasks), and
/// checks that the thread's loop is left with the fds and timers it had.
pub fn leak_checked_then<F, Fut, S, SFut>(body: F, settle: S)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + 'static,
    S: FnOnce() -> SFut + Send + 'static,
    SFut: Future<Output = Result<(), Error>> + 'static,
{
    let _one_at_a_time = one_at_a_time();
    std::thread::spawn(move || {
        lwt_native::install();
        let fds = lwt_native::open_fd_count().unwrap();
        let timers = lwt_native::timer_count();
        lwt_native::run(async move {
            // The bound's timer is armed first: a body may count timers.
            let limit = lwt::timeout::<()>(Duration::from_secs(20));
            let test = lwt::spawn(body());
            // `pick` does not own its inputs, and a task awaiting foreign
            // futures is owned by its promise alone: `test` stays held here.
            lwt::pick(vec![test.clone(), limit]).await?;
            drop(test);
            settle().await
        })
        .unwrap();
        assert_eq!(lwt_native::timer_count(), timers, "timers left armed");
        assert_eq!(lwt_native::open_fd_count().unwrap(), fds, "fds left open");
    })
    .join()
    .unwrap();
}

/// [`leak_checked_then`] with nothing to settle.
pub fn leak_checked<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + 'static,
{
    leak_checked_then(body, || async { Ok(()) })
}

/// [`leak_checked_then`], first waiting (bounded) for hyper's connection
/// tasks to end, a turn or two after their last user, and checking that
/// none is left.
#[cfg(feature = "hyper")]
pub fn leak_checked_hyper<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + 'static,
{
    leak_checked_then(body, || async {
        for _ in 0..400 {
            if lwt_native::hyper::running_tasks() == 0 {
                break;
            }
            lwt::sleep(Duration::from_millis(5)).await?;
        }
        assert_eq!(lwt_native::hyper::running_tasks(), 0, "hyper tasks left");
        Ok(())
    })
}

/// `f` as a task, failing with a time-out after 10 s rather than hanging
/// the test.
pub fn bounded<T: Clone + 'static>(
    f: impl Future<Output = Result<T, Error>> + 'static,
) -> Promise<T> {
    lwt::with_timeout(Duration::from_secs(10), &lwt::spawn(f))
}
