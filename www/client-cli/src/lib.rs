//! The native side of the www client: [`NativeConnector`] implements the
//! shared crate's [`Connector`] with `async-tungstenite` over an
//! `lwt-native` TCP stream. The command-line client (`src/main.rs`) runs the
//! shared [`lwt_www_shared::Client`] on it; the server's tests use it too.
//!
//! # Ground rules
//!
//! 1. A connection has two tasks: a pump that reads frames into an
//!    `lwt::Stream` (so canceling a `recv` loses nothing) and a writer that
//!    sends queued frames in order (so concurrent `send`s do not interleave).
//! 2. `close` queues a close frame and stops the pump; the socket closes
//!    when the writer has sent it (or after a second).

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures_util::StreamExt;
use lwt::{Error, Promise, Resolver};
use lwt_native::net::TcpStream;
use lwt_www_shared::{Connection, Connector};

/// Connects to `ws://ADDR/PATH` with a WebSocket handshake.
///
/// ```no_run
/// use lwt_www_shared::Connector;
/// let c = lwt_www_client::NativeConnector::new("127.0.0.1:8080".parse().unwrap(), "/ws");
/// lwt_native::run(async move {
///     let conn = c.connect().await?;
///     conn.send(r#"{"type":"ping","id":1}"#.into()).await?;
///     println!("{:?}", conn.recv().await?);
///     Ok(())
/// }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct NativeConnector {
    addr: SocketAddr,
    path: String,
}

impl NativeConnector {
    /// A connector for the WebSocket at `path` on `addr`.
    ///
    /// ```
    /// let c = lwt_www_client::NativeConnector::new("127.0.0.1:1".parse().unwrap(), "/ws");
    /// assert_eq!(c.url(), "ws://127.0.0.1:1/ws");
    /// ```
    pub fn new(addr: SocketAddr, path: &str) -> NativeConnector {
        NativeConnector {
            addr,
            path: path.to_owned(),
        }
    }

    /// Parses `ws://HOST:PORT/PATH` (the host resolved now).
    ///
    /// ```
    /// let c = lwt_www_client::NativeConnector::from_url("ws://127.0.0.1:8080/ws").unwrap();
    /// assert_eq!(c.url(), "ws://127.0.0.1:8080/ws");
    /// assert!(lwt_www_client::NativeConnector::from_url("http://x").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<NativeConnector, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url}: only ws:// URLs are supported"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        use std::net::ToSocketAddrs;
        let addr = host
            .to_socket_addrs()
            .map_err(|e| format!("{host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host}: no address"))?;
        Ok(NativeConnector::new(addr, path))
    }

    /// The URL connected to.
    ///
    /// See [`NativeConnector::new`].
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.addr, self.path)
    }
}

impl Connector for NativeConnector {
    fn connect(&self) -> Promise<Rc<dyn Connection>> {
        let (addr, url) = (self.addr, self.url());
        let task = lwt::spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            let (ws, _response) = async_tungstenite::client_async(url.as_str(), stream)
                .await
                .map_err(|e| Error::new(e).context(format!("WebSocket handshake with {url}")))?;
            Ok(NativeConnection::start(ws))
        });
        // The handshake is not an lwt promise: canceling the attempt must
        // drop it (and its socket), so cancel means abort here.
        let (p, r) = lwt::task::<Rc<dyn Connection>>();
        let t = task.clone();
        p.on_cancel(move || t.abort());
        task.on_result(move |result| {
            let _ = r.resolve_with(result.clone());
        });
        p
    }
}

type Outgoing = (Message, Option<Resolver<()>>);

/// A live WebSocket connection: see the [crate docs](crate).
struct NativeConnection {
    incoming: lwt::Stream<String>,
    outgoing: lwt::Push<Outgoing>,
    pump: Promise<()>,
    writer: Promise<()>,
}

impl NativeConnection {
    fn start(ws: WebSocketStream<TcpStream>) -> Rc<dyn Connection> {
        let (mut tx, mut rx) = ws.split();
        let (incoming, push_in) = lwt::Stream::create();
        let pump = lwt::spawn(async move {
            loop {
                match rx.next().await {
                    Some(Ok(Message::Text(t))) => {
                        let _ = push_in.push(t.to_string());
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        push_in.close();
                        return Ok(());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        push_in.fail(Error::new(e));
                        return Ok(());
                    }
                }
            }
        });
        let (queue, outgoing) = lwt::Stream::<Outgoing>::create();
        let writer = lwt::spawn(async move {
            while let Some((msg, done)) = queue.next().await? {
                let last = matches!(msg, Message::Close(_));
                let sent = tx.send(msg).await.map_err(Error::new);
                if let Some(done) = done {
                    let _ = done.resolve_with(sent.clone());
                }
                sent?;
                if last {
                    break;
                }
            }
            Ok(())
        });
        Rc::new(NativeConnection {
            incoming,
            outgoing,
            pump,
            writer,
        })
    }
}

impl Connection for NativeConnection {
    fn send(&self, text: String) -> Promise<()> {
        let (p, r) = lwt::wait::<()>();
        match self.outgoing.push((Message::text(text), Some(r))) {
            Ok(()) => p,
            Err(_) => Promise::rejected(Error::closed("the connection is closed")),
        }
    }

    fn recv(&self) -> Promise<Option<String>> {
        self.incoming.next()
    }

    fn close(&self) {
        if self.outgoing.is_closed() {
            return;
        }
        self.pump.abort();
        let _ = self.outgoing.push((Message::Close(None), None));
        self.outgoing.close();
        let writer = self.writer.clone();
        lwt::sleep(Duration::from_secs(1)).on_success(move |()| writer.abort());
    }
}

impl Drop for NativeConnection {
    fn drop(&mut self) {
        self.close();
    }
}
