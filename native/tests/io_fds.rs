//! Channels that Lwt_io-style functions open for a function are closed when
//! it is done: counted in file descriptors. One test, so that no other test
//! of this binary opens descriptors meanwhile.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

mod common;

use common::bounded;
use lwt_native::io::{establish_server, InputChannel, OutputChannel};
use lwt_native::{open_fd_count, run};

fn local() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Waits (a bounded number of turns) for the descriptor count to come back.
async fn settle(expected: usize) -> Result<usize, lwt::Error> {
    let mut now = open_fd_count()?;
    for _ in 0..200 {
        if now <= expected {
            break;
        }
        lwt::sleep(Duration::from_millis(5)).await?;
        now = open_fd_count()?;
    }
    Ok(now)
}

#[test]
fn channels_are_closed_when_the_function_is_done_even_if_kept() {
    type Kept = Rc<RefCell<Vec<(InputChannel, OutputChannel)>>>;
    run(async {
        let before = open_fd_count()?;
        // A handler that keeps its channels and resolves (or rejects) at
        // once, after writing a reply without flushing.
        let kept: Kept = Rc::default();
        let k = kept.clone();
        let server = establish_server(local(), move |_peer, ic, oc| {
            k.borrow_mut().push((ic.clone(), oc.clone()));
            lwt::spawn(async move {
                let line = ic.read_line().await?.unwrap_or_default();
                oc.write_line(&format!("bye {line}")).await?;
                if line == "fail" {
                    return Err(lwt::Error::msg("handler failed (expected by the test)"));
                }
                Ok(())
            })
        })?;
        let listening = open_fd_count()?;
        for name in ["ok", "fail"] {
            let (ic, oc) = lwt_native::io::open_connection(server.local_addr()).await?;
            oc.write_line(name).await?;
            // The reply, then end of input: the server closed its side.
            let all = bounded({
                let ic = ic.clone();
                async move { ic.read_to_string().await }
            })
            .await?;
            assert_eq!(all, format!("bye {name}\n"));
            ic.close().await?;
            oc.close().await?;
        }
        assert_eq!(kept.borrow().len(), 2);
        assert!(kept
            .borrow()
            .iter()
            .all(|(ic, oc)| ic.is_closed() && oc.is_closed()));
        assert_eq!(
            settle(listening).await?,
            listening,
            "connection fds left open"
        );
        let first = kept.borrow()[0].0.clone();
        let e = first.read_line().await.unwrap_err();
        assert!(e.is_closed(), "{e}");

        // with_connection closes what it opened, also when `f` fails and
        // kept clones.
        let mut kept_client = Vec::new();
        let e = lwt_native::io::with_connection(server.local_addr(), |ic, oc| {
            kept_client.push((ic.clone(), oc.clone()));
            async move {
                oc.write_line("ok").await?;
                ic.read_line().await?;
                Err::<(), _>(lwt::Error::msg("client failed"))
            }
        })
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), "client failed");
        assert!(kept_client[0].0.is_closed() && kept_client[0].1.is_closed());
        assert_eq!(settle(listening).await?, listening, "client fds left open");

        // A temporary file whose task is aborted halfway is still removed,
        // and its descriptor closed.
        let (p, r) = lwt::wait::<std::path::PathBuf>();
        let task = lwt::spawn(async move {
            lwt_native::io::with_temp_file(|path, _oc| async move {
                r.resolve(path)?;
                lwt::sleep(Duration::from_secs(3600)).await
            })
            .await
        });
        let path = p.await?;
        assert!(path.exists());
        // (Let the task's poll that resolved `p` end first.)
        lwt::pause().await?;
        task.abort();
        assert!(!path.exists(), "the aborted task's temporary file is left");
        drop(task);

        server.shutdown().await?;
        assert_eq!(settle(before).await?, before, "fds left open");
        Ok(())
    })
    .unwrap();
}
