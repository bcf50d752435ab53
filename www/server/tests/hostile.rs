//! Clients that try to hold the server's time or memory, on 127.0.0.1:0,
//! each bounded in count and time.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use lwt::Error;
use lwt_native::net::TcpStream;
use lwt_www_server::{Options, Server};
use lwt_www_shared::protocol::{close, ServerMsg};

fn site(name: &str, big: usize) -> PathBuf {
    let root = std::env::temp_dir().join(format!("lwt-www-hostile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(root.join("big.bin"), vec![7u8; big]).unwrap();
    root
}

fn options(root: PathBuf) -> Options {
    let mut o = Options::new(root);
    o.log = false;
    o.head_timeout = Duration::from_millis(300);
    o
}

/// A server on a free port of 127.0.0.1.
fn start(o: Options) -> std::io::Result<Server> {
    Server::start("127.0.0.1:0".parse().unwrap(), o)
}

/// One test at a time: they measure the process's memory.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` on the native engine, alone, failing after 30 s.
fn run<T: Clone + 'static>(f: impl std::future::Future<Output = Result<T, Error>> + 'static) -> T {
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    lwt_native::run(async move { lwt::with_timeout(Duration::from_secs(30), &lwt::spawn(f)).await })
        .unwrap()
}

/// Reads until the server closes; how long that took.
async fn until_closed(s: &TcpStream) -> Result<Duration, Error> {
    let t = Instant::now();
    loop {
        match s.read_some(65536).await {
            Ok(chunk) if chunk.is_empty() => return Ok(t.elapsed()),
            Ok(_) => {}
            Err(_) => return Ok(t.elapsed()),
        }
    }
}

#[test]
fn a_client_that_sends_nothing_is_closed_by_the_head_timeout() {
    let root = site("silent", 16);
    run(async move {
        let server = start(options(root))?;
        let a = server.local_addr();
        let silent = TcpStream::connect(a).await?;
        let half = TcpStream::connect(a).await?;
        half.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec())
            .await?;
        let waited = until_closed(&silent).await?;
        assert!(waited < Duration::from_secs(3), "{waited:?}");
        let waited = until_closed(&half).await?;
        assert!(waited < Duration::from_secs(3), "{waited:?}");
        server.shutdown();
        Ok(())
    });
}

/// The resident set of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Reads one whole response (head and `Content-Length` body, or the head
/// alone for a `HEAD`): (head, body).
async fn response(s: &TcpStream, head_only: bool) -> Result<(String, Vec<u8>), Error> {
    let mut all = Vec::new();
    loop {
        if let Some(at) = all.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&all[..at]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            if head_only || all.len() - at - 4 >= len {
                return Ok((head, all[at + 4..].to_vec()));
            }
        }
        let chunk = s.read_some(1 << 20).await?;
        if chunk.is_empty() {
            return Err(Error::msg("closed before the whole response"));
        }
        all.extend(chunk);
    }
}

const BIG: usize = 4 << 20;

#[test]
#[cfg(target_os = "linux")]
fn big_files_stream_and_a_client_that_never_reads_is_cut_off() {
    let root = site("big", BIG);
    run(async move {
        let mut o = options(root);
        o.write_timeout = Duration::from_millis(500);
        let server = start(o)?;
        let a = server.local_addr();
        // Whole and right, on a keep-alive connection; then a HEAD on it.
        let s = TcpStream::connect(a).await?;
        s.send_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
            .await?;
        let (head, body) = response(&s, false).await?;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains(&format!("Content-Length: {BIG}")), "{head}");
        assert!(body.len() == BIG && body.iter().all(|&b| b == 7));
        s.send_all(b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
            .await?;
        let (head, body) = response(&s, true).await?;
        assert!(head.contains(&format!("Content-Length: {BIG}")), "{head}");
        assert!(body.is_empty());
        drop(s);

        // 40 clients ask for the file and read nothing.
        let before = rss_kib();
        let mut idle = Vec::new();
        for _ in 0..40 {
            let c = TcpStream::connect(a).await?;
            c.send_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
                .await?;
            idle.push(c);
        }
        lwt::sleep(Duration::from_millis(300)).await?;
        let grown = rss_kib().saturating_sub(before);
        eprintln!("40 unread 4 MiB responses: RSS +{grown} KiB");
        // Whole files would be 160 MiB (320 with two copies each).
        assert!(grown < 32 * 1024, "RSS grew {grown} KiB");
        // Others are served meanwhile.
        let t = Instant::now();
        let s = TcpStream::connect(a).await?;
        s.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
            .await?;
        let (head, _) = response(&s, false).await?;
        assert!(head.starts_with("HTTP/1.1 200"));
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        // Past the write deadline the server closes them: each gets the
        // start of the file, then the end of the stream.
        lwt::sleep(Duration::from_millis(800)).await?;
        for c in &idle {
            let mut got = 0;
            loop {
                match c.read_some(1 << 20).await {
                    Ok(chunk) if chunk.is_empty() => break,
                    Ok(chunk) => got += chunk.len(),
                    Err(_) => break,
                }
            }
            assert!(got < BIG, "a whole file went to a client that read nothing");
        }
        server.shutdown();
        Ok(())
    });
}

