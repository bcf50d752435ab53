//! hyper 1.x on lwt-native: hyper's own server and client over the loop's
//! sockets, HTTP/1.1 and HTTP/2, with hyper's time-outs on the loop's timers.
//!
//! Each test runs on a fresh thread of its own, one at a time, and checks
//! that it leaves no file descriptor, armed timer or hyper task behind.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::{service_fn, Service};
use hyper::{Request, Response};
use lwt::{Error, Promise};
use lwt_native::hyper::{handshake, handshake_http2, serve, Http, Io, LwtExecutor, LwtTimer};
use lwt_native::net::{TcpListener, TcpStream, UnixStream};

/// Runs `body` on a new thread's loop ([`common::leak_checked_then`]) and
/// checks that no hyper task is left either: connection tasks end a turn or
/// two after their last user.
fn leak_checked<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + 'static,
{
    common::leak_checked_hyper(body)
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

type Reply = Response<Full<Bytes>>;

fn reply(body: impl Into<Bytes>) -> Reply {
    Response::new(Full::new(body.into()))
}

/// A service that counts its clones: `serve` clones it once per connection.
#[derive(Clone)]
struct Counted<S> {
    inner: S,
    clones: Rc<Cell<usize>>,
}

struct CountedClone<S>(Counted<S>);

impl<S: Clone> Counted<S> {
    fn new(inner: S) -> (Counted<S>, Rc<Cell<usize>>) {
        let clones = Rc::new(Cell::new(0));
        let c = Counted {
            inner,
            clones: clones.clone(),
        };
        (c, clones)
    }

    /// A clone that bumps the count (what `serve` sees as `Clone`).
    fn counting(self) -> CountedClone<S> {
        CountedClone(self)
    }
}

impl<S: Clone> Clone for CountedClone<S> {
    fn clone(&self) -> Self {
        self.0.clones.set(self.0.clones.get() + 1);
        CountedClone(self.0.clone())
    }
}

impl<S: Service<Request<Incoming>>> Service<Request<Incoming>> for CountedClone<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.0.inner.call(req)
    }
}

/// Answers with the request's path.
fn echo_path(
) -> impl Service<Request<Incoming>, Response = Reply, Error = Infallible, Future: 'static> + Clone
{
    service_fn(|req: Request<Incoming>| {
        let path = req.uri().path().to_string();
        async move { Ok::<_, Infallible>(reply(path)) }
    })
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

/// Reads until the peer closes, bounded by `limit`.
async fn read_to_end(s: &TcpStream, limit: Duration) -> Result<Vec<u8>, Error> {
    let s = s.clone();
    let all = lwt::spawn(async move {
        let mut all = Vec::new();
        let mut buf = [0; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Ok(all),
                Ok(n) => all.extend_from_slice(&buf[..n]),
                // A reset after the response counts as the end too.
                Err(e) if lwt_native::io_error_kind(&e).is_some() => return Ok(all),
                Err(e) => return Err(e),
            }
        }
    });
    lwt::with_timeout(limit, &all).await
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (svc, connections) = Counted::new(echo_path());
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http1(), svc.counting(), stop);

        let mut client = handshake(TcpStream::connect(addr).await?).await?;
        for i in 0..200 {
            let path = format!("/req/{i}");
            let resp = client.send_request(get(&path)).await?;
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.into_body().collect().await?.to_bytes(), path);
        }
        assert_eq!(connections.get(), 1, "every request on one connection");
        drop(client);
        stopper.resolve(())?;
        server.await
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http1(), echo_path(), stop);

        let s = TcpStream::connect(addr).await?;
        let mut requests = String::new();
        for i in 0..10 {
            let close = if i == 9 { "Connection: close\r\n" } else { "" };
            requests.push_str(&format!("GET /r{i}; HTTP/1.1\r\nHost: x\r\n{close}\r\n"));
        }
        s.write_all(requests.as_bytes()).await?; // all ten in one write
        let got = read_to_end(&s, Duration::from_secs(5)).await?;
        assert_eq!(count(&got, b"HTTP/1.1 200 OK\r\n"), 10);
        let mut at = 0;
        for i in 0..10 {
            let body = format!("\r\n\r\n/r{i};");
            let pos = find(&got[at..], body.as_bytes())
                .unwrap_or_else(|| panic!("response {i} missing or out of order"));
            at += pos + body.len();
        }
        drop(s);
        stopper.resolve(())?;
        server.await
    });
}

