//! The node behind every promise: its states, what it holds while pending,
//! and every transition between states.
//!
//! # Ground rules
//!
//! 1. A promise handle and a resolver handle both point to one *node*,
//!    `Rc<dyn NodeDyn<T>>`. A node is a [`Core<T>`] (the state) plus an
//!    `extra` part that depends on how the promise was made: nothing for
//!    `wait`/`task`, the user's closure for `bind`/`map`, the counters of a
//!    `join`, the future of a `spawn`. Keeping the closure in the same
//!    allocation as the promise it produces is what makes `bind` on a pending
//!    promise cost one heap allocation.
//! 2. A node's value lives in a `OnceCell`, set exactly once. After that it
//!    never changes, so callbacks read it through a plain `&` while other code
//!    freely borrows the node's `RefCell` links: no borrow is ever held while
//!    user code runs.
//! 3. The states are the variants of [`Links`] plus the transient *tail*;
//!    see there. This module is the only one that matches on `Links`.
//! 4. Links go *forward* strongly (a pending node owns its callbacks, and so
//!    the promises waiting on it) and *backward* weakly (a node knows the
//!    cancelable promises it waits on through `Weak`). There are no `Rc`
//!    cycles: a pending promise nobody can resolve or cancel is freed with its
//!    whole downstream.
//! 5. A node may become a *proxy* for another node of the same type, its
//!    *underlying* node (Lwt's proxies). Every operation starts by finding the
//!    underlying node ([`underlying`]).
//! 6. Nothing here runs user code: a transition hands what the node waited
//!    with back to its caller, and the resolution loop runs it.

use std::cell::{Cell, OnceCell, Ref, RefCell, RefMut};
use std::rc::{Rc, Weak};
use std::task::Waker;

use crate::error::Error;

/// What a node's `RefCell` holds: which state of its life the node is in.
///
/// A node has five states. Four are variants; the fifth, *tail*, is
/// `Pending` links with the value already set. Each state's block below says
/// what leads into it and what can never follow it. Only this module matches
/// on `Links`: the rest of the core moves a node from state to state through
/// the methods of [`Core`] and the functions here.
///
/// # Tail (transient)
///
/// `Pending` links with the `OnceCell` value set. Entered from `Pending` only,
/// by [`Core::enter_tail`], when a then node's callback is about to return and
/// its result is not a cancellation; the node is then handed to the caller as
/// a [`Tail`] instead of being resolved in place. Followed only by `Resolved`
/// ([`Core::take_waiting`], from `Tail::run_to_tail`), and before anything else
/// runs: no callback, no cancel walk, no other resolution can see a node in
/// this state. It can never become a proxy, never be canceled, and never
/// return to plain `Pending`.
pub(crate) enum Links<T: 'static> {
    /// Pending: the value is not set, and the node waits with its callbacks,
    /// `on_cancel` hooks and cancel link. Every fresh node made by
    /// [`Core::pending`] starts here, and nothing leads back into it. Followed
    /// by `Resolved` (resolved, or canceled), by `Proxy` (merged into another
    /// node), or by the transient tail state; never by itself again once it
    /// has left.
    Pending(Waiting<T>),
    /// Resolved: the `OnceCell` value is set and will never change. Entered
    /// from `Pending` or tail by [`Core::take_waiting`], or made directly by
    /// [`Core::resolved`]; from `Queued` by [`Core::take_queued`]. Followed
    /// only by `Queued` ([`Core::queue`]); a resolved node never becomes
    /// pending again, nor a proxy.
    Resolved,
    /// Queued: resolved (the value is set, and every reader sees it so),
    /// with the hooks and callbacks of its resolution kept here while the
    /// node waits its turn in the resolution loop's queue (a `resolve_later`
    /// inside a callback, or a resolution past [`super::resolve::MAX_DEPTH`]):
    /// the queue holds the node, and no boxed job is needed. Entered from
    /// `Resolved` only ([`Core::queue`]), followed only by `Resolved`
    /// ([`Core::take_queued`], when the queue reaches it). Nothing attaches
    /// here: a callback added meanwhile runs at once, as on any resolved node.
    Queued(Hooks, Callbacks<T>),
    /// Proxy: the node was merged into another node of the same type, its
    /// *underlying* node, which now stands for both; its own value is never
    /// set. Entered from `Pending` only ([`Core::become_proxy`],
    /// [`fold_into`]). Followed only by `Proxy` to a node further down the
    /// same chain (path compression, in [`underlying`]); never by `Pending`,
    /// tail or `Resolved`.
    Proxy(Rc<dyn NodeDyn<T>>),
}

