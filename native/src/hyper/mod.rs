//! hyper 1.x on this loop (cargo feature `hyper`).
//!
//! hyper leaves the runtime to its user through the traits of `hyper::rt`;
//! this module implements them on lwt-native:
//!
//! * I/O: [`TcpStream`](crate::net::TcpStream) and
//!   [`UnixStream`](crate::net::UnixStream) implement `hyper::rt::Read` and
//!   `hyper::rt::Write` themselves, and [`Io`] wraps any other
//!   `futures_io::AsyncRead + AsyncWrite` (a TLS stream, say);
//! * [`LwtExecutor`]: hyper's background futures (HTTP/2 streams, client
//!   connections) as tasks of the loop, which need not be `Send`;
//! * [`LwtTimer`]: hyper's time-outs on the loop's timers, released when
//!   hyper drops or resets them.
//!
//! On top of them, two helpers for the common case: [`serve`], an accept loop
//! that serves each connection of a [`TcpListener`](crate::net::TcpListener)
//! with one hyper service ([`Http`] picks HTTP/1.1, HTTP/2, or both) and shuts down
//! gracefully when a promise resolves; and [`handshake`] and
//! [`handshake_http2`], hyper's client on one connection.
//!
//! Everything runs on the loop's one thread: services, bodies and their
//! futures may hold `Rc`s.
//!
//! One caution, from the core: a task that awaits a future other than an lwt
//! promise (hyper's `send_request`, a body) is owned by its promise alone
//! (see the last section of [`lwt::execution_model`]). Keep the promise of
//! such a task until it ends; combinators such as [`lwt::all`] and
//! [`lwt::pick`] do not keep their inputs. The tasks this module starts
//! (connections, HTTP/2 streams, [`serve`]) keep themselves, and
//! [`running_tasks`] counts them.

mod auto;
mod client;
mod exec;
mod io;
mod server;
mod timer;

pub use auto::DEFAULT_DETECT_TIMEOUT;
pub use client::{handshake, handshake_http2};
pub use exec::{running_tasks, LwtExecutor};
pub use io::Io;
#[cfg(feature = "tls")]
pub use server::serve_tls;
pub use server::{serve, Http};
pub use timer::{LwtSleep, LwtTimer};
