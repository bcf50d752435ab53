//! The resolution loop: the one place user callbacks are run from.
//!
//! # Ground rules
//!
//! 1. Resolving a promise runs its callbacks before the outermost `resolve`
//!    returns (eager callbacks: [execution model](crate::execution_model),
//!    rule 3). Attaching a callback to a resolved promise runs it at once. No
//!    engine is involved.
//! 2. Callbacks run in the order they were attached (FIFO). `on_cancel` hooks
//!    run before the regular callbacks of a canceled promise.
//! 3. The stack is bounded ([execution model](crate::execution_model), rule
//!    4): every callback runs one level deeper in a thread-local *depth*
//!    counter. Past [`MAX_DEPTH`] the callbacks of a resolution are queued
//!    instead of run, and the outermost level (depth
//!    back to zero) drains the queue, FIFO, before it returns. So a chain of
//!    a million dependent promises resolves in a loop, not a recursion.
//!    A `bind`/`map` node does better still: its last act, resolving its own
//!    promise, is handed back to the caller as a [`Tail`], whose callbacks
//!    the caller runs next. A chain of them runs at one depth, in a loop.
//! 4. No `RefCell` borrow is held while a callback runs: the list of callbacks
//!    is taken out of the node first, and the value is read from the node's
//!    `OnceCell`, which never changes again.
//! 5. Panic safety: if a callback panics, the depth counter is restored by a
//!    guard, and the callbacks of the same resolution that had not run yet are
//!    queued, so they run at the next resolution instead of being lost.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

use crate::promise::NodeRef;

/// Callbacks nest this deep before the loop queues instead of recursing
/// (Lwt uses the same number).
pub(crate) const MAX_DEPTH: u32 = 42;

/// Something waiting on a promise of `T`: the node of a `bind`, `join`, ...
pub(crate) trait Callback<T: 'static> {
    /// The promise `source` (an underlying node) was resolved. `tag` is the
    /// number given when the callback was attached. The callback owns its
    /// handle on `source`: one that drops it before resolving further
    /// promises lets a long chain free each node as soon as the next has
    /// read it, in order.
    fn run(self: Rc<Self>, tag: usize, source: NodeRef<T>);
    /// [`Callback::run`] for a callback whose last act is to resolve a
    /// promise of its own: it may instead store the value and hand the
    /// promise back as a [`Tail`], whose callbacks the caller then runs
    /// (see [`Tail`]).
    fn run_then(self: Rc<Self>, tag: usize, source: NodeRef<T>) -> Option<TailRef> {
        self.run(tag, source);
        None
    }
    /// False once running the callback would do nothing (a `choose` that
    /// already chose). Dead entries are swept out of long callback lists.
    fn is_live(&self, _tag: usize) -> bool {
        true
    }
}

/// A node whose value was just set by the callback that returned it, and
/// whose callbacks are still to run: the state is `Pending` with the value
/// present, and nothing may run between the two.
///
/// This is how a chain of `bind`s resolves in a loop rather than a
/// recursion: instead of resolving its own promise (and so running the next
/// node's callback nested inside its own), a then node returns itself, and
/// whoever ran it runs the tail's callbacks next, before anything else. The
/// order is the one eager resolution gives; only the stack differs.
pub(crate) trait Tail {
    /// Marks the node resolved and runs its callbacks. Returns the tail the
    /// last of them handed back, if any, for the caller to run next.
    fn run_tail(self: Rc<Self>) -> Option<TailRef>;
}

pub(crate) type TailRef = Rc<dyn Tail>;

/// Runs `tail` and every tail it leads to.
pub(crate) fn run_tails(mut tail: Option<TailRef>) {
    while let Some(t) = tail {
        tail = t.run_tail();
    }
}

/// A task (`spawn`) waiting on a promise: resumed whatever the promise's type.
pub(crate) trait Resumable {
    /// Polls the task again, if `generation` is still its current one.
    fn resume(self: Rc<Self>, generation: usize);
    fn is_live(&self, generation: usize) -> bool;
}

/// One callback in a pending promise's list.
pub(crate) enum Entry<T: 'static> {
    Node(Rc<dyn Callback<T>>, usize),
    Task(Rc<dyn Resumable>, usize),
    Waker(Waker),
}

impl<T: 'static> Entry<T> {
    fn fire(self, source: NodeRef<T>) {
        run_tails(self.fire_then(source));
    }

    /// Runs the entry; returns the tail its callback handed back.
    fn fire_then(self, source: NodeRef<T>) -> Option<TailRef> {
        match self {
            Entry::Node(cb, tag) => cb.run_then(tag, source),
            Entry::Task(task, generation) => {
                task.resume(generation);
                None
            }
            Entry::Waker(waker) => {
                waker.wake();
                None
            }
        }
    }

    fn is_live(&self) -> bool {
        match self {
            Entry::Node(cb, tag) => cb.is_live(*tag),
            Entry::Task(task, generation) => task.is_live(*generation),
            Entry::Waker(_) => true,
        }
    }
}

