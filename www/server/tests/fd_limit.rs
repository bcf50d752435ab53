//! The connection cap under a lowered descriptor limit: the server program
//! runs as a child with `ulimit -n 96`, on 127.0.0.1:0; an attacker holds
//! 90 idle connections. Past the cap (the limit less the reserve) new
//! connections are closed at once instead of waiting in a backlog that
//! `accept` can no longer drain, and once the attacker leaves a real client
//! is served at once.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: usize = 96;

/// The attacker's connections.
const ATTACK: usize = 90;

/// Kills the child however the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the server has closed `s` (an end of stream or a reset), not
/// waiting: `false` while it is open and silent.
fn closed(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 256];
    let mut r = s;
    match r.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => panic!("the server said something to a silent connection"),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => true,
        Err(e) => panic!("{e}"),
    }
}

fn get(a: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect(a)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    Ok(answer)
}

#[test]
fn past_the_fd_limit_connections_are_refused_at_once_and_served_again_after() {
    attack_under_the_limit(1);
}

/// On two loops sharing the address the cap is the same: one count for the
/// process, whichever loop the kernel gives a connection to.
#[test]
fn on_two_loops_the_fd_cap_is_one_count_for_the_process() {
    attack_under_the_limit(2);
}

fn attack_under_the_limit(threads: usize) {
    let root =
        std::env::temp_dir().join(format!("lwt-www-fdlimit-{}-{threads}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let mut child = Child(
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_lwt-www-server"))
            .args(["--addr", "127.0.0.1:0", "--quiet", "--threads"])
            .arg(threads.to_string())
            .arg("--root")
            .arg(&root)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    // Kept open: the server's stdout stays a live pipe.
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    let a: SocketAddr = line
        .trim()
        .strip_prefix("lwt-www-server: listening on http://")
        .and_then(|r| r.split_once('/'))
        .map(|(addr, _loops)| addr)
        .unwrap_or_else(|| panic!("not the listening line: {line:?}"))
        .parse()
        .unwrap();
    assert!(get(a).unwrap().starts_with("HTTP/1.1 200"));
    // The attacker: 90 connections that say nothing, more than the server
    // has descriptors for, opened at once. (One at a time with a wait for
    // each would be slower than the 10 s head deadline sheds them: the
    // server would never hold as many as its cap.) Those past the cap are
    // closed at once, the others stay open (the head deadline is 10 s).
    let t = Instant::now();
    let attack: Vec<TcpStream> = (0..ATTACK)
        .map(|_| TcpStream::connect(a).unwrap())
        .collect();
    let opened = t.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let (refused, held): (Vec<_>, Vec<_>) = attack.into_iter().partition(closed);
    let checked = t.elapsed();
    let cap = LIMIT - lwt_www_server::FD_RESERVE;
    eprintln!(
        "fd limit {LIMIT}, {threads} loop(s): {ATTACK} connections opened in {opened:?}; {} held, {} closed \
         within {checked:?}",
        held.len(),
        refused.len()
    );
    assert!(checked < Duration::from_secs(2), "{checked:?}");
    assert_eq!(held.len(), cap);
    assert_eq!(refused.len(), ATTACK - cap);
    // A real client during the attack is refused at once, not left hanging.
    let t = Instant::now();
    let answer = get(a);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert!(!answer
        .map(|a| a.starts_with("HTTP/1.1 200"))
        .unwrap_or(false));
    // The attacker leaves: served again at once.
    drop(held);
    let t = Instant::now();
    loop {
        if get(a).is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(2), "not served again");
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("served again {:?} after the attacker left", t.elapsed());
    let _ = std::fs::remove_dir_all(&root);
}
