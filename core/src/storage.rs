//! Implicit callback-local storage (Lwt's `new_key`, `with_value`, `get`).
//!
//! # Ground rules
//!
//! A callback sees the values that were current when it was *attached*, not
//! when it runs: `bind`, `map`, the `on_*` functions and `spawn` capture the
//! current storage, and the resolution loop puts it back around the callback.
//! The storage is an immutable linked list of frames, so capturing it is one
//! reference-count increment (or nothing, when no value was ever set).

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) struct Frame {
    key: usize,
    value: Option<Rc<dyn Any>>,
    parent: Ctx,
}

/// A captured storage: what a callback restores when it runs.
pub(crate) type Ctx = Option<Rc<Frame>>;

thread_local! {
    static CURRENT: Cell<Ctx> = const { Cell::new(None) };
    /// Whether `CURRENT` holds a frame: a cell without a destructor, so
    /// reading it costs no check of the thread's state. Most programs never
    /// set any storage, and then every bind's capture and every callback's
    /// enter read only this.
    static SET: Cell<bool> = const { Cell::new(false) };
}

/// The storage current now.
#[inline]
pub(crate) fn capture() -> Ctx {
    if !SET.with(Cell::get) {
        return None;
    }
    CURRENT.with(|c| {
        let current = c.take();
        let copy = current.clone();
        c.set(current);
        copy
    })
}

/// Makes `ctx` current until the guard is dropped. Free when neither `ctx`
/// nor the current storage holds anything (the common case).
#[inline]
pub(crate) fn enter(ctx: &Ctx) -> Restore {
    if ctx.is_none() && !SET.with(Cell::get) {
        return Restore(None, false);
    }
    // Past the test above, `ctx` or the current storage holds a frame.
    CURRENT.with(|c| {
        let previous = c.take();
        c.set(ctx.clone());
        SET.with(|set| set.set(ctx.is_some()));
        Restore(previous, true)
    })
}

/// Puts the previous storage back when dropped.
pub(crate) struct Restore(Ctx, bool);

impl Drop for Restore {
    fn drop(&mut self) {
        if self.1 {
            let previous = self.0.take();
            SET.with(|set| set.set(previous.is_some()));
            let replaced = CURRENT.with(|c| c.replace(previous));
            drop(replaced);
        }
    }
}

/// A key for a value of type `T` in the implicit storage (Lwt's `'a key`).
///
/// ```
/// let user = lwt::Key::<String>::new();
/// let (p, r) = lwt::wait::<()>();
/// let greeting = lwt::with_value(&user, Some("bob".to_string()), || {
///     let user = user.clone();
///     p.map(move |()| lwt::get(&user))
/// });
/// r.resolve(()).unwrap(); // the callback runs now, outside `with_value`...
/// assert_eq!(greeting.peek().unwrap().unwrap().as_deref(), Some("bob")); // ...and sees "bob"
/// ```
pub struct Key<T> {
    id: usize,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        Key {
            id: self.id,
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl<T: 'static> Key<T> {
    /// A fresh key, different from every other (Lwt's `new_key`).
    ///
    /// ```
    /// let a = lwt::Key::<u32>::new();
    /// let b = lwt::Key::<u32>::new();
    /// lwt::with_value(&a, Some(1), || assert_eq!(lwt::get(&b), None));
    /// ```
    #[allow(clippy::new_without_default)]
    pub fn new() -> Key<T> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Key {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            _type: PhantomData,
        }
    }
}

/// Lwt's `new_key`: the same as [`Key::new`].
///
/// ```
/// let k = lwt::new_key::<u8>();
/// assert_eq!(lwt::get(&k), None);
/// ```
pub fn new_key<T: 'static>() -> Key<T> {
    Key::new()
}

/// Runs `f` with `key` bound to `value` (`None`: unbound) in the implicit
/// storage; callbacks attached during `f` see that binding whenever they run
/// (Lwt's `with_value`).
///
/// ```
/// let k = lwt::new_key::<u32>();
/// let r = lwt::with_value(&k, Some(7), || lwt::get(&k));
/// assert_eq!(r, Some(7));
/// assert_eq!(lwt::get(&k), None);
/// ```
pub fn with_value<T: 'static, R>(key: &Key<T>, value: Option<T>, f: impl FnOnce() -> R) -> R {
    let frame = Rc::new(Frame {
        key: key.id,
        value: value.map(|v| Rc::new(v) as Rc<dyn Any>),
        parent: capture(),
    });
    let _restore = enter(&Some(frame));
    f()
}

/// The value bound to `key` in the current implicit storage (Lwt's `get`).
///
/// ```
/// let k = lwt::new_key::<&str>();
/// lwt::with_value(&k, Some("outer"), || {
///     lwt::with_value(&k, Some("inner"), || assert_eq!(lwt::get(&k), Some("inner")));
///     assert_eq!(lwt::get(&k), Some("outer"));
/// });
/// ```
pub fn get<T: Clone + 'static>(key: &Key<T>) -> Option<T> {
    let mut frame = capture();
    while let Some(f) = frame {
        if f.key == key.id {
            return f.value.as_ref()?.downcast_ref::<T>().cloned();
        }
        frame = f.parent.clone();
    }
    None
}
