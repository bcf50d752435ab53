//! The client state machine: connect, say hello, keep the connection alive
//! with heartbeats, reconnect with exponential backoff and jitter, and match
//! requests with their responses.
//!
//! # Ground rules
//!
//! 1. **One supervisor task** ([`Client::start`]) owns the connection. It
//!    loops: connect (with a timeout), run a session, and when the session
//!    ends for any reason, wait a [`Backoff`] delay and start again. Only
//!    [`Client::stop`] ends it.
//! 2. **A session** sends `hello`, waits (with the same timeout) for
//!    `welcome`, then runs three tasks until the first of them fails:
//!    the reader (dispatches frames), the heartbeat (a `ping` every
//!    `heartbeat_every`; no `pong` within `heartbeat_timeout` ends the
//!    session) and the writer (drains the outbox). `lwt::pick` cancels the
//!    other two.
//! 3. **Chat lines survive reconnections**: [`Client::say`] queues them in
//!    an outbox that the next session's writer sends. **Requests do not**:
//!    [`Client::request`] needs a live session, and a session's end rejects
//!    the requests it carried.
//! 4. **Canceling a request** (directly, through `lwt::with_timeout` or
//!    `lwt::pick`) forgets it and tells the server with a `cancel` message.
//! 5. **Status changes and server messages go to one callback**, called
//!    with no borrow held, so it may call back into the client.
//! 6. No clock, no I/O and no `cfg` here: time is `lwt::sleep` on whichever
//!    engine runs, I/O is the [`Connector`] the caller gives.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use lwt::{Condition, Error, Promise, Resolver};

use crate::protocol::{check_name, check_text, ClientMsg, Op, Reply, ServerMsg};
use crate::transport::{Connection, Connector};
use lwt_patterns::{Backoff, Rng};

/// How a [`Client`] connects and keeps its connection.
///
/// ```
/// let c = lwt_www_shared::Config::new("ada", "lobby");
/// assert_eq!(c.name, "ada");
/// assert!(c.heartbeat_timeout < c.heartbeat_every * 2);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// The display name sent in `hello`.
    pub name: String,
    /// The room to join.
    pub room: String,
    /// The longest a connection attempt may take, `welcome` included.
    pub connect_timeout: Duration,
    /// How often a `ping` is sent.
    pub heartbeat_every: Duration,
    /// How long a `pong` may take before the connection is deemed dead.
    pub heartbeat_timeout: Duration,
    /// The delays between reconnection attempts, numbered by failed
    /// attempts so far (1 after the first), the convention of
    /// [`Backoff`]. Its `attempts` and `seed` are not used: the client
    /// retries until stopped, and draws its jitter from [`Config::seed`].
    pub backoff: Backoff,
    /// The seed of the jitter's random source.
    pub seed: u64,
}

impl Config {
    /// The defaults for `name` in `room`: 5 s to connect, a ping every 5 s
    /// answered within 3 s, [`Backoff::default`].
    ///
    /// ```
    /// let c = lwt_www_shared::Config::new("bob", "lobby");
    /// assert_eq!(c.room, "lobby");
    /// ```
    pub fn new(name: impl Into<String>, room: impl Into<String>) -> Config {
        Config {
            name: name.into(),
            room: room.into(),
            connect_timeout: Duration::from_secs(5),
            heartbeat_every: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(3),
            backoff: Backoff::default(),
            seed: 0x5eed,
        }
    }
}

/// Where a [`Client`] is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Opening a connection; `attempt` failed attempts since the last
    /// successful session. Leads to `Connected` or `Waiting`.
    Connecting {
        /// Failed attempts so far.
        attempt: u32,
    },
    /// In the room under the name `you`. Leads to `Waiting` when the
    /// connection ends, or to `Stopped`.
    Connected {
        /// The unique name the server gave.
        you: String,
    },
    /// Waiting `delay` before attempt `attempt`, because of `reason`.
    /// Leads to `Connecting`, or to `Stopped`.
    Waiting {
        /// The attempt that comes next.
        attempt: u32,
        /// How long the wait is.
        delay: Duration,
        /// Why the last connection or attempt ended.
        reason: String,
    },
    /// [`Client::stop`] was called. Nothing follows it.
    Stopped,
}

impl Status {
    /// A one-word name: `connecting`, `connected`, `waiting`, `stopped`.
    ///
    /// ```
    /// assert_eq!(lwt_www_shared::Status::Stopped.name(), "stopped");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Status::Connecting { .. } => "connecting",
            Status::Connected { .. } => "connected",
            Status::Waiting { .. } => "waiting",
            Status::Stopped => "stopped",
        }
    }
}

