//! What an engine provides to the client: a way to open a connection, and a
//! connection that sends and receives text frames as promises.
//!
//! The browser app implements these on `WebSocket` (through `lwt-wasm`), the
//! native CLI on `async-tungstenite` over an `lwt-native` TCP stream, and the
//! tests on in-memory queues. The client logic sees only these traits.

use std::rc::Rc;

use lwt::Promise;

/// An open connection carrying text frames.
///
/// ```
/// use std::rc::Rc;
/// use lwt::Promise;
/// use lwt_www_shared::Connection;
///
/// /// A connection that drops what it is sent and never receives anything.
/// struct Void;
/// impl Connection for Void {
///     fn send(&self, _text: String) -> Promise<()> { Promise::resolved(()) }
///     fn recv(&self) -> Promise<Option<String>> { Promise::resolved(None) }
///     fn close(&self) {}
/// }
/// let c: Rc<dyn Connection> = Rc::new(Void);
/// assert!(c.recv().peek().unwrap().unwrap().is_none());
/// ```
pub trait Connection {
    /// Sends one text frame; the promise is fulfilled once it is handed to
    /// the network, rejected if the connection failed.
    fn send(&self, text: String) -> Promise<()>;

    /// The next text frame, `None` once the peer closed the connection;
    /// rejected if it failed. Canceling it loses no frame.
    fn recv(&self) -> Promise<Option<String>>;

    /// Closes the connection (idempotent). Pending `recv`s end.
    fn close(&self);
}

/// Opens connections to one server.
///
/// ```
/// use std::rc::Rc;
/// use lwt::{Error, Promise};
/// use lwt_www_shared::{Connection, Connector};
///
/// /// A server that is never there.
/// struct Down;
/// impl Connector for Down {
///     fn connect(&self) -> Promise<Rc<dyn Connection>> {
///         Promise::rejected(Error::msg("connection refused"))
///     }
/// }
/// assert!(Down.connect().peek().unwrap().is_err());
/// ```
pub trait Connector {
    /// A new connection; canceling the promise abandons the attempt.
    fn connect(&self) -> Promise<Rc<dyn Connection>>;
}
