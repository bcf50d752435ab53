//! tokio futures awaited from lwt tasks (feature `tokio`): values, errors,
//! cancellation, and a tokio-only client (reqwest) against a local server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lwt_native::tokio_compat;

#[test]
fn a_tokio_sleep_then_a_value_is_awaited_from_an_lwt_task() {
    let got = lwt_native::run(async {
        let on_tokio = tokio_compat::spawn(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            // Which thread ran it: one of the runtime's, not the loop's.
            (std::thread::current().name().map(str::to_string), 42)
        });
        let task = lwt::spawn(async move {
            let (thread, n) = on_tokio.await?;
            // Back on the loop: lwt's own timers go on working.
            lwt::sleep(Duration::from_millis(1)).await?;
            Ok((thread, n))
        });
        task.await
    })
    .unwrap();
    assert_eq!(got, (Some("lwt-tokio".to_string()), 42));
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Waits (bounded: 5 s) for `flag` to be set.
fn wait_for(flag: &AtomicBool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if flag.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[test]
fn canceling_the_promise_drops_the_tokio_future() {
    for flattening in [false, true] {
        let dropped = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (flag, done) = (DropFlag(dropped.clone()), finished.clone());
        let result = lwt_native::run(async move {
            let work = async move {
                let _flag = flag;
                tokio::time::sleep(Duration::from_secs(30)).await;
                done.store(true, Ordering::SeqCst);
                Ok::<u8, lwt::Error>(1)
            };
            let p = if flattening {
                tokio_compat::spawn_try(work)
            } else {
                tokio_compat::spawn(work).and_then(|r| r)
            };
            // Started on tokio, then given up after a few ms.
            let out = lwt::with_timeout(Duration::from_millis(20), &p).await;
            Ok((
                out.map_err(|e| e.is_timeout()),
                p.peek().map(|r| r.is_err()),
            ))
        })
        .unwrap();
        assert_eq!(result, (Err(true), Some(true)), "flattening: {flattening}");
        assert!(
            wait_for(&dropped),
            "the tokio future was not dropped (flattening: {flattening})"
        );
        assert!(!finished.load(Ordering::SeqCst));
    }
}

#[derive(Debug, PartialEq)]
struct Refused(u16);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused with code {}", self.0)
    }
}

impl std::error::Error for Refused {}

#[test]
fn an_error_from_tokio_arrives_as_an_lwt_error_that_downcasts() {
    let err = lwt_native::run(async {
        tokio_compat::spawn_try(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            Err::<u8, _>(Refused(403))
        })
        .await
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "refused with code 403");
    assert_eq!(err.downcast_ref::<Refused>(), Some(&Refused(403)));
}

#[test]
fn a_panic_on_tokio_rejects_the_promise() {
    let err = lwt_native::run(async {
        tokio_compat::spawn(async {
            tokio::task::yield_now().await;
            if true {
                panic!("boom on tokio (expected by the test)");
            }
            0u8
        })
        .await
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the tokio task panicked: boom on tokio"),
        "{err}"
    );
}

#[test]
fn enter_gives_a_tokio_context() {
    assert!(tokio::runtime::Handle::try_current().is_err());
    let inside = tokio_compat::enter(|| tokio::runtime::Handle::try_current().is_ok()).unwrap();
    assert!(inside);
}

#[path = "../examples/reqwest_get.rs"]
mod reqwest_get;

/// `examples/reqwest_get.rs`, run as a test: reqwest on tokio against a
/// hyper server on the loop.
#[test]
fn the_reqwest_example_fetches_from_the_loop() {
    let answer = reqwest_get::fetch_hello().unwrap();
    assert_eq!(answer, "200 OK: hello from lwt-native (/hello)");
}
