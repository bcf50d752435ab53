//! Concurrent composition: `join`, `all`, `both`, `pick`, `choose`, `npick`,
//! `nchoose`, `nchoose_split`.
//!
//! # Ground rules
//!
//! * Each combinator is one node that is attached to every pending input as a
//!   callback, with the input's index as the callback's tag. No allocation per
//!   input beyond the input's own callback slot, and each resolution costs
//!   O(1), so a combinator over n promises is O(n) in all.
//! * `join`, `all`, `both` wait for *every* input, and then report the first
//!   rejection (first in time; among inputs already rejected when the call is
//!   made, first in argument order).
//! * `pick`, `choose`, `npick`, `nchoose`: when several inputs are already
//!   resolved, a rejected one wins over fulfilled ones, as in Lwt (which never
//!   lets a fulfilled input hide a rejected one); among those, the first in
//!   argument order (Lwt draws at random; we are deterministic). The `pick` family cancels the losers *before* its result
//!   resolves. An empty input is rejected with an invalid-argument error.
//! * Canceling the result cancels every input still pending.
//! * A `choose` whose losers stay pending leaves a dead callback on them; dead
//!   callbacks are swept out when a callback list grows, so choosing in a loop
//!   against a long-lived promise does not leak.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::cancel::cancel_from;
use crate::error::Error;
use crate::promise::node::{
    underlying, value_of, Callback, CancelLink, CancelTo, Cancelable, Core, Entry, Extra, Node,
    NodeDyn, NodeRef,
};
use crate::promise::resolve::{merge, settle};
use crate::promise::{from_result, Promise};
use crate::sequential::{then_node, CancelVia, Next};

fn weaks<T: 'static>(ps: &[Promise<T>]) -> CancelLink {
    CancelTo::Sources(ps.iter().map(Promise::weak).collect())
}

/// Cancel links to the inputs `ps[i]` for each `i` in `indices`.
fn weaks_of<T: 'static>(ps: &[Promise<T>], indices: &[usize]) -> CancelLink {
    CancelTo::Sources(indices.iter().map(|&i| ps[i].weak()).collect())
}

/// The first rejection among resolved inputs, in argument order, and the
/// indices of the inputs still pending: the ones a `join`-like node waits on
/// (and counts down), each looked at once.
fn survey<T: 'static>(ps: &[Promise<T>]) -> (Option<Error>, Vec<usize>) {
    let mut first = None;
    let mut pending = Vec::with_capacity(ps.len());
    for (i, p) in ps.iter().enumerate() {
        match value_of(&underlying(p.node())) {
            None => pending.push(i),
            Some(Err(e)) if first.is_none() => first = Some(e.clone()),
            Some(_) => {}
        }
    }
    (first, pending)
}

struct Join {
    remaining: Cell<usize>,
    error: RefCell<Option<Error>>,
}

impl Extra for Join {}

impl<T: 'static> Callback<T> for Node<(), Join> {
    fn run(self: Rc<Self>, _tag: usize, source: NodeRef<T>) {
        if let Some(Err(e)) = value_of(&source) {
            self.extra
                .error
                .borrow_mut()
                .get_or_insert_with(|| e.clone());
        }
        let left = self.extra.remaining.get() - 1;
        self.extra.remaining.set(left);
        if left == 0 {
            let error = self.extra.error.borrow_mut().take();
            let me: NodeRef<()> = self;
            settle(&me, error.map_or(Ok(()), Err));
        }
    }
}

/// Waits for every promise in `ps`; fulfilled with `()` if all are fulfilled,
/// else rejected with the first rejection (Lwt's `Lwt.join`).
///
/// ```
/// let (a, ra) = lwt::wait::<()>();
/// let (b, rb) = lwt::wait::<()>();
/// let both = lwt::join(vec![a, b]);
/// rb.reject(lwt::Error::msg("b failed")).unwrap();
/// assert!(both.is_pending()); // still waits for `a`
/// ra.resolve(()).unwrap();
/// assert_eq!(both.peek().unwrap().unwrap_err().message(), "b failed");
/// ```
pub fn join<T: 'static>(ps: impl IntoIterator<Item = Promise<T>>) -> Promise<()> {
    let ps: Vec<Promise<T>> = ps.into_iter().collect();
    let (error, pending) = survey(&ps);
    if pending.is_empty() {
        return from_result(error.map_or(Ok(()), Err));
    }
    let node = Rc::new(Node {
        core: Core::pending(weaks_of(&ps, &pending)),
        extra: Join {
            remaining: Cell::new(pending.len()),
            error: RefCell::new(error),
        },
    });
    for &i in &pending {
        ps[i].add(Entry::Node(node.clone(), 0));
    }
    Promise::from_node(node)
}

