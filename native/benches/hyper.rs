//! hyper 1.x on lwt-native against the same hyper on tokio's current-thread
//! runtime: HTTP/1.1 keep-alive "hello" requests over loopback, 100
//! connections, one request in flight on each.
//!
//! Both servers are hyper's `http1` connection with a timer (so hyper's
//! default 30 s header-read timeout is armed for every request, as in a real
//! server) and `TCP_NODELAY`, each on a thread of its own: lwt-native's
//! through `lwt_native::hyper::serve`, tokio's through an accept loop of
//! `tokio::spawn`ed connections with a minimal I/O adapter and timer (what
//! hyper-util's `TokioIo` and `TokioTimer` do). One load client drives both:
//! plain mio on the bench's thread, which writes a request, reads the whole
//! response, and writes the next.
//!
//! 1. criterion: time per request (and requests/s) for each server;
//! 2. then a fixed run of `LWT_HYPER_N` requests (default 200,000) per server,
//!    three pairs in alternating order: requests/s, p50/p99 latency, the
//!    server thread's and the client's CPU time per request, and the
//!    lwt/tokio ratios.
//!
//! 3. the same load on two loops (`loops::Loops::listen`, one
//!    `SO_REUSEPORT` listener per loop, `hyper::serve` on each) against one
//!    loop and against hyper on tokio's multi-thread runtime with two
//!    workers: three rounds of the three servers in rotated order, the
//!    median ratios. The load client's thread shares the machine's cores
//!    with the servers, so the part also prints the client's CPU time per
//!    request and the ceiling that leaves two loops on two cores: 2 / (one
//!    loop's server CPU + the client's CPU, per request), as a multiple of
//!    the one loop's rate.
//!
//! ```text
//! cargo bench -p lwt-native --features hyper --bench hyper
//! LWT_HYPER_N=50000 cargo bench -p lwt-native --features hyper --bench hyper -- pair    # part 2 alone
//! LWT_HYPER_N=50000 cargo bench -p lwt-native --features hyper --bench hyper -- loops   # part 3 alone
//! LWT_HYPER_N=3000 valgrind --tool=callgrind target/release/deps/hyper-* one lwt           # one server alone
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};

const CONNS: usize = 100;
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
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

// ---------------------------------------------------------------- servers

/// A server on its own thread; `stop` ends it once the client has closed
/// its connections, and gives the thread's CPU time.
struct Server {
    addr: SocketAddr,
    stop: Box<dyn FnOnce() -> Duration>,
}

fn lwt_server() -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let cpu = thread_cpu();
        lwt_native::run(async move {
            let (stop, stopper) = lwt_native::remote_resolver::<()>();
            tx.send(stopper).unwrap();
            let listener = lwt_native::net::TcpListener::from_std(listener)?;
            let http = lwt_native::hyper::Http::http1();
            lwt_native::hyper::serve(listener, http, service_fn(hello), stop).await
        })
        .unwrap();
        thread_cpu() - cpu
    });
    let stopper = rx.recv().unwrap();
    Server {
        addr,
        stop: Box::new(move || {
            stopper.resolve(());
            thread.join().unwrap()
        }),
    }
}

fn tokio_server() -> Server {
    tokio_server_on(None)
}

/// hyper on tokio's multi-thread runtime with 2 workers.
fn tokio_multi_server() -> Server {
    tokio_server_on(Some(2))
}

/// hyper on lwt-native's `serve` on 2 loops, each with its own
/// `SO_REUSEPORT` listener on one address (`loops::Loops::listen`).
fn lwt_loops_server() -> Server {
    let (addr, loops) = lwt_native::loops::Loops::new(2)
        .listen("127.0.0.1:0".parse().unwrap(), |listener, ctx| async move {
            let http = lwt_native::hyper::Http::http1();
            lwt_native::hyper::serve(listener, http, service_fn(hello), ctx.shutdown()).await
        })
        .unwrap();
    Server {
        addr,
        stop: Box::new(move || {
            loops.shutdown();
            loops.join().unwrap();
            // Threads of their own: not measured.
            Duration::ZERO
        }),
    }
}