/// What a pending node is waiting with.
pub(crate) struct Waiting<T: 'static> {
    /// Run, in order, when the node is resolved.
    pub(crate) callbacks: Callbacks<T>,
    /// Run before `callbacks` when the node is rejected with `Canceled`;
    /// dropped unrun otherwise.
    pub(crate) on_cancel: Hooks,
    /// Where [`Promise::cancel`] goes from here.
    pub(crate) cancel: CancelLink,
}

impl<T> Waiting<T> {
    pub(crate) fn new(cancel: CancelLink) -> Self {
        Waiting {
            callbacks: Callbacks::default(),
            on_cancel: Hooks::None,
            cancel,
        }
    }

    /// What a node that was just resolved runs: its callbacks, and its
    /// `on_cancel` hooks if it was `canceled` (dropped otherwise). The
    /// backward link is let go of first: it may be the last (weak) hold on
    /// the node this one waited on, which is then freed now, in chain order,
    /// rather than after the callbacks. Always inlined: as a call, it made
    /// the tail loop of a `bind` chain 6% slower.
    #[inline(always)]
    pub(crate) fn release(self, canceled: bool) -> (Callbacks<T>, Hooks) {
        let (callbacks, hooks) = self.split();
        if canceled {
            (callbacks, hooks)
        } else {
            hooks.discard();
            (callbacks, Hooks::None)
        }
    }

    /// [`Waiting::release`] of a node that was not canceled: its callbacks
    /// alone (the hooks are dropped unrun).
    #[inline(always)]
    pub(crate) fn release_callbacks(self) -> Callbacks<T> {
        let (callbacks, hooks) = self.split();
        hooks.discard();
        callbacks
    }

    /// The callbacks and hooks, the cancel link dropped.
    #[inline(always)]
    fn split(self) -> (Callbacks<T>, Hooks) {
        let Waiting {
            callbacks,
            on_cancel,
            cancel,
        } = self;
        drop(cancel);
        (callbacks, on_cancel)
    }
}

/// The part of a node every promise has.
pub(crate) struct Core<T: 'static> {
    pub(crate) value: OnceCell<Result<T, Error>>,
    pub(crate) links: RefCell<Links<T>>,
}

