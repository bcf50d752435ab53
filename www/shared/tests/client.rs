//! The client logic on the virtual-time engine, against an in-memory server:
//! heartbeat timeouts, reconnection backoff with jitter, request
//! cancellation, the outbox across reconnections.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lwt::testing::VirtualEngine;
use lwt::{Error, Promise};
use lwt_www_shared::protocol::{ClientMsg, Op, Reply, ServerMsg};
use lwt_www_shared::{Backoff, Client, Config, Connection, Connector, Event, Status};

/// An in-memory server: answers hello, pings (unless told not to) and
/// requests; records what it got.
#[derive(Default)]
struct Fake {
    refuse: Cell<bool>,
    mute_pongs: Cell<bool>,
    attempts: RefCell<Vec<lwt::Instant>>,
    got: RefCell<Vec<ClientMsg>>,
    conns: RefCell<Vec<Rc<FakeConn>>>,
}

struct FakeConn {
    fake: Rc<Fake>,
    to_client: lwt::Push<String>,
    from_server: lwt::Stream<String>,
    closed: Cell<bool>,
}

impl FakeConn {
    fn reply(&self, msg: ServerMsg) {
        let _ = self.to_client.push(msg.encode());
    }
    /// The server drops the connection.
    fn drop_it(&self) {
        self.to_client.close();
    }
}

impl Connection for FakeConn {
    fn send(&self, text: String) -> Promise<()> {
        if self.closed.get() {
            return Promise::rejected(Error::closed("closed"));
        }
        let msg = ClientMsg::decode(&text).unwrap();
        self.fake.got.borrow_mut().push(msg.clone());
        match msg {
            ClientMsg::Hello { name, room } => self.reply(ServerMsg::Welcome {
                you: name.clone(),
                room,
                users: vec![name],
                history: vec![],
            }),
            ClientMsg::Ping { id } if !self.fake.mute_pongs.get() => {
                self.reply(ServerMsg::Pong { id })
            }
            ClientMsg::Request {
                id,
                op: Op::Delay { ms },
            } => {
                let push = self.to_client.clone();
                lwt::sleep(Duration::from_millis(ms)).on_success(move |()| {
                    let _ = push.push(
                        ServerMsg::Response {
                            id,
                            reply: Reply::Delayed { ms },
                        }
                        .encode(),
                    );
                });
            }
            ClientMsg::Request {
                id,
                op: Op::Echo { text },
            } => self.reply(ServerMsg::Response {
                id,
                reply: Reply::Echo { text },
            }),
            // As the real server does: a canceled request is answered with
            // an error that carries its id.
            ClientMsg::Cancel { id } => self.reply(ServerMsg::Error {
                id: Some(id),
                code: "canceled".into(),
                message: "the request was canceled".into(),
            }),
            _ => {}
        }
        Promise::resolved(())
    }
    fn recv(&self) -> Promise<Option<String>> {
        self.from_server.next()
    }
    fn close(&self) {
        self.closed.set(true);
        self.to_client.close();
    }
}

struct FakeConnector(Rc<Fake>);

impl Connector for FakeConnector {
    fn connect(&self) -> Promise<Rc<dyn Connection>> {
        self.0.attempts.borrow_mut().push(lwt::now().unwrap());
        if self.0.refuse.get() {
            return Promise::rejected(Error::msg("connection refused"));
        }
        let (from_server, to_client) = lwt::Stream::create();
        let conn = Rc::new(FakeConn {
            fake: self.0.clone(),
            to_client,
            from_server,
            closed: Cell::new(false),
        });
        self.0.conns.borrow_mut().push(conn.clone());
        Promise::resolved(conn as Rc<dyn Connection>)
    }
}

fn config() -> Config {
    let mut c = Config::new("ada", "lobby");
    c.heartbeat_every = Duration::from_secs(5);
    c.heartbeat_timeout = Duration::from_secs(2);
    c.connect_timeout = Duration::from_secs(3);
    c.backoff = Backoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(16),
        jitter: 0.5,
        ..Backoff::default()
    };
    c.seed = 42;
    c
}

type Events = lwt::testing::Log<Event>;