/// hyper on tokio: the current-thread runtime (`workers: None`, its thread's
/// CPU time measured) or the multi-thread one with that many workers (CPU
/// time not measured: zero).
fn tokio_server_on(workers: Option<usize>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let cpu = thread_cpu();
        let rt = match workers {
            None => tokio::runtime::Builder::new_current_thread(),
            Some(n) => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
        }
        .enable_all()
        .build()
        .unwrap();
        rt.block_on(async move {
            let (stopper, mut stop) = tokio::sync::oneshot::channel::<()>();
            tx.send(stopper).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let (s, _) = accepted.unwrap();
                        s.set_nodelay(true).unwrap();
                        conns.spawn(async move {
                            let mut http = hyper::server::conn::http1::Builder::new();
                            http.timer(TokioTimer);
                            let _ = http.serve_connection(TokioIo(s), service_fn(hello)).await;
                        });
                    }
                    _ = &mut stop => break,
                }
            }
            while conns.join_next().await.is_some() {}
        });
        match workers {
            None => thread_cpu() - cpu,
            Some(_) => Duration::ZERO,
        }
    });
    let stopper = rx.recv().unwrap();
    Server {
        addr,
        stop: Box::new(move || {
            let _ = stopper.send(());
            thread.join().unwrap()
        }),
    }
}

/// A tokio stream seen through hyper's I/O traits (hyper-util's `TokioIo`).
struct TokioIo(tokio::net::TcpStream);

impl hyper::rt::Read for TokioIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = {
            // SAFETY: tokio's `ReadBuf` never de-initializes the bytes it is
            // given, which is all `as_mut` asks.
            let mut tbuf = tokio::io::ReadBuf::uninit(unsafe { buf.as_mut() });
            match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.get_mut().0), cx, &mut tbuf) {
                Poll::Ready(Ok(())) => tbuf.filled().len(),
                other => return other,
            }
        };
        // SAFETY: tokio filled, so initialized, the first `n` bytes.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for TokioIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.get_mut().0), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().0), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().0), cx)
    }

    fn is_write_vectored(&self) -> bool {
        tokio::io::AsyncWrite::is_write_vectored(&self.0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write_vectored(Pin::new(&mut self.get_mut().0), cx, bufs)
    }
}

/// hyper's timer on tokio's (hyper-util's `TokioTimer`, with the sleep boxed
/// to stay free of `unsafe` pin projection).
#[derive(Clone)]
struct TokioTimer;

struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for TokioSleep {}

impl hyper::rt::Timer for TokioTimer {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(Box::pin(tokio::time::sleep(d))))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(Box::pin(tokio::time::sleep_until(
            deadline.into(),
        ))))
    }
}

// ------------------------------------------------------------ load client

/// `CONNS` keep-alive connections, one request in flight on each.
struct LoadClient {
    poll: mio::Poll,
    events: mio::Events,
    conns: Vec<Conn>,
}

struct Conn {
    stream: mio::net::TcpStream,
    /// Bytes of the response being read.
    buf: Vec<u8>,
    sent_at: Option<Instant>,
}

struct Run {
    elapsed: Duration,
    /// Latencies in nanoseconds, sorted.
    lat: Vec<u32>,
    /// CPU time the load client's thread used, per request.
    client_cpu: Duration,
}

impl Run {
    fn per_sec(&self) -> f64 {
        self.lat.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&self, p: f64) -> Duration {
        let i = ((self.lat.len() as f64 * p) as usize).min(self.lat.len() - 1);
        Duration::from_nanos(u64::from(self.lat[i]))
    }
}

/// The length of the complete response at the start of `buf`, if it is all
/// there (hyper answers with a `content-length`).
fn response_len(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..head]).ok()?;
    let len = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= head + len).then_some(head + len)
}

impl LoadClient {
    fn connect(addr: SocketAddr) -> LoadClient {
        let poll = mio::Poll::new().unwrap();
        let mut conns = Vec::with_capacity(CONNS);
        for i in 0..CONNS {
            let s = std::net::TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            s.set_nonblocking(true).unwrap();
            let mut stream = mio::net::TcpStream::from_std(s);
            poll.registry()
                .register(&mut stream, mio::Token(i), mio::Interest::READABLE)
                .unwrap();
            conns.push(Conn {
                stream,
                buf: Vec::with_capacity(4096),
                sent_at: None,
            });
        }
        LoadClient {
            poll,
            events: mio::Events::with_capacity(1024),
            conns,
        }
    }

