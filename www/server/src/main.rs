//! `lwt-www-server`: serves the built web app and its chat room.
//!
//! ```text
//! lwt-www-server [--addr 127.0.0.1:8080] [--root www/dist] [--threads N] [--quiet]
//! ```
//!
//! Prints `lwt-www-server: listening on http://ADDR/` once it listens,
//! followed by ` (N loops)` past one loop (`--addr 127.0.0.1:0` picks a
//! free port; the line tells which).
//! `--threads N` runs N loops sharing the address (default: the number of
//! cores; see `lwt_www_server::serve_on_loops`); `--threads 1`, one loop on
//! the main thread.

use std::io::Write;
use std::net::SocketAddr;

use lwt_www_server::{Options, Server};

/// The listening line, which scripts and tests wait for.
fn say_listening(addr: SocketAddr, threads: usize) {
    let loops = if threads == 1 {
        String::new()
    } else {
        format!(" ({threads} loops)")
    };
    println!("lwt-www-server: listening on http://{addr}/{loops}");
    let _ = std::io::stdout().flush();
}

fn usage() -> ! {
    eprintln!("usage: lwt-www-server [--addr 127.0.0.1:8080] [--root DIR] [--threads N] [--quiet]");
    std::process::exit(2)
}

fn main() {
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().expect("a valid address");
    let mut options = Options::new("www/dist");
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
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
            "--threads" => {
                threads = match args.next().map(|n| n.parse::<usize>()) {
                    Some(Ok(n)) if n > 0 => n,
                    _ => usage(),
                }
            }
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
    let result = if threads == 1 {
        serve(addr, options)
    } else {
        serve_on_loops(addr, options, threads)
    };
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
        say_listening(server.local_addr(), 1);
        server.serving().await
    })
}

/// Runs the server on `threads` loops until they all stop.
fn serve_on_loops(addr: SocketAddr, options: Options, threads: usize) -> Result<(), lwt::Error> {
    let (bound, loops) = lwt_www_server::serve_on_loops(addr, options, threads)
        .map_err(|e| lwt::Error::new(e).context(format!("cannot listen on {addr}")))?;
    say_listening(bound, threads);
    loops.join().map(drop)
}