/// An HTTP/1 server whose headers must arrive within 300 ms.
fn impatient_server(listener: TcpListener, stop: Promise<()>) -> Promise<()> {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(LwtTimer)
        .header_read_timeout(Duration::from_millis(300));
    serve(listener, Http::Http1(b), echo_path(), stop)
}

#[test]
fn a_slow_client_is_cut_off_by_the_header_read_timeout() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = impatient_server(listener, stop);

        let s = TcpStream::connect(addr).await?;
        let start = Instant::now();
        s.write_all(b"GET / HTTP/1.1\r\nHost: loc").await?; // and nothing more
        let got = read_to_end(&s, Duration::from_secs(5)).await?;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(250),
            "closed early: {waited:?}"
        );
        assert!(waited < Duration::from_secs(3), "closed late: {waited:?}");
        assert!(
            !got.starts_with(b"HTTP/1.1 200"),
            "no answer to half a request"
        );
        drop(s);
        stopper.resolve(())?;
        server.await
    });
}

#[test]
fn an_idle_keep_alive_connection_is_closed_by_the_header_read_timeout() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = impatient_server(listener, stop);

        let s = TcpStream::connect(addr).await?;
        // Two requests, each before the time-out: the timer starts afresh
        // for each.
        for _ in 0..2 {
            lwt::sleep(Duration::from_millis(150)).await?;
            s.write_all(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
                .await?;
            let mut buf = [0; 1024];
            let n = s.read(&mut buf).await?;
            assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
        }
        let idle = Instant::now();
        let rest = read_to_end(&s, Duration::from_secs(5)).await?;
        let waited = idle.elapsed();
        assert!(rest.is_empty());
        assert!(
            waited >= Duration::from_millis(250),
            "closed early: {waited:?}"
        );
        assert!(waited < Duration::from_secs(3), "closed late: {waited:?}");
        drop(s);
        stopper.resolve(())?;
        server.await
    });
}

/// A server whose handler reads the request body: the first frame resolves
/// `first`, and `outcome` gets whether the rest of the body arrived whole.
fn body_reader(
    listener: TcpListener,
    stop: Promise<()>,
) -> (Promise<()>, Promise<()>, Promise<bool>) {
    let (first, first_r) = lwt::wait::<()>();
    let (outcome, outcome_r) = lwt::wait::<bool>();
    let first_r = Rc::new(RefCell::new(Some(first_r)));
    let outcome_r = Rc::new(RefCell::new(Some(outcome_r)));
    let svc = service_fn(move |req: Request<Incoming>| {
        let first_r = first_r.clone();
        let outcome_r = outcome_r.clone();
        async move {
            let mut body = req.into_body();
            let whole = match body.frame().await {
                Some(Ok(_)) => {
                    if let Some(r) = first_r.borrow_mut().take() {
                        let _ = r.resolve(());
                    }
                    body.collect().await.is_ok()
                }
                _ => false,
            };
            if let Some(r) = outcome_r.borrow_mut().take() {
                let _ = r.resolve(whole);
            }
            Ok::<_, Infallible>(reply("read"))
        }
    });
    (serve(listener, Http::http1(), svc, stop), first, outcome)
}

