//! lwt-native against tokio's current-thread runtime, in the same run:
//!
//! 1. TCP echo: 100 connections × 64-byte round trips, for a fixed time,
//!    driven by one load client (its own thread, mio, loopback only) against
//!    an lwt-native server, then the same client against a tokio server.
//!    Throughput and p50/p99 latency over seven paired rounds (the order in
//!    each pair alternates); the median ratio and its range are reported.
//! 2. 1,000,000 timers (deadlines spread over 10 ms) armed and fired.
//! 3. The core's spawn loop (1,000,000 trivial tasks) and pause loop (one
//!    task pausing 1,000,000 times), on this engine. Trivial tasks are not
//!    the same work on both sides (lwt finishes one inside `spawn`, tokio
//!    queues it and polls it later), so the spawn part also times 1,000,000
//!    tasks that each go back to the loop once, which both sides poll twice
//!    with a trip through their scheduler's queue in between.
//!
//! 4. The issue-21 shapes, each side in a child process of its own so that
//!    its peak resident set (`VmHWM`) is its own: 1,000,000 timers with
//!    deadlines spread over 200 ms (a callback per sleep against a tokio
//!    task per timer), and 1,000,000 spawns of a task that finishes at once
//!    against futures' `LocalPool`.
//!
//! ```text
//! cargo bench -p lwt-native --bench native            # everything (~40 s)
//! cargo bench -p lwt-native --bench native -- shapes  # part 4 (~30 s)
//! cargo bench -p lwt-native --bench native -- echo    # one part: echo, timers, spawn, pause
//! cargo bench -p lwt-native --bench native -- echo-lwt # one side only (for a profiler):
//!                                                     # echo-lwt, echo-tokio, timers-lwt
//! ```

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CONNS: usize = 100;
const MSG: usize = 64;
const ECHO_TIME: Duration = Duration::from_secs(2);
const MILLION: usize = 1_000_000;

/// How many timers / tasks / pauses (`LWT_BENCH_N` overrides a million).
fn n() -> usize {
    std::env::var("LWT_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MILLION)
}

#[derive(Clone)]
struct EchoStats {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    /// Round trips completed.
    count: usize,
    /// CPU time of the server's thread (the calling thread) over the run.
    server_cpu: Duration,
}

impl EchoStats {
    /// Server CPU time per round trip: what throughput cannot show when the
    /// one load client is the bottleneck.
    fn cpu_per_round_trip(&self) -> Duration {
        self.server_cpu / self.count.max(1) as u32
    }
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (zero
/// where that file does not exist).
fn thread_cpu() -> Duration {
    let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// The load client: `CONNS` connections, each sending `MSG` bytes and
/// waiting for them to come back, for `ECHO_TIME`.
fn load_client(addr: SocketAddr) -> EchoStats {
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(1024);
    let mut conns = Vec::new();
    for i in 0..CONNS {
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_nonblocking(true).unwrap();
        let mut s = mio::net::TcpStream::from_std(s);
        poll.registry()
            .register(&mut s, mio::Token(i), mio::Interest::READABLE)
            .unwrap();
        conns.push(s);
    }
    let msg = [7u8; MSG];
    let mut got = vec![0usize; CONNS];
    let start = Instant::now();
    let mut sent_at = vec![start; CONNS];
    for s in &mut conns {
        s.write_all(&msg).unwrap();
    }
    let mut lat: Vec<u32> = Vec::with_capacity(1 << 20);
    let mut buf = [0u8; 4096];
    let deadline = start + ECHO_TIME;
    while Instant::now() < deadline {
        poll.poll(&mut events, Some(Duration::from_millis(10)))
            .unwrap();
        for ev in events.iter() {
            let i = ev.token().0;
            loop {
                match conns[i].read(&mut buf) {
                    Ok(0) => panic!("server closed"),
                    Ok(n) => got[i] += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            while got[i] >= MSG {
                got[i] -= MSG;
                let now = Instant::now();
                lat.push((now - sent_at[i]).as_nanos() as u32);
                sent_at[i] = now;
                conns[i].write_all(&msg).unwrap();
            }
        }
    }
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let pct = |p: f64| {
        Duration::from_nanos(u64::from(
            lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)],
        ))
    };
    EchoStats {
        per_sec: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        count: lat.len(),
        server_cpu: Duration::ZERO,
    }
}

/// How many paired echo rounds (`LWT_ECHO_ROUNDS` overrides 7).
fn echo_rounds() -> usize {
    std::env::var("LWT_ECHO_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7)
}

/// The median and range of some ratios.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(ratios: impl Iterator<Item = f64>) -> Spread {
        let mut v: Vec<f64> = ratios.collect();
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2}x [{:.2}, {:.2}]", self.median, self.min, self.max)
    }
}

fn lwt_echo() -> EchoStats {
    use lwt_native::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, stats) = lwt_native::remote_resolver::<EchoStats>();
    let client = std::thread::spawn(move || {
        stats.resolve(load_client(addr));
    });
    let server: lwt::Promise<()> = lwt::spawn(async move {
        loop {
            let (s, _) = listener.accept().await?;
            s.set_nodelay(true).map_err(lwt::Error::new)?;
            // Errors (the client resets at the end) end the connection.
            lwt::async_(move || {
                lwt::spawn(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return Ok(()),
                            Ok(n) => n,
                        };
                        if s.write_all(&buf[..n]).await.is_err() {
                            return Ok(());
                        }
                    }
                })
            });
        }
    });
    let cpu = thread_cpu();
    let mut stats = lwt_native::run(done).unwrap();
    stats.server_cpu = thread_cpu() - cpu;
    server.cancel();
    client.join().unwrap();
    stats
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn tokio_echo() -> EchoStats {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio_rt();
    let cpu = thread_cpu();
    let mut stats = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let client = std::thread::spawn(move || {
            let _ = tx.send(load_client(addr));
        });
        let server = tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if s.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let stats = rx.await.unwrap();
        server.abort();
        client.join().unwrap();
        stats
    });
    stats.server_cpu = thread_cpu() - cpu;
    stats
}