fn start(fake: &Rc<Fake>) -> (Client, Events) {
    let events = Events::default();
    let e = events.clone();
    let client = Client::start(Rc::new(FakeConnector(fake.clone())), config(), move |ev| {
        e.push(ev.clone())
    })
    .unwrap();
    (client, events)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn connects_and_heartbeats() {
    let engine = VirtualEngine::new();
    let fake = Rc::new(Fake::default());
    let (client, events) = start(&fake);
    engine.run_until_idle();
    assert_eq!(client.status(), Status::Connected { you: "ada".into() });
    engine.advance(secs(16));
    let pings = fake
        .got
        .borrow()
        .iter()
        .filter(|m| matches!(m, ClientMsg::Ping { .. }))
        .count();
    assert_eq!(pings, 3, "a ping every 5 s");
    assert!(events.get().iter().any(|e| matches!(e, Event::Latency(_))));
    assert_eq!(client.sessions(), 1);
    client.stop();
    assert_eq!(engine.timer_count(), 0, "stop releases every timer");
}

#[test]
fn a_late_pong_ends_the_session_and_the_client_reconnects() {
    let engine = VirtualEngine::new();
    let fake = Rc::new(Fake::default());
    let (client, events) = start(&fake);
    engine.run_until_idle();
    fake.mute_pongs.set(true);
    // The ping goes at 5 s; no pong by 7 s: the session ends.
    engine.advance(secs(5));
    assert_eq!(client.status().name(), "connected");
    engine.advance(Duration::from_millis(1999));
    assert_eq!(client.status().name(), "connected");
    engine.advance(Duration::from_millis(1));
    match client.status() {
        Status::Waiting {
            attempt,
            reason,
            delay,
        } => {
            assert_eq!(attempt, 1);
            assert!(reason.contains("heartbeat"), "{reason}");
            assert!(
                delay >= Duration::from_millis(500) && delay <= secs(1),
                "{delay:?}"
            );
        }
        s => panic!("{s:?}"),
    }
    assert!(
        fake.conns.borrow()[0].closed.get(),
        "the dead connection is closed"
    );
    fake.mute_pongs.set(false);
    engine.advance(secs(1));
    assert_eq!(client.status().name(), "connected");
    assert_eq!(client.sessions(), 2);
    let names: Vec<_> = events
        .get()
        .iter()
        .filter_map(|e| match e {
            Event::Status(s) => Some(s.name()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "connecting",
            "connected",
            "waiting",
            "connecting",
            "connected"
        ]
    );
    client.stop();
}

#[test]
fn reconnection_delays_grow_exponentially_with_jitter_bounds() {
    let engine = VirtualEngine::new();
    let fake = Rc::new(Fake::default());
    fake.refuse.set(true);
    let (client, _) = start(&fake);
    engine.advance(secs(120));
    let at = fake.attempts.borrow().clone();
    assert!(at.len() >= 8, "{}", at.len());
    let b = config().backoff;
    for (k, pair) in at.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        let ceiling = b.ceiling(k as u32 + 1);
        assert!(
            gap >= ceiling.mul_f64(0.5) && gap <= ceiling,
            "attempt {}: {gap:?} not in [{:?}, {ceiling:?}]",
            k + 1,
            ceiling.mul_f64(0.5)
        );
    }
    // Capped at 16 s.
    let last = at[at.len() - 1] - at[at.len() - 2];
    assert!(last <= secs(16));
    // Jittered: not all the delays are at the ceiling.
    let at_ceiling = at
        .windows(2)
        .enumerate()
        .filter(|(k, p)| p[1] - p[0] == b.ceiling(*k as u32 + 1))
        .count();
    assert!(at_ceiling < at.len() - 1);
    // Once the server is back, the next attempt connects and the count resets.
    fake.refuse.set(false);
    engine.advance(secs(16));
    assert_eq!(client.status().name(), "connected");
    client.stop();
}

#[test]
fn backoff_delays_stay_in_bounds() {
    let b = Backoff {
        base: Duration::from_millis(100),
        max: secs(5),
        jitter: 0.3,
        ..Backoff::default()
    };
    let mut rng = lwt_www_shared::Rng::new(9);
    for attempt in 0..40 {
        for _ in 0..100 {
            let d = b.delay(attempt, rng.unit());
            let c = b.ceiling(attempt);
            assert!(d <= c && d >= c.mul_f64(0.7), "{attempt}: {d:?} vs {c:?}");
            assert!(c <= secs(5));
        }
    }
    assert_eq!(b.delay(3, f64::NAN), b.ceiling(3));
}

#[test]
fn a_name_or_room_the_server_would_refuse_is_an_error_at_start() {
    let _engine = VirtualEngine::new();
    let fake = Rc::new(Fake::default());
    let connector = || Rc::new(FakeConnector(fake.clone()));
    let bad_name = Client::start(connector(), Config::new(" ", "lobby"), |_| {}).unwrap_err();
    assert!(bad_name.message().starts_with("bad name"), "{bad_name}");
    let long_room = "r".repeat(40);
    let bad_room = Client::start(connector(), Config::new("ada", long_room), |_| {}).unwrap_err();
    assert!(bad_room.message().starts_with("bad room"), "{bad_room}");
    assert!(fake.attempts.borrow().is_empty(), "no connection was tried");
    // A name with spaces around is trimmed, as the server would.
    let client = Client::start(connector(), Config::new("  ada ", "lobby"), |_| {}).unwrap();
    assert!(matches!(&fake.got.borrow()[0], ClientMsg::Hello { name, .. } if name == "ada"));
    client.stop();
}

#[test]
fn requests_are_answered_canceled_and_failed() {
    let engine = VirtualEngine::new();
    let fake = Rc::new(Fake::default());
    let (client, events) = start(&fake);
    engine.run_until_idle();
    let echo = client.request(Op::Echo { text: "hi".into() });
    assert_eq!(
        echo.peek().unwrap().unwrap(),
        Reply::Echo { text: "hi".into() }
    );

    let fast = client.request(Op::Delay { ms: 100 });
    assert_eq!(engine.run(&fast).unwrap(), Reply::Delayed { ms: 100 });

    // A timeout cancels the request, and the server is told.
    let slow = lwt::with_timeout(secs(1), &client.request(Op::Delay { ms: 10_000 }));
    assert_eq!(client.pending_requests(), 1);
    assert!(engine.run(&slow).unwrap_err().is_timeout());
    assert_eq!(client.pending_requests(), 0);
    let canceled = fake
        .got
        .borrow()
        .iter()
        .any(|m| matches!(m, ClientMsg::Cancel { .. }));
    assert!(canceled, "the server got a cancel");
    // Its answer to the canceled request is not a message for the user.
    engine.run_until_idle();
    let shown = events
        .get()
        .iter()
        .any(|e| matches!(e, Event::Message(ServerMsg::Error { .. })));
    assert!(!shown, "the late answer to a canceled request is dropped");

    // A lost connection fails the requests it carried.
    let lost = client.request(Op::Delay { ms: 10_000 });
    fake.conns.borrow()[0].drop_it();
    engine.run_until_idle();
    assert!(lost.peek().unwrap().unwrap_err().is_closed());
    // And while disconnected, requests fail at once.
    let early = client.request(Op::Users);
    assert!(early.peek().unwrap().unwrap_err().is_closed());
    client.stop();
}

#[test]
fn lines_said_while_away_are_sent_after_reconnecting() {
    let engine = VirtualEngine::new();
    let fake = Rc::new(Fake::default());
    let (client, _) = start(&fake);
    engine.run_until_idle();
    fake.refuse.set(true);
    fake.conns.borrow()[0].drop_it();
    engine.run_until_idle();
    assert_eq!(client.status().name(), "waiting");
    client.say("one").unwrap();
    client.say("two").unwrap();
    assert!(client.say(&"x".repeat(5000)).is_err());
    assert_eq!(client.queued(), 2);
    fake.refuse.set(false);
    engine.advance(secs(2));
    assert_eq!(client.status().name(), "connected");
    assert_eq!(client.queued(), 0);
    let said: Vec<_> = fake
        .got
        .borrow()
        .iter()
        .filter_map(|m| match m {
            ClientMsg::Say { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(said, ["one", "two"]);
    client.stop();
    assert_eq!(client.status(), Status::Stopped);
}

#[test]
fn a_silent_server_times_the_welcome_out() {
    struct Silent;
    impl Connector for Silent {
        fn connect(&self) -> Promise<Rc<dyn Connection>> {
            struct Mute(lwt::Stream<String>, #[allow(dead_code)] lwt::Push<String>);
            impl Connection for Mute {
                fn send(&self, _: String) -> Promise<()> {
                    Promise::resolved(())
                }
                fn recv(&self) -> Promise<Option<String>> {
                    self.0.next()
                }
                fn close(&self) {}
            }
            let (s, p) = lwt::Stream::create();
            Promise::resolved(Rc::new(Mute(s, p)) as Rc<dyn Connection>)
        }
    }
    let engine = VirtualEngine::new();
    let client = Client::start(Rc::new(Silent), config(), |_| {}).unwrap();
    engine.advance(secs(3));
    match client.status() {
        Status::Waiting { reason, .. } => assert!(reason.contains("welcome"), "{reason}"),
        s => panic!("{s:?}"),
    }
    client.stop();
    assert_eq!(engine.timer_count(), 0);
}