/// Upgrades a raw socket to WebSocket by hand; gives it and what came
/// past the `101`'s head.
async fn raw_ws(a: std::net::SocketAddr) -> Result<TcpStream, Error> {
    let s = TcpStream::connect(a).await?;
    let hs = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    s.send_all(hs.as_bytes().to_vec()).await?;
    let (head, _) = response(&s, true).await?;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    Ok(s)
}

/// A masked (key 0) client frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

#[test]
#[cfg(target_os = "linux")]
fn pings_from_a_client_that_never_reads_stay_bounded() {
    let root = site("pings", 16);
    run(async move {
        let mut o = options(root);
        let deadline = Duration::from_secs(4);
        o.write_timeout = deadline;
        let server = start(o)?;
        let s = raw_ws(server.local_addr()).await?;
        let ping = frame(0x9, &[b'p'; 125]);
        let burst: Vec<u8> = ping
            .iter()
            .copied()
            .cycle()
            .take(ping.len() * 8000)
            .collect();
        // 4 MiB first, so that the buffers reach their bound, then 64 MiB
        // more of pings, each asking for a 125-byte pong: without a bound
        // the pongs' buffer grows by about 50 MiB. The resident set is
        // sampled after each burst. On a slow machine the sending can
        // outlast the write deadline: the server then ends the session
        // while pings still arrive, which is right once the deadline
        // could have passed, and ends the bursts.
        let started = Instant::now();
        let mut before = None;
        let mut grown = 0;
        for burst_no in 0..68 {
            if let Err(e) = s.send_all(burst.clone()).await {
                let waited = started.elapsed();
                assert!(waited >= deadline, "closed after {waited:?}: {e}");
                eprintln!("the write deadline ended the session at burst {burst_no}");
                break;
            }
            if burst_no == 3 {
                lwt::sleep(Duration::from_millis(100)).await?;
                before = Some(rss_kib());
            } else if let Some(before) = before {
                grown = grown.max(rss_kib().saturating_sub(before));
            }
        }
        lwt::sleep(Duration::from_millis(200)).await?;
        if let Some(before) = before {
            grown = grown.max(rss_kib().saturating_sub(before));
        }
        eprintln!("up to 64 MiB more of unread pings: RSS +{grown} KiB");
        assert!(grown < 16 * 1024, "RSS grew {grown} KiB");
        // The pongs it never reads block the writes: the write deadline
        // ends the session.
        let t = Instant::now();
        while server.stats().ws_open > 0 {
            assert!(t.elapsed() < deadline * 2, "still open");
            lwt::sleep(Duration::from_millis(20)).await?;
        }
        server.shutdown();
        Ok(())
    });
}

type Ws = async_tungstenite::WebSocketStream<TcpStream>;

/// A WebSocket client that has said hello.
async fn member(a: std::net::SocketAddr, name: &str) -> Result<Ws, Error> {
    let s = TcpStream::connect(a).await?;
    let (mut ws, _) = async_tungstenite::client_async(format!("ws://{a}/ws"), s)
        .await
        .map_err(Error::new)?;
    let hello = format!(r#"{{"type":"hello","name":"{name}","room":"lobby"}}"#);
    ws.send(Message::text(hello)).await.map_err(Error::new)?;
    Ok(ws)
}

/// The next text message of `ws`, parsed.
async fn next_msg(ws: &mut Ws) -> Result<ServerMsg, Error> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return ServerMsg::decode(&t).map_err(Error::msg);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(Error::new(e)),
            None => return Err(Error::msg("closed")),
        }
    }
}