/// The callbacks of a pending promise. Most promises have one, so one lives
/// inline and a `Vec` is allocated only for the second.
///
/// Dropping a callback list drops the promises waiting on it, whose callback
/// lists drop the promises waiting on *them*, and so on: for an abandoned
/// chain of a million pending binds that would be a million nested `drop`s.
/// So past a depth, lists are handed to a queue and dropped in a loop, like
/// callbacks are run.
pub(crate) struct Callbacks<T: 'static>(Slots<T>);

enum Slots<T: 'static> {
    Empty,
    One(Entry<T>),
    Many(Vec<Entry<T>>),
}

impl<T> Default for Callbacks<T> {
    fn default() -> Self {
        Callbacks(Slots::Empty)
    }
}

impl<T: 'static> Callbacks<T> {
    pub(crate) fn one(entry: Entry<T>) -> Self {
        Callbacks(Slots::One(entry))
    }

    fn take(&mut self) -> Slots<T> {
        std::mem::replace(&mut self.0, Slots::Empty)
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.0, Slots::Empty)
    }

    /// Adds `entry`. Returns the dead entries swept out to make room: the
    /// caller drops them once it has released the node's borrow, since one
    /// may hold the last reference to a promise (and so to user values).
    #[must_use = "drop the swept entries after releasing the node's borrow"]
    #[inline]
    pub(crate) fn push(&mut self, entry: Entry<T>) -> Vec<Entry<T>> {
        if let Slots::Empty = self.0 {
            self.0 = Slots::One(entry);
            return Vec::new();
        }
        self.push_more(entry)
    }

    fn push_more(&mut self, entry: Entry<T>) -> Vec<Entry<T>> {
        let mut dead = Vec::new();
        match &mut self.0 {
            Slots::Empty => self.0 = Slots::One(entry),
            Slots::One(_) => {
                let Slots::One(first) = self.take() else {
                    unreachable!()
                };
                self.0 = Slots::Many(vec![first, entry]);
            }
            Slots::Many(v) => {
                if let (Entry::Waker(new), Some(Entry::Waker(last))) = (&entry, v.last()) {
                    if new.will_wake(last) {
                        return dead;
                    }
                }
                if v.len() == v.capacity() {
                    // Sweep before growing: amortized O(1), and a long-lived
                    // promise raced by many `choose`s keeps only live entries.
                    let mut live = Vec::with_capacity(v.capacity());
                    for e in v.drain(..) {
                        if e.is_live() {
                            live.push(e);
                        } else {
                            dead.push(e);
                        }
                    }
                    *v = live;
                }
                v.push(entry);
            }
        }
        dead
    }

    /// Adds every entry of `other`; returns the swept ones, as [`Self::push`].
    #[must_use = "drop the swept entries after releasing the node's borrow"]
    pub(crate) fn append(&mut self, mut other: Callbacks<T>) -> Vec<Entry<T>> {
        match other.take() {
            Slots::Empty => Vec::new(),
            Slots::One(e) => self.push(e),
            Slots::Many(v) => {
                let mut dead = Vec::new();
                for e in v {
                    dead.extend(self.push(e));
                }
                dead
            }
        }
    }
}

/// How deep callback lists are dropped inside each other before the rest is
/// queued.
const MAX_DROP_DEPTH: u32 = 64;

thread_local! {
    static DROPS: (Cell<u32>, RefCell<Vec<Box<dyn std::any::Any>>>) =
        const { (Cell::new(0), RefCell::new(Vec::new())) };
}

impl<T: 'static> Drop for Callbacks<T> {
    fn drop(&mut self) {
        let slots = self.take();
        if matches!(slots, Slots::Empty) {
            return;
        }
        let queued = DROPS.try_with(|(depth, queue)| {
            if depth.get() >= MAX_DROP_DEPTH {
                queue.borrow_mut().push(Box::new(slots));
                None
            } else {
                depth.set(depth.get() + 1);
                Some(slots)
            }
        });
        match queued {
            // Thread-local storage is gone (thread exit): drop in place.
            Err(_) => {}
            Ok(None) => {}
            Ok(Some(slots)) => {
                drop(slots);
                let outermost = DROPS.with(|(depth, _)| {
                    depth.set(depth.get() - 1);
                    depth.get() == 0
                });
                if outermost {
                    loop {
                        let next = DROPS.with(|(_, queue)| queue.borrow_mut().pop());
                        let Some(next) = next else { break };
                        DROPS.with(|(depth, _)| depth.set(1));
                        drop(next);
                        DROPS.with(|(depth, _)| depth.set(0));
                    }
                }
            }
        }
    }
}

type Job = Box<dyn FnOnce()>;

/// The `on_cancel` hooks of a pending promise. Most cancelable promises have
/// one (a sleep's timer release, a queue waiter's removal), kept inline.
#[derive(Default)]
pub(crate) enum Hooks {
    #[default]
    None,
    One(Job),
    Many(Vec<Job>),
}

impl Hooks {
    pub(crate) fn push(&mut self, hook: Job) {
        *self = match std::mem::take(self) {
            Hooks::None => Hooks::One(hook),
            Hooks::One(first) => Hooks::Many(vec![first, hook]),
            Hooks::Many(mut v) => {
                v.push(hook);
                Hooks::Many(v)
            }
        };
    }