#[test]
fn a_hyper_client_giving_up_mid_body_ends_the_handlers_body_and_the_connection() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let (server, first, outcome) = body_reader(listener, stop);

        type Chunk = Result<Frame<Bytes>, std::io::Error>;
        let (mut tx, rx) = futures::channel::mpsc::channel::<Chunk>(4);
        let mut client = handshake(TcpStream::connect(addr).await?).await?;
        let req = Request::post("/upload")
            .header("host", "x")
            .body(StreamBody::new(rx))
            .unwrap();
        let response = lwt::spawn(async move {
            let r = client.send_request(req).await;
            Ok(r.map(|_| ()).map_err(|e| e.to_string()))
        });
        tx.try_send(Ok(Frame::data(Bytes::from_static(b"part one"))))
            .unwrap();
        lwt::with_timeout(Duration::from_secs(5), &first).await?;
        // The client's body fails: hyper's client drops the connection.
        tx.try_send(Err(std::io::Error::other("the client gave up")))
            .unwrap();
        let whole = lwt::with_timeout(Duration::from_secs(5), &outcome).await?;
        assert!(!whole, "the handler saw the body end in an error");
        assert!(response.await?.is_err(), "the client's request failed");
        drop(tx);
        stopper.resolve(())?;
        // Every connection is gone: the server ends at once.
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

#[test]
fn a_client_closing_mid_body_ends_the_handlers_body_and_the_connection() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let (server, first, outcome) = body_reader(listener, stop);

        let s = TcpStream::connect(addr).await?;
        s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
            .await?;
        lwt::with_timeout(Duration::from_secs(5), &first).await?;
        drop(s); // 990 bytes short
        let whole = lwt::with_timeout(Duration::from_secs(5), &outcome).await?;
        assert!(!whole);
        stopper.resolve(())?;
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

#[test]
fn http2_runs_twenty_concurrent_streams_on_one_connection() {
    leak_checked(|| async {
        const STREAMS: usize = 20;
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        // Each handler waits until all twenty are in: they can only finish
        // if they run at the same time.
        let (all_in, all_in_r) = lwt::wait::<()>();
        let all_in_r = Rc::new(RefCell::new(Some(all_in_r)));
        let arrived = Rc::new(Cell::new(0));
        let svc = service_fn(move |req: Request<Incoming>| {
            let (all_in, all_in_r, arrived) = (all_in.clone(), all_in_r.clone(), arrived.clone());
            async move {
                assert_eq!(req.version(), hyper::Version::HTTP_2);
                arrived.set(arrived.get() + 1);
                if arrived.get() == STREAMS {
                    if let Some(r) = all_in_r.borrow_mut().take() {
                        let _ = r.resolve(());
                    }
                }
                let _ = all_in.await;
                Ok::<_, Infallible>(reply(req.uri().path().to_string()))
            }
        });
        let (svc, connections) = Counted::new(svc);
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http2(), svc.counting(), stop);

        let client = handshake_http2(TcpStream::connect(addr).await?).await?;
        let requests: Vec<Promise<String>> = (0..STREAMS)
            .map(|i| {
                let mut client = client.clone();
                lwt::spawn(async move {
                    let req = Request::get(format!("http://localhost/s{i}"))
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    let resp = client.send_request(req).await?;
                    let body = resp.into_body().collect().await?.to_bytes();
                    Ok(String::from_utf8(body.to_vec()).unwrap())
                })
            })
            .collect();
        // `lwt::all` does not own its inputs, and a task that awaits a
        // hyper future is owned only by its promise: keep them here.
        let all = lwt::all(requests.clone());
        let bodies = lwt::with_timeout(Duration::from_secs(5), &all).await?;
        drop(requests);
        let expected: Vec<String> = (0..STREAMS).map(|i| format!("/s{i}")).collect();
        assert_eq!(bodies, expected);
        assert_eq!(connections.get(), 1);
        drop(client);
        stopper.resolve(())?;
        server.await
    });
}

#[test]
fn http2_keep_alive_pings_close_a_silent_peer() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let mut b = hyper::server::conn::http2::Builder::new(LwtExecutor);
        b.timer(LwtTimer)
            .keep_alive_interval(Duration::from_millis(100))
            .keep_alive_timeout(Duration::from_millis(200));
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::Http2(b), echo_path(), stop);

        // A peer that opens HTTP/2 and then never answers a ping.
        let s = TcpStream::connect(addr).await?;
        let start = Instant::now();
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await?;
        s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await?; // empty SETTINGS
        let got = read_to_end(&s, Duration::from_secs(5)).await?;
        let waited = start.elapsed();
        assert!(!got.is_empty(), "the server spoke HTTP/2 first");
        assert!(
            waited >= Duration::from_millis(250),
            "closed early: {waited:?}"
        );
        assert!(waited < Duration::from_secs(3), "closed late: {waited:?}");
        drop(s);
        stopper.resolve(())?;
        server.await
    });
}

