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
