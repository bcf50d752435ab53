//! The server with real clients on 127.0.0.1:0: static files, bad input,
//! the chat room, reconnection after a restart, request cancellation.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use lwt::Error;
use lwt_native::net::TcpStream;
use lwt_www_client::NativeConnector;
use lwt_www_server::{Options, Server};
use lwt_www_shared::protocol::{Op, Reply, ServerMsg};
use lwt_www_shared::{Backoff, Client, Config, Event, Status};

/// A served directory with a few files, and a secret next to it.
fn site(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!("lwt-www-test-{name}-{}", std::process::id()));
    let root = base.join("root");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(root.join("style.css"), "body{}").unwrap();
    std::fs::write(root.join("pkg/app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(root.join("pkg/app.js"), "export {}").unwrap();
    std::fs::write(base.join("secret.txt"), "secret").unwrap();
    root
}

fn start(root: PathBuf) -> Server {
    let mut o = Options::new(root);
    o.log = false;
    Server::start("127.0.0.1:0".parse().unwrap(), o).unwrap()
}

/// Runs `f` on the native engine, failing after 30 s.
fn run<T: Clone + 'static>(f: impl std::future::Future<Output = Result<T, Error>> + 'static) -> T {
    lwt_native::run(async move { lwt::with_timeout(Duration::from_secs(30), &lwt::spawn(f)).await })
        .unwrap()
}

/// Whether `all` holds a whole response (head and `Content-Length` body).
/// Reading to the end of the stream is not enough: lwt-native can miss an
/// end of stream that arrives with the last bytes (see the www README).
fn complete(all: &[u8], head_only: bool) -> bool {
    let text = String::from_utf8_lossy(all);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    if head_only {
        return true;
    }
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse::<usize>().ok());
    len.is_none_or(|n| body.len() >= n)
}

/// Sends raw bytes, reads the whole answer; returns (status, headers+body).
async fn raw(addr: std::net::SocketAddr, request: &str) -> Result<(u16, String), Error> {
    let s = TcpStream::connect(addr).await?;
    s.send_all(request.as_bytes().to_vec()).await?;
    let mut all = Vec::new();
    while !complete(&all, request.starts_with("HEAD")) {
        let chunk = s.read_some(65536).await?;
        if chunk.is_empty() {
            break;
        }
        all.extend(chunk);
    }
    let text = String::from_utf8_lossy(&all).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, text))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
}

#[test]
fn static_files_and_refusals() {
    let root = site("static");
    run(async move {
        let server = start(root);
        let a = server.local_addr();
        let (st, text) = raw(a, &get("/")).await?;
        assert_eq!(st, 200);
        assert!(text.contains("text/html; charset=utf-8"), "{text}");
        let (st, text) = raw(a, &get("/pkg/app_bg.wasm")).await?;
        assert_eq!(st, 200);
        assert!(text.contains("Content-Type: application/wasm"), "{text}");
        let (_, text) = raw(a, &get("/pkg/app.js")).await?;
        assert!(text.contains("text/javascript"), "{text}");
        let (_, text) = raw(a, &get("/style.css")).await?;
        assert!(text.contains("text/css"), "{text}");
        let (st, text) = raw(a, "HEAD / HTTP/1.1\r\n\r\n").await?;
        assert_eq!(st, 200);
        assert!(!text.contains("<title>"), "HEAD has no body: {text}");

        assert_eq!(raw(a, &get("/nope.html")).await?.0, 404);
        assert_eq!(raw(a, &get("/api/nope")).await?.0, 404);
        for evil in [
            "/../secret.txt",
            "/pkg/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/..%2fsecret.txt",
            "/a\\..\\secret.txt",
        ] {
            let (st, text) = raw(a, &get(evil)).await?;
            assert_eq!(st, 400, "{evil}: {text}");
            assert!(
                !text.contains("secret\n") && !text.ends_with("secret"),
                "{evil} leaked"
            );
        }
        assert_eq!(
            raw(a, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                .await?
                .0,
            405
        );
        assert_eq!(raw(a, "NOT A REQUEST\r\n\r\n").await?.0, 400);
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        assert_eq!(raw(a, &huge).await?.0, 431);
        assert_eq!(raw(a, &get("/ws")).await?.0, 426);
        assert_eq!(raw(a, &get("/api/slow?ms=x")).await?.0, 400);
        // Still serving.
        assert_eq!(raw(a, &get("/index.html")).await?.0, 200);
        let stats = server.stats();
        assert!(stats.http_rejected >= 10, "{stats:?}");
        server.shutdown();
        Ok(())
    });
}

fn quick_config(name: &str) -> Config {
    let mut c = Config::new(name, "lobby");
    c.heartbeat_every = Duration::from_millis(200);
    c.heartbeat_timeout = Duration::from_millis(500);
    c.connect_timeout = Duration::from_secs(2);
    c.backoff = Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_millis(400),
        jitter: 0.5,
        ..Backoff::default()
    };
    c
}

