//! The www app's server, on `lwt-native`: the built web app as static files,
//! a WebSocket chat room with presence, and two small HTTP endpoints for the
//! promise lab.
//!
//! # Ground rules
//!
//! Read [`Server::start`] first.
//!
//! 1. **One accept loop**, one task per connection, all on the thread that
//!    runs `lwt_native::run`. A connection's task owns its socket; dropping
//!    the task (on [`Server::shutdown`]) closes the socket.
//! 2. **HTTP** (`http.rs`): hyper's HTTP/1.1 server on the loop's I/O and
//!    timer (`lwt_native::hyper`), with keep-alive; a head must come within
//!    [`Options::head_timeout`] (hyper's header-read timeout, also the idle
//!    limit between requests) and fit in [`MAX_HEAD_BYTES`] (else hyper
//!    answers `431`; a malformed head gets its `400`). Paths are
//!    percent-decoded and must stay under the root: `..`, `.`, backslashes
//!    and NUL are a `400`, a missing file a `404`, another method than
//!    `GET`/`HEAD` a `405`.
//! 3. **WebSocket** (`ws.rs`): `GET /ws` with the upgrade headers gets a
//!    `101` with tungstenite's accept key; hyper then gives the socket back
//!    (its manual upgrade) and every frame after it is `tungstenite`'s,
//!    through `async-tungstenite` over the `futures-io` traits of
//!    `lwt_native::net::TcpStream`. Bad frames, oversized messages and
//!    binary frames close the socket with the codes of
//!    [`lwt_www_shared::protocol::close`]; a bad JSON message gets an
//!    `error` message and the connection goes on.
//! 4. **Rooms** (`room.rs`): each member has a bounded outbox; a member too
//!    slow to drain it is dropped, so one client never holds up the others.
//! 5. **Bounded everything**: head size, frame size, outbox length, history
//!    length, delays; files are streamed [`FILE_CHUNK`] at a time, and a
//!    write that stays blocked for [`Options::write_timeout`] ends the
//!    connection (`io.rs`). Connections are capped overall and per client
//!    address ([`Options::max_conns`], [`Options::max_conns_per_addr`]);
//!    past a cap the accept loop closes a new one at once.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod http;
mod io;
mod room;
mod ws;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use lwt::{Error, Promise};
use lwt_native::loops::{Loops, LoopsHandle, Receiver, Sender};
use lwt_native::net::{TcpListener, TcpStream};
use serde::Serialize;

pub use http::{content_type, FILE_CHUNK};

/// The largest HTTP request head accepted, in bytes (larger: `431`).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long a client may take to send its request head, by default.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a write to a client may stay blocked, by default.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a WebSocket connection may take to say `hello`, by default.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a member may stay silent, by default.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The most connections open at once, by default.
pub const MAX_CONNS: usize = 1000;

/// The most connections open at once from one address, by default.
pub const MAX_CONNS_PER_ADDR: usize = 100;

/// The file descriptors the connection cap leaves to everything else (the
/// listener, the loop's own, files being sent): the cap is at most the
/// process's descriptor limit less these.
pub const FD_RESERVE: usize = 64;

/// The process's soft limit on open descriptors, where the system tells it
/// without `unsafe` (Linux's `/proc/self/limits`); `None` elsewhere or for
/// `unlimited`.
fn fd_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The chat rate the `lwt-www-server` program sets: 10 lines a second,
/// with bursts of 20.
pub const SAY_LIMIT: (Duration, u32) = (Duration::from_millis(100), 20);

/// The most log lines written in a second: what clients cause (refusals,
/// drops) cannot make logging take over the loop.
pub const LOG_LINES_PER_SEC: u32 = 50;

/// The longest `/api/slow` delay, in milliseconds.
pub const MAX_SLOW_MS: u64 = 60_000;

/// Counters, served as JSON at `/api/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// HTTP requests answered (any status).
    pub http_requests: u64,
    /// Requests refused with a 4xx status.
    pub http_rejected: u64,
    /// WebSocket connections open now.
    pub ws_open: u64,
    /// WebSocket connections accepted so far.
    pub ws_total: u64,
    /// WebSocket connections closed by the server for bad input.
    pub ws_refused: u64,
    /// `/api/slow` requests started.
    pub slow_started: u64,
    /// `/api/slow` requests answered.
    pub slow_completed: u64,
    /// `/api/slow` requests whose client went away before the answer.
    pub slow_aborted: u64,
    /// WebSocket requests canceled by their client.
    pub requests_canceled: u64,
    /// Connections open now (HTTP and WebSocket).
    pub conns_open: u64,
    /// Connections closed at once because a cap was reached
    /// ([`Options::max_conns`], [`Options::max_conns_per_addr`]).
    pub conns_refused: u64,
}

