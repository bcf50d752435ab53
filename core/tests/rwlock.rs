//! `lwt::RwLock` through its public API: who is granted when, in which
//! order, and what the counts and `Debug` output say meanwhile.

use std::cell::RefCell;
use std::rc::Rc;

use lwt::testing::VirtualEngine;
use lwt::RwLock;

type Log = Rc<RefCell<Vec<String>>>;

/// A task that takes the lock (`write` or not), logs `name`, holds the
/// guard until `release` resolves, and logs `name` again as it lets go.
fn holder(lock: &Rc<RwLock<u32>>, log: &Log, name: &str, write: bool) -> lwt::Resolver<()> {
    let (release, releaser) = lwt::wait::<()>();
    let (lock, log, name) = (lock.clone(), log.clone(), name.to_string());
    lwt::async_(move || {
        lwt::spawn(async move {
            if write {
                let mut g = lock.write().await?;
                *g += 1;
                log.borrow_mut().push(format!("+{name}"));
                release.await?;
                log.borrow_mut().push(format!("-{name}"));
            } else {
                let _g = lock.read().await?;
                log.borrow_mut().push(format!("+{name}"));
                release.await?;
                log.borrow_mut().push(format!("-{name}"));
            }
            Ok(())
        })
    });
    releaser
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.borrow_mut())
}

/// Behind a writer, waiters are served from the front: the run of readers
/// before the next writer together, that writer alone once they are gone,
/// then the readers behind it.
#[test]
fn waiters_are_served_in_order_readers_in_runs() {
    let engine = VirtualEngine::new();
    let lock = Rc::new(RwLock::new(0));
    let log: Log = Rc::default();
    let w1 = holder(&lock, &log, "w1", true);
    let r1 = holder(&lock, &log, "r1", false);
    let r2 = holder(&lock, &log, "r2", false);
    let w2 = holder(&lock, &log, "w2", true);
    let r3 = holder(&lock, &log, "r3", false);
    engine.run_until_idle();
    assert_eq!(taken(&log), ["+w1"]);
    assert_eq!(lock.waiter_count(), 4);

    w1.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(
        taken(&log),
        ["-w1", "+r1", "+r2"],
        "the run of readers, together"
    );
    assert_eq!(lock.waiter_count(), 2, "w2, and r3 behind it");

    r1.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(taken(&log), ["-r1"], "w2 waits for every reader");
    r2.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(taken(&log), ["-r2", "+w2"]);
    assert_eq!(lock.waiter_count(), 1);

    w2.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(taken(&log), ["-w2", "+r3"]);
    r3.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(taken(&log), ["-r3"]);
    assert_eq!(lock.waiter_count(), 0);
    assert_eq!(*lock.try_read().unwrap(), 2, "both writers wrote");
}

/// Readers share the lock while nobody waits; a reader that comes after a
/// waiting writer waits behind it (a stream of readers never starves it).
#[test]
fn a_waiting_writer_holds_later_readers_back() {
    let engine = VirtualEngine::new();
    let lock = Rc::new(RwLock::new(0));
    let log: Log = Rc::default();
    let r1 = holder(&lock, &log, "r1", false);
    let r2 = holder(&lock, &log, "r2", false);
    let w = holder(&lock, &log, "w", true);
    let r3 = holder(&lock, &log, "r3", false);
    engine.run_until_idle();
    assert_eq!(taken(&log), ["+r1", "+r2"]);
    assert!(
        lock.try_read().is_err(),
        "a writer waits: no reader jumps it"
    );
    for r in [r1, r2] {
        r.resolve(()).unwrap();
    }
    engine.run_until_idle();
    assert_eq!(taken(&log), ["-r1", "-r2", "+w"]);
    w.resolve(()).unwrap();
    r3.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(taken(&log), ["-w", "+r3", "-r3"]);
}

