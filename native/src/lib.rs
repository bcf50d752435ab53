//! The native engine for [`lwt`]: a mio event loop, and the I/O on top of it
//! (Lwt's `lwt.unix`: Lwt_main, Lwt_unix, Lwt_io, Lwt_process,
//! Lwt_preemptive).
//!
//! # Ground rules
//!
//! A reading guide, in the order of the design. Read [`run`] first.
//!
//! 1. **The loop** ([`run`], `engine/main_loop.rs`, on the per-thread
//!    `Runtime` of `engine/mod.rs`) runs on the caller's thread and is the
//!    [`lwt::Engine`] while it runs: a monotonic clock, timers, turns. It
//!    blocks in the poller only when nothing is paused or woken, and bounds
//!    each iteration's work, so I/O is polled regularly.
//! 2. **Timers** (`engine/timer.rs`) are a timing wheel of 1 ms slots (a
//!    heap beyond its ~4 s horizon) with lazy deletion: arming and canceling
//!    are cheap with a million armed; a timer never fires early; equal
//!    deadlines fire in arming order.
//! 3. **Readiness** (`engine/reactor.rs`): mio is edge-triggered, so every
//!    operation tries the system call first and waits for an event only
//!    after `WouldBlock`. A wait is a cancelable promise; canceling it
//!    releases its place in the waiter list.
//! 4. **Threads** (`engine/handle.rs`, `engine/pool.rs`): promises never
//!    cross threads. [`Handle`] runs closures on the loop from any thread;
//!    [`RemoteResolver`] resolves a promise from any thread; [`detach`] runs
//!    blocking work on a bounded pool whose idle threads retire.
//! 5. **Resources are handles** ([`net`], [`fs`], [`process`], [`signal`],
//!    [`io`]): sockets, files and channels are cheap clones of one shared
//!    resource, closed with the last clone, so they can be the values of
//!    promises (awaiting a promise clones its value).
//! 6. **Errors**: operating-system errors reject promises with an
//!    [`lwt::Error`] that keeps the `io::Error`; [`io_error_kind`] reads its
//!    kind. Writing to a closed peer is `EPIPE`, never `SIGPIPE`.
//!
//! The source tree follows the same layers, and imports only go down:
//!
//! * `engine/`: the loop's private internals (items 1 to 4); it imports
//!   nothing from the I/O modules;
//! * `net/`, `fs.rs`, `process.rs`, `signal.rs`, `io/` (channels, with the
//!   server of [`io::establish_server`] in `io/server.rs`): the public I/O
//!   modules, on top of the engine's readiness and pool;
//! * `sys/`: platform code that mio does not cover, one backend per platform
//!   (Linux only today).
//!
//! ```
//! use std::time::Duration;
//! let answer = lwt_native::run(async {
//!     let slow = lwt::sleep(Duration::from_millis(5)).map(|()| 40);
//!     let work = lwt_native::detach(|| 2);
//!     Ok(slow.await? + work.await?)
//! });
//! assert_eq!(answer.unwrap(), 42);
//! ```
//!
//! # Lwt → lwt-native
//!
//! | Lwt | lwt-native |
//! |---|---|
//! | `Lwt_main.run` | [`run`] |
//! | `Lwt_main.enter_iter_hooks`, `leave_iter_hooks` | [`on_enter_iteration`], [`on_leave_iteration`] |
//! | `Lwt_main.at_exit` | [`at_exit`], [`exit`] |
//! | `Lwt_preemptive.detach`, `run_in_main`, `run_in_main_dont_wait` | [`detach`], [`run_in_main`] (a rejection comes back as the same `lwt::Error`), [`run_in_main_dont_wait`] |
//! | `Lwt_unix.sleep` | [`lwt::sleep`] (on this engine) |
//! | `Lwt_unix.auto_pause`, `auto_yield` | [`lwt::auto_pause`] (engine-neutral, on this engine's clock) |
//! | `Lwt_unix.socket`/`connect`/`accept` | [`net::TcpStream`], [`net::TcpListener`], [`net::UdpSocket`], [`net::UnixStream`] |
//! | `Lwt_unix.getaddrinfo` | [`net::lookup_host`] |
//! | `Lwt_unix` file functions, `Lwt_io.with_file` | [`fs`] |
//! | `Lwt_process.exec`, `open_process_full`, `pread` | [`process::spawn`], [`process::output`] |
//! | `Lwt_unix.on_signal` | [`signal::Signals`] |
//! | `Lwt_io` channels, `establish_server`, `shutdown_server` | [`io::InputChannel`], [`io::OutputChannel`] (the core's [`lwt::io`]), [`io::establish_server`], [`io::Server::shutdown`] |
//! | `Lwt_io.open_connection`, `with_connection` | [`io::open_connection`], [`io::with_connection`] (TCP) |
//! | `Lwt_io.with_temp_file`, `with_temp_dir` (`?temp_dir`, `?parent`) | [`io::with_temp_file`], [`io::with_temp_dir`] ([`io::with_temp_file_in`], [`io::with_temp_dir_in`]) |
//! | `Lwt_io.file_length`, `Lwt_io.file_exists` | [`io::file_length`], [`io::file_exists`] |
//! | `Lwt_io.stdin`, `stdout`, `stderr` | [`io::stdin`], [`io::stdout`], [`io::stderr`] |
//! | `cohttp-lwt-unix` (HTTP servers and clients) | hyper 1.x on this loop: the `hyper` module, behind the cargo feature `hyper` |
//! | `Lwt_ssl`, `tls-lwt` (`Tls_lwt.Unix.server_of_fd`, `client_of_fd`, `connect`) | rustls (the `ring` provider) on this loop's streams: the `tls` module (`TlsAcceptor::accept`, `TlsConnector::connect`, `tls::connect`), behind the cargo feature `tls`; HTTPS is hyper over it (`hyper::serve_tls` with both features, `examples/https_hello.rs`) |
//! | (no Lwt counterpart: crates that need a tokio runtime) | the `tokio_compat` module, behind the cargo feature `tokio`: a tokio runtime beside the loop, `tokio_compat::spawn(future)` is a promise of its output, canceled promise = aborted tokio task (`examples/reqwest_get.rs`) |

