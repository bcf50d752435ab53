//! A signal that interrupts the loop's wait in the poller (`EINTR`) is not
//! an error: the loop polls again. Alone in its binary: it installs a
//! signal handler, and sends the signal to one thread.
#![cfg(target_os = "linux")]

use std::time::Duration;

use lwt_native::signal::{Signals, SIGUSR2};

/// The calling thread's id, from `/proc/thread-self` (`PID/task/TID`).
fn thread_id() -> String {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_string_lossy().into_owned()
}

/// Whether thread `tid` of this process is asleep (state `S` in its stat,
/// after the name in parentheses).
fn asleep(tid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(')')?.1.trim_start().starts_with('S')))
        .unwrap_or(false)
}

/// The loop waits for a signal in the poller, with nothing else to do;
/// another thread sends the signal to the loop's thread once it sleeps
/// there (`kill` with a thread id prefers that thread). The handler runs
/// on the loop's thread and `epoll_wait` returns `EINTR`; the loop polls
/// again and finds the signal. Three rounds: a signal that lands just
/// before the wait interrupts nothing.
#[test]
fn a_signal_that_interrupts_the_poll_is_not_an_error() {
    lwt_native::run(async {
        let mut usr2 = Signals::new(&[SIGUSR2])?;
        let tid = thread_id();
        for _ in 0..3 {
            let next = usr2.recv();
            let t = tid.clone();
            let sender = std::thread::spawn(move || {
                for _ in 0..2000 {
                    if asleep(&t) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                std::thread::sleep(Duration::from_millis(2));
                // The shell's own `kill`: a `kill` program may be missing.
                std::process::Command::new("sh")
                    .args(["-c", &format!("kill -USR2 {t}")])
                    .status()
            });
            let got = lwt::with_timeout(Duration::from_secs(10), &next).await?;
            assert_eq!(got, SIGUSR2);
            assert!(sender.join().unwrap()?.success());
        }
        Ok(())
    })
    .unwrap();
}