    pub(crate) fn append(&mut self, other: Hooks) {
        match other {
            Hooks::None => {}
            Hooks::One(h) => self.push(h),
            Hooks::Many(v) => v.into_iter().for_each(|h| self.push(h)),
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Hooks::None)
    }

    fn run(self) {
        match self {
            Hooks::None => {}
            Hooks::One(h) => h(),
            Hooks::Many(v) => v.into_iter().for_each(|h| h()),
        }
    }
}

struct Loop {
    depth: Cell<u32>,
    queue: RefCell<VecDeque<Job>>,
}

thread_local! {
    static LOOP: Loop = const {
        Loop {
            depth: Cell::new(0),
            queue: RefCell::new(VecDeque::new()),
        }
    };
}

/// One level of callback nesting, undone on drop (also when unwinding).
pub(crate) struct Level(());

impl Level {
    /// Enters one level deeper, or `None` if that would pass [`MAX_DEPTH`].
    pub(crate) fn enter() -> Option<Level> {
        LOOP.with(|l| {
            let d = l.depth.get();
            if d >= MAX_DEPTH {
                None
            } else {
                l.depth.set(d + 1);
                Some(Level(()))
            }
        })
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        let outermost = LOOP.with(|l| {
            let d = l.depth.get() - 1;
            l.depth.set(d);
            d == 0
        });
        if outermost && !std::thread::panicking() {
            drain();
        }
    }
}

/// True while some callback is running on this thread.
pub(crate) fn in_callback() -> bool {
    LOOP.with(|l| l.depth.get() > 0)
}

/// Queues `job` to run when the outermost level returns.
pub(crate) fn defer(job: Job) {
    LOOP.with(|l| l.queue.borrow_mut().push_back(job));
}

/// Runs queued jobs until none is left. Called by the outermost level, and by
/// engines at the start of a turn (jobs left behind by a panic).
pub(crate) fn drain() {
    /// Puts the depth back to zero after each job, also when it panics.
    struct Outermost;
    impl Drop for Outermost {
        fn drop(&mut self) {
            LOOP.with(|l| l.depth.set(0));
        }
    }
    if in_callback() {
        return;
    }
    loop {
        let job = LOOP.with(|l| l.queue.borrow_mut().pop_front());
        let Some(job) = job else { return };
        LOOP.with(|l| l.depth.set(1));
        let _outermost = Outermost;
        job();
    }
}

/// Runs `f` as a callback: one level deeper, or queued if that is too deep.
pub(crate) fn run_callback(f: impl FnOnce() + 'static) {
    match Level::enter() {
        Some(_level) => f(),
        None => defer(Box::new(f)),
    }
}

/// Runs the hooks and callbacks of a node that was just resolved.
pub(crate) fn run_callbacks<T: 'static>(
    node: NodeRef<T>,
    hooks: Hooks,
    callbacks: Callbacks<T>,
    later: bool,
) {
    if LOOP.with(|l| l.depth.get() == 0 && !l.queue.borrow().is_empty()) {
        // Callbacks left behind by a panic go first.
        drain();
    }
    if hooks.is_empty() && callbacks.is_empty() {
        return;
    }
    if later && in_callback() {
        defer(Box::new(move || run_now(node, hooks, callbacks)));
        return;
    }
    match Level::enter() {
        Some(_level) => run_now(node, hooks, callbacks),
        None => defer(Box::new(move || run_now(node, hooks, callbacks))),
    }
}

fn run_now<T: 'static>(node: NodeRef<T>, hooks: Hooks, mut callbacks: Callbacks<T>) {
    hooks.run();
    match callbacks.take() {
        Slots::Empty => {}
        Slots::One(entry) => entry.fire(node),
        Slots::Many(entries) => {
            let mut rest = Rest {
                node,
                entries: entries.into_iter(),
            };
            for entry in rest.entries.by_ref() {
                entry.fire(rest.node.clone());
            }
        }
    }
}

/// The callbacks of one resolution that have not run yet. If a callback
/// panics, the rest are queued rather than dropped.
struct Rest<T: 'static> {
    node: NodeRef<T>,
    entries: std::vec::IntoIter<Entry<T>>,
}

impl<T: 'static> Drop for Rest<T> {
    fn drop(&mut self) {
        if std::thread::panicking() && self.entries.len() > 0 {
            let node = self.node.clone();
            let entries: Vec<Entry<T>> = self.entries.by_ref().collect();
            defer(Box::new(move || {
                run_now(node, Hooks::None, Callbacks(Slots::Many(entries)));
            }));
        }
    }
}

/// The callbacks of a [`Tail`]: the first tail a single callback hands back
/// is returned for the caller's loop; several callbacks run here, in order.
pub(crate) fn run_tail_callbacks<T: 'static>(
    node: NodeRef<T>,
    mut callbacks: Callbacks<T>,
) -> Option<TailRef> {
    match callbacks.take() {
        Slots::Empty => None,
        Slots::One(entry) => entry.fire_then(node),
        slots => {
            run_now(node, Hooks::None, Callbacks(slots));
            None
        }
    }
}
