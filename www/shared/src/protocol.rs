//! The wire protocol: JSON text frames over a WebSocket, one message a frame.
//!
//! Every message is an object with a `"type"` field (`snake_case` variant
//! names) and the variant's fields as members. An [`Op`] and a [`Reply`] are
//! objects of their own, tagged by a `"name"` field. Written, an absent
//! option is `null`; read, it may be `null` or left out. A reader ignores
//! members it does not know and refuses a member named twice. The
//! [`json`] module reads and writes the text.
//!
//! The client speaks [`ClientMsg`], the server [`ServerMsg`]. Limits
//! ([`MAX_FRAME_BYTES`], [`MAX_NAME_CHARS`], [`MAX_TEXT_CHARS`]) are part of
//! the protocol: the server enforces them and the client checks them first.

use crate::json::{self, Object, Value};

/// The largest frame either side accepts, in bytes. Larger frames close the
/// WebSocket with code [`close::TOO_BIG`].
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// The longest chat message, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The longest [`Op::Delay`] the server accepts, in milliseconds.
pub const MAX_DELAY_MS: u64 = 60_000;

/// The path of the WebSocket endpoint on the server.
pub const WS_PATH: &str = "/ws";

/// WebSocket close codes the server uses (RFC 6455 §7.4.1).
pub mod close {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The server is going away (shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// A malformed frame (protocol error).
    pub const PROTOCOL: u16 = 1002;
    /// A kind of data the server does not take (binary frames).
    pub const UNSUPPORTED: u16 = 1003;
    /// A message the server cannot act on (not JSON, unknown type, no hello).
    pub const POLICY: u16 = 1008;
    /// A frame or message over [`super::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The member did not read its frames as fast as its room sent them
    /// and was dropped (a code of the private range 4000–4999).
    pub const TOO_SLOW: u16 = 4000;
    /// The connection said no `hello` in time, or its member stayed silent
    /// past the idle deadline.
    pub const TIMEOUT: u16 = 4001;
    /// The room is full: its member list would not fit in a welcome frame
    /// with this name in it.
    pub const ROOM_FULL: u16 = 4002;
}

/// What a client sends.
///
/// ```
/// use lwt_www_shared::protocol::ClientMsg;
/// let m = ClientMsg::Say { text: "hi".into() };
/// assert_eq!(m.encode(), r#"{"type":"say","text":"hi"}"#);
/// assert_eq!(ClientMsg::decode(&m.encode()).unwrap(), m);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMsg {
    /// The first message of a connection: who I am, which room I join.
    Hello {
        /// A display name (the server makes it unique in the room).
        name: String,
        /// The room to join.
        room: String,
    },
    /// A chat line for everyone in the room.
    Say {
        /// The text, at most [`MAX_TEXT_CHARS`] characters.
        text: String,
    },
    /// A heartbeat; the server answers [`ServerMsg::Pong`] with the same id.
    Ping {
        /// Echoed back in the pong.
        id: u64,
    },
    /// A request; the server answers [`ServerMsg::Response`] or
    /// [`ServerMsg::Error`] with the same id.
    Request {
        /// Chosen by the client, unique among its requests.
        id: u64,
        /// What to do.
        op: Op,
    },
    /// Cancels the request `id` (its answer, if any, is an error `canceled`).
    Cancel {
        /// The request's id.
        id: u64,
    },
}

/// The operations of [`ClientMsg::Request`].
///
/// ```
/// use lwt_www_shared::protocol::{ClientMsg, Op};
/// let m = ClientMsg::decode(r#"{"type":"request","id":1,"op":{"name":"delay","ms":5}}"#);
/// assert_eq!(m.unwrap(), ClientMsg::Request { id: 1, op: Op::Delay { ms: 5 } });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Answers with the same text.
    Echo {
        /// The text to echo.
        text: String,
    },
    /// Answers with the users of the room.
    Users,
    /// Answers after `ms` milliseconds (cancelable).
    Delay {
        /// How long to wait, at most [`MAX_DELAY_MS`].
        ms: u64,
    },
}