#[test]
fn a_member_dropped_for_being_slow_is_told_so() {
    let root = site("slow", 16);
    run(async move {
        let server = start(options(root))?;
        let a = server.local_addr();
        let mut talker = member(a, "talker").await?;
        let mut mute = member(a, "mute").await?;
        let line = format!(r#"{{"type":"say","text":"{}"}}"#, "x".repeat(1500));
        let mut told = false;
        'bursts: for _ in 0..60 {
            for _ in 0..100 {
                talker
                    .send(Message::text(line.clone()))
                    .await
                    .map_err(Error::new)?;
            }
            let mut copies = 0;
            while copies < 100 {
                match next_msg(&mut talker).await? {
                    ServerMsg::Chat(_) => copies += 1,
                    ServerMsg::Presence { left: Some(l), .. } if l == "mute" => {
                        told = true;
                        break 'bursts;
                    }
                    _ => {}
                }
            }
        }
        assert!(told, "mute was never dropped");
        // What it reads now ends with the close code for being slow.
        let code = loop {
            match mute.next().await {
                Some(Ok(Message::Close(f))) => break f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => break None,
            }
        };
        assert_eq!(code, Some(close::TOO_SLOW));
        server.shutdown();
        Ok(())
    });
}

/// The close code `ws` ends with, reading past everything else.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            _ => return None,
        }
    }
}

/// The next message of `ws`, if one comes within `d`.
async fn next_within(ws: &mut Ws, d: Duration) -> Option<Message> {
    let mut timer = lwt::sleep(d);
    let got = std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(m) = ws.poll_next_unpin(cx) {
            return std::task::Poll::Ready(m.and_then(Result::ok));
        }
        std::pin::Pin::new(&mut timer).poll(cx).map(|_| None)
    })
    .await;
    timer.cancel();
    got
}

