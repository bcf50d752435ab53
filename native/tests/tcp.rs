//! TCP: round trips, faults, cancellation, fd leaks.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use lwt_native::net::{TcpListener, TcpStream};
use lwt_native::{io_error_kind, run};

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn echo_server(l: &TcpListener) -> lwt::Promise<()> {
    let l = l.clone();
    lwt::spawn(async move {
        loop {
            let (s, _) = l.accept().await?;
            lwt::async_(move || {
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
            });
        }
    })
}

#[test]
fn echo_round_trip() {
    run(async {
        let l = TcpListener::bind(local())?;
        let server = echo_server(&l);
        let c = TcpStream::connect(l.local_addr()?).await?;
        c.set_nodelay(true)?;
        for i in 0..100u32 {
            let msg = i.to_be_bytes();
            c.write_all(&msg).await?;
            let mut back = [0; 4];
            c.read_exact(&mut back).await?;
            assert_eq!(back, msg);
        }
        server.cancel();
        Ok(())
    })
    .unwrap();
}

#[test]
fn connect_refused_carries_the_kind() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = run(TcpStream::connect(addr)).unwrap_err();
    assert_eq!(io_error_kind(&e), Some(ErrorKind::ConnectionRefused));
}

#[test]
fn connect_unreachable_or_timed_out() {
    // The limited broadcast address is never routable for TCP: the kernel
    // says unreachable (or refuses the broadcast); a firewall that drops it
    // instead makes it time out. Either way, the kind says which.
    let addr: SocketAddr = "255.255.255.255:9".parse().unwrap();
    let e = run(TcpStream::connect_timeout(addr, Duration::from_millis(200))).unwrap_err();
    let kind = io_error_kind(&e).unwrap();
    assert!(
        matches!(
            kind,
            ErrorKind::NetworkUnreachable
                | ErrorKind::HostUnreachable
                | ErrorKind::PermissionDenied
                | ErrorKind::TimedOut
        ),
        "{kind:?}"
    );
}

#[test]
fn connect_times_out_against_a_full_backlog() {
    // SAFETY: plain socket calls on a descriptor we own; the address struct
    // is zeroed and filled for AF_INET.
    let (fd, addr) = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as _;
        sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        assert_eq!(
            libc::bind(
                fd,
                &sa as *const _ as *const libc::sockaddr,
                std::mem::size_of_val(&sa) as _
            ),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        let mut len = std::mem::size_of_val(&sa) as libc::socklen_t;
        libc::getsockname(fd, &mut sa as *mut _ as *mut libc::sockaddr, &mut len);
        (
            fd,
            SocketAddr::from(([127, 0, 0, 1], u16::from_be(sa.sin_port))),
        )
    };
    let result = run(async move {
        // Fill the backlog; then a connection cannot complete.
        let mut held = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(addr, Duration::from_millis(100)).await {
                Ok(s) => held.push(s),
                Err(e) => return Ok(io_error_kind(&e)),
            }
        }
        Ok(None)
    })
    .unwrap();
    // SAFETY: we own `fd`.
    unsafe { libc::close(fd) };
    assert_eq!(result, Some(ErrorKind::TimedOut));
}

/// Closes with RST (SO_LINGER 0).
fn reset(s: std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a valid linger struct.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const _ as *const libc::c_void,
            std::mem::size_of_val(&linger) as _,
        );
    }
    drop(s);
}

#[test]
fn peer_reset_mid_read_and_mid_write_affects_only_that_connection() {
    let raw = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = raw.local_addr().unwrap();
    let other_l = TcpListener::bind(local()).unwrap();
    let other_addr = other_l.local_addr().unwrap();
    let (writer_blocked, blocked) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (a, _) = raw.accept().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        reset(a);
        // Never reads: the client's write fills the buffers and waits.
        let (b, _) = raw.accept().unwrap();
        blocked.recv().unwrap();
        reset(b);
    });
    run(async move {
        let _echo = echo_server(&other_l);
        let healthy = TcpStream::connect(other_addr).await?;
        // Mid-read: the read waits when the reset comes.
        let a = TcpStream::connect(addr).await?;
        let e = a.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(io_error_kind(&e), Some(ErrorKind::ConnectionReset));
        // Mid-write: more than the kernel's buffers hold, so the write is
        // still waiting for room on the reactor when the reset comes; the
        // error edge must wake it.
        let b = TcpStream::connect(addr).await?;
        let (_, waits0) = lwt_native::io_stats();
        let write = b.send_all(vec![7u8; 64 << 20]);
        while lwt_native::io_stats().1 == waits0 {
            assert!(
                write.is_pending(),
                "64 MiB went through a peer that never reads"
            );
            lwt::sleep(Duration::from_millis(1)).await?;
        }
        writer_blocked.send(()).unwrap();
        let e = lwt::with_timeout(Duration::from_secs(10), &write)
            .await
            .unwrap_err();
        assert!(
            !e.is_timeout(),
            "the waiting write was never woken by the reset"
        );
        let kind = io_error_kind(&e).unwrap();
        assert!(
            matches!(kind, ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
            "{kind:?}"
        );
        // The other connection still works.
        healthy.write_all(b"still here").await?;
        let mut back = [0; 10];
        healthy.read_exact(&mut back).await?;
        assert_eq!(&back, b"still here");
        Ok(())
    })
    .unwrap();
    server.join().unwrap();
}

