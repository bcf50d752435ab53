//! The protocol's JSON, checked against `serde_json`: what `encode` writes
//! reads back the same through `serde_json`, what `serde_json` writes (in any
//! member order, with extra members, with options left out) decodes, and
//! malformed or mistyped messages are refused with an error that names the
//! problem.

use lwt_www_shared::json;
use lwt_www_shared::protocol::{Chat, ClientMsg, Op, Reply, ServerMsg};
use serde_json::{json, Value};

/// Tricky text: quotes, backslashes, every control character, non-ASCII,
/// characters JavaScript treats as line ends, an astral character.
fn tricky() -> String {
    let mut s: String = (0u8..0x20).map(char::from).collect();
    s.push_str("\"\\/ é \u{2028}\u{2029} \u{7f} 😀 </script>");
    s
}

fn client_msgs() -> Vec<(ClientMsg, Value)> {
    let t = tricky();
    vec![
        (
            ClientMsg::Hello {
                name: "ada".into(),
                room: t.clone(),
            },
            json!({"type": "hello", "name": "ada", "room": t}),
        ),
        (
            ClientMsg::Say { text: t.clone() },
            json!({"type": "say", "text": t}),
        ),
        (
            ClientMsg::Ping { id: u64::MAX },
            json!({"type": "ping", "id": u64::MAX}),
        ),
        (
            ClientMsg::Request {
                id: 0,
                op: Op::Echo { text: t.clone() },
            },
            json!({"type": "request", "id": 0, "op": {"name": "echo", "text": t}}),
        ),
        (
            ClientMsg::Request {
                id: 7,
                op: Op::Users,
            },
            json!({"type": "request", "id": 7, "op": {"name": "users"}}),
        ),
        (
            ClientMsg::Request {
                id: 8,
                op: Op::Delay { ms: 60_000 },
            },
            json!({"type": "request", "id": 8, "op": {"name": "delay", "ms": 60_000}}),
        ),
        (
            ClientMsg::Cancel { id: 8 },
            json!({"type": "cancel", "id": 8}),
        ),
    ]
}

fn server_msgs() -> Vec<(ServerMsg, Value)> {
    let t = tricky();
    let chat = Chat {
        from: "bob".into(),
        text: t.clone(),
        seq: 3,
    };
    vec![
        (
            ServerMsg::Welcome {
                you: "ada".into(),
                room: "lobby".into(),
                users: vec!["bob".into(), t.clone()],
                history: vec![
                    chat.clone(),
                    Chat {
                        from: "ada".into(),
                        text: "hi".into(),
                        seq: 4,
                    },
                ],
            },
            json!({"type": "welcome", "you": "ada", "room": "lobby", "users": ["bob", t],
                   "history": [{"from": "bob", "text": t, "seq": 3}, {"from": "ada", "text": "hi", "seq": 4}]}),
        ),
        (
            ServerMsg::Welcome {
                you: "a".into(),
                room: "r".into(),
                users: vec![],
                history: vec![],
            },
            json!({"type": "welcome", "you": "a", "room": "r", "users": [], "history": []}),
        ),
        (
            ServerMsg::Chat(chat),
            json!({"type": "chat", "from": "bob", "text": t, "seq": 3}),
        ),
        (
            ServerMsg::Presence {
                joined: Some("ada".into()),
                left: None,
            },
            json!({"type": "presence", "joined": "ada", "left": null}),
        ),
        (
            ServerMsg::Presence {
                joined: None,
                left: Some(t.clone()),
            },
            json!({"type": "presence", "joined": null, "left": t}),
        ),
        (ServerMsg::Pong { id: 1 }, json!({"type": "pong", "id": 1})),
        (
            ServerMsg::Response {
                id: 2,
                reply: Reply::Echo { text: t.clone() },
            },
            json!({"type": "response", "id": 2, "reply": {"name": "echo", "text": t}}),
        ),
        (
            ServerMsg::Response {
                id: 3,
                reply: Reply::Users {
                    users: vec!["ada".into(), "bob".into()],
                },
            },
            json!({"type": "response", "id": 3, "reply": {"name": "users", "users": ["ada", "bob"]}}),
        ),
        (
            ServerMsg::Response {
                id: 4,
                reply: Reply::Delayed { ms: 5 },
            },
            json!({"type": "response", "id": 4, "reply": {"name": "delayed", "ms": 5}}),
        ),
        (
            ServerMsg::Error {
                id: Some(5),
                code: "canceled".into(),
                message: t.clone(),
            },
            json!({"type": "error", "id": 5, "code": "canceled", "message": t}),
        ),
        (
            ServerMsg::Error {
                id: None,
                code: "bad_message".into(),
                message: "x".into(),
            },
            json!({"type": "error", "id": null, "code": "bad_message", "message": "x"}),
        ),
    ]
}

#[test]
fn what_encode_writes_serde_json_reads_as_the_same_message() {
    for (m, want) in client_msgs() {
        let text = m.encode();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            want,
            "{text}"
        );
        assert_eq!(ClientMsg::decode(&text).unwrap(), m);
    }
    for (m, want) in server_msgs() {
        let text = m.encode();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            want,
            "{text}"
        );
        assert_eq!(ServerMsg::decode(&text).unwrap(), m);
    }
}

#[test]
fn strings_are_escaped_byte_for_byte_as_serde_json_escapes_them() {
    let all: String = (0u32..0x800)
        .chain(0xFFF0..0x10010)
        .filter_map(char::from_u32)
        .collect();
    for s in [tricky(), all, String::new()] {
        let mut ours = String::new();
        json::write_str(&mut ours, &s);
        assert_eq!(ours, serde_json::to_string(&s).unwrap());
    }
}

