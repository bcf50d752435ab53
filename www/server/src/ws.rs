//! The WebSocket endpoint: the upgrade, then one chat session per socket.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message};
use async_tungstenite::WebSocketStream;
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{
    HeaderName, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use lwt::{Error, Promise};
use lwt_www_shared::protocol::{
    check_name, check_text, close, ClientMsg, Op, Reply, ServerMsg, MAX_DELAY_MS, MAX_FRAME_BYTES,
};

use crate::http::{full, Body, Refusal};
use crate::io::Conn;
use crate::room::{RoomFull, Ticket, OUTBOX};
use crate::State;

/// Checks an upgrade request and answers it with `101 Switching
/// Protocols`, noting in `switched` that the connection changes protocols:
/// once hyper has sent the answer, the connection's task takes the socket
/// back from hyper and runs [`run`] on it.
pub(crate) fn upgrade(
    req: &Request<Incoming>,
    switched: &Cell<bool>,
) -> Result<Response<Body>, Refusal> {
    let key = check_upgrade(req)?;
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    let accept = derive_accept_key(key.as_bytes());
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    switched.set(true);
    Ok(r)
}

/// The WebSocket over the upgraded socket (`rest`: what the client sent
/// past its request head), then the session.
pub(crate) async fn run(
    state: Rc<State>,
    stream: Conn,
    rest: Vec<u8>,
    peer: SocketAddr,
) -> Result<(), Error> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER);
    let ws = WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(config)).await;
    state.stat(|s| {
        s.ws_open += 1;
        s.ws_total += 1;
    });
    struct Open(Rc<State>);
    impl Drop for Open {
        fn drop(&mut self) {
            self.0.stat(|s| s.ws_open -= 1);
        }
    }
    let _open = Open(state.clone());
    session(state, ws, peer).await
}

fn check_upgrade(req: &Request<Incoming>) -> Result<String, Refusal> {
    if req.method() != Method::GET {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "the WebSocket endpoint takes GET",
        ));
    }
    let header = |name: HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    let has = |name: HeaderName, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has(UPGRADE, "websocket") || !has(CONNECTION, "upgrade") {
        return Err(Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket only",
        ));
    }
    if header(SEC_WEBSOCKET_VERSION) != Some("13") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Version must be 13",
        ));
    }
    match header(SEC_WEBSOCKET_KEY) {
        Some(k) if !k.trim().is_empty() => Ok(k.trim().to_owned()),
        _ => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Key is missing",
        )),
    }
}

/// How much tungstenite gathers before it writes to the socket.
const WRITE_BUFFER: usize = 16 * 1024;

/// The most a session's socket buffers in tungstenite when the client does
/// not read: past it the writer waits (and the write deadline runs), and
/// tungstenite's answers to pings are not buffered, it keeps one pong
/// pending, the latest. Room for the largest frame the server sends (a
/// welcome with a full history) beside a little more.
pub(crate) const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// Leaves the room when dropped, whichever way the session ends.
struct Membership(Rc<State>, Ticket);

impl Drop for Membership {
    fn drop(&mut self) {
        self.0.rooms.leave(&self.1);
    }
}

/// What a session waits for next.
enum Next {
    Item(Option<Result<Message, WsError>>),
    Dropped,
    Deadline,
}

/// A session's deadline timer, released when replaced or dropped (the
/// session's task may be aborted by a shutdown).
struct Timer(Promise<()>);