/// A chat line, as the server relays it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chat {
    /// The sender's (unique) name.
    pub from: String,
    /// The text.
    pub text: String,
    /// The room's message counter.
    pub seq: u64,
}

/// The answers of [`ServerMsg::Response`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The text of [`Op::Echo`].
    Echo {
        /// The text sent.
        text: String,
    },
    /// The answer to [`Op::Users`].
    Users {
        /// The users of the room, in joining order.
        users: Vec<String>,
    },
    /// The answer to [`Op::Delay`].
    Delayed {
        /// The delay waited.
        ms: u64,
    },
}

/// What the server sends.
///
/// ```
/// use lwt_www_shared::protocol::ServerMsg;
/// let m = ServerMsg::Pong { id: 3 };
/// assert_eq!(ServerMsg::decode(r#"{"type":"pong","id":3}"#).unwrap(), m);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMsg {
    /// The answer to [`ClientMsg::Hello`]: the client is in the room.
    Welcome {
        /// The client's unique name in the room.
        you: String,
        /// The room.
        room: String,
        /// Who is in the room, in joining order (the client too).
        users: Vec<String>,
        /// The room's latest messages, oldest first.
        history: Vec<Chat>,
    },
    /// A chat line said in the room.
    Chat(Chat),
    /// Someone joined or left: a delta, so that presence costs each member
    /// the same whatever the room's size. The full list comes only in the
    /// [`ServerMsg::Welcome`]; a client keeps it from there (a join appends,
    /// a leave removes that name).
    Presence {
        /// Who joined, if someone did.
        joined: Option<String>,
        /// Who left, if someone did.
        left: Option<String>,
    },
    /// The answer to [`ClientMsg::Ping`].
    Pong {
        /// The ping's id.
        id: u64,
    },
    /// The answer to [`ClientMsg::Request`].
    Response {
        /// The request's id.
        id: u64,
        /// The answer.
        reply: Reply,
    },
    /// A request failed, or a message was refused.
    Error {
        /// The request's id, when the error answers one.
        id: Option<u64>,
        /// A stable code: `bad_message`, `too_long`, `no_hello`, `canceled`, ...
        code: String,
        /// A human-readable explanation.
        message: String,
    },
}

impl ClientMsg {
    /// The message as one JSON text frame.
    pub fn encode(&self) -> String {
        let o = Object::new();
        match self {
            ClientMsg::Hello { name, room } => {
                o.str("type", "hello").str("name", name).str("room", room)
            }
            ClientMsg::Say { text } => o.str("type", "say").str("text", text),
            ClientMsg::Ping { id } => o.str("type", "ping").uint("id", *id),
            ClientMsg::Request { id, op } => o
                .str("type", "request")
                .uint("id", *id)
                .object("op", |o| op.encode_into(o)),
            ClientMsg::Cancel { id } => o.str("type", "cancel").uint("id", *id),
        }
        .finish()
    }

    /// Parses one text frame; the error says what is wrong with it.
    pub fn decode(text: &str) -> Result<Self, String> {
        decode(text, |m| {
            Ok(match m.tag("type")? {
                "hello" => ClientMsg::Hello {
                    name: m.string("name")?,
                    room: m.string("room")?,
                },
                "say" => ClientMsg::Say {
                    text: m.string("text")?,
                },
                "ping" => ClientMsg::Ping { id: m.uint("id")? },
                "request" => ClientMsg::Request {
                    id: m.uint("id")?,
                    op: Op::decode(m.object("op")?)?,
                },
                "cancel" => ClientMsg::Cancel { id: m.uint("id")? },
                other => return Err(unknown("type", other)),
            })
        })
    }
}

impl Op {
    fn encode_into(&self, o: Object) -> Object {
        match self {
            Op::Echo { text } => o.str("name", "echo").str("text", text),
            Op::Users => o.str("name", "users"),
            Op::Delay { ms } => o.str("name", "delay").uint("ms", *ms),
        }
    }

    fn decode(m: Members<'_>) -> Result<Self, String> {
        Ok(match m.tag("name")? {
            "echo" => Op::Echo {
                text: m.string("text")?,
            },
            "users" => Op::Users,
            "delay" => Op::Delay { ms: m.uint("ms")? },
            other => return Err(unknown("name", other)),
        })
    }
}