/// Echo on two lwt-native loops sharing the port (`loops::Loops::listen`).
fn lwt_echo_loops(n: usize) -> EchoStats {
    let (addr, loops) = lwt_native::loops::Loops::new(n)
        .listen("127.0.0.1:0".parse().unwrap(), |listener, ctx| async move {
            let accept_loop: lwt::Promise<()> = lwt::spawn(async move {
                loop {
                    let (s, _) = listener.accept().await?;
                    s.set_nodelay(true).map_err(lwt::Error::new)?;
                    lwt::async_(move || {
                        lwt::spawn(async move {
                            let mut buf = [0u8; 4096];
                            loop {
                                let n = match s.read(&mut buf).await {
                                    Ok(0) | Err(_) => return Ok(()),
                                    Ok(n) => n,
                                };
                                if s.write_all(&buf[..n]).await.is_err() {
                                    return Ok(());
                                }
                            }
                        })
                    });
                }
            });
            ctx.shutdown().await?;
            accept_loop.cancel();
            Ok(())
        })
        .unwrap();
    let stats = load_client(addr);
    loops.shutdown();
    loops.join().unwrap();
    stats
}

/// Echo on tokio's multi-thread runtime with `n` workers.
fn tokio_echo_multi(n: usize) -> EchoStats {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rt.spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let stats = load_client(addr);
    server.abort();
    drop(rt);
    stats
}

fn lwt_timers() -> Duration {
    lwt_native::install();
    let start = Instant::now();
    lwt_native::run(async {
        let sleeps: Vec<lwt::Promise<()>> = (0..n())
            .map(|i| lwt::sleep(Duration::from_nanos((i as u64 * 7919) % 10_000_000)))
            .collect();
        lwt::join(sleeps).await
    })
    .unwrap();
    start.elapsed()
}

