//! Parallel requests with a time-out, against a local server.
//!
//! ```text
//! cargo run -p lwt-native --example parallel_requests
//! ```
//!
//! A server answers each request line after a delay the line asks for. The
//! client sends ten requests at once, each under a 100 ms time-out
//! (`lwt::with_timeout`): the slow ones are canceled — their sockets closed,
//! their reads released — and the fast ones answer.

use std::time::Duration;

use lwt_native::io::{establish_server, InputChannel, OutputChannel};
use lwt_native::net::TcpStream;

fn main() {
    let result = lwt_native::run(async {
        let server = establish_server("127.0.0.1:0".parse()?, |_peer, ic, oc| {
            lwt::spawn(async move {
                while let Some(line) = ic.read_line().await? {
                    let ms: u64 = line.trim().parse()?;
                    lwt::sleep(Duration::from_millis(ms)).await?;
                    oc.write_line(&format!("answered after {ms} ms")).await?;
                    oc.flush().await?;
                }
                Ok(())
            })
        })?;
        let addr = server.local_addr();
        let requests: Vec<lwt::Promise<String>> = (0..10u64)
            .map(|i| {
                let request = lwt::spawn(async move {
                    let s = TcpStream::connect(addr).await?;
                    let oc = OutputChannel::new(s.clone());
                    oc.write_line(&(i * 25).to_string()).await?;
                    oc.flush().await?;
                    Ok(InputChannel::new(s).read_line().await?.unwrap_or_default())
                });
                lwt::with_timeout(Duration::from_millis(100), &request)
                    .catch(|e| lwt::Promise::resolved(format!("failed: {e}")))
            })
            .collect();
        for (i, answer) in lwt::all(requests).await?.into_iter().enumerate() {
            println!("request {i} ({} ms): {answer}", i * 25);
        }
        server.shutdown().await
    });
    if let Err(e) = result {
        eprintln!("parallel_requests: {e}");
        std::process::exit(1);
    }
}
