//! The expected trace of a [`Program`], computed from the execution model's
//! rules without lwt.
//!
//! # Ground rules
//!
//! Naive on purpose, like the core's model test it grew from: recursion
//! where the core has its resolution loop, indices where it has weak links,
//! proxies as an alias table. What it encodes, by rule of
//! `lwt::execution_model`:
//!
//! * eager callbacks, FIFO per promise (rules 3, 5); a resolution made with
//!   `resolve_later` inside a callback (a stream or mutex handing over)
//!   runs its callbacks when the outermost callback returns, in order; a
//!   task's first poll (the body that starts the program) counts as a
//!   callback, and so does the snapshot of a turn's paused promises;
//! * a bind whose function returns a pending promise merges with it: the
//!   bind result's callbacks first (rule 6);
//! * cancellation walks back to the cancelable leaves (`task`, sleeps,
//!   pauses, yields, queue waiters) and rejects them (rule 7); `pick`
//!   cancels the losers before it resolves;
//! * turns (rule 8): after each timer, the engine resolves yields until none
//!   is left (a yield's callbacks may yield again: a browser's microtasks),
//!   then runs turns (yields, then a snapshot of the paused promises) until
//!   nothing is paused or yielded; then the next timer fires. Timers never
//!   tie (see `program`).

use std::collections::VecDeque;

use super::program::{fold, Action, Op, Program};
use super::trace::{error_message, Event, Seen};

/// What a callback does when its promise resolves.
#[derive(Clone, Debug)]
enum Cb {
    /// Records the resolution of program promise `p`.
    Log(usize),
    Add {
        res: usize,
        k: i64,
    },
    To {
        res: usize,
        j: usize,
    },
    Map {
        res: usize,
        k: i64,
    },
    Catch {
        res: usize,
        k: i64,
    },
    Finalize {
        res: usize,
        p: usize,
    },
    /// Resolves `res` the same way (protected, and the maps of
    /// combinators whose own node holds the folded value).
    Follow {
        res: usize,
    },
    /// Fulfills `res` with `v` (the `map(|()| v)` after a pause or yield).
    Const {
        res: usize,
        v: i64,
    },
    Join {
        res: usize,
    },
    All {
        res: usize,
    },
    Pick {
        res: usize,
        idx: usize,
        cancel: bool,
    },
    NChoose {
        res: usize,
    },
    /// The bind of `PauseAfter` / `YieldAfter`: on `v`, `res` follows a
    /// new pause (or yield) mapped to `v`.
    Turn {
        res: usize,
        pause: bool,
    },
    /// The bind of `Locked`: on `v`, `res` follows `with_lock(..)`.
    Locked {
        res: usize,
    },
    /// The bind inside `with_lock`: the lock is held.
    Granted {
        res: usize,
        v: i64,
    },
    /// The finalizer inside `with_lock`: unlocks, then `res` follows.
    Unlock {
        res: usize,
    },
}

/// How canceling a node goes on.
#[derive(Clone, Debug)]
enum How {
    Not,
    This,
    To(Vec<usize>),
}

#[derive(Clone, Debug)]
struct Node {
    state: Seen,
    cbs: Vec<Cb>,
    how: How,
    alias: Option<usize>,
    remaining: usize,
    first_error: Option<Seen>,
    done: bool,
    inputs: Vec<usize>,
}

impl Node {
    fn new(how: How) -> Node {
        Node {
            state: Seen::Pending,
            cbs: Vec::new(),
            how,
            alias: None,
            remaining: 0,
            first_error: None,
            done: false,
            inputs: Vec::new(),
        }
    }
}

enum Timer {
    Sleep(usize),
    At(u32, Action),
}

#[derive(Default)]
struct Model {
    ns: Vec<Node>,
    trace: Vec<Event>,
    depth: u32,
    later: VecDeque<usize>,
    /// Program promise index -> node.
    visible: Vec<usize>,
    resolvers: Vec<usize>,
    paused: Vec<usize>,
    yielded: Vec<usize>,
    buf: VecDeque<i64>,
    readers: VecDeque<usize>,
    closed: bool,
    locked: bool,
    lock_waiters: VecDeque<usize>,
}

fn failed(code: u8) -> Seen {
    Seen::Failed(error_message(code))
}

fn is_error(s: &Seen) -> bool {
    matches!(s, Seen::Canceled | Seen::Failed(_))
}

impl Model {
    fn u(&self, mut i: usize) -> usize {
        while let Some(a) = self.ns[i].alias {
            i = a;
        }
        i
    }