impl Timer {
    fn set(&mut self, timer: Promise<()>) {
        std::mem::replace(&mut self.0, timer).cancel();
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Whether one more line may go now under `limiter` (always, without
/// one). A line past the rate takes no turn: its wait is canceled at once,
/// which gives the turn back.
fn within_rate(limiter: Option<&lwt_patterns::RateLimiter>) -> bool {
    let Some(limiter) = limiter else {
        return true;
    };
    let turn = limiter.acquire();
    if turn.is_pending() {
        turn.cancel();
        return false;
    }
    true
}

/// Why the server closes a session.
struct Closing(u16, String);

fn close_frame(code: u16, reason: &str) -> Message {
    // A close reason is at most 123 bytes.
    let mut reason = reason.to_owned();
    while reason.len() > 120 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

/// Queues `msg` to the client; dropped if the outbox is full or closed.
fn send(push: &lwt::BoundedPush<Message>, msg: ServerMsg) {
    let _ = push.try_push(Message::text(msg.encode()));
}

async fn session(
    state: Rc<State>,
    ws: WebSocketStream<Conn>,
    peer: SocketAddr,
) -> Result<(), Error> {
    let (mut tx, mut rx) = ws.split();
    let (outbox, push) = lwt::Stream::<Message>::bounded(OUTBOX);
    let mut dropped = outbox.closed();
    // Set when the room drops this member for not keeping up: the writer
    // then sends what was queued no further, only a close frame saying so.
    let slow = Rc::new(Cell::new(false));
    let writer_slow = slow.clone();
    let writer = lwt::spawn(async move {
        while let Some(msg) = outbox.next().await? {
            if writer_slow.get() {
                break;
            }
            let last = matches!(msg, Message::Close(_));
            tx.send(msg).await.map_err(Error::new)?;
            if last {
                return Ok(());
            }
        }
        if writer_slow.get() {
            let frame = close_frame(
                close::TOO_SLOW,
                "too slow: frames were sent faster than read",
            );
            tx.send(frame).await.map_err(Error::new)?;
        }
        Ok(())
    });
    // The session's writer task ends with it.
    let _writer = writer.clone().abort_on_drop();
    let mut member: Option<Membership> = None;
    let limiter = state
        .say_limit
        .map(|(every, burst)| lwt_patterns::RateLimiter::new(every, burst));
    let requests = Requests::default();
    let reply = |msg: ServerMsg| send(&push, msg);
    // Before hello: the hello deadline, from the upgrade. After it: the
    // idle deadline, from the last frame received (any frame: the clients'
    // heartbeat pings keep a member in).
    let mut deadline = Timer(lwt::sleep(state.hello_timeout));
    let mut last_frame = Instant::now();
    let closing: Option<Closing> = loop {
        // The outbox is closed when the room drops this member for not
        // keeping up: the session ends then, without waiting for the
        // client's next frame (the writer is given its usual 2 s below).
        let next = poll_fn(|cx| {
            // Dropped first: a member dropped by its room relays nothing
            // more, not even a line it had already received.
            if Pin::new(&mut dropped).poll(cx).is_ready() {
                return Poll::Ready(Next::Dropped);
            }
            if let Poll::Ready(item) = rx.poll_next_unpin(cx) {
                return Poll::Ready(Next::Item(item));
            }
            match Pin::new(&mut deadline.0).poll(cx) {
                Poll::Ready(_) => Poll::Ready(Next::Deadline),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        let item = match next {
            Next::Item(Some(item)) => item,
            Next::Item(None) => break None,
            Next::Dropped => {
                slow.set(true);
                state.log(format_args!("{peer}: dropped for not keeping up"));
                break None;
            }
            Next::Deadline if member.is_none() => {
                break Some(Closing(
                    close::TIMEOUT,
                    format!("no hello within {:?}", state.hello_timeout),
                ))
            }
            Next::Deadline => {
                let quiet = last_frame.elapsed();
                if quiet >= state.idle_timeout {
                    break Some(Closing(
                        close::TIMEOUT,
                        format!("nothing received for {:?}", state.idle_timeout),
                    ));
                }
                // Heard from since the timer was set: wait for the rest.
                deadline.set(lwt::sleep(state.idle_timeout - quiet));
                continue;
            }
        };
        last_frame = Instant::now();
        let text = match item {
            Ok(Message::Text(t)) => t,
            Ok(Message::Binary(_)) => {
                break Some(Closing(
                    close::UNSUPPORTED,
                    "binary frames are not supported".into(),
                ))
            }
            Ok(_) => continue, // ping, pong, close: tungstenite answers them
            Err(WsError::Capacity(e)) => break Some(Closing(close::TOO_BIG, e.to_string())),
            Err(WsError::Protocol(e)) => break Some(Closing(close::PROTOCOL, e.to_string())),
            Err(WsError::Utf8(e)) => break Some(Closing(1007, format!("invalid UTF-8: {e}"))),
            Err(_) => break None,
        };
        let msg = match ClientMsg::decode(&text) {
            Ok(msg) => msg,
            Err(e) => {
                reply(ServerMsg::Error {
                    id: None,
                    code: "bad_message".into(),
                    message: e,
                });
                continue;
            }
        };
        match (msg, &member) {
            (ClientMsg::Hello { name, room }, None) => {
                let checked = check_name(&name).and_then(|n| {
                    check_name(&room)
                        .map(|r| (n, r))
                        .map_err(|e| format!("room: {e}"))
                });
                match checked {
                    Ok((name, room)) => match state.rooms.join(&room, &name, push.clone()) {
                        Ok(ticket) => {
                            state.log(format_args!("{peer}: {} joined {room}", ticket.name));
                            member = Some(Membership(state.clone(), ticket));
                            deadline.set(lwt::sleep(state.idle_timeout));
                        }
                        Err(RoomFull) => {
                            break Some(Closing(close::ROOM_FULL, "the room is full".into()))
                        }
                    },
                    Err(e) => break Some(Closing(close::POLICY, e)),
                }
            }
            (ClientMsg::Hello { .. }, Some(_)) => reply(ServerMsg::Error {
                id: None,
                code: "already_joined".into(),
                message: "hello was already said on this connection".into(),
            }),
            (ClientMsg::Ping { id }, _) => reply(ServerMsg::Pong { id }),
            (_, None) => break Some(Closing(close::POLICY, "say hello first".into())),
            (ClientMsg::Say { text }, Some(m)) => match check_text(&text) {
                Ok(()) if !within_rate(limiter.as_ref()) => reply(ServerMsg::Error {
                    id: None,
                    code: "rate_limited".into(),
                    message: "too many lines: this one was not sent".into(),
                }),
                Ok(()) => state.rooms.say(&m.1, &text),
                Err(e) => reply(ServerMsg::Error {
                    id: None,
                    code: "bad_text".into(),
                    message: e,
                }),
            },
            (ClientMsg::Request { id, op }, Some(m)) => {
                request(&state, &requests.0, &push, &m.1, id, op);
            }
            (ClientMsg::Cancel { id }, Some(_)) => {
                let task = requests.0.borrow_mut().remove(&id);
                if let Some(task) = task {
                    task.cancel();
                    state.stat(|s| s.requests_canceled += 1);
                    reply(ServerMsg::Error {
                        id: Some(id),
                        code: "canceled".into(),
                        message: "the request was canceled".into(),
                    });
                }
            }
        }
    };
    drop(member);
    drop(requests);
    if let Some(Closing(code, reason)) = closing {
        state.stat(|s| s.ws_refused += 1);
        state.log(format_args!(
            "{peer}: closing the WebSocket: {code} {reason}"
        ));
        let _ = push.try_push(close_frame(code, &reason));
    }
    push.close();
    // Let the writer send what is queued (the close frame last), briefly.
    let _ = lwt::with_timeout(Duration::from_secs(2), &writer).await;
    Ok(())
}

/// A session's pending requests, by id. Dropping it cancels them: when the
/// session ends, however it ends (its task may be aborted by a shutdown).
#[derive(Default)]
struct Requests(Rc<RefCell<HashMap<u64, Promise<()>>>>);

impl Drop for Requests {
    fn drop(&mut self) {
        // Out of the map first: canceling runs callbacks, which may use it.
        let tasks = std::mem::take(&mut *self.0.borrow_mut());
        for task in tasks.into_values() {
            task.cancel();
        }
    }
}

/// How many `Delay` requests one connection may have running: each holds a
/// timer, and ids are the client's to choose.
const MAX_RUNNING: usize = 64;

fn request(
    state: &Rc<State>,
    requests: &Rc<RefCell<HashMap<u64, Promise<()>>>>,
    push: &lwt::BoundedPush<Message>,
    ticket: &Ticket,
    id: u64,
    op: Op,
) {
    match op {
        Op::Echo { text } => send(
            push,
            ServerMsg::Response {
                id,
                reply: Reply::Echo { text },
            },
        ),
        Op::Users => send(
            push,
            ServerMsg::Response {
                id,
                reply: Reply::Users {
                    users: state.rooms.users(&ticket.room),
                },
            },
        ),
        Op::Delay { ms } if ms > MAX_DELAY_MS => send(
            push,
            ServerMsg::Error {
                id: Some(id),
                code: "bad_request".into(),
                message: format!("delay must be at most {MAX_DELAY_MS} ms"),
            },
        ),
        Op::Delay { .. } if requests.borrow().contains_key(&id) => send(
            push,
            ServerMsg::Error {
                id: Some(id),
                code: "bad_request".into(),
                message: format!("request {id} is still running"),
            },
        ),
        Op::Delay { .. } if requests.borrow().len() >= MAX_RUNNING => send(
            push,
            ServerMsg::Error {
                id: Some(id),
                code: "bad_request".into(),
                message: format!("at most {MAX_RUNNING} requests may run at once"),
            },
        ),
        Op::Delay { ms } => {
            let reqs = requests.clone();
            let push = push.clone();
            let task = lwt::sleep(Duration::from_millis(ms)).map(move |()| {
                reqs.borrow_mut().remove(&id);
                send(
                    &push,
                    ServerMsg::Response {
                        id,
                        reply: Reply::Delayed { ms },
                    },
                );
            });
            if task.is_pending() {
                requests.borrow_mut().insert(id, task);
            }
        }
    }
}