#![doc(test(attr(deny(warnings))))]

mod engine;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod loops;
pub mod net;
pub mod process;
pub mod signal;
mod sys;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "tokio")]
pub mod tokio_compat;

pub use engine::handle::{remote_resolver, Handle, RemoteResolver};
#[allow(deprecated)]
pub use engine::main_loop::init;
pub use engine::main_loop::{
    at_exit, exit, install, is_running, on_enter_iteration, on_leave_iteration, remove_hook, run,
    run_exit_hooks, timer_count, HookId, TIMERS_PER_ITERATION,
};
pub use engine::pool::{
    detach, detach_io, pool_threads, run_in_main, run_in_main_dont_wait, set_pool_idle_timeout,
    set_pool_size, DEFAULT_POOL_SIZE,
};
pub use engine::reactor::io_stats;

/// The `io::ErrorKind` of an I/O failure carried by an [`lwt::Error`], if it
/// is one.
///
/// ```
/// let e = lwt::Error::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
/// assert_eq!(lwt_native::io_error_kind(&e), Some(std::io::ErrorKind::ConnectionReset));
/// assert_eq!(lwt_native::io_error_kind(&lwt::Error::msg("x")), None);
/// ```
pub fn io_error_kind(e: &lwt::Error) -> Option<std::io::ErrorKind> {
    e.downcast_ref::<std::io::Error>().map(|e| e.kind())
}

/// The number of open file descriptors of this process (from
/// `/proc/self/fd`), for leak checks.
///
/// ```
/// assert!(lwt_native::open_fd_count().unwrap() >= 3);
/// ```
pub fn open_fd_count() -> std::io::Result<usize> {
    sys::open_fd_count()
}