    fn state(&self, i: usize) -> Seen {
        self.ns[self.u(i)].state.clone()
    }

    fn add(&mut self, how: How) -> usize {
        self.ns.push(Node::new(how));
        self.ns.len() - 1
    }

    fn attach(&mut self, src: usize, cb: Cb) {
        let s = self.u(src);
        if self.ns[s].state == Seen::Pending {
            self.ns[s].cbs.push(cb);
        } else {
            self.nested(|m| m.run(cb, s));
        }
    }

    /// Runs `f` one callback level deeper; the outermost level drains the
    /// resolutions made with `resolve_later` meanwhile.
    fn nested(&mut self, f: impl FnOnce(&mut Model)) {
        self.depth += 1;
        f(self);
        self.depth -= 1;
        if self.depth == 0 {
            while let Some(n) = self.later.pop_front() {
                self.depth += 1;
                self.run_callbacks(n);
                self.depth -= 1;
            }
        }
    }

    fn run_callbacks(&mut self, i: usize) {
        let cbs = std::mem::take(&mut self.ns[i].cbs);
        for cb in cbs {
            self.run(cb, i);
        }
    }

    fn resolve(&mut self, i: usize, st: Seen) {
        let i = self.u(i);
        if self.ns[i].state != Seen::Pending {
            return;
        }
        self.ns[i].state = st;
        self.nested(|m| m.run_callbacks(i));
    }

    /// `Resolver::resolve_later`: the state changes now, the callbacks run
    /// now only outside every callback.
    fn resolve_later(&mut self, i: usize, st: Seen) {
        let i = self.u(i);
        if self.ns[i].state != Seen::Pending {
            return;
        }
        if self.depth == 0 {
            self.resolve(i, st);
        } else {
            self.ns[i].state = st;
            self.later.push_back(i);
        }
    }

    /// `res` follows `j` (the promise a bind function returned).
    fn follow(&mut self, res: usize, j: usize) {
        let (res, j) = (self.u(res), self.u(j));
        if res == j || self.ns[res].state != Seen::Pending {
            return;
        }
        let st = self.ns[j].state.clone();
        if st != Seen::Pending {
            self.resolve(res, st);
            return;
        }
        let moved = std::mem::take(&mut self.ns[j].cbs);
        self.ns[res].cbs.extend(moved);
        self.ns[res].how = std::mem::replace(&mut self.ns[j].how, How::Not);
        self.ns[j].alias = Some(res);
    }

    fn run(&mut self, cb: Cb, src: usize) {
        let st = self.state(src);
        let ok = match st {
            Seen::Fulfilled(v) => Some(v),
            _ => None,
        };
        match cb {
            Cb::Log(p) => self.trace.push(Event::Settled(p, st)),
            Cb::Add { res, k } => {
                self.resolve(res, ok.map_or(st, |v| Seen::Fulfilled(v.wrapping_add(k))))
            }
            Cb::To { res, j } => match ok {
                Some(_) => self.follow(res, j),
                None => self.resolve(res, st),
            },
            Cb::Map { res, k } => self.resolve(
                res,
                ok.map_or(st, |v| Seen::Fulfilled(v.wrapping_mul(2).wrapping_add(k))),
            ),
            Cb::Catch { res, k } => {
                self.resolve(res, if ok.is_some() { st } else { Seen::Fulfilled(k) })
            }
            Cb::Finalize { res, p } => {
                self.trace.push(Event::Finalized(p));
                self.resolve(res, st);
            }
            Cb::Follow { res } => self.resolve(res, st),
            Cb::Const { res, v } => self.resolve(res, ok.map_or(st, |_| Seen::Fulfilled(v))),
            Cb::Join { res } | Cb::All { res } => {
                if is_error(&st) && self.ns[res].first_error.is_none() {
                    self.ns[res].first_error = Some(st);
                }
                self.ns[res].remaining -= 1;
                if self.ns[res].remaining == 0 {
                    let out = self.ns[res].first_error.clone().unwrap_or_else(|| {
                        if matches!(cb, Cb::Join { .. }) {
                            Seen::Fulfilled(0)
                        } else {
                            self.all_value(res)
                        }
                    });
                    self.resolve(res, out);
                }
            }
            Cb::Pick { res, idx, cancel } => {
                if self.ns[res].done {
                    return;
                }
                self.ns[res].done = true;
                if cancel {
                    let inputs = self.ns[res].inputs.clone();
                    let u = self.u(res);
                    self.ns[u].how = How::Not;
                    for (n, input) in inputs.into_iter().enumerate() {
                        if n != idx {
                            self.cancel(input);
                        }
                    }
                }
                self.follow(res, src);
            }
            Cb::NChoose { res } => {
                if self.ns[res].done {
                    return;
                }
                self.ns[res].done = true;
                let out = self
                    .nchoose_value(res)
                    .unwrap_or(Seen::Fulfilled(fold(&[])));
                self.resolve(res, out);
            }
            Cb::Turn { res, pause } => match ok {
                Some(v) => {
                    let leaf = self.add(How::This);
                    if pause {
                        self.paused.push(leaf);
                    } else {
                        self.yielded.push(leaf);
                    }
                    let m = self.add(How::To(vec![leaf]));
                    self.attach(leaf, Cb::Const { res: m, v });
                    self.follow(res, m);
                }
                None => self.resolve(res, st),
            },
            Cb::Locked { res } => match ok {
                Some(v) => {
                    let lock = self.lock();
                    let w = self.add(How::To(vec![lock]));
                    self.attach(lock, Cb::Granted { res: w, v });
                    self.follow(res, w);
                }
                None => self.resolve(res, st),
            },
            Cb::Granted { res, v } => match ok {
                Some(_) => {
                    let leaf = self.add(How::This);
                    self.paused.push(leaf);
                    let m = self.add(How::To(vec![leaf]));
                    self.attach(leaf, Cb::Const { res: m, v });
                    let f = self.add(How::To(vec![m]));
                    self.attach(m, Cb::Unlock { res: f });
                    self.follow(res, f);
                }
                None => self.resolve(res, st),
            },
            Cb::Unlock { res } => {
                self.unlock();
                self.resolve(res, st);
            }
        }
    }

