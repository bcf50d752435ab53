//! Signals as a stream. Alone in its binary: it installs handlers.

use lwt_native::signal::{Signals, SIGHUP, SIGUSR1};

#[test]
fn signals_arrive_in_order_and_only_where_wanted() {
    lwt_native::run(async {
        let mut usr1 = Signals::new(&[SIGUSR1])?;
        let mut both = Signals::new(&[SIGUSR1, SIGHUP])?;
        let canceled = usr1.recv();
        canceled.cancel();
        // SAFETY: raising signals whose handlers are installed.
        unsafe {
            libc::raise(SIGUSR1);
            libc::raise(SIGHUP);
        }
        assert_eq!(usr1.recv().await?, SIGUSR1);
        assert_eq!(both.recv().await?, SIGUSR1);
        assert_eq!(both.recv().await?, SIGHUP);
        let next = usr1.recv();
        lwt::sleep(std::time::Duration::from_millis(10)).await?;
        assert!(next.is_pending()); // SIGHUP was not for it
                                    // SAFETY: as above.
        unsafe { libc::raise(SIGUSR1) };
        assert_eq!(next.await?, SIGUSR1);
        // Pending recv()s are served in order, one signal each; canceling
        // one leaves the others waiting.
        let first = usr1.recv();
        let second = usr1.recv();
        let third = usr1.recv();
        first.cancel();
        // SAFETY: as above.
        unsafe { libc::raise(SIGUSR1) };
        let second = lwt::with_timeout(std::time::Duration::from_secs(5), &second);
        assert_eq!(second.await?, SIGUSR1);
        lwt::sleep(std::time::Duration::from_millis(10)).await?;
        assert!(third.is_pending());
        // SAFETY: as above.
        unsafe { libc::raise(SIGUSR1) };
        let third = lwt::with_timeout(std::time::Duration::from_secs(5), &third);
        assert_eq!(third.await?, SIGUSR1);
        Ok(())
    })
    .unwrap();
    // Another thread cannot take the signals over.
    let e = std::thread::spawn(|| Signals::new(&[SIGUSR1]).unwrap_err().kind())
        .join()
        .unwrap();
    assert_eq!(e, std::io::ErrorKind::Unsupported);
}