#[test]
fn a_malformed_request_gets_a_400_and_the_connection_closes() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http1(), echo_path(), stop);

        for garbage in [
            &b"GET / HTTP/1.1\r\nHost: x\r\nthis is no header\r\n\r\n"[..],
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
        ] {
            let s = TcpStream::connect(addr).await?;
            s.write_all(garbage).await?;
            let got = read_to_end(&s, Duration::from_secs(5)).await?;
            assert!(
                got.starts_with(b"HTTP/1.1 4"),
                "a 4xx: {:?}",
                String::from_utf8_lossy(&got)
            );
            // read_to_end returned: the server closed the connection.
        }
        stopper.resolve(())?;
        server.await
    });
}

#[test]
fn graceful_shutdown_finishes_the_request_in_flight() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (go, go_r) = lwt::wait::<()>();
        let (started, started_r) = lwt::wait::<()>();
        let started_r = Rc::new(RefCell::new(Some(started_r)));
        let svc = service_fn(move |_req: Request<Incoming>| {
            let (go, started_r) = (go.clone(), started_r.clone());
            async move {
                if let Some(r) = started_r.borrow_mut().take() {
                    let _ = r.resolve(());
                }
                let _ = go.await;
                Ok::<_, Infallible>(reply("finished"))
            }
        });
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http1(), svc, stop);

        let mut client = handshake(TcpStream::connect(addr).await?).await?;
        let response = lwt::spawn(async move {
            let resp = client.send_request(get("/slow")).await?;
            let body = resp.into_body().collect().await?.to_bytes();
            Ok(String::from_utf8(body.to_vec()).unwrap())
        });
        started.await?;
        stopper.resolve(())?; // shut down while the request is in flight
        assert!(server.is_pending());
        assert!(TcpStream::connect_timeout(addr, Duration::from_secs(2))
            .await
            .is_err());
        go_r.resolve(())?;
        assert_eq!(response.await?, "finished");
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

/// A shutdown asked for by code that the accept loop itself runs: a
/// connection whose request is already buffered when it is accepted is
/// served at once, inside the accept loop's poll, so the service is called
/// from there. When `resolve` returns, the listener is closed all the same.
#[test]
fn a_shutdown_from_inside_the_accept_loop_closes_the_listener_at_once() {
    use std::io::Write;
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait::<()>();
        let stopper = Rc::new(RefCell::new(Some(stopper)));
        let refused = Rc::new(Cell::new(None));
        let (s, r) = (stopper.clone(), refused.clone());
        let svc = service_fn(move |_req: Request<Incoming>| {
            if let Some(stopper) = s.borrow_mut().take() {
                let _ = stopper.resolve(());
                // A blocking connect: the kernel completes it (into the
                // backlog) while the socket listens, and refuses it after.
                r.set(Some(std::net::TcpStream::connect(addr).is_err()));
            }
            async { Ok::<_, Infallible>(reply("bye")) }
        });
        let server = serve(listener, Http::http1(), svc, stop);
        // Connected and the request sent before the loop polls again, so
        // the accept, the read and the call happen in one go.
        let mut std = std::net::TcpStream::connect(addr)?;
        std.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
        let c = TcpStream::from_std(std)?;
        let response = read_to_end(&c, Duration::from_secs(5)).await?;
        assert!(find(&response, b"bye").is_some(), "answered");
        assert_eq!(
            refused.get(),
            Some(true),
            "the listener was still open after the shutdown resolved"
        );
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

#[test]
fn canceling_serve_closes_every_connection_at_once() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, _never) = lwt::task::<()>();
        let server = serve(listener, Http::http1(), echo_path(), stop.clone());

        let s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await?;
        let mut buf = [0; 1024];
        assert!(s.read(&mut buf).await? > 0);
        server.cancel();
        assert!(server.peek().unwrap().unwrap_err().is_canceled());
        assert!(stop.is_pending(), "the caller's promise is left alone");
        assert!(read_to_end(&s, Duration::from_secs(5)).await?.is_empty());
        Ok(())
    });
}