/// The server's shared state, on its thread.
pub(crate) struct State {
    /// The served directory, canonical.
    pub(crate) root: PathBuf,
    pub(crate) stats: RefCell<Stats>,
    pub(crate) rooms: room::Rooms,
    next_conn: Cell<u64>,
    conns: RefCell<HashMap<u64, Promise<()>>>,
    pub(crate) log: bool,
    pub(crate) head_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) hello_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    /// The connection caps, shared by every loop of [`serve_on_loops`].
    caps: Arc<Caps>,
    pub(crate) say_limit: Option<(Duration, u32)>,
    /// Log lines left in the current second, and when it started.
    log_budget: Cell<(u32, Option<std::time::Instant>)>,
    /// Log lines skipped since the last one written.
    log_skipped: Cell<u64>,
    /// Where WebSocket sessions go when the rooms are on another loop.
    chat_elsewhere: Option<Sender<Handoff>>,
    /// On several loops: every loop's counters, and this loop's place.
    board: Option<(Board, usize)>,
}

/// The connection caps and the connections they count. One for the whole
/// server, however many loops it runs on: the descriptor limit is the
/// process's, and which loop the kernel hands a connection to is its choice.
pub(crate) struct Caps {
    max_conns: usize,
    max_conns_per_addr: usize,
    /// Open connections, and open connections by client address.
    open: std::sync::Mutex<(usize, HashMap<IpAddr, usize>)>,
}

impl Caps {
    /// The caps of `options`, the overall one lowered (on Linux) to the
    /// descriptor limit less [`FD_RESERVE`].
    fn new(options: &Options) -> Arc<Caps> {
        Arc::new(Caps {
            max_conns: fd_limit().map_or(options.max_conns, |fds| {
                options.max_conns.min(fds.saturating_sub(FD_RESERVE))
            }),
            max_conns_per_addr: options.max_conns_per_addr,
            open: std::sync::Mutex::new((0, HashMap::new())),
        })
    }
}

/// The counters of every loop of [`serve_on_loops`], each loop writing its
/// own, so that `/api/stats` answers for the whole server.
type Board = std::sync::Arc<std::sync::Mutex<Vec<Stats>>>;

impl Stats {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: &Stats) {
        let Stats {
            http_requests,
            http_rejected,
            ws_open,
            ws_total,
            ws_refused,
            slow_started,
            slow_completed,
            slow_aborted,
            requests_canceled,
            conns_open,
            conns_refused,
        } = other;
        self.http_requests += http_requests;
        self.http_rejected += http_rejected;
        self.ws_open += ws_open;
        self.ws_total += ws_total;
        self.ws_refused += ws_refused;
        self.slow_started += slow_started;
        self.slow_completed += slow_completed;
        self.slow_aborted += slow_aborted;
        self.requests_canceled += requests_canceled;
        self.conns_open += conns_open;
        self.conns_refused += conns_refused;
    }
}

impl State {
    /// The whole server's counters: this loop's, or the sum of every
    /// loop's when it runs on several.
    pub(crate) fn all_stats(&self) -> Stats {
        match &self.board {
            Some((board, _)) => {
                let mut sum = Stats::default();
                if let Ok(all) = board.lock() {
                    all.iter().for_each(|s| sum.add(s));
                }
                sum
            }
            None => self.stats.borrow().clone(),
        }
    }

    pub(crate) fn stat(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.borrow_mut());
        if let Some((board, me)) = &self.board {
            if let Ok(mut all) = board.lock() {
                all[*me] = self.stats.borrow().clone();
            }
        }
    }

    /// Logs `what`, at most [`LOG_LINES_PER_SEC`] lines a second; the
    /// lines past that are counted, and the count logged with the next
    /// second's first line.
    pub(crate) fn log(&self, what: std::fmt::Arguments<'_>) {
        if !self.log {
            return;
        }
        let now = std::time::Instant::now();
        let (left, since) = self.log_budget.get();
        let fresh = since.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if fresh {
            let skipped = self.log_skipped.replace(0);
            if skipped > 0 {
                eprintln!("lwt-www-server: ({skipped} log lines skipped)");
            }
            self.log_budget.set((LOG_LINES_PER_SEC - 1, Some(now)));
        } else if left == 0 {
            self.log_skipped.set(self.log_skipped.get() + 1);
            return;
        } else {
            self.log_budget.set((left - 1, since));
        }
        eprintln!("lwt-www-server: {what}");
    }
}