#[test]
fn the_tag_comes_first_and_the_fields_in_declaration_order() {
    assert_eq!(
        ServerMsg::Chat(Chat {
            from: "a".into(),
            text: "t".into(),
            seq: 1
        })
        .encode(),
        r#"{"type":"chat","from":"a","text":"t","seq":1}"#
    );
    assert_eq!(
        ClientMsg::Request {
            id: 1,
            op: Op::Delay { ms: 2 }
        }
        .encode(),
        r#"{"type":"request","id":1,"op":{"name":"delay","ms":2}}"#
    );
    assert_eq!(
        ServerMsg::Error {
            id: None,
            code: "c".into(),
            message: "m".into()
        }
        .encode(),
        r#"{"type":"error","id":null,"code":"c","message":"m"}"#
    );
}

#[test]
fn what_serde_json_writes_decodes_in_any_order_and_layout() {
    for (m, want) in server_msgs() {
        let mut obj = want.as_object().unwrap().clone();
        obj.insert(
            "added_later".into(),
            json!({"nested": [1, 2.5e3, -0.0, true, null]}),
        );
        // Reversed member order, the tag last, pretty-printed.
        let reversed: serde_json::Map<String, Value> = obj.into_iter().rev().collect();
        let text = serde_json::to_string_pretty(&reversed).unwrap();
        assert_eq!(ServerMsg::decode(&text).unwrap(), m, "{text}");
    }
    for (m, want) in client_msgs() {
        let text = serde_json::to_string_pretty(&want).unwrap();
        assert_eq!(ClientMsg::decode(&text).unwrap(), m, "{text}");
    }
}

#[test]
fn an_absent_option_reads_as_none() {
    assert_eq!(
        ServerMsg::decode(r#"{"type":"presence","left":"bob"}"#).unwrap(),
        ServerMsg::Presence {
            joined: None,
            left: Some("bob".into())
        }
    );
    assert_eq!(
        ServerMsg::decode(r#"{"type":"error","code":"c","message":"m"}"#).unwrap(),
        ServerMsg::Error {
            id: None,
            code: "c".into(),
            message: "m".into()
        }
    );
}

#[test]
fn bad_messages_are_refused_with_the_reason() {
    let cases = [
        ("", "unexpected end of the text at byte 0"),
        ("not json", "expected a value at byte 0"),
        (r#"{"type":"say","text":"hi"} x"#, "trailing characters"),
        (r#"["say"]"#, "the message must be an object, not an array"),
        (r#"{"text":"hi"}"#, "missing field `type`"),
        (r#"{"type":"shout","text":"hi"}"#, "unknown `type` `shout`"),
        (r#"{"type":7}"#, "`type` must be a string, not the number 7"),
        (r#"{"type":"say"}"#, "missing field `text`"),
        (r#"{"type":"say","text":null}"#, "missing field `text`"),
        (
            r#"{"type":"say","text":["hi"]}"#,
            "`text` must be a string, not an array",
        ),
        (
            r#"{"type":"say","text":"a","text":"b"}"#,
            "duplicate field `text`",
        ),
        (
            r#"{"type":"say","type":"ping","text":"a"}"#,
            "duplicate field `type`",
        ),
        (
            r#"{"type":"ping","id":-1}"#,
            "`id` must be a whole number, not the number -1",
        ),
        (
            r#"{"type":"ping","id":1.5}"#,
            "`id` must be a whole number, not the number 1.5",
        ),
        (r#"{"type":"ping","id":1e3}"#, "not the number 1e3"),
        (
            r#"{"type":"ping","id":18446744073709551616}"#,
            "not the number 18446744073709551616",
        ),
        (
            r#"{"type":"ping","id":"1"}"#,
            "`id` must be a whole number, not a string",
        ),
        (r#"{"type":"request","id":1}"#, "missing field `op`"),
        (
            r#"{"type":"request","id":1,"op":"users"}"#,
            "`op` must be an object, not a string",
        ),
        (
            r#"{"type":"request","id":1,"op":{"name":"sleep"}}"#,
            "unknown `name` `sleep`",
        ),
        (
            r#"{"type":"request","id":1,"op":{"name":"delay"}}"#,
            "missing field `ms`",
        ),
        (
            r#"{"type":"say","text":"\ud800"}"#,
            "lone surrogate in a string",
        ),
        (
            &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
            "nested too deeply at byte 128",
        ),
    ];
    for (text, reason) in cases {
        let e = ClientMsg::decode(text).unwrap_err();
        assert!(
            e.starts_with("bad message: ") && e.contains(reason),
            "{text}: {e}"
        );
    }
    let server_cases = [
        (
            r#"{"type":"welcome","you":"a","room":"r","users":["a",1],"history":[]}"#,
            "`users` must be an array of strings, not the number 1",
        ),
        (
            r#"{"type":"welcome","you":"a","room":"r","users":[],"history":[1]}"#,
            "history must be an object, not a number",
        ),
        (
            r#"{"type":"welcome","you":"a","room":"r","users":[],"history":[{"from":"a","text":"t"}]}"#,
            "missing field `seq`",
        ),
        (
            r#"{"type":"welcome","you":"a","room":"r","users":{},"history":[]}"#,
            "`users` must be an array, not an object",
        ),
        (
            r#"{"type":"presence","joined":false}"#,
            "`joined` must be a string, not a boolean",
        ),
        (
            r#"{"type":"error","id":"x","code":"c","message":"m"}"#,
            "`id` must be a whole number, not a string",
        ),
        (
            r#"{"type":"response","id":1,"reply":{"name":"users","users":null}}"#,
            "missing field `users`",
        ),
    ];
    for (text, reason) in server_cases {
        let e = ServerMsg::decode(text).unwrap_err();
        assert!(
            e.starts_with("bad message: ") && e.contains(reason),
            "{text}: {e}"
        );
    }
}
