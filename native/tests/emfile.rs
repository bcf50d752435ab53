//! EMFILE on accept: no busy loop, and the server serves again once
//! descriptors free up. Alone in its binary: it lowers the process's
//! descriptor limit. Where `getrusage` has no per-thread figure (macOS),
//! the test is left out: it measures the loop thread's CPU time.
#![cfg(any(target_os = "linux", target_os = "freebsd"))]

use std::io::Read;
use std::time::Duration;

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    Duration::from_secs((u.ru_utime.tv_sec + u.ru_stime.tv_sec) as u64)
        + Duration::from_micros((u.ru_utime.tv_usec + u.ru_stime.tv_usec) as u64)
}

#[test]
fn emfile_on_accept_does_not_spin_and_recovers() {
    let server = lwt_native::io::establish_server("127.0.0.1:0".parse().unwrap(), |_, _ic, oc| {
        lwt::spawn(async move { oc.write_line("served").await })
    })
    .unwrap();
    let addr = server.local_addr();
    // Clients connect (the backlog completes them) before the limit bites.
    let mut clients: Vec<std::net::TcpStream> = (0..5)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    // Lower the limit and fill the table.
    let open = lwt_native::open_fd_count().unwrap() as libc::rlim_t;
    // SAFETY: getrlimit fills the zeroed struct we own.
    let mut old: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) };
    let lim = libc::rlimit {
        rlim_cur: open + 16,
        rlim_max: old.rlim_max,
    };
    // SAFETY: only lowers the soft limit, with a valid struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let mut hog = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        hog.push(f);
    }
    let before = cpu_time();
    lwt_native::run(lwt::sleep(Duration::from_millis(300))).unwrap();
    let spent = cpu_time() - before;
    assert_eq!(server.accepted(), 0);
    assert!(
        spent < Duration::from_millis(100),
        "accept loop spun: {spent:?} of CPU in 300ms"
    );
    // Free the descriptors: every client gets served.
    drop(hog);
    lwt_native::run(async move {
        while server.accepted() < 5 {
            lwt::sleep(Duration::from_millis(10)).await?;
        }
        Ok(())
    })
    .unwrap();
    // SAFETY: puts the old limit back.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) };
    let h = std::thread::spawn(move || {
        for c in &mut clients {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut s = String::new();
            c.read_to_string(&mut s).unwrap();
            assert_eq!(s, "served\n");
        }
    });
    lwt_native::run(async move {
        while !h.is_finished() {
            lwt::sleep(Duration::from_millis(5)).await?;
        }
        h.join().unwrap();
        Ok(())
    })
    .unwrap();
}