/// What a [`Client`] reports to its callback.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The status changed.
    Status(Status),
    /// A message from the server that is not the answer to a ping or a
    /// request: `welcome`, `chat`, `presence`, refusals.
    Message(ServerMsg),
    /// A heartbeat's round trip.
    Latency(Duration),
}

struct Inner {
    connector: Rc<dyn Connector>,
    config: Config,
    rng: RefCell<Rng>,
    status: RefCell<Status>,
    on_event: Box<dyn Fn(&Event)>,
    conn: RefCell<Option<Rc<dyn Connection>>>,
    welcome: RefCell<Option<Resolver<String>>>,
    outbox: RefCell<VecDeque<String>>,
    more: Condition<()>,
    next_id: Cell<u64>,
    pongs: RefCell<HashMap<u64, Resolver<()>>>,
    pending: RefCell<HashMap<u64, Resolver<Reply>>>,
    sessions: Cell<u64>,
    stopped: Cell<bool>,
}

impl Inner {
    fn emit(&self, event: Event) {
        (self.on_event)(&event);
    }

    fn set_status(&self, status: Status) {
        *self.status.borrow_mut() = status.clone();
        self.emit(Event::Status(status));
    }

    fn next_id(&self) -> u64 {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        id
    }

    fn dispatch(&self, msg: ServerMsg) {
        match msg {
            ServerMsg::Pong { id } => {
                let r = self.pongs.borrow_mut().remove(&id);
                if let Some(r) = r {
                    let _ = r.resolve(());
                }
            }
            ServerMsg::Response { id, reply } => {
                let r = self.pending.borrow_mut().remove(&id);
                if let Some(r) = r {
                    let _ = r.resolve(reply);
                }
            }
            // The answer to a request: one no longer pending (canceled, timed
            // out) is dropped, as a late `Response` is.
            ServerMsg::Error {
                id: Some(id),
                code,
                message,
            } => {
                let r = self.pending.borrow_mut().remove(&id);
                if let Some(r) = r {
                    let _ = r.reject(Error::msg(format!("{code}: {message}")));
                }
            }
            ServerMsg::Welcome { ref you, .. } => {
                let w = self.welcome.borrow_mut().take();
                if let Some(w) = w {
                    let _ = w.resolve(you.clone());
                }
                self.emit(Event::Message(msg));
            }
            other => self.emit(Event::Message(other)),
        }
    }

    /// A session ended: forget the connection, fail what it carried.
    fn end_session(&self, conn: &Rc<dyn Connection>) {
        let current = self.conn.borrow_mut().take();
        drop(current);
        conn.close();
        self.pongs.borrow_mut().clear();
        let pending: Vec<_> = self.pending.borrow_mut().drain().collect();
        for (_, r) in pending {
            let _ = r.reject(Error::closed("the connection was lost"));
        }
    }
}

/// A chat client that stays connected: see the [module docs](self).
///
/// ```
/// use std::rc::Rc;
/// use lwt::{Error, Promise};
/// use lwt_www_shared::{Client, Config, Connection, Connector, Status};
///
/// struct Down;
/// impl Connector for Down {
///     fn connect(&self) -> Promise<Rc<dyn Connection>> {
///         Promise::rejected(Error::msg("connection refused"))
///     }
/// }
/// let engine = lwt::testing::VirtualEngine::new();
/// let client = Client::start(Rc::new(Down), Config::new("ada", "lobby"), |_event| {}).unwrap();
/// engine.run_until_idle();
/// assert_eq!(client.status().name(), "waiting");
/// client.stop();
/// assert_eq!(client.status(), Status::Stopped);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
    task: Promise<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("status", &*self.inner.status.borrow())
            .field("queued", &self.inner.outbox.borrow().len())
            .field("pending_requests", &self.inner.pending.borrow().len())
            .finish()
    }
}

