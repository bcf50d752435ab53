//! tokio-only crates from lwt code (cargo feature `tokio`): a tokio runtime
//! beside the loop, and lwt promises of the futures it runs.
//!
//! Some crates only run inside a tokio runtime (reqwest, tonic, the tokio
//! flavour of a database driver...). This module keeps one tokio runtime per
//! process, started the first time it is needed, on threads of its own, and
//! hands its results to the loop:
//!
//! * [`spawn`]: runs a `Send` future on tokio, and returns a [`Promise`] of
//!   its output on this thread's loop (through a [`crate::RemoteResolver`]).
//!   Canceling (or aborting) the promise aborts the tokio task, which drops
//!   the future on a tokio thread soon after;
//! * [`spawn_try`]: the same for a future of a `Result`, whose `Err` rejects
//!   the promise with an [`lwt::Error`] that downcasts to the original error;
//! * [`enter`]: runs a closure inside the runtime's context, for constructors
//!   that look for a current tokio runtime (`reqwest::Client::new` builds
//!   fine without one, but many `connect` or `bind` functions do not);
//! * [`runtime`] and [`configure`]: the runtime itself, and how to set it up
//!   before it starts.
//!
//! The runtime is tokio's multi-threaded one with
//! [`DEFAULT_WORKER_THREADS`] (2) workers named `lwt-tokio`, I/O and time
//! drivers enabled; [`configure`] replaces it with any `tokio::runtime::Builder`
//! (one worker, say, or `current_thread`, which tokio then drives on its one
//! worker).
//!
//! Limits:
//!
//! * the futures run on tokio's threads, so they and their outputs must be
//!   `Send`; the value crosses to the loop's thread, where the promise lives.
//!   An lwt promise or `Rc` cannot go into them: do the lwt part on the loop,
//!   around the `spawn`;
//! * one runtime per process, shared by every loop (each thread's loop gets
//!   its own promises); it cannot be configured once started;
//! * shutdown: the runtime lives until the process exits and is never shut
//!   down before, so tokio tasks still running at exit are stopped with the
//!   process, without their destructors. A promise that is only dropped, not
//!   canceled, leaves its tokio task running to its end (its result is then
//!   discarded); if the loop that made the promise has stopped for good, the
//!   result is never delivered. Cancel what you no longer need;
//! * a tokio future that panics rejects its promise with an error that says
//!   so (the panic does not reach the loop).
//!
//! ```
//! use std::time::Duration;
//! let answer = lwt_native::run(async {
//!     let from_tokio = lwt_native::tokio_compat::spawn(async {
//!         tokio::time::sleep(Duration::from_millis(5)).await;
//!         40
//!     });
//!     Ok(from_tokio.await? + 2)
//! });
//! assert_eq!(answer.unwrap(), 42);
//! ```

use std::future::Future;
use std::sync::{Mutex, OnceLock};

use lwt::{Error, Promise};

use crate::remote_resolver;

/// The number of worker threads of the default runtime: 2.
pub const DEFAULT_WORKER_THREADS: usize = 2;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
static BUILDER: Mutex<Option<tokio::runtime::Builder>> = Mutex::new(None);

fn default_builder() -> tokio::runtime::Builder {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.worker_threads(DEFAULT_WORKER_THREADS)
        .thread_name("lwt-tokio")
        .enable_all();
    b
}

/// Sets the builder of the runtime, before it starts (before the first
/// [`spawn`], [`spawn_try`], [`enter`] or [`runtime`]). An error once it has
/// started: the runtime in use stays as it is.
///
/// ```
/// // In a program's `main`, before any use:
/// let mut b = tokio::runtime::Builder::new_multi_thread();
/// b.worker_threads(1).enable_all();
/// lwt_native::tokio_compat::configure(b).unwrap();
/// assert_eq!(lwt_native::tokio_compat::runtime().unwrap().metrics().num_workers(), 1);
///
/// let too_late = lwt_native::tokio_compat::configure(tokio::runtime::Builder::new_current_thread());
/// assert!(too_late.is_err());
/// ```
pub fn configure(builder: tokio::runtime::Builder) -> Result<(), Error> {
    let mut slot = BUILDER.lock().unwrap_or_else(|e| e.into_inner());
    if RUNTIME.get().is_some() {
        return Err(Error::invalid_argument(
            "tokio_compat::configure: the tokio runtime has already started",
        ));
    }
    *slot = Some(builder);
    Ok(())
}