#[test]
fn canceling_serve_while_it_drains_closes_the_lingering_connections() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait::<()>();
        let server = serve(listener, Http::http1(), echo_path(), stop);

        // A connection that has sent half a request: a graceful shutdown
        // waits for it.
        let s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /a HTTP/1.1\r\nHost:").await?;
        lwt::sleep(Duration::from_millis(20)).await?;
        stopper.resolve(())?;
        lwt::sleep(Duration::from_millis(20)).await?;
        assert!(server.is_pending(), "draining");
        server.cancel();
        assert!(server.peek().unwrap().unwrap_err().is_canceled());
        assert!(read_to_end(&s, Duration::from_secs(5)).await?.is_empty());
        Ok(())
    });
}

#[test]
fn hyper_serves_over_a_unix_stream_and_over_the_io_wrapper() {
    leak_checked(|| async {
        let (server_side, client_side) = UnixStream::pair()?;
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(LwtTimer)
            .serve_connection(server_side, echo_path());
        let served = lwt::spawn(async move { conn.await.map_err(Error::new) });
        // The client side through the generic `futures_io` wrapper.
        let mut client = handshake(Io::new(client_side)).await?;
        let resp = client.send_request(get("/over/unix")).await?;
        assert_eq!(resp.into_body().collect().await?.to_bytes(), "/over/unix");
        drop(client);
        lwt::with_timeout(Duration::from_secs(5), &served).await
    });
}

#[test]
fn executor_tasks_live_until_they_end_even_unowned() {
    use hyper::rt::Executor;
    leak_checked(|| async {
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let seen = Rc::new(Cell::new(0));
        let s = seen.clone();
        // The task waits on a futures channel, not an lwt promise, and
        // nobody holds its promise.
        LwtExecutor.execute(async move {
            if let Ok(v) = rx.await {
                s.set(v);
            }
        });
        assert_eq!(lwt_native::hyper::running_tasks(), 1);
        lwt::sleep(Duration::from_millis(10)).await?;
        tx.send(7).unwrap();
        lwt::sleep(Duration::from_millis(10)).await?;
        assert_eq!(seen.get(), 7);
        assert_eq!(lwt_native::hyper::running_tasks(), 0);
        Ok(())
    });
}

#[test]
fn timer_sleeps_are_loop_timers_released_on_drop_and_reset() {
    use hyper::rt::Timer;
    leak_checked(|| async {
        let timers = lwt_native::timer_count();
        let mut sleep = LwtTimer.sleep(Duration::from_secs(60));
        assert_eq!(lwt_native::timer_count(), timers + 1);
        let start = Instant::now();
        LwtTimer.reset(&mut sleep, Instant::now() + Duration::from_millis(20));
        assert_eq!(lwt_native::timer_count(), timers + 1, "the old timer went");
        sleep.as_mut().await;
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(lwt_native::timer_count(), timers);
        // Reset after it fired: it sleeps again.
        LwtTimer.reset(&mut sleep, Instant::now() + Duration::from_millis(5));
        assert_eq!(lwt_native::timer_count(), timers + 1);
        drop(sleep);
        assert_eq!(lwt_native::timer_count(), timers);
        // A sleep of another timer is replaced by one of ours.
        let mut foreign: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Never);
        LwtTimer.reset(&mut foreign, Instant::now() + Duration::from_millis(1));
        foreign.as_mut().await;
        Ok(())
    });
}