impl<T: 'static> Core<T> {
    pub(crate) fn pending(cancel: CancelLink) -> Self {
        Core {
            value: OnceCell::new(),
            links: RefCell::new(Links::Pending(Waiting::new(cancel))),
        }
    }

    pub(crate) fn resolved(result: Result<T, Error>) -> Self {
        Core {
            value: OnceCell::from(result),
            links: RefCell::new(Links::Resolved),
        }
    }

    /// What the node waits with, if it is pending (or tail), borrowed. The
    /// borrow must be dropped before any user code runs.
    pub(crate) fn waiting(&self) -> Option<Ref<'_, Waiting<T>>> {
        Ref::filter_map(self.links.borrow(), |links| match links {
            Links::Pending(w) => Some(w),
            _ => None,
        })
        .ok()
    }

    /// [`Core::waiting`], mutably: to attach a callback or hook, or edit the
    /// cancel link, of a pending node.
    #[inline(always)]
    pub(crate) fn waiting_mut(&self) -> Option<RefMut<'_, Waiting<T>>> {
        RefMut::filter_map(self.links.borrow_mut(), |links| match links {
            Links::Pending(w) => Some(w),
            _ => None,
        })
        .ok()
    }

    /// Pending: attaches `entry` and returns `None`. In any other state gives
    /// the entry back, for the caller to run at once.
    #[inline(always)]
    pub(crate) fn attach(&self, entry: Entry<T>) -> Option<Entry<T>> {
        let mut links = self.links.borrow_mut();
        if let Links::Pending(w) = &mut *links {
            let swept = w.callbacks.push(entry);
            drop(links);
            drop_swept(swept);
            return None;
        }
        Some(entry)
    }

    /// Pending → tail: stores `result` (or hands it to a sole claim, see
    /// [`hand_over`]) while the links stay `Pending`. In any other state
    /// gives `result` back. One borrow, checking and storing: this is on
    /// every bind's path.
    #[inline(always)]
    pub(crate) fn enter_tail(&self, result: Result<T, Error>) -> Result<(), Result<T, Error>> {
        let result = match &*self.links.borrow() {
            Links::Pending(w) => hand_over(&w.callbacks, result),
            _ => return Err(result),
        };
        // The cell is empty: a pending node's value is set only here or
        // when it leaves `Pending`.
        let _ = self.value.set(result);
        Ok(())
    }

    /// Pending or tail → Resolved: takes out what the node waited with, for
    /// the resolution loop to run. In any other state, leaves the links as
    /// they are and gives `None`. The value is set by the caller (already
    /// set, for a tail), before anything else runs.
    #[inline(always)]
    pub(crate) fn take_waiting(&self) -> Option<Waiting<T>> {
        let mut links = self.links.borrow_mut();
        match std::mem::replace(&mut *links, Links::Resolved) {
            Links::Pending(w) => Some(w),
            other => {
                *links = other;
                None
            }
        }
    }

    /// Pending → Proxy for the resolved node `target` (a merge with a
    /// resolved promise): takes out what the node waited with, to run with
    /// `target`'s value. `None`, and no change, if the node is not pending.
    pub(crate) fn become_proxy(&self, target: &NodeRef<T>) -> Option<Waiting<T>> {
        let mut links = self.links.borrow_mut();
        if !matches!(&*links, Links::Pending(_)) {
            return None;
        }
        match std::mem::replace(&mut *links, Links::Proxy(target.clone())) {
            Links::Pending(w) => Some(w),
            _ => unreachable!("checked pending above"),
        }
    }

    /// Resolved and not shared: moves the value out (the node is dropped
    /// right after). `None` in any other state.
    #[inline(always)]
    pub(crate) fn take_unshared_value(&mut self) -> Option<Result<T, Error>> {
        if matches!(self.links.get_mut(), Links::Resolved) {
            return self.value.take();
        }
        None
    }

    /// Resolved → queued: keeps `hooks` and `callbacks` for the resolution
    /// loop's queue, which holds the node. Any other state (already queued,
    /// say) gives them back.
    pub(crate) fn queue(
        &self,
        hooks: Hooks,
        callbacks: Callbacks<T>,
    ) -> Result<(), (Hooks, Callbacks<T>)> {
        let mut links = self.links.borrow_mut();
        if matches!(&*links, Links::Resolved) {
            *links = Links::Queued(hooks, callbacks);
            return Ok(());
        }
        Err((hooks, callbacks))
    }

    /// Queued → resolved: what [`Core::queue`] kept, for the resolution loop
    /// to run. `None`, and no change, in any other state.
    pub(crate) fn take_queued(&self) -> Option<(Hooks, Callbacks<T>)> {
        let mut links = self.links.borrow_mut();
        match std::mem::replace(&mut *links, Links::Resolved) {
            Links::Queued(hooks, callbacks) => Some((hooks, callbacks)),
            other => {
                *links = other;
                None
            }
        }
    }
}