impl Chat {
    fn encode_into(&self, o: Object) -> Object {
        o.str("from", &self.from)
            .str("text", &self.text)
            .uint("seq", self.seq)
    }

    fn decode(m: Members<'_>) -> Result<Self, String> {
        Ok(Chat {
            from: m.string("from")?,
            text: m.string("text")?,
            seq: m.uint("seq")?,
        })
    }
}

impl Reply {
    fn encode_into(&self, o: Object) -> Object {
        match self {
            Reply::Echo { text } => o.str("name", "echo").str("text", text),
            Reply::Users { users } => o
                .str("name", "users")
                .strs("users", users.iter().map(String::as_str)),
            Reply::Delayed { ms } => o.str("name", "delayed").uint("ms", *ms),
        }
    }

    fn decode(m: Members<'_>) -> Result<Self, String> {
        Ok(match m.tag("name")? {
            "echo" => Reply::Echo {
                text: m.string("text")?,
            },
            "users" => Reply::Users {
                users: m.strings("users")?,
            },
            "delayed" => Reply::Delayed { ms: m.uint("ms")? },
            other => return Err(unknown("name", other)),
        })
    }
}

impl ServerMsg {
    /// The message as one JSON text frame.
    pub fn encode(&self) -> String {
        let o = Object::new();
        match self {
            ServerMsg::Welcome {
                you,
                room,
                users,
                history,
            } => o
                .str("type", "welcome")
                .str("you", you)
                .str("room", room)
                .strs("users", users.iter().map(String::as_str))
                .objects("history", history, |o, c| c.encode_into(o)),
            ServerMsg::Chat(chat) => chat.encode_into(o.str("type", "chat")),
            ServerMsg::Presence { joined, left } => o
                .str("type", "presence")
                .opt_str("joined", joined.as_deref())
                .opt_str("left", left.as_deref()),
            ServerMsg::Pong { id } => o.str("type", "pong").uint("id", *id),
            ServerMsg::Response { id, reply } => o
                .str("type", "response")
                .uint("id", *id)
                .object("reply", |o| reply.encode_into(o)),
            ServerMsg::Error { id, code, message } => o
                .str("type", "error")
                .opt_uint("id", *id)
                .str("code", code)
                .str("message", message),
        }
        .finish()
    }

    /// Parses one text frame; the error says what is wrong with it.
    pub fn decode(text: &str) -> Result<Self, String> {
        decode(text, |m| {
            Ok(match m.tag("type")? {
                "welcome" => ServerMsg::Welcome {
                    you: m.string("you")?,
                    room: m.string("room")?,
                    users: m.strings("users")?,
                    history: m.list("history", |v| Chat::decode(Members::of(v, "history")?))?,
                },
                "chat" => ServerMsg::Chat(Chat::decode(m)?),
                "presence" => ServerMsg::Presence {
                    joined: m.opt_string("joined")?,
                    left: m.opt_string("left")?,
                },
                "pong" => ServerMsg::Pong { id: m.uint("id")? },
                "response" => ServerMsg::Response {
                    id: m.uint("id")?,
                    reply: Reply::decode(m.object("reply")?)?,
                },
                "error" => ServerMsg::Error {
                    id: m.opt_uint("id")?,
                    code: m.string("code")?,
                    message: m.string("message")?,
                },
                other => return Err(unknown("type", other)),
            })
        })
    }
}

/// Parses `text` as an object and reads it with `read`; every error is
/// prefixed `bad message: `.
fn decode<T>(text: &str, read: impl FnOnce(Members<'_>) -> Result<T, String>) -> Result<T, String> {
    json::parse(text)
        .and_then(|v| read(Members::of(&v, "the message")?))
        .map_err(|e| format!("bad message: {e}"))
}

fn unknown(tag: &str, value: &str) -> String {
    format!("unknown `{tag}` `{value}`")
}

/// An object's members, read by name. A member the message does not name
/// is ignored; a member named twice is an error.
#[derive(Clone, Copy)]
struct Members<'a>(&'a [(String, Value)]);