#[test]
fn canceled_read_and_accept_leave_the_loop_healthy() {
    run(async {
        let (sources0, waits0) = lwt_native::io_stats();
        let l = TcpListener::bind(local())?;
        let accept = l.accept();
        lwt::sleep(Duration::from_millis(5)).await?;
        assert_eq!(lwt_native::io_stats().1, waits0 + 1, "the accept waits");
        accept.cancel();
        assert!(accept.peek().unwrap().unwrap_err().is_canceled());
        let c = TcpStream::connect(l.local_addr()?).await?;
        let (s, _) = l.accept().await?;
        // Canceled reads, one after another: the reactor holds at most the
        // one waiting now, never the dead ones before it (io_stats counts
        // every wait held, canceled or not).
        for _ in 0..100 {
            let read = c.read_some(16);
            lwt::pause().await?;
            assert!(read.is_pending());
            read.cancel();
            assert!(
                lwt_native::io_stats().1 <= waits0 + 1,
                "canceled waits pile up"
            );
        }
        // Both still work.
        s.write_all(b"ok").await?;
        let mut buf = [0; 2];
        c.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ok");
        assert_eq!(lwt_native::io_stats().1, waits0, "the event released them");
        drop((c, s, l));
        assert_eq!(lwt_native::io_stats(), (sources0, waits0));
        Ok(())
    })
    .unwrap();
}

#[test]
fn no_fd_leak_after_10000_connect_close_cycles() {
    lwt_native::install(); // the loop's own descriptors (poller, waker)
    let before = lwt_native::open_fd_count().unwrap();
    run(async {
        let l = TcpListener::bind(local())?;
        let addr = l.local_addr()?;
        for i in 0..10_000u32 {
            let c = TcpStream::connect(addr);
            let (s, _) = l.accept().await?;
            let c = c.await?;
            if i % 2 == 0 {
                drop(s);
                assert_eq!(c.read(&mut [0; 1]).await?, 0);
            } else {
                drop(c);
                assert_eq!(s.read(&mut [0; 1]).await?, 0);
            }
        }
        Ok(())
    })
    .unwrap();
    // Other tests of this binary run in parallel threads and hold a few
    // sockets at times; a leak here would be thousands.
    let after = lwt_native::open_fd_count().unwrap();
    assert!(
        after <= before + 16,
        "{before} descriptors before, {after} after"
    );
}

#[test]
fn futures_io_traits_plug_in() {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    run(async {
        let l = TcpListener::bind(local())?;
        let addr = l.local_addr()?;
        let writer = lwt::spawn(async move {
            let (mut s, _) = l.accept().await?;
            AsyncWriteExt::write_all(&mut s, b"through futures-io")
                .await
                .map_err(lwt::Error::new)?;
            s.close().await.map_err(lwt::Error::new)?;
            Ok(())
        });
        let c = TcpStream::connect(addr).await?;
        let (mut r, _w) = c.split();
        let mut all = Vec::new();
        r.read_to_end(&mut all).await.map_err(lwt::Error::new)?;
        writer.await?;
        assert_eq!(all, b"through futures-io");
        Ok(())
    })
    .unwrap();
}

#[test]
fn udp_and_unix_sockets() {
    run(async {
        let a = lwt_native::net::UdpSocket::bind(local())?;
        let b = lwt_native::net::UdpSocket::bind(local())?;
        let got = b.recv_some(64);
        a.send_to(b"datagram", b.local_addr()?).await?;
        assert_eq!(got.await?.0, b"datagram");
        let (x, y) = lwt_native::net::UnixStream::pair()?;
        x.write_all(b"unix").await?;
        drop(x);
        let mut all = Vec::new();
        loop {
            let chunk = y.read_some(3).await?;
            if chunk.is_empty() {
                break;
            }
            all.extend(chunk);
        }
        assert_eq!(all, b"unix");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_udp_error_edge_does_not_keep_the_socket_ready() {
    // A connected UDP socket whose peer port is closed: the ICMP error fails
    // one receive, and the next one has nothing to get. It must wait (here,
    // until its timeout), not spin on `WouldBlock` without yielding: the body
    // runs on its own thread so a spin fails the test instead of hanging it.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = run(async {
            let dead = std::net::UdpSocket::bind(local())?;
            let dead_addr = dead.local_addr()?;
            drop(dead);
            let s = lwt_native::net::UdpSocket::bind(local())?;
            s.connect(dead_addr)?;
            s.send(b"anyone?").await?;
            // The error edge reaches the loop before anyone receives.
            lwt::sleep(Duration::from_millis(50)).await?;
            let first = lwt::with_timeout(Duration::from_secs(5), &s.recv_some(16)).await;
            assert!(first.is_err(), "nobody answers");
            let second = lwt::with_timeout(Duration::from_millis(200), &s.recv_some(16)).await;
            assert!(second.unwrap_err().is_timeout());
            Ok(())
        });
        let _ = done.send(outcome.map_err(|e| e.to_string()));
    });
    let outcome = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the receive after the error edge yields to the loop");
    outcome.unwrap();
}

#[test]
fn data_and_close_in_one_edge_are_both_seen() {
    // The peer writes and closes at once: one event carries both. A short
    // read must not make the reader wait for an edge that never comes.
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            std::io::Write::write_all(&mut s, b"last words").unwrap();
        });
        let got = run(async move {
            let s = TcpStream::connect(addr).await?;
            lwt::sleep(Duration::from_millis(2)).await?; // let both arrive
            let mut all = Vec::new();
            loop {
                let n = lwt::with_timeout(Duration::from_secs(5), &s.read_some(1024)).await?;
                if n.is_empty() {
                    break;
                }
                all.extend(n);
            }
            Ok(all)
        })
        .unwrap();
        assert_eq!(got, b"last words");
        t.join().unwrap();
    }
}
