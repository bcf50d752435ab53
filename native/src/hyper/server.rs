//! [`serve`]: an accept loop that serves every connection with hyper, and
//! shuts down gracefully.

use std::cell::Cell;
use std::error::Error as StdError;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::{http1, http2};
use hyper::service::HttpService;
use lwt::{Promise, Resolver};

use super::auto::{self, Protocol, Sniffed, DEFAULT_DETECT_TIMEOUT};
use super::exec::{spawn_owned, LwtExecutor};
use super::timer::LwtTimer;
use crate::net::{Listening, TcpListener, TcpStream};

/// The protocol [`serve`] speaks on each connection, with hyper's settings
/// for it.
///
/// ```
/// use std::time::Duration;
/// use hyper::server::conn::http1;
/// use lwt_native::hyper::{Http, LwtTimer};
///
/// let _defaults = Http::http1();
/// let mut tuned = http1::Builder::new();
/// tuned.timer(LwtTimer).header_read_timeout(Duration::from_secs(2)).max_buf_size(64 << 10);
/// let _tuned = Http::Http1(tuned);
/// ```
#[derive(Clone, Debug)]
pub enum Http {
    /// HTTP/1.1 (and 1.0).
    Http1(http1::Builder),
    /// HTTP/2 over cleartext TCP, with prior knowledge (h2c: no upgrade
    /// from HTTP/1).
    Http2(http2::Builder<LwtExecutor>),
    /// Both, each connection served by the builder of the protocol it
    /// speaks. Over TLS ([`serve_tls`]) that is the protocol the handshake
    /// agreed by ALPN (`h2` or `http/1.1`: offer them with
    /// [`TlsAcceptor::with_alpn_protocols`](crate::tls::TlsAcceptor::with_alpn_protocols)).
    /// Otherwise (cleartext, or a TLS client that named no protocol) the
    /// first bytes tell: HTTP/2's connection preface, or anything else for
    /// HTTP/1. A connection that sends nothing for `detect_timeout`, or
    /// closes before its first bytes tell, is closed; the bytes read to
    /// tell are given to hyper as if unread.
    Auto {
        /// For the connections that speak HTTP/1.
        http1: http1::Builder,
        /// For the connections that speak HTTP/2.
        http2: http2::Builder<LwtExecutor>,
        /// How long a connection may take to send its first bytes.
        detect_timeout: Duration,
    },
}

impl Http {
    /// HTTP/1.1 with hyper's defaults and [`LwtTimer`], so hyper's default
    /// `header_read_timeout` (30 s: also how long a keep-alive connection
    /// may sit idle) is in force.
    ///
    /// ```
    /// assert!(matches!(lwt_native::hyper::Http::http1(), lwt_native::hyper::Http::Http1(_)));
    /// ```
    pub fn http1() -> Http {
        Http::Http1(http1_builder())
    }

    /// HTTP/2 (prior knowledge) with hyper's defaults, [`LwtExecutor`] for
    /// its streams and [`LwtTimer`] for its time-outs and keep-alive pings.
    ///
    /// ```
    /// assert!(matches!(lwt_native::hyper::Http::http2(), lwt_native::hyper::Http::Http2(_)));
    /// ```
    pub fn http2() -> Http {
        Http::Http2(http2_builder())
    }

    /// [`Http::Auto`] with the builders of [`Http::http1`] and
    /// [`Http::http2`] and [`DEFAULT_DETECT_TIMEOUT`] (30 s, hyper's own
    /// default header-read time-out).
    ///
    /// ```
    /// use lwt_native::hyper::{Http, DEFAULT_DETECT_TIMEOUT};
    /// match Http::auto() {
    ///     Http::Auto { detect_timeout, .. } => assert_eq!(detect_timeout, DEFAULT_DETECT_TIMEOUT),
    ///     _ => unreachable!(),
    /// }
    /// ```
    pub fn auto() -> Http {
        Http::Auto {
            http1: http1_builder(),
            http2: http2_builder(),
            detect_timeout: DEFAULT_DETECT_TIMEOUT,
        }
    }
}

/// hyper's HTTP/1 builder with [`LwtTimer`].
fn http1_builder() -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(LwtTimer);
    b
}

/// hyper's HTTP/2 builder with [`LwtExecutor`] and [`LwtTimer`].
fn http2_builder() -> http2::Builder<LwtExecutor> {
    let mut b = http2::Builder::new(LwtExecutor);
    b.timer(LwtTimer);
    b
}