impl<T: 'static> Drop for Core<T> {
    /// A cancelable node (`CancelTo::This`) freed while pending: nothing can
    /// resolve it any more, but the promises waiting on it that someone still
    /// holds can still be canceled, and in Lwt canceling them would reject
    /// this node and so them. Each one whose cancel link was this node makes
    /// itself the leaf instead ([`Core::source_lost`]), so the cancel still
    /// reaches it; down a chain, each node freed in turn passes it on.
    #[inline]
    fn drop(&mut self) {
        if let Links::Pending(w) = self.links.get_mut() {
            if matches!(w.cancel, CancelTo::This) {
                tell_source_lost(&w.callbacks);
            }
        }
    }
}

/// The rare part of `Drop for Core`, kept out of every node's drop glue.
#[cold]
#[inline(never)]
fn tell_source_lost<T: 'static>(callbacks: &Callbacks<T>) {
    callbacks.for_each(|entry| {
        if let Entry::Node(cb, tag) = entry {
            cb.source_lost(*tag);
        }
    });
}

impl<T: 'static> Core<T> {
    /// The node this one waited on, through a `Source` cancel link, was a
    /// cancelable node freed while pending (see `Drop for Core`): this node
    /// becomes the leaf the cancel walk rejects.
    pub(crate) fn source_lost(&self) {
        let Ok(mut links) = self.links.try_borrow_mut() else {
            return;
        };
        if let Links::Pending(w) = &mut *links {
            if matches!(&w.cancel, CancelTo::Source(s) if s.strong_count() == 0) {
                w.cancel = CancelTo::This;
            }
        }
    }
}

/// A node: the core plus whatever the promise's maker keeps beside it.
///
/// `repr(C)` keeps the core first and the extra after it: with the layout
/// left to the compiler, building a node moved it through the stack at odd
/// offsets, which made `bind` a fifth slower.
#[repr(C)]
pub(crate) struct Node<T: 'static, X = ()> {
    pub(crate) core: Core<T>,
    pub(crate) extra: X,
}

/// What a node with a given `extra` can do beyond a plain promise.
pub(crate) trait Extra: 'static {
    /// [`Promise::abort`] on this node: drops what the node runs and returns
    /// true (a spawned task), or returns false to make `abort` a `cancel`.
    fn abort(&self) -> bool {
        false
    }
    /// The node is about to be rejected with `Canceled` by a cancel walk
    /// that reached it (before its `on_cancel` hooks run): releases what
    /// the extra holds for the node. A sleep disarms its timer here rather
    /// than through a boxed hook.
    fn canceled(&self) {}
    /// The node is being folded into another ([`fold_into`]), which takes
    /// over its cancel behaviour: what [`Extra::canceled`] would release,
    /// as a hook for that node to run instead. `None` when nothing is held.
    fn take_cancel_hook(&self) -> Option<Job> {
        None
    }
}

impl Extra for () {}

/// A queued node ([`Links::Queued`]) seen by the resolution loop's queue,
/// whatever its value type.
pub(crate) trait RunQueued {
    /// Runs the hooks and callbacks the node was queued with.
    fn run_queued(self: Rc<Self>);
}

/// A node seen through its value type. `Promise<T>` holds one of these.
pub(crate) trait NodeDyn<T: 'static>: Cancelable + RunQueued {
    fn core(&self) -> &Core<T>;
    fn core_mut(&mut self) -> &mut Core<T>;
    fn abort(&self) -> bool;
    fn take_cancel_hook(&self) -> Option<Job>;
}

impl<T: 'static, X: Extra> NodeDyn<T> for Node<T, X> {
    fn core(&self) -> &Core<T> {
        &self.core
    }
    fn core_mut(&mut self) -> &mut Core<T> {
        &mut self.core
    }
    fn abort(&self) -> bool {
        self.extra.abort()
    }
    fn take_cancel_hook(&self) -> Option<Job> {
        self.extra.take_cancel_hook()
    }
}

