//! The www app's shared code: the protocol and the client logic, on [`lwt`]
//! alone. The browser app (`lwt-www-app`, on `lwt-wasm`) and the native
//! command-line client (`lwt-www-client`, on `lwt-native`) compile this same
//! code; neither it nor they have a `cfg` for the engine.
//!
//! # Ground rules
//!
//! Read [`Client`] first.
//!
//! 1. [`protocol`]: JSON text frames, one message a frame, a `"type"` field
//!    in each; the limits the server enforces. [`json`] reads and writes
//!    them.
//! 2. [`Connector`] and [`Connection`]: the only I/O the client sees; each
//!    engine implements them on its own WebSocket.
//! 3. [`Client`]: connect with a timeout, heartbeat with a timeout,
//!    reconnect with [`Backoff`] (exponential, jittered by [`Rng`]; both are
//!    `lwt-patterns`', re-exported here, which `lwt_patterns::retry` uses
//!    too), queue
//!    chat lines across reconnections, match requests with responses and
//!    cancel them.
//!
//! ```
//! use lwt_www_shared::protocol::{ClientMsg, ServerMsg};
//! let hello = ClientMsg::Hello { name: "ada".into(), room: "lobby".into() };
//! assert_eq!(hello.encode(), r#"{"type":"hello","name":"ada","room":"lobby"}"#);
//! assert!(ServerMsg::decode("not json").is_err());
//! ```

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod client;
pub mod json;
pub mod protocol;
mod transport;

pub use client::{Client, Config, Event, Status};
pub use lwt_patterns::{Backoff, Rng};
pub use transport::{Connection, Connector};