/// Serves the connections that `listener` accepts, each with a clone of
/// `service`, in its own task, until `shutdown` resolves (fulfilled or
/// rejected). Accepted sockets get `TCP_NODELAY`; an error on one connection
/// ends that connection only, and a failed accept (out of file descriptors,
/// say) is retried a few milliseconds later.
///
/// Once `shutdown` resolves, the server closes the listener (in that
/// resolution's callbacks: when the `resolve` that ends it returns, new
/// connections are refused, even when the code that resolved it is a
/// service the accept loop itself is running; past [`lwt::MAX_DEPTH`]
/// nested callbacks, when the outermost returns), asks each
/// connection to shut down gracefully (an HTTP/1 connection finishes the
/// request in flight, HTTP/2 sends `GOAWAY` and finishes its open streams),
/// and the returned promise is fulfilled when the last connection has
/// closed: bound the wait with [`lwt::with_timeout`] if clients may linger.
/// Canceling the promise, before or during that wait, closes the listener and
/// every connection at once, and rejects it; `shutdown` itself is never
/// canceled.
///
/// ```
/// use std::convert::Infallible;
/// use http_body_util::{BodyExt, Empty, Full};
/// use hyper::body::Bytes;
/// use hyper::{Request, Response};
/// use lwt_native::hyper::{handshake, serve, Http};
/// use lwt_native::net::{TcpListener, TcpStream};
///
/// lwt_native::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = listener.local_addr()?;
///     let hello = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
///     });
///     let (stop, stopper) = lwt::wait();
///     let server = serve(listener, Http::http1(), hello, stop);
///
///     let mut client = handshake(TcpStream::connect(addr).await?).await?;
///     let req = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new()).unwrap();
///     let body = client.send_request(req).await?.into_body().collect().await?.to_bytes();
///     assert_eq!(body, "hello");
///     drop(client);
///
///     stopper.resolve(())?;
///     server.await
/// }).unwrap();
/// ```
pub fn serve<S>(listener: TcpListener, http: Http, service: S, shutdown: Promise<()>) -> Promise<()>
where
    S: HttpService<Incoming> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let http = Rc::new(http);
    accept_loop(listener, shutdown, move |stream, _peer, stop| {
        let _ = stream.set_nodelay(true);
        spawn_owned(serve_connection(
            http.clone(),
            None,
            stream,
            service.clone(),
            stop,
        ))
    })
}

/// The accept loop of [`serve`] (and of `tls::serve_hyper`): each accepted
/// stream is handed to `start` with its peer's address and a promise that
/// resolves when the connection should shut down gracefully; `start`
/// returns the connection's task. Shutdown, cancel and failed accepts are
/// handled as [`serve`] documents.
pub(crate) fn accept_loop<F>(
    listener: TcpListener,
    shutdown: Promise<()>,
    mut start: F,
) -> Promise<()>
where
    F: FnMut(TcpStream, SocketAddr, Promise<()>) -> Promise<()> + 'static,
{
    // Waiting on `shutdown` through this, so that canceling the server
    // cancels the wrapper and never the caller's promise.
    let mut stop = lwt::protected(&shutdown);
    let listening = Rc::new(Listening::new(listener));
    // Closed by `stop`'s own callback, not by the loop once it sees `stop`
    // (see `Listening`). Weak: the loop's end (its future dropped) closes
    // the socket too, whatever becomes of `shutdown`.
    let weak = Rc::downgrade(&listening);
    stop.on_termination(move || {
        if let Some(l) = weak.upgrade() {
            l.close();
        }
    });
    spawn_owned(async move {
        let mut conns = Connections::default();
        // `None` once closed: `stop` has resolved, and is seen below.
        while let Some(mut accept) = listening.accept() {
            let next = poll_fn(|cx| {
                if let Poll::Ready(r) = Pin::new(&mut stop).poll(cx) {
                    return Poll::Ready(Err(r));
                }
                Pin::new(&mut accept).poll(cx).map(Ok)
            })
            .await;
            match next {
                Ok(Ok((stream, peer))) => conns.add(|stop| start(stream, peer, stop)),
                Ok(Err(e)) if e.is_canceled() => {
                    conns.abort();
                    return Err(e);
                }
                Ok(Err(_)) => {
                    // EMFILE and the like: give the system a moment.
                    if let Err(e) = lwt::sleep(Duration::from_millis(5)).await {
                        conns.abort();
                        return Err(e);
                    }
                }
                Err(_) => break,
            }
        }
        listening.close();
        match stop.peek() {
            Some(Err(e)) if e.is_canceled() && shutdown.is_pending() => {
                // The server's own promise was canceled.
                conns.abort();
                return Err(e);
            }
            Some(_) => {}
            None => unreachable!("the listener is closed only once `stop` has resolved"),
        }
        // Through `protected`: canceling the server now reaches this wait
        // only, and the connections are then aborted here.
        let drained = lwt::protected(&conns.shut_down()).await;
        if drained.is_err() {
            conns.abort();
        }
        drained
    })
}