struct All<T> {
    remaining: Cell<usize>,
    error: RefCell<Option<Error>>,
    slots: RefCell<Vec<Option<T>>>,
}

impl<T: 'static> Extra for All<T> {}

impl<T: Clone + 'static> Callback<T> for Node<Vec<T>, All<T>> {
    fn run(self: Rc<Self>, tag: usize, source: NodeRef<T>) {
        match value_of(&source) {
            Some(Ok(v)) => self.extra.slots.borrow_mut()[tag] = Some(v.clone()),
            Some(Err(e)) => {
                self.extra
                    .error
                    .borrow_mut()
                    .get_or_insert_with(|| e.clone());
            }
            None => {}
        }
        let left = self.extra.remaining.get() - 1;
        self.extra.remaining.set(left);
        if left == 0 {
            let result = match self.extra.error.borrow_mut().take() {
                Some(e) => Err(e),
                None => Ok(self.extra.slots.take().into_iter().flatten().collect()),
            };
            let me: NodeRef<Vec<T>> = self;
            settle(&me, result);
        }
    }
}

/// Waits for every promise in `ps` and gives their values in order; rejected
/// with the first rejection once all are resolved (Lwt's `Lwt.all`).
///
/// ```
/// let (a, ra) = lwt::wait::<u8>();
/// let all = lwt::all(vec![a, lwt::Promise::resolved(2)]);
/// ra.resolve(1).unwrap();
/// assert_eq!(all.peek().unwrap().unwrap(), vec![1, 2]);
/// ```
pub fn all<T: Clone + 'static>(ps: impl IntoIterator<Item = Promise<T>>) -> Promise<Vec<T>> {
    let ps: Vec<Promise<T>> = ps.into_iter().collect();
    let (error, pending) = survey(&ps);
    let slots: Vec<Option<T>> = ps
        .iter()
        .map(|p| p.with_result(|r| r.clone().ok()).flatten())
        .collect();
    if pending.is_empty() {
        return from_result(match error {
            Some(e) => Err(e),
            None => Ok(slots.into_iter().flatten().collect()),
        });
    }
    let node = Rc::new(Node {
        core: Core::pending(weaks_of(&ps, &pending)),
        extra: All {
            remaining: Cell::new(pending.len()),
            error: RefCell::new(error),
            slots: RefCell::new(slots),
        },
    });
    for &i in &pending {
        ps[i].add(Entry::Node(node.clone(), i));
    }
    Promise::from_node(node)
}

/// Waits for both promises and pairs their values (Lwt's `Lwt.both`); like
/// [`join`] for rejections.
///
/// ```
/// let p = lwt::both(&lwt::Promise::resolved(1), &lwt::Promise::resolved("one"));
/// assert_eq!(p.peek().unwrap().unwrap(), (1, "one"));
/// ```
pub fn both<A: Clone + 'static, B: Clone + 'static>(
    a: &Promise<A>,
    b: &Promise<B>,
) -> Promise<(A, B)> {
    let (a2, b2) = (a.clone(), b.clone());
    then_node(
        &join([a.ignore(), b.ignore()]),
        CancelVia::Source,
        move |_, r| {
            Next::Done(match r {
                Err(e) => Err(e.clone()),
                Ok(()) => match (a2.peek(), b2.peek()) {
                    (Some(Ok(a)), Some(Ok(b))) => Ok((a, b)),
                    _ => Err(Error::msg("both: an input is not fulfilled after join")),
                },
            })
        },
    )
}

fn empty(name: &str) -> Error {
    Error::invalid_argument(format!("{name}: the list of promises is empty"))
}

/// The input an already-resolved `pick`/`choose` takes: the first rejected
/// one in argument order if any is rejected, else the first fulfilled one.
fn first_resolved<T: 'static>(ps: &[Promise<T>]) -> Option<usize> {
    let mut first = None;
    for (i, p) in ps.iter().enumerate() {
        match value_of(&underlying(p.node())) {
            Some(Err(_)) => return Some(i),
            Some(Ok(_)) if first.is_none() => first = Some(i),
            _ => {}
        }
    }
    first
}

fn cancel_all_but<T: 'static>(ps: &[Promise<T>], winner: Option<usize>) {
    for (i, p) in ps.iter().enumerate() {
        if Some(i) != winner {
            p.cancel();
        }
    }
}