pub(crate) type NodeRef<T> = Rc<dyn NodeDyn<T>>;

/// Follows proxies to the node that stands for `node`, compressing the path.
#[inline]
pub(crate) fn underlying<T: 'static>(node: &NodeRef<T>) -> NodeRef<T> {
    let next = match &*node.core().links.borrow() {
        Links::Proxy(next) => next.clone(),
        _ => return node.clone(),
    };
    follow_proxies(node, next)
}

/// [`underlying`] for a handle given up: the handle itself unless it is a
/// proxy, so the common case moves it and counts no reference.
#[inline]
pub(crate) fn underlying_owned<T: 'static>(node: NodeRef<T>) -> NodeRef<T> {
    let next = match &*node.core().links.borrow() {
        Links::Proxy(next) => Some(next.clone()),
        _ => None,
    };
    match next {
        Some(next) => follow_proxies(&node, next),
        None => node,
    }
}

#[cold]
fn follow_proxies<T: 'static>(node: &NodeRef<T>, mut current: NodeRef<T>) -> NodeRef<T> {
    let mut walked = false;
    loop {
        let next = match &*current.core().links.borrow() {
            Links::Proxy(next) => next.clone(),
            _ => break,
        };
        current = next;
        walked = true;
    }
    if !walked {
        // `node` already points straight at the end.
        return current;
    }
    let link = Links::Proxy(current.clone());
    let old = std::mem::replace(&mut *node.core().links.borrow_mut(), link);
    drop(old);
    current
}

/// The resolved value of an underlying node, if it is resolved.
pub(crate) fn value_of<T: 'static>(node: &NodeRef<T>) -> Option<&Result<T, Error>> {
    node.core().value.get()
}

/// Compares two nodes by address (the thin part of the pointer).
pub(crate) fn same_node<T: 'static>(a: &NodeRef<T>, b: &NodeRef<T>) -> bool {
    std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
}

/// The pending node `inner` → Proxy for the pending node `outer` (a merge of
/// two pending promises): `outer` takes over `inner`'s callbacks, hooks and
/// cancel link, and what `inner`'s extra would release on a cancel
/// ([`Extra::take_cancel_hook`]). Does nothing unless both are pending.
/// Returns what was replaced or swept, for the caller to drop outside the
/// borrows.
#[allow(clippy::type_complexity)]
pub(crate) fn fold_into<T: 'static>(
    outer: &NodeRef<T>,
    inner: &NodeRef<T>,
) -> Option<(CancelLink, Vec<Entry<T>>)> {
    let mut outer_links = outer.core().links.borrow_mut();
    if !matches!(&*outer_links, Links::Pending(_)) {
        return None;
    }
    let mut inner_links = inner.core().links.borrow_mut();
    match std::mem::replace(&mut *inner_links, Links::Proxy(outer.clone())) {
        Links::Pending(w) => {
            if let Links::Pending(o) = &mut *outer_links {
                let swept = o.callbacks.append(w.callbacks);
                o.on_cancel.append(w.on_cancel);
                if let Some(hook) = inner.take_cancel_hook() {
                    o.on_cancel.push(hook);
                }
                Some((std::mem::replace(&mut o.cancel, w.cancel), swept))
            } else {
                None
            }
        }
        other => {
            *inner_links = other;
            None
        }
    }
}

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
    fn run_to_tail(self: Rc<Self>, tag: usize, source: NodeRef<T>) -> Option<TailRef> {
        self.run(tag, source);
        None
    }
    /// False once running the callback would do nothing (a `choose` that
    /// already chose). Dead entries are swept out of long callback lists.
    fn is_live(&self, _tag: usize) -> bool {
        true
    }
    /// The promise this callback waits on was a cancelable one, freed while
    /// pending (see `Drop for Core`). A callback that is itself a promise
    /// waiting on that one alone calls [`Core::source_lost`].
    fn source_lost(&self, _tag: usize) {}
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
    fn run_to_tail(self: Rc<Self>) -> Option<TailRef>;
}