#[test]
fn a_sleep_is_due_at_its_std_deadline_on_the_loop_and_on_another_engine() {
    leak_checked(|| async {
        // On the loop: the `std` deadline is the loop's, to the nanosecond
        // (converted without reading the clock again).
        let deadline = Instant::now() + Duration::from_millis(15);
        lwt_native::hyper::LwtSleep::until(deadline).await;
        assert!(Instant::now() >= deadline);
        Ok(())
    });
    // With another engine installed over the loop on this thread, the sleep
    // is that engine's: it is due when that engine's clock has moved on by
    // the time that was left, not by the loop's clock.
    std::thread::spawn(|| {
        lwt_native::install();
        let engine = lwt::testing::VirtualEngine::new();
        let mut sleep = lwt_native::hyper::LwtSleep::new(Duration::from_secs(3600));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(Pin::new(&mut sleep).poll(&mut cx).is_pending());
        engine.advance(Duration::from_secs(3599));
        assert!(Pin::new(&mut sleep).poll(&mut cx).is_pending());
        engine.advance(Duration::from_secs(1));
        assert!(Pin::new(&mut sleep).poll(&mut cx).is_ready());
    })
    .join()
    .unwrap();
}

/// A sleep of some other timer, never ready.
struct Never;

impl Future for Never {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

impl hyper::rt::Sleep for Never {}

#[test]
fn a_sleep_moved_to_another_thread_is_refused_there() {
    let _one_at_a_time = common::one_at_a_time();
    // The loop's thread is a fresh one too: its fds close before the next
    // test counts them.
    let sleep = std::thread::spawn(|| {
        lwt_native::run(async { Ok(lwt_native::hyper::LwtSleep::new(Duration::from_secs(60))) })
            .unwrap()
    })
    .join()
    .unwrap();
    let polled = std::thread::spawn(move || {
        let mut sleep = sleep;
        let waker = futures::task::noop_waker();
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = Pin::new(&mut sleep).poll(&mut std::task::Context::from_waker(&waker));
        }));
        drop(sleep); // leaked here, never dropped on the wrong thread
        polled
    })
    .join()
    .unwrap();
    assert!(polled.is_err(), "polling on another thread panics");
}

/// hyper on two loops sharing one port: every loop answers with its index,
/// the requests spread over both, and shutdown stops both servers.
#[test]
fn hyper_serves_on_two_loops_sharing_a_port() {
    use lwt_native::loops::Loops;
    let _one = common::one_at_a_time();
    let (addr, loops) = Loops::new(2)
        .listen("127.0.0.1:0".parse().unwrap(), |listener, ctx| {
            let index = ctx.index();
            let svc = service_fn(move |_req: Request<Incoming>| async move {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(index.to_string()))))
            });
            serve(listener, Http::http1(), svc, ctx.shutdown()).map(move |()| index)
        })
        .unwrap();
    let seen = lwt_native::run(async move {
        let mut seen = [0usize; 2];
        for _ in 0..40 {
            // A new connection each time: the kernel picks the loop per connection.
            let mut client = handshake(TcpStream::connect(addr).await?).await?;
            let req = Request::get("/")
                .header("host", "localhost")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let body = client
                .send_request(req)
                .await?
                .into_body()
                .collect()
                .await?;
            let i: usize = String::from_utf8_lossy(&body.to_bytes()).parse().unwrap();
            seen[i] += 1;
        }
        Ok(seen)
    })
    .unwrap();
    loops.shutdown();
    assert_eq!(loops.join().unwrap(), vec![0, 1]);
    assert_eq!(seen.iter().sum::<usize>(), 40);
    assert!(
        seen.iter().all(|&n| n > 0),
        "one loop got nothing: {seen:?}"
    );
    assert!(std::net::TcpStream::connect(addr).is_err());
}

/// A service that answers with the version the request came in.
fn version_echo() -> impl Service<
    Request<Incoming>,
    Response = Reply,
    Error = Infallible,
    Future = impl Future<Output = Result<Reply, Infallible>>,
> + Clone {
    service_fn(|req: Request<Incoming>| async move {
        Ok::<_, Infallible>(reply(format!("{:?}", req.version())))
    })
}

async fn body_of<B>(resp: Response<B>) -> Result<String, Error>
where
    B: hyper::body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let body = resp.into_body().collect().await.map_err(Error::new)?;
    Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
}

