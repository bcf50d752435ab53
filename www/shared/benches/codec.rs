//! The protocol's codec against the serde-derived codec it replaced: the
//! same messages encoded and decoded by both, in one run.
//!
//! ```text
//! cargo bench -p lwt-www-shared --bench codec
//! ```
//!
//! The peer is what the protocol's types were before: the same enums with
//! `#[derive(Serialize, Deserialize)]` and serde's internal tagging, read
//! and written by serde_json.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lwt_www_shared::protocol::{Chat, ClientMsg, ServerMsg};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct SerdeChat {
    from: String,
    text: String,
    seq: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SerdeServerMsg {
    Welcome {
        you: String,
        room: String,
        users: Vec<String>,
        history: Vec<SerdeChat>,
    },
    Chat(SerdeChat),
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SerdeClientMsg {
    Say { text: String },
}

fn welcome() -> ServerMsg {
    ServerMsg::Welcome {
        you: "ada".into(),
        room: "lobby".into(),
        users: (0..100).map(|i| format!("user {i}")).collect(),
        history: (0..50)
            .map(|i| Chat {
                from: format!("user {}", i % 7),
                text: format!("message number {i}, with \"quotes\" and é"),
                seq: i,
            })
            .collect(),
    }
}

fn serde_welcome() -> SerdeServerMsg {
    let ServerMsg::Welcome {
        you,
        room,
        users,
        history,
    } = welcome()
    else {
        unreachable!()
    };
    let history = history
        .into_iter()
        .map(|c| SerdeChat {
            from: c.from,
            text: c.text,
            seq: c.seq,
        })
        .collect();
    SerdeServerMsg::Welcome {
        you,
        room,
        users,
        history,
    }
}

fn chat() -> ServerMsg {
    ServerMsg::Chat(Chat {
        from: "ada".into(),
        text: "hello, room".into(),
        seq: 42,
    })
}

fn serde_chat() -> SerdeServerMsg {
    SerdeServerMsg::Chat(SerdeChat {
        from: "ada".into(),
        text: "hello, room".into(),
        seq: 42,
    })
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec");
    for (name, ours, theirs) in [
        ("chat", chat(), serde_chat()),
        ("welcome", welcome(), serde_welcome()),
    ] {
        let text = ours.encode();
        assert_eq!(
            text,
            serde_json::to_string(&theirs).unwrap(),
            "the two write the same bytes"
        );
        g.bench_function(format!("encode_{name}/ours"), |b| {
            b.iter(|| black_box(&ours).encode())
        });
        g.bench_function(format!("encode_{name}/serde"), |b| {
            b.iter(|| serde_json::to_string(black_box(&theirs)).unwrap())
        });
        g.bench_function(format!("decode_{name}/ours"), |b| {
            b.iter(|| ServerMsg::decode(black_box(&text)).unwrap())
        });
        g.bench_function(format!("decode_{name}/serde"), |b| {
            b.iter(|| serde_json::from_str::<SerdeServerMsg>(black_box(&text)).unwrap())
        });
    }
    // What the server reads most: a chat line from a client.
    let say = ClientMsg::Say {
        text: "hello, room".into(),
    }
    .encode();
    g.bench_function("decode_say/ours", |b| {
        b.iter(|| ClientMsg::decode(black_box(&say)).unwrap())
    });
    g.bench_function("decode_say/serde", |b| {
        b.iter(|| serde_json::from_str::<SerdeClientMsg>(black_box(&say)).unwrap())
    });
    g.finish();
}

/// `criterion_group!` makes a public function without docs.
mod group {
    #![allow(missing_docs)]
    use super::*;

    criterion_group!(benches, codec);
}

criterion_main!(group::benches);