    fn all_value(&self, res: usize) -> Seen {
        let values: Vec<i64> = self.ns[res]
            .inputs
            .iter()
            .map(|&i| match self.state(i) {
                Seen::Fulfilled(v) => v,
                _ => 0,
            })
            .collect();
        Seen::Fulfilled(fold(&values))
    }

    /// What an `nchoose` over its inputs gives now, if anything is resolved.
    fn nchoose_value(&self, res: usize) -> Option<Seen> {
        let mut values = Vec::new();
        let mut any = false;
        for &i in &self.ns[res].inputs {
            match self.state(i) {
                Seen::Pending => {}
                Seen::Fulfilled(v) => {
                    any = true;
                    values.push(v);
                }
                e => return Some(e),
            }
        }
        any.then(|| Seen::Fulfilled(fold(&values)))
    }

    fn lock(&mut self) -> usize {
        let pending = |m: &Model| {
            m.lock_waiters
                .iter()
                .any(|&w| m.ns[w].state == Seen::Pending)
        };
        if !self.locked && !pending(self) {
            self.locked = true;
            let n = self.add(How::Not);
            self.ns[n].state = Seen::Fulfilled(0);
            n
        } else {
            let n = self.add(How::This);
            self.lock_waiters.push_back(n);
            n
        }
    }

    fn unlock(&mut self) {
        while let Some(w) = self.lock_waiters.pop_front() {
            if self.ns[w].state == Seen::Pending {
                self.resolve_later(w, Seen::Fulfilled(0));
                return;
            }
        }
        self.locked = false;
    }

    /// Hands buffered elements, then the end, to the waiting readers.
    fn serve(&mut self) {
        loop {
            while self
                .readers
                .front()
                .is_some_and(|&r| self.ns[r].state != Seen::Pending)
            {
                self.readers.pop_front();
            }
            let Some(&r) = self.readers.front() else {
                return;
            };
            let v = match self.buf.pop_front() {
                Some(v) => v,
                None if self.closed => -1,
                None => return,
            };
            self.readers.pop_front();
            self.resolve_later(r, Seen::Fulfilled(v));
        }
    }