impl Client {
    /// Starts the client: it connects through `connector` at once, and
    /// reports to `on_event` until [`Client::stop`].
    ///
    /// The name and the room are checked first ([`check_name`]):
    /// one the server would refuse is an error here, rather than a
    /// connection refused again at every reconnection.
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use lwt::{Error, Promise};
    /// # use lwt_www_shared::{Connection, Connector};
    /// # struct Down; // a server that is never there
    /// # impl Connector for Down {
    /// #     fn connect(&self) -> Promise<Rc<dyn Connection>> {
    /// #         Promise::rejected(Error::msg("connection refused"))
    /// #     }
    /// # }
    /// # fn connector() -> Rc<dyn Connector> { Rc::new(Down) }
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// let client = lwt_www_shared::Client::start(
    ///     connector(),
    ///     lwt_www_shared::Config::new("ada", "lobby"),
    ///     |event| println!("{event:?}"),
    /// )
    /// .unwrap();
    /// client.say("hello").unwrap();
    /// # engine.run_until_idle();
    /// assert_eq!(client.queued(), 1); // sent once a connection is made
    /// assert!(lwt_www_shared::Client::start(connector(), lwt_www_shared::Config::new("", "lobby"), |_| {}).is_err());
    /// # client.stop();
    /// ```
    pub fn start(
        connector: Rc<dyn Connector>,
        mut config: Config,
        on_event: impl Fn(&Event) + 'static,
    ) -> Result<Client, Error> {
        config.name = check_name(&config.name).map_err(|e| Error::msg(format!("bad name: {e}")))?;
        config.room = check_name(&config.room).map_err(|e| Error::msg(format!("bad room: {e}")))?;
        let inner = Rc::new(Inner {
            connector,
            rng: RefCell::new(Rng::new(config.seed)),
            config,
            status: RefCell::new(Status::Connecting { attempt: 0 }),
            on_event: Box::new(on_event),
            conn: RefCell::new(None),
            welcome: RefCell::new(None),
            outbox: RefCell::new(VecDeque::new()),
            more: Condition::new(),
            next_id: Cell::new(0),
            pongs: RefCell::new(HashMap::new()),
            pending: RefCell::new(HashMap::new()),
            sessions: Cell::new(0),
            stopped: Cell::new(false),
        });
        let task = lwt::spawn(supervise(inner.clone()));
        Ok(Client { inner, task })
    }

    /// The current status.
    ///
    /// See [`Client`] for an example.
    pub fn status(&self) -> Status {
        self.inner.status.borrow().clone()
    }

    /// How many sessions reached `welcome` so far (1 after the first
    /// connection, 2 after the first reconnection, ...).
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use lwt::{Error, Promise};
    /// # use lwt_www_shared::{Client, Config, Connection, Connector};
    /// # struct Down; // a server that is never there
    /// # impl Connector for Down {
    /// #     fn connect(&self) -> Promise<Rc<dyn Connection>> {
    /// #         Promise::rejected(Error::msg("connection refused"))
    /// #     }
    /// # }
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// # let client = Client::start(Rc::new(Down), Config::new("ada", "lobby"), |_| {}).unwrap();
    /// # engine.run_until_idle();
    /// // This client's server is never there: no session yet.
    /// assert_eq!(client.sessions(), 0);
    /// # client.stop();
    /// ```
    pub fn sessions(&self) -> u64 {
        self.inner.sessions.get()
    }

    /// Queues a chat line; it is sent now if connected, or by the next
    /// session. An empty or too long text is refused.
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use lwt::{Error, Promise};
    /// # use lwt_www_shared::{Client, Config, Connection, Connector};
    /// # struct Down; // a server that is never there
    /// # impl Connector for Down {
    /// #     fn connect(&self) -> Promise<Rc<dyn Connection>> {
    /// #         Promise::rejected(Error::msg("connection refused"))
    /// #     }
    /// # }
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// # let client = Client::start(Rc::new(Down), Config::new("ada", "lobby"), |_| {}).unwrap();
    /// # engine.run_until_idle();
    /// client.say("hello").unwrap();
    /// assert!(client.say("").is_err());
    /// assert_eq!(client.queued(), 1);
    /// # client.stop();
    /// ```
    pub fn say(&self, text: &str) -> Result<(), Error> {
        check_text(text).map_err(Error::invalid_argument)?;
        let frame = ClientMsg::Say {
            text: text.to_owned(),
        }
        .encode();
        self.inner.outbox.borrow_mut().push_back(frame);
        self.inner.more.signal(());
        Ok(())
    }