/// A waiting writer that is canceled leaves the line, and the readers it
/// held back are served at once.
#[test]
fn a_canceled_waiting_writer_lets_the_readers_behind_it_in() {
    let engine = VirtualEngine::new();
    let lock = Rc::new(RwLock::new(0));
    let log: Log = Rc::default();
    let _r1 = holder(&lock, &log, "r1", false);
    let l = lock.clone();
    let writer = lwt::spawn(async move {
        let _g = l.write().await?;
        Ok(())
    });
    let _r2 = holder(&lock, &log, "r2", false);
    engine.run_until_idle();
    assert_eq!(taken(&log), ["+r1"]);
    assert_eq!(lock.waiter_count(), 2);
    writer.cancel();
    engine.run_until_idle();
    assert!(writer.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(taken(&log), ["+r2"], "r2 shares with r1 now");
    assert_eq!(lock.waiter_count(), 0);
}

/// `try_read` and `try_write` answer at once: granted when the lock is free
/// for them and nobody waits, an error otherwise.
#[test]
fn try_read_and_try_write_answer_at_once() {
    let _engine = VirtualEngine::new();
    let lock = RwLock::new(5);
    {
        let a = lock.try_read().unwrap();
        let b = lock.try_read().unwrap();
        assert_eq!(*a + *b, 10);
        assert!(lock.try_write().is_err(), "readers hold it");
    }
    {
        let mut w = lock.try_write().unwrap();
        *w = 6;
        assert!(lock.try_read().is_err(), "a writer holds it");
        assert!(lock.try_write().is_err());
    }
    assert_eq!(*lock.try_read().unwrap(), 6);
    assert_eq!(*lock.try_write().unwrap(), 6, "free again");
}

/// The lock's `Debug` output counts readers, the writer and the waiters;
/// a guard's shows the data.
#[test]
fn debug_shows_the_holders_and_the_waiters() {
    let engine = VirtualEngine::new();
    let lock = Rc::new(RwLock::new(vec![1]));
    let a = lock.try_read().unwrap();
    let b = lock.try_read().unwrap();
    assert_eq!(format!("{a:?}"), "[1]");
    let l = lock.clone();
    let writer = lwt::spawn(async move {
        let g = l.write().await?;
        Ok(format!("{g:?}"))
    });
    engine.run_until_idle();
    let shown = format!("{lock:?}");
    assert!(shown.starts_with("RwLock"), "{shown}");
    for field in ["readers: 2", "writer: false", "waiters: 1"] {
        assert!(shown.contains(field), "{field} in {shown}");
    }
    drop((a, b));
    engine.run_until_idle();
    assert_eq!(engine.run(&writer).unwrap(), "[1]");
    let w = lock.try_write().unwrap();
    assert!(format!("{lock:?}").contains("writer: true"));
    drop(w);
}

/// `get_mut` and `into_inner` reach the data with no lock taken.
#[test]
fn get_mut_and_into_inner_reach_the_data() {
    let mut lock = RwLock::new(1);
    *lock.get_mut() += 1;
    assert_eq!(lock.into_inner(), 2);
}

/// A wait dropped after its grant was made, before it was polled again,
/// gives the grant back: nothing is held by nobody.
#[test]
fn a_wait_dropped_after_its_grant_gives_it_back() {
    let engine = VirtualEngine::new();
    let lock = Rc::new(RwLock::new(0));
    let reader_slot: Rc<RefCell<Option<lwt::Promise<()>>>> = Rc::default();
    let (gate, open) = lwt::wait::<()>();
    let (l, slot) = (lock.clone(), reader_slot.clone());
    let writer = lwt::spawn(async move {
        let g = l.write().await?;
        gate.await?;
        // Inside this callback the release grants the waiting reader, whose
        // task runs only once this callback returns: it is stopped first.
        drop(g);
        if let Some(reader) = slot.borrow_mut().take() {
            reader.abort();
        }
        Ok(())
    });
    let l = lock.clone();
    let reader = lwt::spawn(async move {
        let _g = l.read().await?;
        Ok(())
    });
    *reader_slot.borrow_mut() = Some(reader.clone());
    engine.run_until_idle();
    assert_eq!(lock.waiter_count(), 1);
    open.resolve(()).unwrap();
    engine.run_until_idle();
    assert!(writer.peek().unwrap().is_ok());
    assert!(reader.peek().unwrap().unwrap_err().is_canceled());
    assert!(
        lock.try_write().is_ok(),
        "the dropped reader's grant was given back"
    );
}
