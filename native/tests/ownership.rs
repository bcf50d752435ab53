//! Tasks owned by their wakers on the native engine: a dropped task woken
//! from another thread completes, and a WebSocket echo whose connections
//! are started by `lwt::async_` (their promises dropped at once) works.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use futures::StreamExt;
use lwt::Error;
use lwt_native::net::{TcpListener, TcpStream};

/// A dropped task awaiting a hand-written future whose waker another thread
/// wakes 20 ms later completes (the waker reaches it through the loop).
#[test]
fn dropped_task_woken_from_another_thread() {
    let got = lwt_native::run(async {
        type Shared = Arc<Mutex<(Option<u32>, Option<Waker>)>>;
        let shared: Shared = Arc::default();
        let (done, finished) = lwt::wait::<u32>();
        let s = shared.clone();
        drop(lwt::spawn(async move {
            let v = std::future::poll_fn(|cx| {
                let mut s = s.lock().unwrap();
                match s.0 {
                    Some(v) => Poll::Ready(v),
                    None => {
                        s.1 = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            })
            .await;
            finished.resolve(v)
        }));
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let w = {
                let mut s = shared.lock().unwrap();
                s.0 = Some(9);
                s.1.take()
            };
            w.expect("the task's waker").wake();
        });
        let v = done.await?;
        thread.join().unwrap();
        Ok(v)
    })
    .unwrap();
    assert_eq!(got, 9);
}

/// `async_` and `dont_wait` tasks awaiting a `futures` channel fed from
/// another thread complete.
#[test]
fn fire_and_forget_tasks_fed_from_another_thread() {
    lwt_native::run(async {
        let (tx, rx) = futures::channel::oneshot::channel::<&str>();
        let (tx2, rx2) = futures::channel::mpsc::unbounded::<u32>();
        let (done, r) = lwt::wait::<&str>();
        let (sum, r2) = lwt::wait::<u32>();
        lwt::async_(move || lwt::spawn(async move { r.resolve(rx.await.map_err(Error::new)?) }));
        lwt::dont_wait(
            move || {
                lwt::spawn(
                    async move { r2.resolve(rx2.fold(0, |a, b| async move { a + b }).await) },
                )
            },
            |e| panic!("{e}"),
        );
        let thread = std::thread::spawn(move || {
            for i in 1..=4 {
                std::thread::sleep(Duration::from_millis(2));
                tx2.unbounded_send(i).unwrap();
            }
            drop(tx2);
            tx.send("sent").unwrap();
        });
        assert_eq!(done.await?, "sent");
        assert_eq!(sum.await?, 10);
        thread.join().unwrap();
        Ok(())
    })
    .unwrap();
}

/// A WebSocket echo (async-tungstenite over lwt-native's futures-io TCP
/// streams): the accept loop and each connection run as `lwt::async_`
/// tasks, so nothing but their wakers holds them; each client sends
/// messages and gets them echoed after the handshake.
#[test]
fn websocket_echo_with_async_connections() {
    lwt_native::run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse::<SocketAddr>().unwrap())?;
        let addr = listener.local_addr()?;
        let closed = Rc::new(Cell::new(0));
        let c = closed.clone();
        lwt::async_(move || {
            lwt::spawn::<(), _>(async move {
                loop {
                    let (stream, _) = listener.accept().await?;
                    let c = c.clone();
                    lwt::async_(move || {
                        lwt::spawn::<(), _>(async move {
                            let mut ws = async_tungstenite::accept_async(stream)
                                .await
                                .map_err(Error::new)?;
                            while let Some(msg) = ws.next().await {
                                let msg = msg.map_err(Error::new)?;
                                if msg.is_text() || msg.is_binary() {
                                    ws.send(msg).await.map_err(Error::new)?;
                                }
                            }
                            c.set(c.get() + 1);
                            Ok(())
                        })
                    });
                }
            })
        });
        let clients: Vec<_> = (0..3)
            .map(|i| {
                lwt::spawn(async move {
                    let stream = TcpStream::connect(addr).await?;
                    let (mut ws, _) =
                        async_tungstenite::client_async(format!("ws://{addr}/echo"), stream)
                            .await
                            .map_err(Error::new)?;
                    for j in 0..5 {
                        let text = format!("client {i} message {j}");
                        ws.send(Message::text(text.clone()))
                            .await
                            .map_err(Error::new)?;
                        let echo = ws
                            .next()
                            .await
                            .ok_or_else(|| Error::msg("closed before the echo"))?
                            .map_err(Error::new)?;
                        assert_eq!(echo.into_text().map_err(Error::new)?.as_str(), text);
                    }
                    ws.close(None).await.map_err(Error::new)?;
                    while let Some(m) = ws.next().await {
                        m.map_err(Error::new)?;
                    }
                    Ok(())
                })
            })
            .collect();
        lwt::join(clients).await?;
        // Every server connection saw its client close, then ended.
        for _ in 0..200 {
            if closed.get() == 3 {
                break;
            }
            lwt::sleep(Duration::from_millis(5)).await?;
        }
        assert_eq!(closed.get(), 3);
        Ok(())
    })
    .unwrap();
}
