//! The blocking pool: [`detach`] and [`run_in_main`] (Lwt_preemptive).
//!
//! # Ground rules
//!
//! * Each loop has its own pool of at most [`set_pool_size`] threads (default
//!   [`DEFAULT_POOL_SIZE`]). Threads start on demand, when a job is queued
//!   and no thread is idle, and retire after [`set_pool_idle_timeout`] with
//!   nothing to do, so an idle program holds no threads.
//! * A job's result travels back as a closure posted to the loop
//!   ([`crate::RemoteResolver`]); a job that panics rejects its promise.
//! * Canceling the promise of a [`detach`] cannot stop the thread: the
//!   closure runs to the end and its result is dropped.
//! * Pool threads know their loop, so [`run_in_main`] can run promise code
//!   there and block the pool thread (never the loop) until it is done.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use lwt::{Error, Promise};

use super::handle::{remote_resolver, Handle, Shared};
use super::Runtime;

/// The pool size when none was set.
pub const DEFAULT_POOL_SIZE: usize = 16;

type Job = Box<dyn FnOnce() + Send>;

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    max: usize,
    idle_timeout: Duration,
    shutdown: bool,
}

struct PoolShared {
    state: Mutex<State>,
    cond: Condvar,
    loop_: Arc<Shared>,
}

/// One loop's pool of blocking threads.
pub(crate) struct Pool(Arc<PoolShared>);

thread_local! {
    /// On pool threads: the loop they belong to.
    static MAIN: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

impl Pool {
    pub(crate) fn new(loop_: Arc<Shared>) -> Pool {
        Pool(Arc::new(PoolShared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                max: DEFAULT_POOL_SIZE,
                idle_timeout: Duration::from_secs(10),
                shutdown: false,
            }),
            cond: Condvar::new(),
            loop_,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`, starting a thread if none is idle. If no thread runs
    /// and none can be started, the job is dropped (after unlocking): its
    /// remote resolver then rejects the promise, instead of it staying
    /// queued forever.
    pub(crate) fn submit(&self, job: Job) {
        let mut s = self.lock();
        s.queue.push_back(job);
        let mut orphan = None;
        if s.queue.len() > s.idle && s.threads < s.max {
            s.threads += 1;
            let shared = self.0.clone();
            let spawned = std::thread::Builder::new()
                .name("lwt-pool".into())
                .spawn(move || worker(shared));
            if spawned.is_err() {
                s.threads -= 1;
                if s.threads == 0 {
                    orphan = s.queue.pop_back();
                }
            }
        }
        drop(s);
        drop(orphan);
        self.0.cond.notify_one();
    }

    pub(crate) fn shutdown(&self) {
        self.lock().shutdown = true;
        self.0.cond.notify_all();
    }

    /// (threads, idle threads, queued jobs).
    fn stats(&self) -> (usize, usize, usize) {
        let s = self.lock();
        (s.threads, s.idle, s.queue.len())
    }
}

fn worker(pool: Arc<PoolShared>) {
    MAIN.with(|m| {
        *m.borrow_mut() = Some(Handle {
            shared: pool.loop_.clone(),
        })
    });
    let mut s = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(job) = s.queue.pop_front() {
            drop(s);
            job();
            s = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        if s.shutdown {
            break;
        }
        s.idle += 1;
        let timeout = s.idle_timeout;
        let (guard, waited) = pool
            .cond
            .wait_timeout(s, timeout)
            .unwrap_or_else(|e| e.into_inner());
        s = guard;
        s.idle -= 1;
        if waited.timed_out() && s.queue.is_empty() {
            break;
        }
    }
    s.threads -= 1;
}

/// Runs `f` on a thread of the blocking pool and gives its result as a
/// promise of this thread (Lwt_preemptive's `detach`). If `f` panics the
/// promise is rejected.
///
/// ```
/// let p = lwt_native::detach(|| (1..=10u64).product::<u64>());
/// assert_eq!(lwt_native::run(p).unwrap(), 3628800);
/// ```
pub fn detach<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Promise<T> {
    detach_io(move || Ok(f()))
}

/// [`detach`] for a closure that can fail with an `io::Error`: an `Err`
/// rejects the promise, keeping the `io::Error` (see
/// [`crate::io_error_kind`]).
///
/// ```
/// let p = lwt_native::detach_io(|| std::fs::read("/no/such/file"));
/// let e = lwt_native::run(p).unwrap_err();
/// assert_eq!(lwt_native::io_error_kind(&e), Some(std::io::ErrorKind::NotFound));
/// ```
pub fn detach_io<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Promise<T> {
    let rt = Runtime::current();
    let (p, r) = remote_resolver::<T>();
    rt.pool.submit(Box::new(move || {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(v) => r.resolve_with(v),
            Err(_) => r.reject(io::Error::other("the detached closure panicked")),
        }
    }));
    p
}

/// Sets the most threads this thread's pool runs at once (at least 1).
///
/// ```
/// lwt_native::set_pool_size(4);
/// assert_eq!(lwt_native::run(lwt_native::detach(|| 2 + 2)).unwrap(), 4);
/// ```
pub fn set_pool_size(n: usize) {
    Runtime::current().pool.lock().max = n.max(1);
}

/// Sets how long a pool thread waits for work before it retires.
///
/// ```
/// lwt_native::set_pool_idle_timeout(std::time::Duration::from_millis(50));
/// ```
pub fn set_pool_idle_timeout(d: Duration) {
    Runtime::current().pool.lock().idle_timeout = d;
    Runtime::current().pool.0.cond.notify_all();
}

/// The number of threads in this thread's pool right now, busy or idle.
///
/// ```
/// let _n = lwt_native::pool_threads();
/// ```
pub fn pool_threads() -> usize {
    Runtime::current().pool.stats().0
}

/// From a pool thread (inside [`detach`]), runs `f` on the loop without
/// waiting for it (Lwt_preemptive's `run_in_main_dont_wait`): this thread
/// goes on at once, and if the promise `f` returns is rejected, `handler`
/// gets the error, on the loop ([`lwt::dont_wait`]). A panic in `f`
/// also reaches `handler`, as an [`lwt::Error::is_panic`] error. Outside a pool
/// thread, an error of kind `Unsupported`, and `f` does not run.
///
/// ```
/// use std::sync::mpsc;
/// let (tx, rx) = mpsc::channel();
/// let p = lwt_native::detach(move || {
///     lwt_native::run_in_main_dont_wait(
///         || lwt::Promise::<()>::rejected(lwt::Error::msg("on the loop")),
///         move |e| tx.send(e.to_string()).unwrap(),
///     )
///     .unwrap();
/// });
/// lwt_native::run(async move {
///     p.await?;
///     lwt::sleep(std::time::Duration::from_millis(1)).await
/// })
/// .unwrap();
/// assert_eq!(rx.try_recv().unwrap(), "on the loop");
/// assert!(lwt_native::run_in_main_dont_wait(|| lwt::Promise::resolved(()), |_| ()).is_err());
/// ```
pub fn run_in_main_dont_wait<F, H>(f: F, handler: H) -> io::Result<()>
where
    F: FnOnce() -> Promise<()> + Send + 'static,
    H: FnOnce(lwt::Error) + Send + 'static,
{
    let Some(handle) = MAIN.with(|m| m.borrow().clone()) else {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "lwt_native::run_in_main_dont_wait: not on a pool thread",
        ));
    };
    handle.run_on_loop(move || {
        // As a task, so that a panic in `f` (caught by the core) rejects
        // the promise instead of unwinding through the loop.
        lwt::dont_wait(|| lwt::spawn(async move { f().await }), handler);
    });
    Ok(())
}