/// Takes the cancel links of a pending pick node: its inputs. The links live
/// on the underlying node if the pick was merged into another promise.
fn take_inputs<T: 'static>(node: &NodeRef<T>) -> Vec<Weak<dyn Cancelable>> {
    let node = underlying(node);
    if let Some(mut w) = node.core().waiting_mut() {
        if let CancelTo::Sources(v) = std::mem::replace(&mut w.cancel, CancelTo::Nowhere) {
            return v;
        }
    }
    Vec::new()
}

struct Pick {
    done: Cell<bool>,
    cancel_losers: bool,
}

impl Extra for Pick {}

impl<T: 'static> Callback<T> for Node<T, Pick> {
    fn run(self: Rc<Self>, tag: usize, source: NodeRef<T>) {
        if self.extra.done.replace(true) {
            return;
        }
        let me: NodeRef<T> = self.clone();
        if self.extra.cancel_losers {
            let inputs = take_inputs(&me);
            for (i, input) in inputs.iter().enumerate() {
                if i != tag {
                    if let Some(n) = input.upgrade() {
                        cancel_from(n);
                    }
                }
            }
        }
        merge(me, source);
    }

    fn is_live(&self, _tag: usize) -> bool {
        !self.extra.done.get()
    }
}

fn pick_impl<T: 'static>(name: &str, ps: Vec<Promise<T>>, cancel_losers: bool) -> Promise<T> {
    if ps.is_empty() {
        return Promise::rejected(empty(name));
    }
    if let Some(i) = first_resolved(&ps) {
        if cancel_losers {
            cancel_all_but(&ps, Some(i));
        }
        return ps[i].clone();
    }
    let node = Rc::new(Node {
        core: Core::pending(weaks(&ps)),
        extra: Pick {
            done: Cell::new(false),
            cancel_losers,
        },
    });
    for (i, p) in ps.iter().enumerate() {
        p.add(Entry::Node(node.clone(), i));
    }
    Promise::from_node(node)
}

/// Resolves like the first of `ps` to resolve, after canceling all the others
/// (Lwt's `Lwt.pick`). If several are already resolved, a rejected one wins
/// over fulfilled ones, and among those the first in argument order. An empty
/// `ps` gives a rejected promise.
///
/// ```
/// let (slow, _r) = lwt::task::<&str>();
/// let (fast, rf) = lwt::task::<&str>();
/// let winner = lwt::pick(vec![slow.clone(), fast]);
/// rf.resolve("fast").unwrap();
/// assert_eq!(winner.peek().unwrap().unwrap(), "fast");
/// assert!(slow.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub fn pick<T: 'static>(ps: impl IntoIterator<Item = Promise<T>>) -> Promise<T> {
    pick_impl("pick", ps.into_iter().collect(), true)
}

/// Resolves like the first of `ps` to resolve, leaving the others alone
/// (Lwt's `Lwt.choose`). Already-resolved inputs are taken as by [`pick`]:
/// a rejected one first.
///
/// ```
/// let (slow, _r) = lwt::task::<u8>();
/// let first = lwt::choose(vec![slow.clone(), lwt::Promise::resolved(1)]);
/// assert_eq!(first.peek().unwrap().unwrap(), 1);
/// assert!(slow.is_pending());
///
/// let failed = lwt::Promise::rejected(lwt::Error::msg("down"));
/// let first = lwt::choose(vec![lwt::Promise::resolved(1), failed]);
/// assert_eq!(first.peek().unwrap().unwrap_err().message(), "down");
/// ```
pub fn choose<T: 'static>(ps: impl IntoIterator<Item = Promise<T>>) -> Promise<T> {
    pick_impl("choose", ps.into_iter().collect(), false)
}

/// What the `n`-family gives: all fulfilled values, or the first rejection.
/// `None` while nothing is resolved.
fn collect_resolved<T: Clone + 'static>(ps: &[NodeRef<T>]) -> Option<Result<Vec<T>, Error>> {
    let mut values = Vec::new();
    let mut any = false;
    for p in ps {
        match value_of(&underlying(p)) {
            None => {}
            Some(Ok(v)) => {
                any = true;
                values.push(v.clone());
            }
            Some(Err(e)) => return Some(Err(e.clone())),
        }
    }
    any.then_some(Ok(values))
}

/// How an `n`-combinator ends, once something is resolved.
#[derive(Clone, Copy, PartialEq)]
enum NMode {
    Choose,
    Pick,
}