/// What [`Server::start`] needs.
///
/// ```
/// let o = lwt_www_server::Options::new("www/dist");
/// assert!(o.log);
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    /// The directory served at `/` (the built app).
    pub root: PathBuf,
    /// Whether to log connections and errors to stderr.
    pub log: bool,
    /// How long a client may take to send a request head, and how long a
    /// kept-alive connection may sit idle: past it hyper closes the
    /// connection ([`HEAD_TIMEOUT`] by default).
    pub head_timeout: Duration,
    /// How long a write to a client (a response, a WebSocket frame) may
    /// stay blocked because the client reads nothing: past it the
    /// connection is closed ([`WRITE_TIMEOUT`] by default).
    pub write_timeout: Duration,
    /// How long a WebSocket connection may take to say `hello` after the
    /// upgrade ([`HELLO_TIMEOUT`] by default): past it it is closed with
    /// [`close::TIMEOUT`](lwt_www_shared::protocol::close::TIMEOUT).
    pub hello_timeout: Duration,
    /// How long a member may send nothing (not even a ping): past it it
    /// leaves its room, the others are told, and its connection is closed
    /// with [`close::TIMEOUT`](lwt_www_shared::protocol::close::TIMEOUT)
    /// ([`IDLE_TIMEOUT`] by default; the clients ping every 5 s).
    pub idle_timeout: Duration,
    /// The most connections open at once ([`MAX_CONNS`] by default): past
    /// it a new connection is closed as soon as it is accepted, so none
    /// wait in the backlog. On Linux the server lowers it, when it starts,
    /// to the process's descriptor limit less [`FD_RESERVE`], so that the
    /// cap is met before `accept` runs out of descriptors (which would
    /// leave new clients waiting in the backlog).
    pub max_conns: usize,
    /// The most connections open at once from one client address
    /// ([`MAX_CONNS_PER_ADDR`] by default), closed the same way past it.
    pub max_conns_per_addr: usize,
    /// The chat rate of each member, as (one line per, burst): a line past
    /// it is refused with a `rate_limited` error and not relayed. `None`
    /// (the default here) sets no limit; the `lwt-www-server` program sets
    /// [`SAY_LIMIT`].
    pub say_limit: Option<(Duration, u32)>,
}

impl Options {
    /// Serves `root`, with logging.
    ///
    /// ```
    /// let o = lwt_www_server::Options::new("/srv/app");
    /// assert_eq!(o.root, std::path::PathBuf::from("/srv/app"));
    /// ```
    pub fn new(root: impl Into<PathBuf>) -> Options {
        Options {
            root: root.into(),
            log: true,
            head_timeout: HEAD_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
            hello_timeout: HELLO_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            max_conns: MAX_CONNS,
            max_conns_per_addr: MAX_CONNS_PER_ADDR,
            say_limit: None,
        }
    }
}

/// A running server: see the [crate docs](crate).
///
/// ```
/// use lwt_www_server::{Options, Server};
/// lwt_native::run(async {
///     let server = Server::start("127.0.0.1:0".parse().unwrap(), Options::new("."))?;
///     assert!(server.local_addr().ip().is_loopback());
///     server.shutdown();
///     Ok(())
/// }).unwrap();
/// ```
pub struct Server {
    state: Rc<State>,
    addr: SocketAddr,
    accept: Promise<()>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("root", &self.state.root)
            .finish()
    }
}

impl Server {
    /// Binds `addr` and starts serving on the current thread's loop (call it
    /// inside `lwt_native::run`, or after `lwt_native::install`).
    ///
    /// See [`Server`] for an example.
    pub fn start(addr: SocketAddr, options: Options) -> std::io::Result<Server> {
        Server::start_on(TcpListener::bind(addr)?, options, None)
    }