/// The runtime, started now if it was not yet (with the builder given to
/// [`configure`], else the default one). An error if tokio could not start
/// it (no threads left, say), and the same error on every later call.
///
/// ```
/// let rt = lwt_native::tokio_compat::runtime().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub fn runtime() -> Result<&'static tokio::runtime::Runtime, Error> {
    let started = RUNTIME.get_or_init(|| {
        let mut slot = BUILDER.lock().unwrap_or_else(|e| e.into_inner());
        let mut builder = slot.take().unwrap_or_else(default_builder);
        builder
            .build()
            .map_err(|e| format!("could not start the tokio runtime: {e}"))
    });
    match started {
        Ok(rt) => Ok(rt),
        Err(message) => Err(Error::msg(message)),
    }
}

/// Runs `f` inside the runtime's context (`Handle::current` works in it,
/// and so do the constructors that need a runtime), and returns its result.
///
/// ```
/// let listener = lwt_native::tokio_compat::enter(|| {
///     let std = std::net::TcpListener::bind("127.0.0.1:0")?;
///     std.set_nonblocking(true)?;
///     tokio::net::TcpListener::from_std(std) // needs a tokio context
/// });
/// assert!(listener.unwrap().is_ok());
/// ```
pub fn enter<R>(f: impl FnOnce() -> R) -> Result<R, Error> {
    let rt = runtime()?;
    let _guard = rt.enter();
    Ok(f())
}

/// What a tokio task that ended without a value left: a panic (its message)
/// or an abort.
fn join_error_message(e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        let payload = e.into_panic();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a non-string panic payload)".to_string());
        format!("the tokio task panicked: {text}")
    } else {
        "the tokio task was canceled".to_string()
    }
}

/// Runs `future` on the tokio runtime and returns a promise of its output,
/// on this thread's loop (which must be installed: this is called from lwt
/// code). Canceling or aborting the promise aborts the tokio task: tokio
/// drops the future on one of its threads at its next chance. A panic of the
/// future rejects the promise. A value that is not `Clone` is read with
/// [`Promise::take`].
///
/// ```
/// use std::sync::{atomic::{AtomicBool, Ordering}, Arc};
/// use std::time::Duration;
///
/// struct Flag(Arc<AtomicBool>);
/// impl Drop for Flag {
///     fn drop(&mut self) { self.0.store(true, Ordering::SeqCst) }
/// }
/// let dropped = Arc::new(AtomicBool::new(false));
/// let flag = Flag(dropped.clone());
/// lwt_native::run(async move {
///     let forever = lwt_native::tokio_compat::spawn(async move {
///         let _flag = flag;
///         std::future::pending::<()>().await
///     });
///     forever.cancel();
///     assert!(forever.peek().unwrap().unwrap_err().is_canceled());
///     Ok(())
/// }).unwrap();
/// // The tokio side drops the future soon after.
/// for _ in 0..1000 {
///     if dropped.load(Ordering::SeqCst) { break }
///     std::thread::sleep(Duration::from_millis(2));
/// }
/// assert!(dropped.load(Ordering::SeqCst));
/// ```
pub fn spawn<F, T>(future: F) -> Promise<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return Promise::rejected(e),
    };
    let (promise, resolver) = remote_resolver::<T>();
    let task = rt.spawn(future);
    let abort = task.abort_handle();
    // The result goes to the loop from a small tokio task of its own, which
    // also turns a panic into a rejection.
    rt.spawn(async move {
        match task.await {
            Ok(value) => resolver.resolve(value),
            Err(e) => resolver.reject(std::io::Error::other(join_error_message(e))),
        }
    });
    promise.on_cancel(move || abort.abort());
    promise
}

/// [`spawn`] for a future of a `Result`: `Ok` fulfills the promise, `Err`
/// rejects it with an [`lwt::Error`] made from the error, which
/// [`downcast_ref`](lwt::Error::downcast_ref)s back to it.
///
/// ```
/// let e = lwt_native::run(async {
///     lwt_native::tokio_compat::spawn_try(async {
///         tokio::task::yield_now().await;
///         "x".parse::<u8>()
///     })
///     .await
/// })
/// .unwrap_err();
/// assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
/// ```
pub fn spawn_try<F, T, E>(future: F) -> Promise<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return Promise::rejected(e),
    };
    let (inner, remote) = remote_resolver::<Result<T, Error>>();
    let task = rt.spawn(async move { future.await.map_err(Into::into) });
    let abort = task.abort_handle();
    rt.spawn(async move {
        match task.await {
            Ok(result) => remote.resolve(result),
            Err(e) => remote.reject(std::io::Error::other(join_error_message(e))),
        }
    });
    // On the loop: the inner promise's result, flattened. Canceling the
    // outer promise cancels the inner one it waits on (which forgets its
    // resolver), and aborts the tokio task.
    let promise = lwt::spawn(async move { inner.take().await? });
    promise.on_cancel(move || abort.abort());
    promise
}