struct NChoose<T: 'static> {
    done: Cell<bool>,
    mode: NMode,
    inputs: Vec<Weak<dyn NodeDyn<T>>>,
}

impl<T: 'static> Extra for NChoose<T> {}

impl<T: Clone + 'static> Callback<T> for Node<Vec<T>, NChoose<T>> {
    fn run(self: Rc<Self>, _tag: usize, _source: NodeRef<T>) {
        if self.extra.done.replace(true) {
            return;
        }
        let inputs: Vec<NodeRef<T>> = self.extra.inputs.iter().filter_map(Weak::upgrade).collect();
        let result = collect_resolved(&inputs).unwrap_or_else(|| Ok(Vec::new()));
        if self.extra.mode == NMode::Pick {
            for p in &inputs {
                if value_of(&underlying(p)).is_none() {
                    cancel_from(p.clone());
                }
            }
        }
        let me: NodeRef<Vec<T>> = self;
        settle(&me, result);
    }

    fn is_live(&self, _tag: usize) -> bool {
        !self.extra.done.get()
    }
}

fn nchoose_impl<T: Clone + 'static>(
    name: &str,
    ps: Vec<Promise<T>>,
    mode: NMode,
) -> Promise<Vec<T>> {
    if ps.is_empty() {
        return Promise::rejected(empty(name));
    }
    let nodes: Vec<NodeRef<T>> = ps.iter().map(|p| p.node().clone()).collect();
    if let Some(result) = collect_resolved(&nodes) {
        if mode == NMode::Pick {
            for p in ps.iter().filter(|p| p.is_pending()) {
                p.cancel();
            }
        }
        return from_result(result);
    }
    let node = Rc::new(Node {
        core: Core::pending(weaks(&ps)),
        extra: NChoose {
            done: Cell::new(false),
            mode,
            inputs: nodes.iter().map(Rc::downgrade).collect(),
        },
    });
    for (i, p) in ps.iter().enumerate() {
        p.add(Entry::Node(node.clone(), i));
    }
    Promise::from_node(node)
}

/// Waits until at least one of `ps` is resolved; then fulfilled with the values
/// of all those fulfilled by then, in argument order, or rejected if one of
/// the resolved ones is rejected, with the first such in argument order
/// (Lwt's `Lwt.nchoose`).
///
/// ```
/// let (a, ra) = lwt::wait::<u8>();
/// let (b, _rb) = lwt::wait::<u8>();
/// let p = lwt::nchoose(vec![a, b]);
/// ra.resolve(1).unwrap();
/// assert_eq!(p.peek().unwrap().unwrap(), vec![1]);
/// ```
pub fn nchoose<T: Clone + 'static>(ps: impl IntoIterator<Item = Promise<T>>) -> Promise<Vec<T>> {
    nchoose_impl("nchoose", ps.into_iter().collect(), NMode::Choose)
}

/// Like [`nchoose`], and then cancels the inputs still pending
/// (Lwt's `Lwt.npick`).
///
/// ```
/// let (a, _ra) = lwt::task::<u8>();
/// let p = lwt::npick(vec![a.clone(), lwt::Promise::resolved(2), lwt::Promise::resolved(3)]);
/// assert_eq!(p.peek().unwrap().unwrap(), vec![2, 3]);
/// assert!(a.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub fn npick<T: Clone + 'static>(ps: impl IntoIterator<Item = Promise<T>>) -> Promise<Vec<T>> {
    nchoose_impl("npick", ps.into_iter().collect(), NMode::Pick)
}

/// Like [`nchoose`], and also gives the promises still pending, in argument
/// order (Lwt's `Lwt.nchoose_split`).
///
/// ```
/// let (a, _ra) = lwt::wait::<u8>();
/// let p = lwt::nchoose_split(vec![lwt::Promise::resolved(1), a]);
/// let (done, pending) = p.peek().unwrap().unwrap();
/// assert_eq!(done, vec![1]);
/// assert_eq!(pending.len(), 1);
/// ```
#[allow(clippy::type_complexity)]
pub fn nchoose_split<T: Clone + 'static>(
    ps: impl IntoIterator<Item = Promise<T>>,
) -> Promise<(Vec<T>, Vec<Promise<T>>)> {
    let ps: Vec<Promise<T>> = ps.into_iter().collect();
    let all = ps.clone();
    nchoose_impl("nchoose_split", ps, NMode::Choose).map(move |values| {
        let pending = all.into_iter().filter(Promise::is_pending).collect();
        (values, pending)
    })
}