/// The connections of one [`serve`], each with the resolver that asks it to
/// shut down.
#[derive(Default)]
struct Connections {
    live: Vec<(Promise<()>, Resolver<()>)>,
    /// The length after the last sweep of finished connections.
    swept: usize,
}

impl Connections {
    fn add(&mut self, start: impl FnOnce(Promise<()>) -> Promise<()>) {
        if self.live.len() >= 2 * self.swept.max(16) {
            self.live.retain(|(conn, _)| conn.is_pending());
            self.swept = self.live.len();
        }
        let (stop, stopper) = lwt::wait();
        let conn = start(stop);
        if conn.is_pending() {
            self.live.push((conn, stopper));
        }
    }

    fn abort(&mut self) {
        for (conn, _) in self.live.drain(..) {
            conn.abort();
        }
    }

    /// Asks every connection to shut down; the promise is fulfilled when
    /// they all have.
    fn shut_down(&mut self) -> Promise<()> {
        for (_, stopper) in &self.live {
            let _ = stopper.resolve(());
        }
        lwt::join(self.live.iter().map(|(conn, _)| conn.clone()))
    }
}

/// Serves one connection with hyper until it ends, shutting it down
/// gracefully once `stop` resolves. `known`: the protocol the TLS handshake
/// agreed on, if any, which [`Http::Auto`] follows instead of sniffing.
pub(crate) async fn serve_connection<I, S>(
    http: Rc<Http>,
    known: Option<Protocol>,
    io: I,
    service: S,
    stop: Promise<()>,
) -> Result<(), lwt::Error>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    S: HttpService<Incoming> + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    // Each arm serves with its own builder type: one line, written once.
    macro_rules! serve_with {
        ($builder:expr, $io:expr) => {
            drive($builder.serve_connection($io, service), stop, |c| {
                c.graceful_shutdown()
            })
            .await
        };
    }
    match &*http {
        Http::Http1(b) => serve_with!(b, io),
        Http::Http2(b) => serve_with!(b, io),
        Http::Auto {
            http1,
            http2,
            detect_timeout,
        } => match known {
            Some(Protocol::Http1) => serve_with!(http1, io),
            Some(Protocol::Http2) => serve_with!(http2, io),
            None => {
                let mut stopping = stop.clone();
                match auto::sniff(io, &mut stopping, *detect_timeout).await {
                    Sniffed::Speaks(Protocol::Http1, io) => serve_with!(http1, io),
                    Sniffed::Speaks(Protocol::Http2, io) => serve_with!(http2, io),
                    Sniffed::Dropped => Ok(()),
                }
            }
        },
    }
}

/// Polls `conn` to its end; when `stop` resolves first, calls `graceful` on
/// it and goes on. hyper's error for the connection (a client gone, a
/// time-out, bad input) ends it and is not reported further.
async fn drive<C, E>(
    conn: C,
    stop: Promise<()>,
    graceful: fn(Pin<&mut C>),
) -> Result<(), lwt::Error>
where
    C: Future<Output = Result<(), E>>,
{
    let mut conn = pin!(conn);
    // `stop` is watched by one callback for the connection's whole life, not
    // awaited at every poll: an await would add a callback to `stop` and a
    // cancel link to the task each time hyper's connection goes pending
    // (once or twice a request). The callback sets `asked` and wakes the
    // last waker the connection was polled with.
    let watch = Rc::new(StopWatch::default());
    let seen = watch.clone();
    stop.on_termination(move || {
        seen.asked.set(true);
        if let Some(w) = seen.waker.take() {
            w.wake();
        }
    });
    let mut stopping = false;
    poll_fn(|cx| {
        if conn.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if !stopping {
            if watch.asked.get() {
                stopping = true;
                graceful(conn.as_mut());
                if conn.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            } else {
                watch.remember(cx.waker());
            }
        }
        Poll::Pending
    })
    .await;
    Ok(())
}

/// What `drive`'s callback on `stop` shares with its poll function.
#[derive(Default)]
struct StopWatch {
    asked: Cell<bool>,
    /// The waker of the connection's last poll; taken by the callback.
    waker: Cell<Option<Waker>>,
}

