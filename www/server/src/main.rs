//! `lwt-www-server`: serves the built web app and its chat room.
//!
//! ```text
//! lwt-www-server [--addr 127.0.0.1:8080] [--root www/dist] [--quiet]
//! ```
//!
//! Prints `lwt-www-server: listening on http://ADDR/` once it listens
//! (`--addr 127.0.0.1:0` picks a free port; the line tells which).

use std::io::Write;
use std::net::SocketAddr;

use lwt_www_server::{Options, Server};

fn usage() -> ! {
    eprintln!("usage: lwt-www-server [--addr 127.0.0.1:8080] [--root DIR] [--quiet]");
    std::process::exit(2)
}

fn main() {
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().expect("a valid address");
    let mut options = Options::new("www/dist");
    options.say_limit = Some(lwt_www_server::SAY_LIMIT);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                addr = match args.next().map(|a| a.parse()) {
                    Some(Ok(a)) => a,
                    _ => usage(),
                }
            }
            "--root" => options.root = args.next().unwrap_or_else(|| usage()).into(),
            "--quiet" => options.log = false,
            _ => usage(),
        }
    }
    if !options.root.join("index.html").is_file() {
        eprintln!(
            "lwt-www-server: {} has no index.html (build the app first: cargo xtask www-build)",
            options.root.display()
        );
        std::process::exit(1);
    }
    let result = serve(addr, options);
    if let Err(e) = result {
        eprintln!("lwt-www-server: {e}");
        std::process::exit(1);
    }
}

/// Runs the server on this thread's loop until it stops.
fn serve(addr: SocketAddr, options: Options) -> Result<(), lwt::Error> {
    lwt_native::run(async move {
        let server = Server::start(addr, options)
            .map_err(|e| lwt::Error::new(e).context(format!("cannot listen on {addr}")))?;
        println!(
            "lwt-www-server: listening on http://{}/",
            server.local_addr()
        );
        let _ = std::io::stdout().flush();
        server.serving().await
    })
}