impl<'a> Members<'a> {
    fn of(v: &'a Value, what: &str) -> Result<Self, String> {
        match v {
            Value::Object(members) => Ok(Members(members)),
            other => Err(format!("{what} must be an object, not {}", other.kind())),
        }
    }

    /// The member `key`, or `None` if it is absent or `null`.
    fn get(self, key: &str) -> Result<Option<&'a Value>, String> {
        let mut found = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        match (found.next(), found.next()) {
            (_, Some(_)) => Err(format!("duplicate field `{key}`")),
            (Some(Value::Null) | None, None) => Ok(None),
            (v, None) => Ok(v),
        }
    }

    fn need(self, key: &str) -> Result<&'a Value, String> {
        self.get(key)?
            .ok_or_else(|| format!("missing field `{key}`"))
    }

    /// The string `key`, borrowed: a message's tag, or a field about to be
    /// copied out.
    fn tag(self, key: &str) -> Result<&'a str, String> {
        let v = self.need(key)?;
        v.as_str().ok_or_else(|| wrong(key, v, "a string"))
    }

    fn string(self, key: &str) -> Result<String, String> {
        self.tag(key).map(str::to_owned)
    }

    fn opt_string(self, key: &str) -> Result<Option<String>, String> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| wrong(key, v, "a string")),
        }
    }

    fn uint(self, key: &str) -> Result<u64, String> {
        let v = self.need(key)?;
        v.as_u64().ok_or_else(|| wrong(key, v, "a whole number"))
    }

    fn opt_uint(self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key)? {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong(key, v, "a whole number")),
        }
    }

    fn object(self, key: &str) -> Result<Members<'a>, String> {
        Members::of(self.need(key)?, &format!("`{key}`"))
    }

    fn list<T>(
        self,
        key: &str,
        mut item: impl FnMut(&'a Value) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        match self.need(key)? {
            Value::Array(items) => items.iter().map(&mut item).collect(),
            other => Err(wrong(key, other, "an array")),
        }
    }

    fn strings(self, key: &str) -> Result<Vec<String>, String> {
        self.list(key, |v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| wrong(key, v, "an array of strings"))
        })
    }
}

fn wrong(key: &str, v: &Value, want: &str) -> String {
    let got = match v {
        Value::Number(n) => format!("the number {n}"),
        other => other.kind().to_owned(),
    };
    format!("`{key}` must be {want}, not {got}")
}

/// Whether `c` changes how text around it shows without showing itself:
/// the direction marks, embeddings, overrides and isolates of bidirectional
/// text, zero-width characters and the byte-order mark. In a name they let
/// one user pass for another.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks a name and returns it trimmed: non-empty, at most
/// [`MAX_NAME_CHARS`], no control characters, and none of the invisible or
/// direction-changing characters one could impersonate another with.
///
/// ```
/// use lwt_www_shared::protocol::check_name;
/// assert_eq!(check_name("  ada ").unwrap(), "ada");
/// assert!(check_name("").is_err());
/// assert!(check_name(&"x".repeat(33)).is_err());
/// assert!(check_name("ad\u{202E}a").is_err());
/// assert!(check_name("ada\u{200B}").is_err());
/// ```
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the name is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the name has control characters".into());
    }
    if name.chars().any(is_invisible) {
        return Err("the name has invisible or direction-changing characters".into());
    }
    Ok(name.to_owned())
}

/// Checks a chat text: non-empty after trimming, at most
/// [`MAX_TEXT_CHARS`], no control characters (a terminal client must never
/// print an escape sequence it was sent).
///
/// ```
/// use lwt_www_shared::protocol::check_text;
/// assert!(check_text("hello").is_ok());
/// assert!(check_text("   ").is_err());
/// assert!(check_text("\u{1b}[2Jgotcha").is_err());
/// ```
pub fn check_text(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the message is empty".into());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "the message is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    if text.chars().any(char::is_control) {
        return Err("the message has control characters".into());
    }
    Ok(())
}