    /// Sends `total` requests over the connections and reads every response.
    fn run(&mut self, total: u64) -> Run {
        let limit = Instant::now() + Duration::from_secs(120);
        let mut lat = Vec::with_capacity(total as usize);
        let mut sent = 0;
        let cpu = thread_cpu();
        let start = Instant::now();
        for c in &mut self.conns {
            if sent == total {
                break;
            }
            c.stream.write_all(REQUEST).unwrap();
            c.sent_at = Some(Instant::now());
            sent += 1;
        }
        let mut chunk = [0u8; 4096];
        while (lat.len() as u64) < total {
            assert!(Instant::now() < limit, "the load run took too long");
            self.poll
                .poll(&mut self.events, Some(Duration::from_millis(100)))
                .unwrap();
            for ev in self.events.iter() {
                let c = &mut self.conns[ev.token().0];
                loop {
                    match c.stream.read(&mut chunk) {
                        Ok(0) => panic!("the server closed a connection"),
                        Ok(n) => c.buf.extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => panic!("{e}"),
                    }
                }
                while let Some(len) = response_len(&c.buf) {
                    c.buf.drain(..len);
                    let now = Instant::now();
                    let at = c.sent_at.take().expect("a response to no request");
                    lat.push((now - at).as_nanos() as u32);
                    if sent < total {
                        c.stream.write_all(REQUEST).unwrap();
                        c.sent_at = Some(Instant::now());
                        sent += 1;
                    }
                }
            }
        }
        let elapsed = start.elapsed();
        let client_cpu = (thread_cpu() - cpu) / total.max(1) as u32;
        lat.sort_unstable();
        Run {
            elapsed,
            lat,
            client_cpu,
        }
    }
}

// ---------------------------------------------------------------- running

fn criterion_part(c: &mut Criterion) {
    let mut group = c.benchmark_group("hyper-http1-keepalive-100-conns");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, start) in [
        ("lwt-native", lwt_server as fn() -> Server),
        ("tokio-current-thread", tokio_server),
    ] {
        let server = start();
        let mut client = LoadClient::connect(server.addr);
        group.bench_function(name, |b| b.iter_custom(|iters| client.run(iters).elapsed));
        drop(client);
        (server.stop)();
    }
    group.finish();
}

struct Measured {
    run: Run,
    cpu_per_request: Duration,
}

fn measure(start: fn() -> Server, n: u64) -> Measured {
    let server = start();
    let mut client = LoadClient::connect(server.addr);
    client.run(n / 10); // warm-up
    let run = client.run(n);
    drop(client);
    let cpu = (server.stop)();
    Measured {
        cpu_per_request: cpu / (n + n / 10) as u32,
        run,
    }
}

/// Requests per measured run: `LWT_HYPER_N`, default 200,000.
fn requests_per_run() -> u64 {
    std::env::var("LWT_HYPER_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1000)
        .unwrap_or(200_000)
}

/// The median of `v`.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summary() {
    let n = requests_per_run();
    println!("\nhyper http1 keep-alive, {CONNS} connections, {n} requests per run:");
    let mut ratios = Vec::new();
    for round in 0..3 {
        let (lwt, tokio) = if round % 2 == 0 {
            let l = measure(lwt_server, n);
            (l, measure(tokio_server, n))
        } else {
            let t = measure(tokio_server, n);
            (measure(lwt_server, n), t)
        };
        for (name, m) in [("lwt-native", &lwt), ("tokio", &tokio)] {
            println!(
                "  round {round} {name:<10} {:>9.0} req/s  p50 {:>7.1?}  p99 {:>7.1?}  server cpu {:>6.2?}/req  client cpu {:>6.2?}/req",
                m.run.per_sec(),
                m.run.pct(0.50),
                m.run.pct(0.99),
                m.cpu_per_request,
                m.run.client_cpu
            );
        }
        ratios.push((
            lwt.run.per_sec() / tokio.run.per_sec(),
            lwt.run.pct(0.99).as_secs_f64() / tokio.run.pct(0.99).as_secs_f64(),
            lwt.cpu_per_request.as_secs_f64() / tokio.cpu_per_request.as_secs_f64(),
        ));
    }
    let col = |f: fn(&(f64, f64, f64)) -> f64| median(ratios.iter().map(f).collect());
    println!(
        "lwt/tokio (median of 3): requests/s {:.2}x, p99 latency {:.2}x, server cpu per request {:.2}x",
        col(|r| r.0),
        col(|r| r.1),
        col(|r| r.2)
    );
}