    /// Chat lines queued and not sent yet.
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use lwt::{Error, Promise};
    /// # use lwt_www_shared::{Client, Config, Connection, Connector};
    /// # struct Down; // a server that is never there
    /// # impl Connector for Down {
    /// #     fn connect(&self) -> Promise<Rc<dyn Connection>> {
    /// #         Promise::rejected(Error::msg("connection refused"))
    /// #     }
    /// # }
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// # let client = Client::start(Rc::new(Down), Config::new("ada", "lobby"), |_| {}).unwrap();
    /// # engine.run_until_idle();
    /// assert_eq!(client.queued(), 0);
    /// client.say("hello").unwrap();
    /// assert_eq!(client.queued(), 1); // not connected: it waits
    /// # client.stop();
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.outbox.borrow().len()
    }

    /// Requests waiting for their response.
    ///
    /// ```
    /// # use std::rc::Rc;
    /// # use lwt::{Error, Promise};
    /// # use lwt_www_shared::{Client, Config, Connection, Connector};
    /// # struct Down; // a server that is never there
    /// # impl Connector for Down {
    /// #     fn connect(&self) -> Promise<Rc<dyn Connection>> {
    /// #         Promise::rejected(Error::msg("connection refused"))
    /// #     }
    /// # }
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// # let client = Client::start(Rc::new(Down), Config::new("ada", "lobby"), |_| {}).unwrap();
    /// # engine.run_until_idle();
    /// assert_eq!(client.pending_requests(), 0);
    /// # client.stop();
    /// ```
    pub fn pending_requests(&self) -> usize {
        self.inner.pending.borrow().len()
    }

    /// Sends a request; the promise of its reply. Rejected at once when not
    /// connected, and when the connection is lost before the reply.
    /// Canceling the promise sends `cancel` to the server.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lwt_www_shared::protocol::Op;
    /// # use std::rc::Rc;
    /// # use lwt::{Error, Promise};
    /// # use lwt_www_shared::{Client, Config, Connection, Connector};
    /// # struct Down; // a server that is never there
    /// # impl Connector for Down {
    /// #     fn connect(&self) -> Promise<Rc<dyn Connection>> {
    /// #         Promise::rejected(Error::msg("connection refused"))
    /// #     }
    /// # }
    /// # let engine = lwt::testing::VirtualEngine::new();
    /// # let client = Client::start(Rc::new(Down), Config::new("ada", "lobby"), |_| {}).unwrap();
    /// # engine.run_until_idle();
    /// let slow = client.request(Op::Delay { ms: 10_000 });
    /// let reply = lwt::with_timeout(Duration::from_secs(1), &slow); // cancels it after 1 s
    /// // This client's server is never there: rejected at once.
    /// assert!(reply.peek().unwrap().unwrap_err().is_closed());
    /// assert_eq!(client.pending_requests(), 0);
    /// # client.stop();
    /// ```
    pub fn request(&self, op: Op) -> Promise<Reply> {
        let conn = self.inner.conn.borrow().clone();
        let Some(conn) = conn else {
            return Promise::rejected(Error::closed("not connected"));
        };
        let id = self.inner.next_id();
        let (p, r) = lwt::task::<Reply>();
        self.inner.pending.borrow_mut().insert(id, r);
        let weak = Rc::downgrade(&self.inner);
        p.on_cancel(move || {
            let Some(inner) = weak.upgrade() else { return };
            let had = inner.pending.borrow_mut().remove(&id).is_some();
            let conn = inner.conn.borrow().clone();
            if let (true, Some(conn)) = (had, conn) {
                lwt::dont_wait(|| conn.send(ClientMsg::Cancel { id }.encode()), |_| ());
            }
        });
        let weak = Rc::downgrade(&self.inner);
        conn.send(ClientMsg::Request { id, op }.encode())
            .on_failure(move |e| {
                let r = weak
                    .upgrade()
                    .and_then(|i| i.pending.borrow_mut().remove(&id));
                if let Some(r) = r {
                    let _ = r.reject(e);
                }
            });
        p
    }

    /// Stops the client for good: closes the connection, rejects pending
    /// requests, drops queued lines, and reports [`Status::Stopped`].
    ///
    /// See [`Client`] for an example.
    pub fn stop(&self) {
        if self.inner.stopped.replace(true) {
            return;
        }
        // Cancel first, so that what the supervisor waits on (a sleep, a
        // connection attempt) is released; then drop it.
        self.task.cancel();
        self.task.abort();
        self.inner.outbox.borrow_mut().clear();
        self.inner.set_status(Status::Stopped);
    }
}

/// Cancels a session's tasks and ends the session when dropped, on every
/// path out of it (including [`Client::stop`] dropping the supervisor).
struct SessionGuard {
    inner: Rc<Inner>,
    conn: Rc<dyn Connection>,
    tasks: Vec<Promise<()>>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        let _ = self.inner.welcome.borrow_mut().take();
        for t in self.tasks.drain(..) {
            t.cancel();
        }
        self.inner.end_session(&self.conn);
    }
}