/// The same, counting fired timers instead of joining the promises (the
/// like-for-like of a task per timer).
fn lwt_timers_countdown() -> Duration {
    use std::cell::Cell;
    use std::rc::Rc;
    lwt_native::install();
    let start = Instant::now();
    lwt_native::run(async {
        let (done, r) = lwt::wait::<()>();
        let left = Rc::new(Cell::new(n()));
        for i in 0..n() {
            let (left, r) = (left.clone(), r.clone());
            lwt::sleep(Duration::from_nanos((i as u64 * 7919) % 10_000_000)).on_success(
                move |()| {
                    left.set(left.get() - 1);
                    if left.get() == 0 {
                        let _ = r.resolve(());
                    }
                },
            );
        }
        done.await
    })
    .unwrap();
    start.elapsed()
}

fn tokio_timers_unordered() -> Duration {
    use futures::StreamExt;
    let rt = tokio_rt();
    let start = Instant::now();
    // `unconstrained`: with tokio's co-operative budget on, a million
    // sleeps in one FuturesUnordered take quadratic time.
    rt.block_on(tokio::task::unconstrained(async {
        let mut all: futures::stream::FuturesUnordered<_> = (0..n())
            .map(|i| tokio::time::sleep(Duration::from_nanos((i as u64 * 7919) % 10_000_000)))
            .collect();
        while all.next().await.is_some() {}
    }));
    start.elapsed()
}

fn tokio_timers_tasks() -> Duration {
    let rt = tokio_rt();
    let rt = &rt;
    let local = tokio::task::LocalSet::new();
    let _in_rt = rt.enter();
    let start = Instant::now();
    for i in 0..n() {
        drop(local.spawn_local(tokio::time::sleep(Duration::from_nanos(
            (i as u64 * 7919) % 10_000_000,
        ))));
    }
    rt.block_on(local);
    let elapsed = start.elapsed();
    drop(_in_rt);
    elapsed
}

fn lwt_spawn() -> Duration {
    lwt_native::install();
    let start = Instant::now();
    lwt_native::run(async {
        for _ in 0..n() {
            drop(lwt::spawn(async { Ok(()) }));
        }
        Ok(())
    })
    .unwrap();
    start.elapsed()
}

fn tokio_spawn() -> Duration {
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    let start = Instant::now();
    for _ in 0..n() {
        drop(local.spawn_local(async {}));
    }
    rt.block_on(local);
    start.elapsed()
}

/// Closer to [`tokio_spawn`]'s work: each task goes back to the loop once
/// (`pause`), so every one is polled twice with a trip through the
/// scheduler's queue in between, as tokio's are (tokio also queues each task
/// before its first poll; lwt polls it inside `spawn`).
fn lwt_spawn_pause_once() -> Duration {
    lwt_native::install();
    let done = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let start = Instant::now();
    let d = done.clone();
    lwt_native::run(async move {
        for _ in 0..n() {
            let d = d.clone();
            drop(lwt::spawn(async move {
                lwt::pause().await?;
                d.set(d.get() + 1);
                Ok(())
            }));
        }
        // Paused after all of them: the same wake-up resumes them first.
        lwt::pause().await
    })
    .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(done.get(), n());
    elapsed
}

/// [`tokio_spawn`] with each task yielding once (`yield_now`), the peer of
/// [`lwt_spawn_pause_once`].
fn tokio_spawn_yield_once() -> Duration {
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    let start = Instant::now();
    for _ in 0..n() {
        drop(local.spawn_local(tokio::task::yield_now()));
    }
    rt.block_on(local);
    start.elapsed()
}

/// One task pausing `n()` times; with `listener`, a TCP listener (never
/// connected to) is registered on the loop the whole time, so the loop has
/// an I/O source to poll while it pauses.
fn lwt_pause(listener: bool) -> Duration {
    let start = Instant::now();
    lwt_native::run(async move {
        let l = listener
            .then(|| lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()))
            .transpose()
            .map_err(lwt::Error::new)?;
        for _ in 0..n() {
            lwt::pause().await?;
        }
        drop(l);
        Ok(())
    })
    .unwrap();
    start.elapsed()
}