type Log = lwt::testing::Log<Event>;

fn client(addr: std::net::SocketAddr, name: &str) -> (Client, Log) {
    let log = Log::default();
    let l = log.clone();
    let c = Client::start(
        Rc::new(NativeConnector::new(addr, "/ws")),
        quick_config(name),
        move |e| l.push(e.clone()),
    )
    .unwrap();
    (c, log)
}

/// Polls `cond` every 10 ms until it holds.
async fn until(what: &str, cond: impl Fn() -> bool) -> Result<(), Error> {
    for _ in 0..1000 {
        if cond() {
            return Ok(());
        }
        lwt::sleep(Duration::from_millis(10)).await?;
    }
    Err(Error::msg(format!("timed out waiting for {what}")))
}

fn chats(log: &Log) -> Vec<(String, String)> {
    log.get()
        .iter()
        .filter_map(|e| match e {
            Event::Message(ServerMsg::Chat(c)) => Some((c.from.clone(), c.text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn two_clients_chat_and_see_presence() {
    let root = site("chat");
    run(async move {
        let server = start(root);
        let (ada, ada_log) = client(server.local_addr(), "ada");
        let (bob, bob_log) = client(server.local_addr(), "bob");
        until("both connected", || {
            ada.status().name() == "connected" && bob.status().name() == "connected"
        })
        .await?;
        ada.say("hello bob")?;
        bob.say("hi ada")?;
        until("both lines everywhere", || {
            chats(&ada_log).len() == 2 && chats(&bob_log).len() == 2
        })
        .await?;
        assert!(chats(&bob_log).contains(&("ada".into(), "hello bob".into())));
        let users = ada.request(Op::Users).await?;
        assert_eq!(
            users,
            Reply::Users {
                users: vec!["ada".into(), "bob".into()]
            }
        );
        let presence_has_bob = ada_log.get().iter().any(|e| {
            matches!(e, Event::Message(ServerMsg::Presence { joined: Some(j), .. }) if j == "bob")
        });
        assert!(presence_has_bob);
        bob.stop();
        until("ada sees bob leave", || {
            ada_log.get().iter().any(|e| {
                matches!(e, Event::Message(ServerMsg::Presence { left: Some(l), .. }) if l == "bob")
            })
        })
        .await?;
        // A second "ada" gets a unique name.
        let (ada2, _) = client(server.local_addr(), "ada");
        until("ada-2", || {
            ada2.status()
                == Status::Connected {
                    you: "ada-2".into(),
                }
        })
        .await?;
        ada.stop();
        ada2.stop();
        server.shutdown();
        Ok(())
    });
}

#[test]
fn clients_reconnect_after_a_restart() {
    let root = site("restart");
    run(async move {
        let server = start(root.clone());
        let addr = server.local_addr();
        let (ada, _) = client(addr, "ada");
        until("connected", || ada.status().name() == "connected").await?;
        server.shutdown();
        until("disconnected", || ada.status().name() != "connected").await?;
        lwt::sleep(Duration::from_millis(300)).await?;
        let mut o = Options::new(root);
        o.log = false;
        let again = Server::start(addr, o).map_err(Error::new)?;
        until("reconnected", || {
            ada.status().name() == "connected" && ada.sessions() == 2
        })
        .await?;
        // Lines said while away are delivered after the reconnection.
        let (bob, bob_log) = client(addr, "bob");
        until("bob connected", || bob.status().name() == "connected").await?;
        ada.say("back again")?;
        until("bob hears ada", || {
            chats(&bob_log).iter().any(|(_, t)| t == "back again")
        })
        .await?;
        ada.stop();
        bob.stop();
        again.shutdown();
        Ok(())
    });
}

#[test]
fn requests_are_answered_and_canceled() {
    let root = site("requests");
    run(async move {
        let server = start(root);
        let (ada, _) = client(server.local_addr(), "ada");
        until("connected", || ada.status().name() == "connected").await?;
        let echo = ada.request(Op::Echo { text: "x".into() }).await?;
        assert_eq!(echo, Reply::Echo { text: "x".into() });
        let fast = ada.request(Op::Delay { ms: 20 }).await?;
        assert_eq!(fast, Reply::Delayed { ms: 20 });
        let slow = lwt::with_timeout(
            Duration::from_millis(100),
            &ada.request(Op::Delay { ms: 20_000 }),
        )
        .await;
        assert!(slow.unwrap_err().is_timeout());
        assert_eq!(ada.pending_requests(), 0);
        until("the server cancels", || {
            server.stats().requests_canceled == 1
        })
        .await?;
        let too_long = ada.request(Op::Delay { ms: 999_999 }).await;
        assert!(too_long.unwrap_err().to_string().contains("bad_request"));
        // At most 64 running at once on a connection; the 65th is refused.
        let running: Vec<_> = (0..64)
            .map(|_| ada.request(Op::Delay { ms: 20_000 }))
            .collect();
        let one_more = ada.request(Op::Delay { ms: 20_000 }).await;
        assert!(one_more.unwrap_err().to_string().contains("at most 64"));
        assert!(running.iter().all(lwt::Promise::is_pending));
        for r in &running {
            r.cancel();
        }
        ada.stop();
        server.shutdown();
        Ok(())
    });
}

#[test]
fn slow_fetch_abandoned_by_its_client_is_seen() {
    let root = site("slow");
    run(async move {
        let server = start(root);
        let a = server.local_addr();
        let (st, text) = raw(a, &get("/api/slow?ms=10")).await?;
        assert_eq!(st, 200, "{text}");
        let s = TcpStream::connect(a).await?;
        s.send_all(get("/api/slow?ms=20000").into_bytes()).await?;
        until("started", || server.stats().slow_started == 2).await?;
        drop(s);
        until("aborted", || server.stats().slow_aborted == 1).await?;
        assert_eq!(server.stats().slow_completed, 1);
        server.shutdown();
        Ok(())
    });
}

/// Connects a raw WebSocket (no client logic).
async fn ws(
    addr: std::net::SocketAddr,
) -> Result<async_tungstenite::WebSocketStream<TcpStream>, Error> {
    let s = TcpStream::connect(addr).await?;
    let (ws, _) = async_tungstenite::client_async(format!("ws://{addr}/ws"), s)
        .await
        .map_err(Error::new)?;
    Ok(ws)
}

/// The close code the server ends with.
async fn close_code(
    ws: &mut async_tungstenite::WebSocketStream<TcpStream>,
) -> Result<Option<u16>, Error> {
    while let Some(m) = ws.next().await {
        match m {
            Ok(Message::Close(f)) => return Ok(f.map(|f| u16::from(f.code))),
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
    }
    Ok(None)
}

#[test]
fn a_member_that_does_not_keep_up_leaves_and_its_session_ends() {
    let root = site("slowpoke");
    run(async move {
        let server = start(root);
        let a = server.local_addr();
        let (talker, log) = client(a, "talker");
        until("connected", || talker.status().name() == "connected").await?;
        // A raw client that joins and then never reads.
        let mut mute = ws(a).await?;
        mute.send(Message::text(
            r#"{"type":"hello","name":"mute","room":"lobby"}"#,
        ))
        .await
        .map_err(Error::new)?;
        until("mute joined", || server.stats().ws_open == 2).await?;
        // More than its socket buffers and its outbox hold, in bursts the
        // talker (which reads its own copies) keeps up with.
        let line = "x".repeat(1500);
        for burst in 1..=40 {
            for _ in 0..100 {
                talker.say(&line)?;
            }
            until("the talker has its copies", || {
                chats(&log).len() >= burst * 100
            })
            .await?;
        }
        until("the others are told mute left", || {
            log.get().iter().any(|e| {
                matches!(e, Event::Message(ServerMsg::Presence { left: Some(l), .. }) if l == "mute")
            })
        })
        .await?;
        until("mute's session ended", || server.stats().ws_open == 1).await?;
        assert_eq!(
            talker.request(Op::Users).await?,
            Reply::Users {
                users: vec!["talker".into()]
            }
        );
        drop(mute);
        talker.stop();
        server.shutdown();
        Ok(())
    });
}

#[test]
fn bad_frames_get_close_codes_and_others_go_on() {
    let root = site("bad");
    run(async move {
        let server = start(root);
        let a = server.local_addr();
        let (bystander, log) = client(a, "bystander");
        until("connected", || bystander.status().name() == "connected").await?;

        // Before hello.
        let mut w = ws(a).await?;
        w.send(Message::text(r#"{"type":"say","text":"x"}"#))
            .await
            .map_err(Error::new)?;
        assert_eq!(close_code(&mut w).await?, Some(1008));
        // Binary.
        let mut w = ws(a).await?;
        w.send(Message::binary(vec![1, 2, 3]))
            .await
            .map_err(Error::new)?;
        assert_eq!(close_code(&mut w).await?, Some(1003));
        // Oversized.
        let mut w = ws(a).await?;
        w.send(Message::text("x".repeat(100_000)))
            .await
            .map_err(Error::new)?;
        assert_eq!(close_code(&mut w).await?, Some(1009));
        // Not JSON: an error message, and the connection goes on.
        let mut w = ws(a).await?;
        w.send(Message::text("{nope")).await.map_err(Error::new)?;
        let m = w.next().await.unwrap().map_err(Error::new)?;
        assert!(m.to_text().unwrap().contains("bad_message"), "{m:?}");
        w.send(Message::text(r#"{"type":"ping","id":9}"#))
            .await
            .map_err(Error::new)?;
        let m = w.next().await.unwrap().map_err(Error::new)?;
        assert_eq!(m.to_text().unwrap(), r#"{"type":"pong","id":9}"#);
        // A bad name.
        w.send(Message::text(
            r#"{"type":"hello","name":"","room":"lobby"}"#,
        ))
        .await
        .map_err(Error::new)?;
        assert_eq!(close_code(&mut w).await?, Some(1008));
        // A malformed frame: unmasked, reserved bits set.
        let s = TcpStream::connect(a).await?;
        let hs = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        s.send_all(hs.as_bytes().to_vec()).await?;
        let head = s.read_some(4096).await?;
        assert!(String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"));
        s.send_all(vec![0xF1, 0x02, b'h', b'i']).await?;
        let mut all = Vec::new();
        while all.len() < 4 {
            let chunk = s.read_some(4096).await?;
            if chunk.is_empty() {
                break;
            }
            all.extend(chunk);
        }
        // A close frame (0x88) with code 1002.
        assert!(all.len() >= 4 && all[0] == 0x88, "{all:?}");
        assert_eq!(
            u16::from_be_bytes([all[2], all[3]]),
            u16::from(CloseCode::Protocol)
        );

        // The bystander is still in the room and served.
        bystander.say("still here")?;
        until("echo", || {
            chats(&log).iter().any(|(_, t)| t == "still here")
        })
        .await?;
        assert_eq!(bystander.sessions(), 1);
        assert!(server.stats().ws_refused >= 5, "{:?}", server.stats());
        bystander.stop();
        server.shutdown();
        Ok(())
    });
}

#[test]
fn on_two_loops_every_member_meets_the_others_in_one_room() {
    let root = site("loops");
    let mut o = Options::new(root);
    o.log = false;
    let (addr, loops) =
        lwt_www_server::serve_on_loops("127.0.0.1:0".parse().unwrap(), o, 2).unwrap();
    const MEMBERS: usize = 8;
    run(async move {
        let members: Vec<(Client, Log)> = (0..MEMBERS)
            .map(|i| client(addr, &format!("m{i}")))
            .collect();
        until("all connected", || {
            members
                .iter()
                .all(|(c, _)| c.status().name() == "connected")
        })
        .await?;
        for (i, (c, _)) in members.iter().enumerate() {
            c.say(&format!("line {i}"))?;
        }
        until("every line everywhere", || {
            members.iter().all(|(_, log)| chats(log).len() == MEMBERS)
        })
        .await?;
        for (_, log) in &members {
            let mut got: Vec<String> = chats(log).into_iter().map(|(_, text)| text).collect();
            got.sort();
            let want: Vec<String> = (0..MEMBERS).map(|i| format!("line {i}")).collect();
            assert_eq!(got, want);
        }
        // Whichever loop answers, `/api/stats` counts the whole server.
        for _ in 0..8 {
            let (status, text) = raw(addr, &get("/api/stats")).await?;
            assert_eq!(status, 200);
            assert!(text.contains(&format!("\"ws_open\":{MEMBERS}")), "{text}");
        }
        for (c, _) in &members {
            c.stop();
        }
        Ok(())
    });
    loops.shutdown();
    let stats = loops.join().unwrap();
    // Every session ran on loop 0, whichever loop the kernel gave its
    // connection to; loop 1 served only the upgrade requests it took.
    assert_eq!(stats[0].ws_total, MEMBERS as u64);
    assert_eq!(stats[1].ws_total, 0);
    let upgrades: u64 = stats.iter().map(|s| s.http_requests).sum();
    assert!(upgrades >= MEMBERS as u64, "{stats:?}");
}
