//! One loop per core through the public API: connections spread over loops
//! sharing a port, shutdown, the channel between loops, a failing loop.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lwt_native::loops::{bind_reuse_port, channel, Loops};

#[test]
fn connections_spread_over_loops_sharing_a_port_then_shutdown() {
    let port = bind_reuse_port("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .local_addr()
        .unwrap();
    let total = Arc::new(AtomicUsize::new(0));
    let t = total.clone();
    let h = Loops::new(2)
        .spawn(move |ctx| {
            let t = t.clone();
            // Bound before `spawn` returns, so the first connect finds it.
            let listener = bind_reuse_port(port);
            async move {
                let listener = listener?;
                let mut served = 0usize;
                loop {
                    let accepted = listener.accept();
                    let which = lwt::pick(vec![accepted.map(Some), ctx.shutdown().map(|()| None)]);
                    match which.await? {
                        Some((conn, _)) => {
                            conn.send_all(format!("{}", ctx.index()).into_bytes())
                                .await?;
                            served += 1;
                            t.fetch_add(1, Ordering::SeqCst);
                        }
                        None => return Ok(served),
                    }
                }
            }
        })
        .unwrap();
    let mut seen = [0usize; 2];
    for _ in 0..64 {
        let mut c = match std::net::TcpStream::connect(port) {
            Ok(c) => c,
            Err(e) => {
                h.shutdown();
                panic!("{e}: {:?}", h.join().err());
            }
        };
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        seen[s.parse::<usize>().unwrap()] += 1;
    }
    h.shutdown();
    let served = h.join().unwrap();
    assert_eq!(served.iter().sum::<usize>(), 64);
    assert_eq!(total.load(Ordering::SeqCst), 64);
    assert_eq!(served, seen.to_vec());
    #[cfg(target_os = "linux")]
    assert!(
        seen.iter().all(|&n| n > 0),
        "one loop got nothing: {seen:?}"
    );
    // Every listener is closed: nothing accepts on the port any more.
    assert!(std::net::TcpStream::connect(port).is_err());
}

#[test]
fn channel_carries_values_between_loops_and_closes() {
    let (tx, rx) = channel::<u64>();
    let rx = std::sync::Mutex::new(Some(rx));
    let v = Loops::new(3)
        .run(move |ctx| {
            let tx = tx.clone();
            let rx = rx.lock().unwrap().take();
            async move {
                match rx {
                    Some(rx) => {
                        drop(tx);
                        let mut got = Vec::new();
                        while let Some(n) = rx.recv().await {
                            got.push(n);
                        }
                        Ok(got.len() as u64)
                    }
                    None => {
                        for n in 0..100 {
                            lwt::pause().await?;
                            assert!(tx.send(ctx.index() as u64 * 1000 + n).is_ok());
                        }
                        Ok(0)
                    }
                }
            }
        })
        .unwrap();
    assert_eq!(v.iter().sum::<u64>(), 200);
}

#[test]
fn a_failing_or_panicking_loop_is_an_err_after_all_are_joined() {
    let finished = Arc::new(AtomicUsize::new(0));
    let f = finished.clone();
    let r = Loops::new(3).run(move |ctx| {
        let f = f.clone();
        async move {
            match ctx.index() {
                1 => panic!("loop one broke"),
                2 => Err(lwt::Error::msg("loop two failed")),
                _ => {
                    f.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            }
        }
    });
    let e = r.unwrap_err().to_string();
    assert!(e.contains("loop 1"), "{e}");
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

#[test]
fn send_to_a_dropped_receiver_gives_the_value_back() {
    let (tx, rx) = channel::<String>();
    drop(rx);
    assert_eq!(tx.send("back".into()).unwrap_err(), "back");
}