/// A server to measure, with its name.
type Side = (&'static str, fn() -> Server);

/// Two lwt loops against one lwt loop and against tokio's multi-thread
/// runtime with two workers: three rounds, each measuring the three servers
/// in an order rotated by one from the round before.
fn loops_summary() {
    let n = requests_per_run();
    println!("\nhyper http1 keep-alive on 2 loops, {CONNS} connections, {n} requests per run:");
    let sides: [Side; 3] = [
        ("lwt 1 loop", lwt_server),
        ("lwt 2 loops", lwt_loops_server),
        ("tokio mt 2", tokio_multi_server),
    ];
    let (mut vs_one, mut vs_tokio, mut p99_vs_tokio) = (Vec::new(), Vec::new(), Vec::new());
    let mut bounds = Vec::new();
    for round in 0..3 {
        let mut runs: [Option<Measured>; 3] = [None, None, None];
        for k in 0..3 {
            let i = (round + k) % 3;
            runs[i] = Some(measure(sides[i].1, n));
        }
        let runs = runs.map(Option::unwrap);
        for ((name, _), m) in sides.iter().zip(&runs) {
            let r = &m.run;
            println!(
                "  round {round} {name:<12} {:>9.0} req/s  p50 {:>7.1?}  p99 {:>7.1?}  client cpu {:>6.2?}/req",
                r.per_sec(),
                r.pct(0.50),
                r.pct(0.99),
                r.client_cpu
            );
        }
        let s = runs[0].cpu_per_request.as_secs_f64();
        let [one, two, tokio] = runs.map(|m| m.run);
        vs_one.push(two.per_sec() / one.per_sec());
        vs_tokio.push(two.per_sec() / tokio.per_sec());
        p99_vs_tokio.push(two.pct(0.99).as_secs_f64() / tokio.pct(0.99).as_secs_f64());
        // What two loops can reach at most on two cores shared with the
        // client: with server CPU s and client CPU c per request, 2/(s + c)
        // requests a second (both cores busy all the time), here as a
        // multiple of the one loop's measured rate.
        let c = one.client_cpu.as_secs_f64();
        bounds.push(2.0 / (s + c) / one.per_sec());
        println!(
            "  round {round}: one loop's server cpu {:.2?}/req, client cpu {:.2?}/req",
            Duration::from_secs_f64(s),
            Duration::from_secs_f64(c)
        );
    }
    println!(
        "lwt 2 loops (median of 3): requests/s {:.2}x one loop, {:.2}x tokio multi-thread 2 workers; p99 {:.2}x tokio; \
         2 cores shared with the client allow 2 loops at most {:.2}x one loop",
        median(vs_one),
        median(vs_tokio),
        median(p99_vs_tokio),
        median(bounds)
    );
}

fn main() {
    // `-- loops`: the 2-loop comparison alone; `-- pair`: the one-loop
    // comparison (part 2) alone.
    if std::env::args().skip(1).any(|a| a == "loops") {
        loops_summary();
        return;
    }
    if std::env::args().skip(1).any(|a| a == "pair") {
        summary();
        return;
    }
    // `-- one lwt` or `-- one tokio`: one measured run of one server, for a
    // profiler or an instruction counter (`valgrind --tool=callgrind`) to
    // look at one side alone.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "one") {
        let (name, server): Side = match args.get(i + 1).map(String::as_str) {
            Some("tokio") => ("tokio", tokio_server),
            _ => ("lwt-native", lwt_server),
        };
        let m = measure(server, requests_per_run());
        println!(
            "{name}: {:.0} req/s, server cpu {:.2?}/req, client cpu {:.2?}/req",
            m.run.per_sec(),
            m.cpu_per_request,
            m.run.client_cpu
        );
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_part(&mut c);
    c.final_summary();
    summary();
    loops_summary();
}