/// From a pool thread (inside [`detach`]), runs `f` on the loop and blocks
/// this thread until the promise it returns is resolved (Lwt_preemptive's
/// `run_in_main`). The loop must be running ([`crate::run`]) for this to
/// return. A rejection comes back as the very [`lwt::Error`] the promise was
/// rejected with (it is `Send`), so its kind and its original error stay
/// (`downcast_ref`). Outside a pool thread, an invalid-argument error.
///
/// ```
/// let p = lwt_native::detach(|| {
///     let n = lwt_native::run_in_main(|| {
///         lwt::sleep(std::time::Duration::from_millis(1)).map(|()| 40)
///     });
///     let e = lwt_native::run_in_main(|| {
///         lwt::Promise::<()>::rejected(lwt::Error::new(std::io::Error::other("disk")))
///     });
///     (n.unwrap() + 2, e.unwrap_err().downcast_ref::<std::io::Error>().is_some())
/// });
/// assert_eq!(lwt_native::run(p).unwrap(), (42, true));
/// assert!(lwt_native::run_in_main(|| lwt::Promise::resolved(())).is_err());
/// ```
pub fn run_in_main<T, F>(f: F) -> Result<T, Error>
where
    T: Clone + Send + 'static,
    F: FnOnce() -> Promise<T> + Send + 'static,
{
    let Some(handle) = MAIN.with(|m| m.borrow().clone()) else {
        return Err(Error::invalid_argument(
            "lwt_native::run_in_main: not on a pool thread (call it inside lwt_native::detach)",
        ));
    };
    let (tx, rx) = std::sync::mpsc::channel::<Result<T, Error>>();
    handle.run_on_loop(move || {
        let p = f();
        p.on_result(move |r| {
            let _ = tx.send(r.clone());
        });
    });
    rx.recv().unwrap_or_else(|_| {
        Err(Error::closed(
            "lwt_native::run_in_main: the loop dropped the job",
        ))
    })
}
