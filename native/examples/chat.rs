//! A line-based chat server: every line a client sends goes to all the
//! other clients, prefixed with the sender's address.
//!
//! ```text
//! cargo run -p lwt-native --example chat -- 127.0.0.1:7001   # then: nc 127.0.0.1 7001
//! cargo run -p lwt-native --example chat -- --demo           # two clients chat, then exit
//! ```
//!
//! Uses the buffered channels of `lwt_native::io` and `establish_server`.
//! Each client has an outbox (an `lwt` promise queue would do too; here a
//! `RefCell<Vec<String>>` plus a wake-up promise keeps it dependency-free).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;

use lwt::{Promise, Resolver};
use lwt_native::io::{establish_server, InputChannel, OutputChannel};

#[derive(Default)]
struct Outbox {
    lines: Vec<String>,
    waiting: Option<Resolver<()>>,
}

type Room = Rc<RefCell<HashMap<SocketAddr, Rc<RefCell<Outbox>>>>>;

fn broadcast(room: &Room, from: SocketAddr, line: &str) {
    let outboxes: Vec<_> = room
        .borrow()
        .iter()
        .filter(|(a, _)| **a != from)
        .map(|(_, o)| o.clone())
        .collect();
    for o in outboxes {
        let waiting = {
            let mut o = o.borrow_mut();
            o.lines.push(format!("{from}: {line}"));
            o.waiting.take()
        };
        if let Some(r) = waiting {
            let _ = r.resolve(());
        }
    }
}

fn next_lines(outbox: &Rc<RefCell<Outbox>>) -> Promise<Vec<String>> {
    let ready = std::mem::take(&mut outbox.borrow_mut().lines);
    if !ready.is_empty() {
        return Promise::resolved(ready);
    }
    let (p, r) = lwt::task();
    outbox.borrow_mut().waiting = Some(r);
    let o = outbox.clone();
    p.map(move |()| std::mem::take(&mut o.borrow_mut().lines))
}

fn client(room: Room, peer: SocketAddr, ic: InputChannel, oc: OutputChannel) -> Promise<()> {
    let outbox = Rc::new(RefCell::new(Outbox::default()));
    room.borrow_mut().insert(peer, outbox.clone());
    broadcast(&room, peer, "joined");
    let writer: Promise<()> = lwt::spawn(async move {
        loop {
            for line in next_lines(&outbox).await? {
                oc.write_line(&line).await?;
            }
            oc.flush().await?;
        }
    });
    lwt::spawn(async move {
        while let Some(line) = ic.read_line().await? {
            broadcast(&room, peer, &line);
        }
        room.borrow_mut().remove(&peer);
        broadcast(&room, peer, "left");
        writer.cancel();
        Ok(())
    })
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "--demo".into());
    let demo = arg == "--demo";
    let addr: SocketAddr = if demo {
        "127.0.0.1:0".parse().unwrap()
    } else {
        arg.parse().expect("an address")
    };
    let result = lwt_native::run(async move {
        let room: Room = Rc::default();
        let server =
            establish_server(addr, move |peer, ic, oc| client(room.clone(), peer, ic, oc))?;
        println!("chat server on {}", server.local_addr());
        if !demo {
            return Promise::<()>::never().await;
        }
        let alice = lwt_native::net::TcpStream::connect(server.local_addr()).await?;
        let bob = lwt_native::net::TcpStream::connect(server.local_addr()).await?;
        let alice_in = InputChannel::new(alice.clone());
        let bob_in = InputChannel::new(bob.clone());
        // Alice hears Bob join; then Bob hears what Alice says.
        println!(
            "alice sees: {}",
            alice_in.read_line().await?.unwrap_or_default()
        );
        alice.write_all(b"hi bob\n").await?;
        println!(
            "bob sees:   {}",
            bob_in.read_line().await?.unwrap_or_default()
        );
        server.shutdown().cancel();
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("chat: {e}");
        std::process::exit(1);
    }
}
