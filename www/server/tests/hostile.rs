//! Clients that try to hold the server's time or memory, on 127.0.0.1:0,
//! each bounded in count and time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lwt::Error;
use lwt_native::net::TcpStream;
use lwt_www_server::{Options, Server};

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

/// Runs `f` on the native engine, failing after 30 s.
fn run<T: Clone + 'static>(f: impl std::future::Future<Output = Result<T, Error>> + 'static) -> T {
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
        let server = Server::start("127.0.0.1:0".parse().unwrap(), options(root))?;
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
        let server = Server::start("127.0.0.1:0".parse().unwrap(), o)?;
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
        assert!(grown < 24 * 1024, "RSS grew {grown} KiB");
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