    /// Starts serving on `listener`, on the current thread's loop. With
    /// `chat_elsewhere`, the rooms are on another loop: each WebSocket
    /// connection, once upgraded, is handed to it (see [`serve_on_loops`]
    /// and [`Server::take_handoffs`]); without, they are here.
    ///
    /// ```
    /// lwt_native::run(async {
    ///     let l = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    ///     let s = lwt_www_server::Server::start_on(l, lwt_www_server::Options::new("."), None)?;
    ///     assert_ne!(s.local_addr().port(), 0);
    ///     s.shutdown();
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn start_on(
        listener: TcpListener,
        options: Options,
        chat_elsewhere: Option<Sender<Handoff>>,
    ) -> std::io::Result<Server> {
        Server::start_with(listener, options, chat_elsewhere, None, None)
    }

    fn start_with(
        listener: TcpListener,
        options: Options,
        chat_elsewhere: Option<Sender<Handoff>>,
        board: Option<(Board, usize)>,
        caps: Option<Arc<Caps>>,
    ) -> std::io::Result<Server> {
        // Resolved once: each request's file is checked to lie under it.
        let root = options.root.canonicalize().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("the root {}: {e}", options.root.display()),
            )
        })?;
        let addr = listener.local_addr()?;
        let state = Rc::new(State {
            root,
            stats: RefCell::new(Stats::default()),
            rooms: room::Rooms::default(),
            next_conn: Cell::new(0),
            conns: RefCell::new(HashMap::new()),
            log: options.log,
            head_timeout: options.head_timeout,
            write_timeout: options.write_timeout,
            hello_timeout: options.hello_timeout,
            idle_timeout: options.idle_timeout,
            caps: caps.unwrap_or_else(|| Caps::new(&options)),
            say_limit: options.say_limit,
            log_budget: Cell::new((0, None)),
            log_skipped: Cell::new(0),
            chat_elsewhere,
            board,
        });
        let accept = lwt::spawn(accept_loop(state.clone(), listener));
        Ok(Server {
            state,
            addr,
            accept,
        })
    }

    /// The address the server listens on.
    ///
    /// See [`Server`] for an example.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters of this loop (on several loops, `/api/stats`
    /// answers for all: see [`serve_on_loops`]).
    ///
    /// ```
    /// lwt_native::run(async {
    ///     let s = lwt_www_server::Server::start("127.0.0.1:0".parse().unwrap(), lwt_www_server::Options::new("."))?;
    ///     assert_eq!(s.stats().ws_open, 0);
    ///     s.shutdown();
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn stats(&self) -> Stats {
        self.state.stats.borrow().clone()
    }

    /// The promise of the accept loop: pending while the server runs.
    ///
    /// ```
    /// lwt_native::run(async {
    ///     let s = lwt_www_server::Server::start("127.0.0.1:0".parse().unwrap(), lwt_www_server::Options::new("."))?;
    ///     let serving = s.serving();
    ///     lwt::pause().await?;
    ///     assert!(serving.is_pending());
    ///     s.shutdown();
    ///     assert!(serving.await.unwrap_err().is_canceled());
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn serving(&self) -> Promise<()> {
        self.accept.clone()
    }

    /// Serves here the WebSocket connections that servers on other loops
    /// hand over (the rooms are here): each joins this loop with its socket
    /// and what the client sent past its head, counted against this
    /// server's caps. Stops with [`Server::shutdown`], or once every sender
    /// is gone.
    ///
    /// See [`serve_on_loops`], which sets it up.
    pub fn take_handoffs(&self, from: Receiver<Handoff>) {
        let state = self.state.clone();
        self.state.spawn_conn(async move {
            while let Some(Handoff { stream, rest, peer }) = from.recv().await {
                let stream = match TcpStream::from_std(stream) {
                    Ok(s) => s,
                    Err(e) => {
                        state.log(format_args!("{peer}: a handed-over socket: {e}"));
                        continue;
                    }
                };
                match Slot::take(&state, peer.ip()) {
                    Some(slot) => {
                        let st = state.clone();
                        state.spawn_conn(async move {
                            let _slot = slot;
                            let conn = io::Conn::new(stream, st.write_timeout);
                            ws::run(st, conn, rest, peer).await
                        });
                    }
                    None => {
                        drop(stream);
                        state.stat(|s| s.conns_refused += 1);
                    }
                }
            }
            Ok(())
        });
    }

    /// Stops listening and drops every connection (their sockets close, the
    /// rooms empty).
    ///
    /// See [`Server`] for an example.
    pub fn shutdown(&self) {
        self.accept.cancel();
        let conns: Vec<_> = self.state.conns.borrow_mut().drain().collect();
        for (_, task) in conns {
            // Cancel first, so that what the connection waits on (a read, a
            // sleep, a deadline) is released; then drop it.
            task.cancel();
            task.abort();
        }
    }
}