/// The peer of [`lwt_pause`]: one tokio task yielding `n()` times; with
/// `listener`, a tokio TCP listener is bound (registered with its I/O
/// driver) the whole time.
fn tokio_yield(listener: bool) -> Duration {
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    let start = Instant::now();
    local.block_on(&rt, async {
        tokio::task::spawn_local(async move {
            let l = if listener {
                Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
            } else {
                None
            };
            for _ in 0..n() {
                tokio::task::yield_now().await;
            }
            drop(l);
        })
        .await
        .unwrap();
    });
    start.elapsed()
}

fn best(f: impl Fn() -> Duration, rounds: usize) -> Duration {
    (0..rounds).map(|_| f()).min().unwrap()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// 1M sleeps with deadlines spread over 200 ms, a callback each.
fn lwt_timers_200ms() {
    use std::cell::Cell;
    use std::rc::Rc;
    lwt_native::run(async {
        let (done, r) = lwt::wait::<()>();
        let left = Rc::new(Cell::new(n()));
        for i in 0..n() {
            let (left, r) = (left.clone(), r.clone());
            let at = Duration::from_micros((i as u64 * 7919) % 200_000);
            lwt::sleep(at).on_success(move |()| {
                left.set(left.get() - 1);
                if left.get() == 0 {
                    let _ = r.resolve(());
                }
            });
        }
        done.await
    })
    .unwrap();
}

/// The peer of [`lwt_timers_200ms`]: a tokio task per sleep.
fn tokio_timers_200ms() {
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    let _in_rt = rt.enter();
    for i in 0..n() {
        let at = Duration::from_micros((i as u64 * 7919) % 200_000);
        drop(local.spawn_local(tokio::time::sleep(at)));
    }
    rt.block_on(local);
}

/// 1M spawns of a task that finishes at once, each handle dropped (the
/// task completes inside `spawn`).
fn lwt_spawn_dropped() {
    lwt_native::run(async {
        for _ in 0..n() {
            drop(lwt::spawn(async { Ok(()) }));
        }
        Ok(())
    })
    .unwrap();
}

/// The peer of [`lwt_spawn_dropped`]: futures' `LocalPool`, every task
/// spawned, then the pool run until all have finished.
fn pool_spawn() {
    use futures::task::LocalSpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    for _ in 0..n() {
        spawner.spawn_local(async {}).unwrap();
    }
    pool.run();
}

/// The shapes of part 4, by name, for the child processes.
const SHAPES: [(&str, fn()); 4] = [
    ("timers200-lwt", lwt_timers_200ms),
    ("timers200-tokio", tokio_timers_200ms),
    ("spawn-lwt", lwt_spawn_dropped),
    ("spawn-pool", pool_spawn),
];

/// This process's peak resident set, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs one shape in a child process (this benchmark, given `child:NAME`):
/// its time and its peak resident set in KiB.
fn in_child(name: &str) -> (Duration, u64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg(format!("child:{name}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let (Some(ns), Some(kib)) = (words.next(), words.next()) else {
        panic!(
            "the child for {name} printed {text:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    (
        Duration::from_nanos(ns.parse().unwrap()),
        kib.parse().unwrap(),
    )
}

/// Three paired child runs of `ours` and `peer`, alternating which goes
/// first: (best time, lowest peak) of each side.
fn paired_children(ours: &str, peer: &str) -> ((Duration, u64), (Duration, u64)) {
    let (mut o, mut p) = ((Duration::MAX, u64::MAX), (Duration::MAX, u64::MAX));
    for i in 0..3 {
        let (a, b) = if i % 2 == 0 {
            let a = in_child(ours);
            (a, in_child(peer))
        } else {
            let b = in_child(peer);
            (in_child(ours), b)
        };
        o = (o.0.min(a.0), o.1.min(a.1));
        p = (p.0.min(b.0), p.1.min(b.1));
    }
    (o, p)
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| only.is_empty() || only.iter().any(|o| o == name);

    if let Some(name) = only.iter().find_map(|o| o.strip_prefix("child:")) {
        let (_, shape) = SHAPES
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a shape's name");
        if name.ends_with("-lwt") {
            lwt_native::install();
        }
        let start = Instant::now();
        shape();
        println!("{} {}", start.elapsed().as_nanos(), peak_rss_kib());
        return;
    }

    if only.iter().any(|o| o == "echo-lwt") {
        let l = lwt_echo();
        println!(
            "lwt-native echo: {:.0} round trips/s p50 {:?} p99 {:?}",
            l.per_sec, l.p50, l.p99
        );
        return;
    }
    if only.iter().any(|o| o == "timers-lwt") {
        println!(
            "lwt-native timers: join {}, callbacks {}",
            ms(best(lwt_timers, 3)),
            ms(best(lwt_timers_countdown, 3))
        );
        return;
    }
    if only.iter().any(|o| o == "echo-tokio") {
        let t = tokio_echo();
        println!(
            "tokio echo: {:.0} round trips/s p50 {:?} p99 {:?}",
            t.per_sec, t.p50, t.p99
        );
        return;
    }
    if want("echo") {
        // Paired rounds, alternating which side goes first so that drift in
        // the machine's load favours neither; the ratios of each pair are
        // summarized by their median (and range), which one noisy round
        // cannot move.
        let rounds = echo_rounds();
        let mut pairs = Vec::new();
        for i in 0..rounds {
            let (l, t) = if i % 2 == 0 {
                let l = lwt_echo();
                (l, tokio_echo())
            } else {
                let t = tokio_echo();
                (lwt_echo(), t)
            };
            pairs.push((l, t));
        }
        println!(
            "echo ({CONNS} conns x {MSG} B, {:?}, {rounds} paired rounds):",
            ECHO_TIME
        );
        for (i, (l, t)) in pairs.iter().enumerate() {
            println!(
                "  round {}: lwt-native {:>7.0}/s p50 {:>9.3?} p99 {:>9.3?} | tokio {:>7.0}/s p50 {:>9.3?} p99 {:>9.3?}",
                i + 1,
                l.per_sec,
                l.p50,
                l.p99,
                t.per_sec,
                t.p50,
                t.p99
            );
        }
        let throughput = Spread::of(pairs.iter().map(|(l, t)| l.per_sec / t.per_sec));
        let p99 = Spread::of(
            pairs
                .iter()
                .map(|(l, t)| l.p99.as_secs_f64() / t.p99.as_secs_f64()),
        );
        let cpu = Spread::of(pairs.iter().map(|(l, t)| {
            t.cpu_per_round_trip().as_secs_f64() / l.cpu_per_round_trip().as_secs_f64()
        }));
        println!("  ratio (lwt/tokio), median [min, max] of the rounds:");
        println!("    throughput {throughput} (higher is better)");
        println!("    p99        {p99} (lower is better)");
        println!("  server CPU per round trip, tokio/lwt: {cpu} (higher is better)");
    }
    if want("echo-loops") {
        // Two lwt loops (SO_REUSEPORT) vs tokio multi-thread with two
        // workers; the same one-thread load client, on the same 2 cores.
        let rounds = echo_rounds();
        let mut pairs = Vec::new();
        for i in 0..rounds {
            let (l, t) = if i % 2 == 0 {
                let l = lwt_echo_loops(2);
                (l, tokio_echo_multi(2))
            } else {
                let t = tokio_echo_multi(2);
                (lwt_echo_loops(2), t)
            };
            println!(
                "  round {}: lwt-native 2 loops {:>7.0}/s p99 {:>9.3?} | tokio 2 workers {:>7.0}/s p99 {:>9.3?}",
                i + 1,
                l.per_sec,
                l.p99,
                t.per_sec,
                t.p99
            );
            pairs.push((l, t));
        }
        let throughput = Spread::of(pairs.iter().map(|(l, t)| l.per_sec / t.per_sec));
        let p99 = Spread::of(
            pairs
                .iter()
                .map(|(l, t)| l.p99.as_secs_f64() / t.p99.as_secs_f64()),
        );
        println!("echo on 2 loops vs tokio multi-thread 2 workers ({CONNS} conns, {rounds} paired rounds):");
        println!("    throughput {throughput} (higher is better)");
        println!("    p99        {p99} (lower is better)");
    }
    if want("timers") {
        let lj = best(lwt_timers, 3);
        let lc = best(lwt_timers_countdown, 3);
        let tu = best(tokio_timers_unordered, 3);
        let tt = best(tokio_timers_tasks, 3);
        println!("timers (1M armed and fired, deadlines within 10 ms):");
        println!("  lwt-native, join of the sleeps:       {}", ms(lj));
        println!("  lwt-native, callback per sleep:       {}", ms(lc));
        println!("  tokio FuturesUnordered (unconstrained): {}", ms(tu));
        println!("  tokio task per timer:                 {}", ms(tt));
        println!(
            "  ratio (tokio/lwt): join vs FuturesUnordered {:.2}x, callback vs task per timer {:.2}x",
            tu.as_secs_f64() / lj.as_secs_f64(),
            tt.as_secs_f64() / lc.as_secs_f64()
        );
    }
    if want("spawn") {
        // Not the same work: an lwt task that finishes at once completes
        // inside `spawn`; tokio queues each task and polls it later.
        let l = best(lwt_spawn, 5);
        let t = best(tokio_spawn, 5);
        println!("spawn 1M trivial tasks (lwt: done inside spawn; tokio: queued, polled later):");
        println!(
            "  lwt-native: {}  tokio spawn_local: {}  ratio {:.2}x",
            ms(l),
            ms(t),
            t.as_secs_f64() / l.as_secs_f64()
        );
        // Closer to the same work: each task polled, back to the loop once,
        // polled again.
        let l = best(lwt_spawn_pause_once, 5);
        let t = best(tokio_spawn_yield_once, 5);
        println!("spawn 1M tasks that each yield once (both: polled twice, queued in between):");
        println!(
            "  lwt-native pause: {}  tokio yield_now: {}  ratio {:.2}x",
            ms(l),
            ms(t),
            t.as_secs_f64() / l.as_secs_f64()
        );
    }
    if want("pause") {
        let l = best(|| lwt_pause(false), 5);
        let t = best(|| tokio_yield(false), 5);
        println!("pause loop 1M (one task):");
        println!(
            "  lwt-native: {}  tokio yield_now: {}  ratio {:.2}x",
            ms(l),
            ms(t),
            t.as_secs_f64() / l.as_secs_f64()
        );
        // Paired, alternating order; the median ratio of the pairs.
        let mut ratios = Vec::new();
        let mut times = Vec::new();
        for i in 0..3 {
            let (l, t) = if i % 2 == 0 {
                let l = lwt_pause(true);
                (l, tokio_yield(true))
            } else {
                let t = tokio_yield(true);
                (lwt_pause(true), t)
            };
            ratios.push(t.as_secs_f64() / l.as_secs_f64());
            times.push((l, t));
        }
        println!("pause loop 1M (one task) with a TCP listener registered, 3 paired rounds:");
        for (l, t) in &times {
            println!("  lwt-native: {}  tokio yield_now: {}", ms(*l), ms(*t));
        }
        println!("  ratio (tokio/lwt) {}", Spread::of(ratios.into_iter()));
    }
    if want("shapes") {
        let report = |title: &str, peer: &str, (o, p): ((Duration, u64), (Duration, u64))| {
            println!("{title} (each side in its own process, best of 3 paired runs):");
            println!(
                "  lwt-native: {} peak {} MiB | {peer}: {} peak {} MiB",
                ms(o.0),
                o.1 / 1024,
                ms(p.0),
                p.1 / 1024
            );
            println!(
                "  throughput ratio (peer time / lwt time) {:.2}x, peak RSS lwt/peer {:.2}",
                p.0.as_secs_f64() / o.0.as_secs_f64(),
                o.1 as f64 / p.1 as f64
            );
        };
        report(
            "1M timers over 200 ms, a callback each vs a tokio task each",
            "tokio",
            paired_children("timers200-lwt", "timers200-tokio"),
        );
        report(
            "1M spawns of a task that finishes at once vs futures LocalPool",
            "LocalPool",
            paired_children("spawn-lwt", "spawn-pool"),
        );
    }
}