async fn supervise(inner: Rc<Inner>) -> Result<(), Error> {
    let mut attempt = 0u32;
    loop {
        inner.set_status(Status::Connecting { attempt });
        let connecting = inner.connector.connect();
        let reason = match lwt::with_timeout(inner.config.connect_timeout, &connecting).await {
            Ok(conn) => {
                let (reason, welcomed) = session(&inner, conn).await;
                if welcomed {
                    attempt = 0;
                }
                reason
            }
            Err(e) if e.is_timeout() => Error::msg(format!(
                "no connection within {:?}",
                inner.config.connect_timeout
            )),
            Err(e) => e,
        };
        if inner.stopped.get() {
            return Err(Error::canceled());
        }
        attempt = attempt.saturating_add(1);
        let unit = inner.rng.borrow_mut().unit();
        let delay = inner.config.backoff.delay(attempt, unit);
        inner.set_status(Status::Waiting {
            attempt,
            delay,
            reason: reason.to_string(),
        });
        lwt::sleep(delay).await?;
    }
}

/// Runs one session on `conn`; returns why it ended and whether it got as
/// far as `welcome`.
async fn session(inner: &Rc<Inner>, conn: Rc<dyn Connection>) -> (Error, bool) {
    let mut guard = SessionGuard {
        inner: inner.clone(),
        conn: conn.clone(),
        tasks: Vec::new(),
    };
    let (welcomed, welcome) = lwt::task::<String>();
    *inner.welcome.borrow_mut() = Some(welcome);
    let hello = ClientMsg::Hello {
        name: inner.config.name.clone(),
        room: inner.config.room.clone(),
    };
    if let Err(e) = conn.send(hello.encode()).await {
        return (e, false);
    }
    let reader = lwt::spawn(read(inner.clone(), conn.clone()));
    guard.tasks.push(reader.clone());
    let you = match lwt::with_timeout(inner.config.connect_timeout, &welcomed).await {
        Ok(you) => you,
        Err(e) if e.is_timeout() => return (Error::msg("no welcome from the server"), false),
        Err(e) => return (e, false),
    };
    inner.sessions.set(inner.sessions.get() + 1);
    *inner.conn.borrow_mut() = Some(conn.clone());
    let heart = lwt::spawn(heartbeat(inner.clone(), conn.clone()));
    let writer = lwt::spawn(write(inner.clone(), conn.clone()));
    guard.tasks.push(heart.clone());
    guard.tasks.push(writer.clone());
    inner.set_status(Status::Connected { you });
    let end = lwt::pick(vec![reader, heart, writer]).await;
    let reason = end
        .err()
        .unwrap_or_else(|| Error::closed("the session ended"));
    drop(guard);
    (reason, true)
}

/// Dispatches frames until the connection ends; always ends with an error.
async fn read(inner: Rc<Inner>, conn: Rc<dyn Connection>) -> Result<(), Error> {
    let e = loop {
        match conn.recv().await {
            Ok(Some(text)) => match ServerMsg::decode(&text) {
                Ok(msg) => inner.dispatch(msg),
                Err(e) => break Error::msg(format!("from the server: {e}")),
            },
            Ok(None) => break Error::closed("the server closed the connection"),
            Err(e) => break e,
        }
    };
    let w = inner.welcome.borrow_mut().take();
    if let Some(w) = w {
        let _ = w.reject(e.clone());
    }
    Err(e)
}

/// Pings every `heartbeat_every`; fails when a pong is late.
async fn heartbeat(inner: Rc<Inner>, conn: Rc<dyn Connection>) -> Result<(), Error> {
    let (every, timeout) = (inner.config.heartbeat_every, inner.config.heartbeat_timeout);
    loop {
        lwt::sleep(every).await?;
        let id = inner.next_id();
        let (pong, r) = lwt::task::<()>();
        inner.pongs.borrow_mut().insert(id, r);
        let sent_at = lwt::now()?;
        conn.send(ClientMsg::Ping { id }.encode()).await?;
        let got = lwt::with_timeout(timeout, &pong).await;
        inner.pongs.borrow_mut().remove(&id);
        match got {
            Ok(()) => inner.emit(Event::Latency(lwt::now()? - sent_at)),
            Err(e) if e.is_timeout() => {
                return Err(Error::msg(format!("heartbeat: no pong within {timeout:?}")))
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends queued chat lines, in order; a line whose send failed goes back to
/// the front of the queue.
async fn write(inner: Rc<Inner>, conn: Rc<dyn Connection>) -> Result<(), Error> {
    loop {
        let next = inner.outbox.borrow_mut().pop_front();
        match next {
            Some(frame) => {
                if let Err(e) = conn.send(frame.clone()).await {
                    inner.outbox.borrow_mut().push_front(frame);
                    return Err(e);
                }
            }
            None => inner.more.wait(None).await?,
        }
    }
}