async fn accept_loop(state: Rc<State>, listener: TcpListener) -> Result<(), Error> {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => match Slot::take(&state, peer.ip()) {
                Some(slot) => {
                    let st = state.clone();
                    state.spawn_conn(async move {
                        let _slot = slot;
                        connection(st, stream, peer).await
                    });
                }
                None => {
                    // Closed at once: the client sees the end at once, and
                    // the backlog stays free for the others.
                    drop(stream);
                    state.stat(|s| s.conns_refused += 1);
                }
            },
            Err(e) if e.is_canceled() => return Err(e),
            Err(e) => {
                // EMFILE and friends: back off a little, then go on.
                state.log(format_args!("accept failed: {e}"));
                lwt::sleep(Duration::from_millis(100)).await?;
            }
        }
    }
}

/// Answers one request of the connection from `peer`: the service of every
/// connection (`switched`: see [`crate::ws::upgrade`]). Never fails: a
/// refusal is an answer too.
async fn handle(
    state: Rc<State>,
    req: hyper::Request<hyper::body::Incoming>,
    peer: SocketAddr,
    switched: Rc<Cell<bool>>,
) -> Result<hyper::Response<http::Body>, std::convert::Infallible> {
    state.stat(|s| s.http_requests += 1);
    let answer = if req.uri().path() == lwt_www_shared::protocol::WS_PATH {
        ws::upgrade(&req, &switched)
    } else {
        http::route(&state, &req).await
    };
    Ok(answer.unwrap_or_else(|refusal| {
        state.stat(|s| s.http_rejected += 1);
        state.log(format_args!(
            "{peer}: {} {} -> {} {}",
            req.method(),
            req.uri(),
            refusal.status.as_u16(),
            refusal.message
        ));
        http::refusal_response(&refusal)
    }))
}

/// One open connection, counted against the caps until dropped (however
/// its task ends).
struct Slot(Rc<State>, IpAddr);

impl Slot {
    fn take(state: &Rc<State>, addr: IpAddr) -> Option<Slot> {
        let caps = &state.caps;
        let mut open = caps.open.lock().unwrap_or_else(|e| e.into_inner());
        let (all, per) = &mut *open;
        let mine = per.get(&addr).copied().unwrap_or(0);
        if *all >= caps.max_conns || mine >= caps.max_conns_per_addr {
            return None;
        }
        *all += 1;
        per.insert(addr, mine + 1);
        drop(open);
        state.stat(|s| s.conns_open += 1);
        Some(Slot(state.clone(), addr))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.stat(|s| s.conns_open -= 1);
        let mut open = self.0.caps.open.lock().unwrap_or_else(|e| e.into_inner());
        let (all, per) = &mut *open;
        *all -= 1;
        if let Some(n) = per.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.1);
            }
        }
    }
}

/// Serves one connection with hyper until it closes or switches to
/// WebSocket.
///
/// The switch is hyper's manual upgrade: its own (`hyper::upgrade::on`)
/// needs a `Send` socket, which the loop's are not. The service answers
/// `101` and notes it; hyper then ends the connection without closing the
/// socket and gives it back, with what the client sent past its head.
async fn connection(state: Rc<State>, stream: TcpStream, peer: SocketAddr) -> Result<(), Error> {
    let _ = stream.set_nodelay(true);
    let switched = Rc::new(Cell::new(false));
    let (st, sw) = (state.clone(), switched.clone());
    let service = hyper::service::service_fn(move |req| handle(st.clone(), req, peer, sw.clone()));
    match http::http1(state.head_timeout)
        .serve_connection(io::Conn::new(stream, state.write_timeout), service)
        .without_shutdown()
        .await
    {
        Ok(parts) if switched.get() => match &state.chat_elsewhere {
            None => ws::run(state, parts.io, parts.read_buf.to_vec(), peer).await,
            Some(chat) => {
                hand_over(&state, chat, parts.io, parts.read_buf.to_vec(), peer);
                Ok(())
            }
        },
        Ok(_) => Ok(()),
        Err(e) => {
            // hyper answered a malformed or oversized head itself (400,
            // 431) before closing; the other errors are the header-read
            // timeout and the client's going away.
            if e.is_parse() || e.is_parse_too_large() {
                state.stat(|s| {
                    s.http_requests += 1;
                    s.http_rejected += 1;
                });
                state.log(format_args!("{peer}: {e}"));
            } else if e.is_timeout() {
                state.log(format_args!("{peer}: {e}"));
            }
            // A client that goes away is not worth a line.
            Ok(())
        }
    }
}

