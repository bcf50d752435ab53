//! A TCP echo server on lwt-native.
//!
//! ```text
//! cargo run -p lwt-native --example echo_server -- 127.0.0.1:7000   # serves forever
//! cargo run -p lwt-native --example echo_server -- --demo           # serves, talks to itself, exits
//! ```
//!
//! Each connection is a task: read what came, write it back, until the peer
//! closes. Uses the raw socket API (`TcpListener`, `TcpStream`).

use lwt_native::net::{TcpListener, TcpStream};

fn handle(s: TcpStream) -> lwt::Promise<()> {
    lwt::spawn(async move {
        let mut buf = [0; 4096];
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            s.write_all(&buf[..n]).await?;
        }
    })
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "--demo".into());
    let demo = arg == "--demo";
    let addr = if demo { "127.0.0.1:0".to_string() } else { arg };
    let result = lwt_native::run(async move {
        let listener = TcpListener::bind(addr.parse()?)?;
        let local = listener.local_addr()?;
        println!("echo server on {local}");
        let server = lwt::spawn(async move {
            loop {
                let (s, peer) = listener.accept().await?;
                println!("connection from {peer}");
                lwt::async_(move || handle(s));
            }
        });
        if !demo {
            return server.await;
        }
        let c = TcpStream::connect(local).await?;
        c.write_all(b"hello, echo").await?;
        let mut back = [0; 11];
        c.read_exact(&mut back).await?;
        println!("echoed: {}", String::from_utf8_lossy(&back));
        server.cancel();
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("echo_server: {e}");
        std::process::exit(1);
    }
}