#[test]
fn auto_serves_http1_and_http2_clients_on_one_port() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::auto(), version_echo(), stop);

        let mut h1 = handshake(TcpStream::connect(addr).await?).await?;
        assert_eq!(body_of(h1.send_request(get("/")).await?).await?, "HTTP/1.1");
        // Keep-alive still works behind the detection.
        assert_eq!(body_of(h1.send_request(get("/")).await?).await?, "HTTP/1.1");
        drop(h1);

        let mut h2 = handshake_http2(TcpStream::connect(addr).await?).await?;
        let req = Request::get("http://localhost/")
            .body(Empty::<Bytes>::new())
            .unwrap();
        assert_eq!(body_of(h2.send_request(req).await?).await?, "HTTP/2.0");
        drop(h2);

        stopper.resolve(())?;
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

#[test]
fn auto_tells_the_protocol_from_bytes_that_come_one_at_a_time() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::auto(), version_echo(), stop);

        // "PRI * HTTP/1.1" shares the preface's first 13 bytes: only the
        // 14th tells it is not HTTP/2. Every byte goes in a write of its
        // own, so the server sees them in many reads.
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        for b in b"PRI * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" {
            s.write_all(&[*b]).await?;
            lwt::sleep(Duration::from_millis(1)).await?;
        }
        let got = read_to_end(&s, Duration::from_secs(5)).await?;
        // hyper served it as HTTP/1 (and says what it thinks of `PRI *`).
        assert!(
            got.starts_with(b"HTTP/1.1 "),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        drop(s);

        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" {
            s.write_all(&[*b]).await?;
        }
        let got = read_to_end(&s, Duration::from_secs(5)).await?;
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        assert!(
            got.ends_with(b"HTTP/1.1"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        drop(s);

        stopper.resolve(())?;
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

fn auto_with_detect_timeout(limit: Duration) -> Http {
    match Http::auto() {
        Http::Auto { http1, http2, .. } => Http::Auto {
            http1,
            http2,
            detect_timeout: limit,
        },
        _ => unreachable!(),
    }
}

#[test]
fn auto_closes_a_client_that_stops_before_its_first_bytes_tell() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let http = auto_with_detect_timeout(Duration::from_millis(300));
        let server = serve(listener, http, version_echo(), stop);

        for start in [&b""[..], b"PRI * HTTP/2.0"] {
            let s = TcpStream::connect(addr).await?;
            s.write_all(start).await?; // and nothing more
            let t = Instant::now();
            let got = read_to_end(&s, Duration::from_secs(5)).await?;
            let waited = t.elapsed();
            assert!(got.is_empty(), "{got:?}");
            assert!(
                waited >= Duration::from_millis(250),
                "closed early: {waited:?}"
            );
            assert!(waited < Duration::from_secs(3), "closed late: {waited:?}");
        }
        // A client that closes after half a preface is dropped at once.
        let s = TcpStream::connect(addr).await?;
        s.write_all(b"PRI * HT").await?;
        s.shutdown(std::net::Shutdown::Write)?;
        let t = Instant::now();
        assert!(read_to_end(&s, Duration::from_secs(5)).await?.is_empty());
        assert!(
            t.elapsed() < Duration::from_millis(250),
            "{:?}",
            t.elapsed()
        );

        stopper.resolve(())?;
        lwt::with_timeout(Duration::from_secs(5), &server).await
    });
}

#[test]
fn shutdown_drops_a_connection_still_being_told_apart() {
    leak_checked(|| async {
        let listener = TcpListener::bind(local())?;
        let addr = listener.local_addr()?;
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::auto(), version_echo(), stop);

        let s = TcpStream::connect(addr).await?;
        s.write_all(b"PRI").await?;
        lwt::sleep(Duration::from_millis(50)).await?;
        stopper.resolve(())?;
        // Without waiting for the 30 s detection limit.
        lwt::with_timeout(Duration::from_secs(2), &server).await?;
        assert!(read_to_end(&s, Duration::from_secs(2)).await?.is_empty());
        Ok(())
    });
}
