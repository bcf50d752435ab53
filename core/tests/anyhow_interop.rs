//! `?` both ways between `lwt::Error` and the error types a Rust app already
//! uses: `anyhow::Error` (with the `anyhow` feature), boxed errors, `std`
//! errors; the original error stays reachable, and errors cross threads.

use std::error::Error as StdError;
use std::io;

use lwt::testing::VirtualEngine;
use lwt::Error;

fn io_failure() -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::PermissionDenied, "no entry"))
}

fn anyhow_failure() -> anyhow::Result<()> {
    Err(anyhow::anyhow!("from anyhow"))
}

#[test]
fn question_mark_from_lwt_into_anyhow_keeps_the_error() {
    fn app() -> anyhow::Result<u8> {
        let p = lwt::Promise::<u8>::rejected(Error::timeout().context("loading"));
        let v = p.peek().unwrap()?;
        Ok(v)
    }
    let e = app().unwrap_err();
    assert_eq!(e.to_string(), "loading: timed out");
    let back = Error::from(e);
    assert!(back.is_timeout(), "the round trip keeps the kind");
    assert_eq!(back.message(), "loading: timed out");
}

#[test]
fn question_mark_from_anyhow_inside_a_task() {
    let engine = VirtualEngine::new();
    let p = lwt::spawn(async {
        anyhow_failure()?;
        Ok(())
    });
    let e = engine.run(&p).unwrap_err();
    assert_eq!(e.to_string(), "from anyhow");
    assert!(!e.is_canceled());
}

#[test]
fn an_anyhow_error_keeps_its_original_error_for_downcasts() {
    let original = anyhow::Error::new(io::Error::other("disk")).context("saving");
    let e = Error::from(original);
    assert_eq!(e.to_string(), "saving");
    assert_eq!(e.downcast_ref::<io::Error>().unwrap().to_string(), "disk");
}

#[test]
fn io_and_std_errors_convert_inside_a_task() {
    let engine = VirtualEngine::new();
    let p = lwt::spawn(async {
        io_failure()?;
        Ok(())
    });
    let e = engine.run(&p).unwrap_err();
    let io = e.downcast_ref::<io::Error>().unwrap();
    assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
    let q = lwt::spawn(async {
        let n: i32 = "x".parse()?;
        Ok(n)
    });
    let e = engine.run(&q).unwrap_err();
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
}

#[test]
fn boxed_errors_both_ways() {
    fn boxed() -> Result<(), Box<dyn StdError + Send + Sync>> {
        Err(Box::new(io::Error::other("boxed")))
    }
    let engine = VirtualEngine::new();
    let p = lwt::spawn(async {
        boxed()?;
        Ok(())
    });
    let e = engine.run(&p).unwrap_err();
    assert_eq!(e.downcast_ref::<io::Error>().unwrap().to_string(), "boxed");

    fn out() -> Result<(), Box<dyn StdError + Send + Sync>> {
        lwt::Promise::<()>::rejected(Error::canceled())
            .peek()
            .unwrap()
            .map_err(Error::into_boxed_dyn_error)?;
        Ok(())
    }
    assert!(Error::from(out().unwrap_err()).is_canceled());

    fn plain() -> Result<(), Box<dyn StdError>> {
        lwt::Promise::<()>::rejected(Error::msg("plain"))
            .peek()
            .unwrap()?;
        Ok(())
    }
    assert_eq!(plain().unwrap_err().to_string(), "plain");
}

#[test]
fn an_error_leaves_the_thread_that_ran_the_loop() {
    let handle = std::thread::spawn(|| {
        let engine = VirtualEngine::new();
        let p = lwt::spawn(async {
            io_failure()?;
            Ok(())
        });
        engine.run(&p)
    });
    let e = handle.join().unwrap().unwrap_err();
    assert_eq!(
        e.downcast_ref::<io::Error>().unwrap().kind(),
        io::ErrorKind::PermissionDenied
    );
    // And into anyhow from there, as a thread's result usually goes.
    let a: anyhow::Error = e.into();
    assert!(a.chain().any(|s| s.downcast_ref::<io::Error>().is_some()));
}