pub(crate) type TailRef = Rc<dyn Tail>;

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
    /// A [`Claim`] on the value, from `Promise::take`; dead once the take
    /// is dropped.
    Claim(Weak<Claim<T>>),
}

/// Where `Promise::take` receives a value that is moved, not shared.
///
/// When a node is fulfilled and its one waiting callback is a live claim,
/// the value goes into the claim and the node keeps [`Error::taken`] in its
/// place ([`hand_over`]): nothing else was waiting, so nothing else has read
/// it. Otherwise the claim's entry runs like any callback and takes a clone
/// of a rejection, or fails for a fulfilled value others read too.
pub(crate) struct Claim<T: 'static> {
    pub(crate) result: RefCell<Option<Result<T, Error>>>,
    /// Who to wake once `result` is in: a task or waker entry.
    pub(crate) notify: RefCell<Option<Entry<T>>>,
}

/// The value a node about to be resolved with `result` keeps: `result`
/// itself, unless `callbacks` is a single live claim and `result` a value,
/// which then moves into the claim.
#[inline(always)]
pub(crate) fn hand_over<T: 'static>(
    callbacks: &Callbacks<T>,
    result: Result<T, Error>,
) -> Result<T, Error> {
    if let (Slots::One(Entry::Claim(claim)), Ok(_)) = (&callbacks.0, &result) {
        if let Some(claim) = claim.upgrade() {
            *claim.result.borrow_mut() = Some(result);
            return Err(Error::taken());
        }
    }
    result
}