#[test]
fn no_hello_in_time_and_silent_members_are_closed() {
    let root = site("deadlines", 16);
    run(async move {
        let mut o = options(root);
        o.hello_timeout = Duration::from_millis(300);
        o.idle_timeout = Duration::from_millis(600);
        let server = start(o)?;
        let a = server.local_addr();
        // An upgrade that never says hello.
        let s = TcpStream::connect(a).await?;
        let (mut quiet, _) = async_tungstenite::client_async(format!("ws://{a}/ws"), s)
            .await
            .map_err(Error::new)?;
        let t = Instant::now();
        assert_eq!(close_code(&mut quiet).await, Some(close::TIMEOUT));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

        // A member that pings stays; one that goes silent leaves, and the
        // other is told.
        let mut alive = member(a, "alive").await?;
        let mut silent = member(a, "silent").await?;
        let t = Instant::now();
        let mut told = false;
        while t.elapsed() < Duration::from_secs(3) && !told {
            alive
                .send(Message::text(r#"{"type":"ping","id":1}"#))
                .await
                .map_err(Error::new)?;
            while let Some(m) = next_within(&mut alive, Duration::from_millis(100)).await {
                told |= m.to_text().is_ok_and(|t| t.contains(r#""left":"silent""#));
            }
        }
        assert!(told, "alive was not told that silent left");
        assert!(
            t.elapsed() >= Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(close_code(&mut silent).await, Some(close::TIMEOUT));
        server.shutdown();
        Ok(())
    });
}

/// What one reading member saw: the `seq` of every chat line, and the
/// lines of the talkers, as (talker, n).
#[derive(Default)]
struct Seen {
    seqs: Vec<u64>,
    lines: Vec<(String, u64)>,
    left: Vec<String>,
}

#[test]
fn relays_keep_order_and_lose_nothing_under_resets_and_drops() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let root = site("soak", 16);
    run(async move {
        let server = start(options(root))?;
        let a = server.local_addr();
        // Readers: they read everything, so they are never dropped.
        let mut readers = Vec::new();
        let mut seen = Vec::new();
        for i in 0..4 {
            let mut ws = member(a, &format!("reader{i}")).await?;
            // Their welcome comes before anything else.
            assert!(matches!(
                next_msg(&mut ws).await?,
                ServerMsg::Welcome { .. }
            ));
            let log = Rc::new(RefCell::new(Seen::default()));
            seen.push(log.clone());
            readers.push(lwt::spawn(async move {
                while let Some(Ok(m)) = ws.next().await {
                    let Ok(text) = m.to_text() else { continue };
                    let msg = ServerMsg::decode(text);
                    if let Ok(ServerMsg::Presence { left: Some(l), .. }) = &msg {
                        log.borrow_mut().left.push(l.clone());
                    }
                    if let Ok(ServerMsg::Chat(c)) = msg {
                        let mut log = log.borrow_mut();
                        log.seqs.push(c.seq);
                        if let Some((who, n)) = c.text.split_once(':') {
                            log.lines.push((who.to_owned(), n.parse().unwrap_or(0)));
                        }
                    }
                }
                Ok(())
            }));
        }
        // Mutes: say lines in bursts, read nothing, and get dropped.
        let filler = "m".repeat(1400);
        let mut mutes = Vec::new();
        for i in 0..3 {
            let mut ws = member(a, &format!("mute{i}")).await?;
            let say = format!(r#"{{"type":"say","text":"mute{i}:{filler}"}}"#);
            mutes.push(lwt::spawn(async move {
                for _ in 0..200 {
                    for _ in 0..5 {
                        if ws.send(Message::text(say.clone())).await.is_err() {
                            return Ok(());
                        }
                    }
                    lwt::sleep(Duration::from_millis(2)).await?;
                }
                Ok(())
            }));
        }
        // Talkers: numbered lines; resetters: join, say a little, vanish.
        const LINES: u64 = 300;
        let mut talkers = Vec::new();
        for i in 0..2 {
            let mut ws = member(a, &format!("talker{i}")).await?;
            talkers.push(lwt::spawn(async move {
                for n in 1..=LINES {
                    let say = format!(r#"{{"type":"say","text":"talker{i}:{n}"}}"#);
                    ws.send(Message::text(say)).await.map_err(Error::new)?;
                    // Read what comes back, so as not to be dropped.
                    while next_within(&mut ws, Duration::from_millis(0))
                        .await
                        .is_some()
                    {}
                    if n % 20 == 0 {
                        lwt::sleep(Duration::from_millis(5)).await?;
                    }
                }
                while next_within(&mut ws, Duration::from_millis(300))
                    .await
                    .is_some()
                {}
                Ok(())
            }));
        }
        for k in 0..20 {
            let mut ws = member(a, &format!("reset{k}")).await?;
            let say = format!(r#"{{"type":"say","text":"reset{k}:{}"}}"#, "r".repeat(500));
            for _ in 0..3 {
                let _ = ws.send(Message::text(say.clone())).await;
            }
            drop(ws);
            lwt::sleep(Duration::from_millis(10)).await?;
        }
        for t in talkers {
            t.await?;
        }
        for m in mutes {
            m.await?;
        }
        lwt::sleep(Duration::from_millis(300)).await?;
        for (i, log) in seen.iter().enumerate() {
            let log = log.borrow();
            assert!(
                log.seqs.windows(2).all(|w| w[1] == w[0] + 1),
                "reader{i} saw lines out of order or with a gap: {:?}",
                log.seqs.windows(2).find(|w| w[1] != w[0] + 1)
            );
            for t in 0..2 {
                let got: Vec<u64> = log
                    .lines
                    .iter()
                    .filter(|(who, _)| *who == format!("talker{t}"))
                    .map(|(_, n)| *n)
                    .collect();
                assert_eq!(got, (1..=LINES).collect::<Vec<_>>(), "reader{i}, talker{t}");
            }
            let dropped = log.left.iter().filter(|l| l.starts_with("mute")).count();
            assert!(dropped > 0, "reader{i} saw no mute dropped: {:?}", log.left);
            eprintln!(
                "reader{i}: {} lines in order, {dropped} mutes dropped",
                log.seqs.len()
            );
        }
        server.shutdown();
        for r in readers {
            let _ = r.await;
        }
        Ok(())
    });
}

#[test]
fn connections_past_a_cap_are_closed_at_once_and_served_again_after() {
    let root = site("cap", 16);
    run(async move {
        for (max, per_addr) in [(10, 3), (3, 10)] {
            let mut o = options(root.clone());
            o.head_timeout = Duration::from_secs(10);
            o.max_conns = max;
            o.max_conns_per_addr = per_addr;
            let cap = max.min(per_addr);
            let server = start(o)?;
            let a = server.local_addr();
            let mut idle = Vec::new();
            for _ in 0..cap {
                idle.push(TcpStream::connect(a).await?);
            }
            let t = Instant::now();
            while server.stats().conns_open < cap as u64 {
                assert!(t.elapsed() < Duration::from_secs(2));
                lwt::sleep(Duration::from_millis(5)).await?;
            }
            // One more: closed at once, not left waiting.
            let extra = TcpStream::connect(a).await?;
            let waited = until_closed(&extra).await?;
            assert!(waited < Duration::from_millis(500), "{waited:?}");
            assert_eq!(server.stats().conns_refused, 1);
            // The attacker leaves: a real client is served.
            drop(idle);
            let t = Instant::now();
            while server.stats().conns_open > 0 {
                assert!(t.elapsed() < Duration::from_secs(2));
                lwt::sleep(Duration::from_millis(5)).await?;
            }
            let s = TcpStream::connect(a).await?;
            s.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
                .await?;
            let (head, _) = response(&s, false).await?;
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            server.shutdown();
        }
        Ok(())
    });
}

#[test]
fn control_characters_and_impersonating_names_are_refused_and_welcomes_stay_small() {
    let root = site("text", 16);
    run(async move {
        let server = start(options(root))?;
        let a = server.local_addr();
        let mut ada = member(a, "ada").await?;
        assert!(matches!(
            next_msg(&mut ada).await?,
            ServerMsg::Welcome { .. }
        ));
        let evil = r#"{"type":"say","text":"\u001b[2Jgotcha"}"#;
        ada.send(Message::text(evil)).await.map_err(Error::new)?;
        match next_msg(&mut ada).await? {
            ServerMsg::Error { code, .. } => assert_eq!(code, "bad_text"),
            other => panic!("{other:?}"),
        }
        // A name with a right-to-left override: refused.
        let mut fake = member(a, "ad\u{202E}a").await?;
        assert_eq!(close_code(&mut fake).await, Some(close::POLICY));
        // 50 lines of the longest text, in characters that take 4 bytes
        // each as UTF-8: the welcome stays under the frame limit.
        let long = "\u{1F600}".repeat(2000);
        for _ in 0..50 {
            let say = format!(r#"{{"type":"say","text":"{long}"}}"#);
            ada.send(Message::text(say)).await.map_err(Error::new)?;
            assert!(matches!(next_msg(&mut ada).await?, ServerMsg::Chat(_)));
        }
        let s = TcpStream::connect(a).await?;
        let (mut bob, _) = async_tungstenite::client_async(format!("ws://{a}/ws"), s)
            .await
            .map_err(Error::new)?;
        bob.send(Message::text(
            r#"{"type":"hello","name":"bob","room":"lobby"}"#,
        ))
        .await
        .map_err(Error::new)?;
        let welcome = loop {
            match bob.next().await {
                Some(Ok(Message::Text(t))) => break t,
                Some(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        };
        eprintln!("welcome after 50 long lines: {} bytes", welcome.len());
        assert!(welcome.len() < lwt_www_shared::protocol::MAX_FRAME_BYTES);
        assert!(welcome.contains("\u{1F600}"));
        server.shutdown();
        Ok(())
    });
}

#[test]
fn lines_past_the_rate_are_refused() {
    let root = site("rate", 16);
    run(async move {
        let mut o = options(root);
        o.say_limit = Some((Duration::from_millis(100), 3));
        let server = start(o)?;
        let mut ada = member(server.local_addr(), "ada").await?;
        assert!(matches!(
            next_msg(&mut ada).await?,
            ServerMsg::Welcome { .. }
        ));
        let say = Message::text(r#"{"type":"say","text":"hi"}"#);
        for _ in 0..10 {
            ada.send(say.clone()).await.map_err(Error::new)?;
        }
        let (mut sent, mut limited) = (0, 0);
        for _ in 0..10 {
            match next_msg(&mut ada).await? {
                ServerMsg::Chat(_) => sent += 1,
                ServerMsg::Error { code, .. } if code == "rate_limited" => limited += 1,
                other => panic!("{other:?}"),
            }
        }
        // The burst, and perhaps one more turn if the test was slow.
        assert!((3..=4).contains(&sent), "{sent} sent");
        assert_eq!(sent + limited, 10);
        // Later, lines go again.
        lwt::sleep(Duration::from_millis(150)).await?;
        ada.send(say).await.map_err(Error::new)?;
        assert!(matches!(next_msg(&mut ada).await?, ServerMsg::Chat(_)));
        server.shutdown();
        Ok(())
    });
}

/// Counts the server's (unmasked, text) frames on `s` until `want` have
/// come: their count and bytes go to `frames` and `bytes`.
async fn count_frames(
    s: TcpStream,
    want: u64,
    frames: std::rc::Rc<std::cell::Cell<u64>>,
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
) -> Result<(), Error> {
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = 0;
    while seen < want {
        let chunk = s.read_some(4096).await?;
        if chunk.is_empty() {
            return Err(Error::msg("closed before every frame came"));
        }
        bytes.set(bytes.get() + chunk.len() as u64);
        buf.extend(chunk);
        let mut at = 0;
        loop {
            let b = &buf[at..];
            let (head, len) = match b.get(1) {
                Some(&l) if l < 126 => (2, l as usize),
                Some(&126) if b.len() >= 4 => (4, u16::from_be_bytes([b[2], b[3]]) as usize),
                Some(&126) | None => break,
                Some(l) => return Err(Error::msg(format!("unexpected length byte {l}"))),
            };
            if b.len() < head + len {
                break;
            }
            at += head + len;
            seen += 1;
            frames.set(frames.get() + 1);
        }
        buf.drain(..at);
    }
    Ok(())
}

#[test]
fn presence_in_a_big_room_costs_each_member_one_small_frame_per_join() {
    // Every join is a frame to every member: N²/2 frames in all, ~30 µs
    // each through this process's clients. 400 by default keeps the suite
    // quick; `CROWD=2000 cargo test --release` is the 2,000-member room.
    let n: u64 = std::env::var("CROWD").map_or(400, |v| v.parse().unwrap());
    let root = site("crowd", 16);
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bound = Duration::from_secs(30 + n * n / 20_000);
    let f = async move {
        let mut o = options(root);
        o.max_conns = n as usize + 10;
        o.max_conns_per_addr = n as usize + 10;
        // These members never ping: no idle deadline while the room fills.
        o.idle_timeout = bound;
        let server = start(o)?;
        let a = server.local_addr();
        let frames = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let bytes = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let mut readers = Vec::new();
        let t = Instant::now();
        for i in 0..n {
            let s = raw_ws(a).await?;
            // All under one name: the server numbers them `m`, `m-2`, ...
            let hello = br#"{"type":"hello","name":"m","room":"lobby"}"#;
            s.send_all(frame(0x1, hello)).await?;
            // Its welcome, then a presence for each who joins after it.
            let want = 1 + (n - 1 - i);
            readers.push(lwt::spawn(count_frames(
                s,
                want,
                frames.clone(),
                bytes.clone(),
            )));
        }
        for r in readers {
            r.await?;
        }
        let took = t.elapsed();
        let presences = n * (n - 1) / 2;
        assert_eq!(frames.get(), n + presences);
        // The welcomes carry the list (up to ~14 KiB for the last); each
        // presence is one small frame (~40 bytes) whatever the room's size.
        // A full list per join would be ~n/2 names per frame, ~14 GB in all.
        let per_join_per_member = bytes.get() / presences;
        eprintln!(
            "{n} joins: {took:?} ({:?} a join), {} bytes received, {per_join_per_member} bytes a join a member",
            took / n as u32,
            bytes.get()
        );
        assert!(per_join_per_member < 200, "{per_join_per_member} bytes");
        server.shutdown();
        Ok(())
    };
    lwt_native::run(async move { lwt::with_timeout(bound, &lwt::spawn(f)).await }).unwrap();
}