/// A WebSocket connection on its way to the loop of the rooms: the socket
/// (after its `101`), the bytes the client sent past its head, its address.
#[derive(Debug)]
pub struct Handoff {
    stream: std::net::TcpStream,
    rest: Vec<u8>,
    peer: SocketAddr,
}

/// Sends an upgraded connection to the rooms' loop; if that loop is gone
/// (shutting down), the connection closes.
fn hand_over(
    state: &State,
    chat: &Sender<Handoff>,
    conn: io::Conn,
    rest: Vec<u8>,
    peer: SocketAddr,
) {
    // A duplicate of the socket goes: a handle to it may linger here a
    // little (in the value of the promise it was accepted with), unused.
    match conn.into_inner().try_clone_std() {
        Ok(stream) => {
            if chat.send(Handoff { stream, rest, peer }).is_err() {
                state.log(format_args!("{peer}: the chat loop is gone; closed"));
            }
        }
        Err(e) => state.log(format_args!("{peer}: handing the socket over: {e}; closed")),
    }
}

/// Serves on `threads` loops, one per thread, sharing `addr` (an
/// `SO_REUSEPORT` listener each: see `lwt_native::loops`): every loop
/// serves HTTP; the chat rooms are on loop 0, to which the other loops hand
/// each WebSocket connection once it is upgraded, so that every member
/// meets the others in the same rooms. The caps hold for the whole server
/// (one count, whichever loop a connection lands on). `/api/stats` answers with the sum of every loop's counters.
/// Returns the bound address and the loops'
/// handle: [`LoopsHandle::shutdown`] stops them all, and
/// [`LoopsHandle::join`] gives each loop's final [`Stats`], in loop order.
///
/// ```
/// let (addr, loops) = lwt_www_server::serve_on_loops(
///     "127.0.0.1:0".parse().unwrap(),
///     lwt_www_server::Options::new("."),
///     2,
/// )
/// .unwrap();
/// assert_ne!(addr.port(), 0);
/// loops.shutdown();
/// let stats = loops.join().unwrap();
/// assert_eq!(stats.len(), 2);
/// assert_eq!(stats[0].ws_total, 0);
/// ```
pub fn serve_on_loops(
    addr: SocketAddr,
    options: Options,
    threads: usize,
) -> std::io::Result<(SocketAddr, LoopsHandle<Stats>)> {
    let threads = threads.max(1);
    let caps = Caps::new(&options);
    let (to_chat, chat) = lwt_native::loops::channel::<Handoff>();
    let chat = std::sync::Mutex::new(Some(chat));
    let board: Board = std::sync::Arc::new(std::sync::Mutex::new(vec![Stats::default(); threads]));
    Loops::new(threads)
        .name("lwt-www")
        .listen(addr, move |listener, ctx| {
            let here = ctx.index() == 0;
            let elsewhere = (!here).then(|| to_chat.clone());
            let place = Some((board.clone(), ctx.index()));
            let server = Server::start_with(
                listener,
                options.clone(),
                elsewhere,
                place,
                Some(caps.clone()),
            );
            if let (true, Ok(server)) = (here, &server) {
                if let Some(from) = chat.lock().ok().and_then(|mut c| c.take()) {
                    server.take_handoffs(from);
                }
            }
            async move {
                let server = server?;
                let outcome = lwt::pick([server.serving(), ctx.shutdown()]).await;
                server.shutdown();
                match outcome {
                    Err(e) if !e.is_canceled() => Err(e),
                    _ => Ok(server.stats()),
                }
            }
        })
}

impl State {
    /// Runs `task` as one of the server's connections: [`Server::shutdown`]
    /// drops it.
    pub(crate) fn spawn_conn(
        self: &Rc<Self>,
        task: impl std::future::Future<Output = Result<(), Error>> + 'static,
    ) {
        let id = self.next_conn.get() + 1;
        self.next_conn.set(id);
        let st = self.clone();
        let task = lwt::spawn(async move {
            let r = task.await;
            st.conns.borrow_mut().remove(&id);
            r
        });
        if task.is_pending() {
            self.conns.borrow_mut().insert(id, task.clone());
        }
        task.on_failure(|_| ());
    }
}
