//! [`Switch`]: a group of cleanup hooks run together when the switch is
//! turned off (Lwt's `Lwt_switch`).
//!
//! # Ground rules
//!
//! 1. A switch is on until [`Switch::turn_off`]; then it stays off. Hooks run
//!    once, all at once (concurrently), in the order they were added.
//! 2. Adding a hook to a switch that is off is an error ([`Switch::add_hook`])
//!    or runs it at once ([`Switch::add_hook_or_exec`]).
//! 3. Hooks are taken out of the switch before any of them runs, so a hook
//!    may use the switch freely.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use crate::{Error, Promise};

type Hook = Box<dyn FnOnce() -> Promise<()>>;

#[derive(Default)]
struct State {
    off: Option<Promise<()>>,
    hooks: Vec<Hook>,
}

/// A switch owning cleanup hooks (Lwt's `Lwt_switch.t`). Cloning gives
/// another handle to the same switch.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// let sw = lwt::Switch::new();
/// let closed = Rc::new(Cell::new(false));
/// let c = closed.clone();
/// sw.add_hook(move || { c.set(true); lwt::Promise::resolved(()) }).unwrap();
/// assert!(sw.turn_off().is_fulfilled());
/// assert!(closed.get());
/// assert!(!sw.is_on());
/// ```
#[derive(Clone, Default)]
pub struct Switch {
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for Switch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Switch").field("on", &self.is_on()).finish()
    }
}

fn off_error() -> Error {
    Error::closed("Switch: the switch is off")
}

impl Switch {
    /// A switch that is on (Lwt's `Lwt_switch.create`).
    ///
    /// ```
    /// assert!(lwt::Switch::new().is_on());
    /// ```
    pub fn new() -> Switch {
        Switch::default()
    }

    /// True until the switch is turned off (Lwt's `Lwt_switch.is_on`).
    ///
    /// ```
    /// let sw = lwt::Switch::new();
    /// let _ = sw.turn_off();
    /// assert!(!sw.is_on());
    /// ```
    pub fn is_on(&self) -> bool {
        self.state.borrow().off.is_none()
    }

    /// An error if the switch is off (Lwt's `Lwt_switch.check`).
    ///
    /// ```
    /// let sw = lwt::Switch::new();
    /// assert!(sw.check().is_ok());
    /// let _ = sw.turn_off();
    /// assert!(sw.check().unwrap_err().is_closed());
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        if self.is_on() {
            Ok(())
        } else {
            Err(off_error())
        }
    }

    /// Adds a hook to run when the switch is turned off; an error if it is
    /// off already (Lwt's `Lwt_switch.add_hook`).
    ///
    /// ```
    /// let sw = lwt::Switch::new();
    /// let _ = sw.turn_off();
    /// assert!(sw.add_hook(|| lwt::Promise::resolved(())).is_err());
    /// ```
    pub fn add_hook(&self, hook: impl FnOnce() -> Promise<()> + 'static) -> Result<(), Error> {
        let mut s = self.state.borrow_mut();
        if s.off.is_some() {
            return Err(off_error());
        }
        s.hooks.push(Box::new(hook));
        Ok(())
    }

    /// Adds a hook, or runs it now if the switch is off (Lwt's
    /// `Lwt_switch.add_hook_or_exec`).
    ///
    /// ```
    /// let sw = lwt::Switch::new();
    /// let _ = sw.turn_off();
    /// assert!(sw.add_hook_or_exec(|| lwt::Promise::resolved(())).is_fulfilled());
    /// ```
    pub fn add_hook_or_exec(&self, hook: impl FnOnce() -> Promise<()> + 'static) -> Promise<()> {
        if self.is_on() {
            self.state.borrow_mut().hooks.push(Box::new(hook));
            Promise::resolved(())
        } else {
            hook()
        }
    }

    /// Turns the switch off and runs its hooks, all at once; fulfilled when
    /// they all are, rejected with the first rejection. Turning it off again
    /// gives the same promise (Lwt's `Lwt_switch.turn_off`).
    ///
    /// ```
    /// let sw = lwt::Switch::new();
    /// let (p, r) = lwt::wait::<()>();
    /// sw.add_hook(move || p).unwrap();
    /// let off = sw.turn_off();
    /// assert!(off.is_pending());
    /// r.resolve(()).unwrap();
    /// assert!(off.is_fulfilled());
    /// ```
    pub fn turn_off(&self) -> Promise<()> {
        let (done, resolver, hooks) = {
            let mut s = self.state.borrow_mut();
            if let Some(p) = &s.off {
                return p.clone();
            }
            let (p, r) = crate::wait();
            s.off = Some(p.clone());
            (p, r, std::mem::take(&mut s.hooks))
        };
        let all = crate::join(hooks.into_iter().map(|h| h()));
        all.on_result(move |r| {
            let _ = resolver.resolve_with(r.clone());
        });
        done
    }

    /// Runs `f` with a new switch and turns the switch off when `f`'s
    /// promise resolves, either way (Lwt's `Lwt_switch.with_switch`).
    ///
    /// ```
    /// let p = lwt::Switch::with_switch(|sw| {
    ///     sw.add_hook(|| lwt::Promise::resolved(())).unwrap();
    ///     lwt::Promise::resolved(1)
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), 1);
    /// ```
    pub fn with_switch<T: 'static>(f: impl FnOnce(Switch) -> Promise<T>) -> Promise<T> {
        let sw = Switch::new();
        let p = f(sw.clone());
        p.finalize(move || sw.turn_off())
    }
}
