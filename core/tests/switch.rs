//! `lwt::Switch` (Lwt's `Lwt_switch`) through its public API.

use std::cell::RefCell;
use std::rc::Rc;

use lwt::{Promise, Switch};

/// A switch is on until `turn_off`, then off for good: `is_on`, `check`
/// and the `Debug` output say so.
#[test]
fn a_switch_is_on_until_turned_off() {
    let sw = Switch::new();
    assert!(sw.is_on());
    assert!(sw.check().is_ok());
    assert!(format!("{sw:?}").contains("on: true"), "{sw:?}");
    assert!(sw.turn_off().is_fulfilled());
    assert!(!sw.is_on());
    assert!(sw.check().unwrap_err().is_closed());
    let shown = format!("{sw:?}");
    assert!(
        shown.starts_with("Switch") && shown.contains("on: false"),
        "{shown}"
    );
}

/// Hooks run once, together, in the order they were added; `turn_off`'s
/// promise resolves when all of them have, and turning off again gives the
/// same promise without running them again.
#[test]
fn hooks_run_once_in_order_and_turn_off_waits_for_them() {
    let log: Rc<RefCell<Vec<u32>>> = Rc::default();
    let sw = Switch::new();
    let (slow, finish) = lwt::wait::<()>();
    for i in 0..3 {
        let log = log.clone();
        let slow = slow.clone();
        sw.add_hook(move || {
            log.borrow_mut().push(i);
            if i == 1 {
                slow
            } else {
                Promise::resolved(())
            }
        })
        .unwrap();
    }
    let off = sw.turn_off();
    assert_eq!(*log.borrow(), [0, 1, 2], "all started, in order");
    assert!(off.is_pending(), "hook 1 is still running");
    let again = sw.turn_off();
    assert_eq!(log.borrow().len(), 3, "not run twice");
    finish.resolve(()).unwrap();
    assert!(off.is_fulfilled());
    assert!(again.is_fulfilled());
}

/// A failing hook fails `turn_off`'s promise.
#[test]
fn a_failing_hook_fails_turn_off() {
    let sw = Switch::new();
    sw.add_hook(|| Promise::rejected(lwt::Error::msg("cleanup failed")))
        .unwrap();
    let off = sw.turn_off();
    assert!(off.peek().unwrap().is_err());
}

/// On a switch that is off, `add_hook` is an error (the hook never runs)
/// and `add_hook_or_exec` runs the hook at once; while on, it only adds.
#[test]
fn adding_hooks_to_a_switch_that_is_off() {
    let ran: Rc<RefCell<Vec<&str>>> = Rc::default();
    let sw = Switch::new();
    let r = ran.clone();
    let added = sw.add_hook_or_exec(move || {
        r.borrow_mut().push("or-exec while on");
        Promise::resolved(())
    });
    assert!(added.is_fulfilled());
    assert!(ran.borrow().is_empty(), "only added while on");
    assert!(sw.turn_off().is_fulfilled());
    assert_eq!(*ran.borrow(), ["or-exec while on"]);
    let r = ran.clone();
    assert!(sw
        .add_hook(move || {
            r.borrow_mut().push("never");
            Promise::resolved(())
        })
        .unwrap_err()
        .is_closed());
    let r = ran.clone();
    let (p, res) = lwt::wait::<()>();
    let exec = sw.add_hook_or_exec(move || {
        r.borrow_mut().push("at once");
        p
    });
    assert_eq!(*ran.borrow(), ["or-exec while on", "at once"]);
    assert!(exec.is_pending(), "the hook's own promise");
    res.resolve(()).unwrap();
    assert!(exec.is_fulfilled());
}

/// `with_switch` turns the switch off once the body's promise resolves,
/// either way.
#[test]
fn with_switch_turns_it_off_when_the_body_ends() {
    let seen: Rc<RefCell<Option<Switch>>> = Rc::default();
    let s = seen.clone();
    let (body, end) = lwt::wait::<u8>();
    let p = Switch::with_switch(move |sw| {
        *s.borrow_mut() = Some(sw);
        body
    });
    let sw = seen.borrow().clone().unwrap();
    assert!(sw.is_on());
    end.resolve(4).unwrap();
    assert_eq!(p.peek().unwrap().unwrap(), 4);
    assert!(!sw.is_on());
}