    fn push(&mut self, v: i64) {
        let ok = !self.closed;
        if ok {
            self.buf.push_back(v);
            self.serve();
        }
        self.trace.push(Event::Pushed(ok));
    }

    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.serve();
        }
    }

    fn next(&mut self) -> usize {
        let n = if let Some(v) = self.buf.pop_front() {
            let n = self.add(How::Not);
            self.ns[n].state = Seen::Fulfilled(v);
            n
        } else if self.closed {
            let n = self.add(How::Not);
            self.ns[n].state = Seen::Fulfilled(-1);
            n
        } else {
            let n = self.add(How::This);
            self.readers.push_back(n);
            n
        };
        let m = self.add(How::To(vec![n]));
        self.attach(n, Cb::Follow { res: m });
        m
    }

    fn settle_resolver(&mut self, r: usize, st: Seen) {
        let n = self.resolvers[r];
        let before = self.state(n);
        self.resolve(n, st);
        let ok = before == Seen::Pending || before == Seen::Canceled;
        self.trace.push(Event::Resolved(r, ok));
    }

    fn act(&mut self, a: &Action) {
        match a {
            Action::Resolve(r, v) => self.settle_resolver(*r, Seen::Fulfilled(*v)),
            Action::Reject(r, c) => self.settle_resolver(*r, failed(*c)),
            Action::Cancel(i) => self.cancel(self.visible[*i]),
            Action::Push(v) => self.push(*v),
            Action::Close => self.close(),
        }
    }

    fn cancel(&mut self, i: usize) {
        let mut todo = vec![i];
        let mut leaves = Vec::new();
        while let Some(n) = todo.pop() {
            let n = self.u(n);
            if self.ns[n].state != Seen::Pending {
                continue;
            }
            match &self.ns[n].how {
                How::Not => {}
                How::This => leaves.push(n),
                How::To(v) => todo.extend(v.iter().rev().copied()),
            }
        }
        for leaf in leaves {
            self.resolve(leaf, Seen::Canceled);
        }
    }

    fn combinator(&mut self, list: &[usize], op: &Op) -> usize {
        let list: Vec<usize> = list.iter().map(|&i| self.visible[i]).collect();
        match op {
            Op::Join(_) | Op::All(_) => {
                let pending: Vec<usize> = list
                    .iter()
                    .copied()
                    .filter(|&i| self.state(i) == Seen::Pending)
                    .collect();
                let res = self.add(How::To(pending.clone()));
                self.ns[res].inputs = list.clone();
                self.ns[res].first_error = list.iter().map(|&i| self.state(i)).find(is_error);
                self.ns[res].remaining = pending.len();
                let join = matches!(op, Op::Join(_));
                if pending.is_empty() {
                    let out = self.ns[res].first_error.clone().unwrap_or_else(|| {
                        if join {
                            Seen::Fulfilled(0)
                        } else {
                            self.all_value(res)
                        }
                    });
                    self.ns[res].state = out;
                }
                for i in pending {
                    let cb = if join {
                        Cb::Join { res }
                    } else {
                        Cb::All { res }
                    };
                    self.attach(i, cb);
                }
                let m = self.add(How::To(vec![res]));
                self.attach(res, Cb::Follow { res: m });
                m
            }
            Op::Pick(_) | Op::Choose(_) => {
                let cancel = matches!(op, Op::Pick(_));
                let resolved = list
                    .iter()
                    .position(|&i| is_error(&self.state(i)))
                    .or_else(|| list.iter().position(|&i| self.state(i) != Seen::Pending));
                let res = self.add(How::To(list.clone()));
                self.ns[res].inputs = list.clone();
                match resolved {
                    Some(w) => {
                        self.ns[res].done = true;
                        if cancel {
                            for (k, &i) in list.iter().enumerate() {
                                if k != w {
                                    self.cancel(i);
                                }
                            }
                        }
                        self.ns[res].alias = Some(self.u(list[w]));
                    }
                    None => {
                        for (idx, &i) in list.iter().enumerate() {
                            self.attach(i, Cb::Pick { res, idx, cancel });
                        }
                    }
                }
                res
            }
            _ => {
                // nchoose
                let res = self.add(How::To(list.clone()));
                self.ns[res].inputs = list.clone();
                match self.nchoose_value(res) {
                    Some(out) => {
                        self.ns[res].how = How::Not;
                        self.ns[res].state = out;
                    }
                    None => {
                        for &i in &list {
                            self.attach(i, Cb::NChoose { res });
                        }
                    }
                }
                let m = self.add(How::To(vec![res]));
                self.attach(res, Cb::Follow { res: m });
                m
            }
        }
    }

    /// Runs the ops, as the body's first poll does.
    fn build(&mut self, program: &Program, timers: &mut Vec<(u32, Timer)>) {
        for op in &program.ops {
            let v = |m: &Model, i: usize| m.visible[i];
            let made = match op {
                Op::Wait | Op::Task => {
                    let n = self.add(if *op == Op::Wait { How::Not } else { How::This });
                    self.resolvers.push(n);
                    n
                }
                Op::Sleep(k) => {
                    let leaf = self.add(How::This);
                    timers.push((*k, Timer::Sleep(leaf)));
                    let m = self.add(How::To(vec![leaf]));
                    self.attach(
                        leaf,
                        Cb::Const {
                            res: m,
                            v: i64::from(*k),
                        },
                    );
                    m
                }
                Op::Resolve(r, x) => {
                    self.settle_resolver(*r, Seen::Fulfilled(*x));
                    continue;
                }
                Op::Reject(r, c) => {
                    self.settle_resolver(*r, failed(*c));
                    continue;
                }
                Op::At(k, a) => {
                    timers.push((*k, Timer::At(*k, a.clone())));
                    continue;
                }
                Op::Bind(i, k) | Op::Map(i, k) | Op::Catch(i, k) => {
                    let src = v(self, *i);
                    let res = self.add(How::To(vec![src]));
                    let k = *k;
                    let cb = match op {
                        Op::Bind(..) => Cb::Add { res, k },
                        Op::Map(..) => Cb::Map { res, k },
                        _ => Cb::Catch { res, k },
                    };
                    self.attach(src, cb);
                    res
                }
                Op::BindTo(i, j) => {
                    let (src, j) = (v(self, *i), v(self, *j));
                    let res = self.add(How::To(vec![src]));
                    self.attach(src, Cb::To { res, j });
                    res
                }
                Op::Finalize(i) => {
                    let src = v(self, *i);
                    let res = self.add(How::To(vec![src]));
                    let p = self.visible.len();
                    self.attach(src, Cb::Finalize { res, p });
                    res
                }
                Op::Join(l) | Op::All(l) | Op::Pick(l) | Op::Choose(l) | Op::NChoose(l) => {
                    self.combinator(l, op)
                }
                Op::Cancel(i) => {
                    self.cancel(v(self, *i));
                    continue;
                }
                Op::Protected(i) => {
                    let src = v(self, *i);
                    let res = self.add(How::This);
                    self.attach(src, Cb::Follow { res });
                    res
                }
                Op::Pause => {
                    let leaf = self.add(How::This);
                    self.paused.push(leaf);
                    let m = self.add(How::To(vec![leaf]));
                    self.attach(leaf, Cb::Const { res: m, v: 0 });
                    m
                }
                Op::PauseAfter(i) | Op::YieldAfter(i) => {
                    let src = v(self, *i);
                    let res = self.add(How::To(vec![src]));
                    let pause = matches!(op, Op::PauseAfter(_));
                    self.attach(src, Cb::Turn { res, pause });
                    res
                }
                Op::Next => self.next(),
                Op::Push(x) => {
                    self.push(*x);
                    continue;
                }
                Op::Close => {
                    self.close();
                    continue;
                }
                Op::Locked(i) => {
                    let src = v(self, *i);
                    let res = self.add(How::To(vec![src]));
                    self.attach(src, Cb::Locked { res });
                    res
                }
            };
            let p = self.visible.len();
            self.visible.push(made);
            self.attach(made, Cb::Log(p));
        }
    }

    /// Yields until none is left: those made by a yield's callbacks too.
    fn yields(&mut self) {
        while !self.yielded.is_empty() {
            let snapshot = std::mem::take(&mut self.yielded);
            for y in snapshot {
                self.resolve(y, Seen::Fulfilled(0));
            }
        }
    }

    /// What the engine does after a timer: yields, then turns until idle.
    fn idle(&mut self) {
        loop {
            self.yields();
            if self.paused.is_empty() && self.yielded.is_empty() {
                return;
            }
            self.yields();
            let snapshot = std::mem::take(&mut self.paused);
            self.nested(|m| {
                for p in snapshot {
                    m.resolve(p, Seen::Fulfilled(0));
                }
            });
        }
    }
}

/// The trace `program` must give on every engine.
///
/// ```
/// use lwt_conformance::differential::{program::Program, reference};
/// let trace = reference::expected(&Program::generate(1));
/// assert_eq!(trace, reference::expected(&Program::generate(1)));
/// ```
pub fn expected(program: &Program) -> Vec<Event> {
    let mut m = Model::default();
    let mut timers = Vec::new();
    m.nested(|m| m.build(program, &mut timers));
    m.idle();
    timers.sort_by_key(|(k, _)| *k);
    for (_, timer) in timers {
        match timer {
            Timer::Sleep(leaf) => m.resolve(leaf, Seen::Fulfilled(0)),
            Timer::At(k, a) => m.nested(|m| {
                m.trace.push(Event::Timer(k));
                m.act(&a);
            }),
        }
        m.idle();
    }
    m.trace
}