impl StopWatch {
    /// Keeps `waker` for the callback, unless it already holds one that
    /// wakes the same task (the common case: no clone).
    ///
    /// The guard only saves clones, so its mutants are equivalent: `false`
    /// clones at every poll; `true` keeps the first waker, which still wakes
    /// the connection's task (a lent task waker keeps its task while held).
    fn remember(&self, waker: &Waker) {
        let held = self.waker.take();
        self.waker.set(match held {
            Some(w) if w.will_wake(waker) => Some(w),
            _ => Some(waker.clone()),
        });
    }
}

/// [`serve`] over TLS: each connection that `listener` accepts runs the
/// server's handshake with `acceptor` in a task of its own, bounded by the
/// acceptor's [`handshake_timeout`](crate::tls::TlsAcceptor::handshake_timeout),
/// then is served by hyper as [`serve`] does, until `shutdown` resolves
/// (graceful shutdown and cancel as [`serve`] documents; a handshake still
/// running at shutdown is dropped with its connection).
///
/// A failed handshake (a peer that does not speak TLS, a client that
/// rejects the certificate, a peer silent past the time limit) closes that
/// connection only, and is handed to `on_handshake_error` with the peer's
/// address: log it, count it, or ignore it with `|_, _| {}`. The server goes
/// on with the next connection. To serve HTTP/2 and HTTP/1.1 side by side,
/// as browsers expect, pass [`Http::auto`] and an acceptor that offers both
/// by ALPN ([`TlsAcceptor::with_alpn_protocols`](crate::tls::TlsAcceptor::with_alpn_protocols)):
/// each connection is served with the protocol its handshake agreed on.
///
/// ```
/// use std::cell::Cell;
/// use std::convert::Infallible;
/// use std::rc::Rc;
/// use http_body_util::{BodyExt, Empty, Full};
/// use hyper::body::Bytes;
/// use hyper::{Request, Response};
/// use lwt_native::hyper::{handshake, serve_tls, Http, Io};
/// use lwt_native::net::{TcpListener, TcpStream};
/// use lwt_native::tls::{TlsAcceptor, TlsConnector};
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
/// # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
///
/// // `cert_pem` and `key_pem`: a certificate for "localhost" and its key, in PEM.
/// let acceptor = TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
/// let connector = TlsConnector::from_root_pem(cert_pem.as_bytes()).unwrap();
/// lwt_native::run(async move {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = listener.local_addr()?;
///     let hello = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello over TLS"))))
///     });
///     let failed = Rc::new(Cell::new(0));
///     let count = failed.clone();
///     let (stop, stopper) = lwt::wait();
///     let server = serve_tls(listener, acceptor, Http::http1(), hello, stop,
///         move |_peer, _err| count.set(count.get() + 1));
///
///     // A peer that speaks plain HTTP fails its own handshake only...
///     let plain = TcpStream::connect(addr).await?;
///     plain.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n").await?;
///     let mut rest = Vec::new();
///     futures::AsyncReadExt::read_to_end(&mut &plain, &mut rest).await?;
///     drop(plain);
///
///     // ...and an HTTPS client is served after it.
///     let tls = lwt_native::tls::connect(addr, "localhost", &connector).await?;
///     let mut client = handshake(Io::new(tls)).await?;
///     let req = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new()).unwrap();
///     let body = client.send_request(req).await?.into_body().collect().await?.to_bytes();
///     assert_eq!(body, "hello over TLS");
///     drop(client);
///     assert_eq!(failed.get(), 1);
///
///     stopper.resolve(())?;
///     server.await
/// }).unwrap();
/// ```
#[cfg(feature = "tls")]
pub fn serve_tls<S, E>(
    listener: TcpListener,
    acceptor: crate::tls::TlsAcceptor,
    http: Http,
    service: S,
    shutdown: Promise<()>,
    on_handshake_error: E,
) -> Promise<()>
where
    S: HttpService<Incoming> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
    E: Fn(SocketAddr, lwt::Error) + 'static,
{
    let http = Rc::new(http);
    let report = Rc::new(on_handshake_error);
    accept_loop(listener, shutdown, move |tcp, peer, stop| {
        let _ = tcp.set_nodelay(true);
        let (acceptor, http, service, report) = (
            acceptor.clone(),
            http.clone(),
            service.clone(),
            report.clone(),
        );
        spawn_owned(async move {
            let mut stopping = stop.clone();
            let tls = crate::tls::unless(acceptor.accept(tcp), &mut stopping).await;
            match tls {
                // Shutting down: the handshake and its socket are dropped.
                None => Ok(()),
                Some(Err(e)) => {
                    report(peer, e);
                    Ok(())
                }
                Some(Ok(tls)) => {
                    let known = tls.get_ref().1.alpn_protocol().and_then(auto::from_alpn);
                    serve_connection(http, known, super::Io::new(tls), service, stop).await
                }
            }
        })
    })
}