impl<T: 'static> Entry<T> {
    pub(crate) fn is_live(&self) -> bool {
        match self {
            Entry::Node(cb, tag) => cb.is_live(*tag),
            Entry::Task(task, generation) => task.is_live(*generation),
            Entry::Waker(_) => true,
            Entry::Claim(claim) => claim.strong_count() > 0,
        }
    }

    /// True when `self` makes `earlier` useless: both resume the same task,
    /// and `self` is of the same poll or a later one (a task's earlier polls
    /// are dead: `resume` ignores them). A task that awaits a long-lived
    /// promise at each poll (a shutdown signal, a channel) then holds one
    /// entry on it, not one per poll. An entry of an older poll (one moved
    /// here from another list, by `append`) never replaces a newer one.
    /// Replacing `earlier` in place never drops the task: `self` holds it.
    fn supersedes(&self, earlier: &Entry<T>) -> bool {
        match (self, earlier) {
            (Entry::Task(new, later), Entry::Task(old, sooner)) => {
                Rc::ptr_eq(new, old) && later >= sooner
            }
            _ => false,
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
pub(crate) struct Callbacks<T: 'static>(pub(crate) Slots<T>);

/// How a [`Callbacks`] list holds its entries.
pub(crate) enum Slots<T: 'static> {
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

    /// Takes the entries out, leaving the list empty.
    pub(crate) fn take(&mut self) -> Slots<T> {
        std::mem::replace(&mut self.0, Slots::Empty)
    }

    /// The entries, for a caller that consumes the list: the emptied shell
    /// is forgotten (it holds nothing), so neither `Drop` below nor the drop
    /// glue runs for it on the resolution's path.
    #[inline(always)]
    pub(crate) fn into_slots(mut self) -> Slots<T> {
        let slots = self.take();
        std::mem::forget(self);
        slots
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.0, Slots::Empty)
    }

    /// Visits the entries, in order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Entry<T>)) {
        match &self.0 {
            Slots::Empty => {}
            Slots::One(e) => f(e),
            Slots::Many(v) => v.iter().for_each(f),
        }
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
            Slots::One(last) if entry.supersedes(last) => *last = entry,
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
                if let Some(last) = v.last_mut() {
                    if entry.supersedes(last) {
                        *last = entry;
                        return dead;
                    }
                }
                if v.len() == v.capacity() {
                    // Sweep before growing: amortized O(1), and a long-lived
                    // promise raced by many `choose`s keeps only live entries.
                    // In place: the live ones move to the front, in order,
                    // and the dead tail is handed back to be dropped.
                    let mut kept = 0;
                    for i in 0..v.len() {
                        if v[i].is_live() {
                            v.swap(kept, i);
                            kept += 1;
                        }
                    }
                    // Empty, with no allocation, when all are live.
                    dead = v.split_off(kept);
                }
                v.push(entry);
            }
        }
        dead
    }

    /// Adds every entry of `other`; returns the swept ones, as [`Self::push`].
    #[must_use = "drop the swept entries after releasing the node's borrow"]
    pub(crate) fn append(&mut self, other: Callbacks<T>) -> Vec<Entry<T>> {
        match other.into_slots() {
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

/// Drops entries swept out of a callback list (see [`Callbacks::push`]),
/// once the caller has let go of the node's borrow. Nearly always there are
/// none, and the empty vector (which owns no allocation) is then simply
/// forgotten, without a call to the drop glue. (Its body as `()` drops
/// `swept` all the same, at the end of the call: an equivalent mutant.)
#[inline(always)]
pub(crate) fn drop_swept<T: 'static>(swept: Vec<Entry<T>>) {
    if swept.capacity() == 0 {
        std::mem::forget(swept);
    } else {
        drop(swept);
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
        if matches!(self.0, Slots::Empty) {
            return;
        }
        let slots = self.take();
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

/// A hook or deferred piece of work.
pub(crate) type Job = Box<dyn FnOnce()>;

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

    #[inline]
    pub(crate) fn append(&mut self, other: Hooks) {
        match other {
            Hooks::None => {}
            Hooks::One(h) => self.push(h),
            Hooks::Many(v) => v.into_iter().for_each(|h| self.push(h)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Hooks::None)
    }

    /// Drops the hooks unrun. No hooks is the common case on every
    /// resolution's path, and costs nothing: no call to the drop glue. (Its
    /// body as `()` drops `self` all the same, at the end of the call: an
    /// equivalent mutant.)
    #[inline(always)]
    pub(crate) fn discard(self) {
        if self.is_empty() {
            std::mem::forget(self);
        } else {
            drop(self);
        }
    }
}

/// Where a cancel goes from a node: the one enum for it. Each pending node
/// stores one as its cancel link ([`CancelLink`], weak), and each step of
/// the backward walk reads one ([`Step`], strong).
pub(crate) enum CancelTo<N> {
    /// Nowhere: the walk stops here. `wait`, `no_cancel`, a spawned task
    /// before its first await, and every node that is no longer pending.
    Nowhere,
    /// This very node: the walk rejects it. `task`, `protected`, queue
    /// waiters, sleeps, pauses.
    This,
    /// On to the one promise this node waits on: `bind`, `map`, ..., a task
    /// awaiting one promise.
    Source(N),
    /// On to each of these, in order: `join`, `pick`, a task awaiting
    /// several.
    Sources(Vec<N>),
}

/// A pending node's cancel link: backward, so weak.
pub(crate) type CancelLink = CancelTo<Weak<dyn Cancelable>>;

/// One step of the backward walk from a node: the links upgraded.
pub(crate) type Step = CancelTo<Rc<dyn Cancelable>>;

/// A node seen only as something cancellation can walk through.
pub(crate) trait Cancelable {
    /// Where the walk goes from this node.
    fn step(self: Rc<Self>) -> Step;
    /// Rejects the node with `Canceled`, if it is still pending.
    fn reject_canceled(self: Rc<Self>);
}
