//! Property test: random programs of wait / task / resolve / reject / bind /
//! map / catch / join / pick / choose / cancel / protected, run on the real
//! core and on a small reference model of the documented rules; after every
//! step the state of every promise must agree.
//!
//! The model is naive on purpose: recursion instead of the resolution loop,
//! strong indices instead of weak links, and proxies as an explicit alias
//! table. It encodes the rules of `lwt::execution_model`: eager FIFO callbacks, on_cancel
//! before callbacks, backward cancellation (wait stops it, task is rejected),
//! proxy merge order (the bind result's callbacks, then those of the promise
//! its function returned), join waits for all and reports the first
//! rejection, pick cancels the losers before resolving, and among
//! already-resolved inputs takes a rejected one, then the first in argument
//! order.

use proptest::prelude::*;

use lwt::{Error, Promise, Resolver};

#[derive(Clone, Debug)]
enum Op {
    Wait,
    Task,
    Resolve(usize, i64),
    Reject(usize, u8),
    BindAdd(usize, i64),
    BindTo(usize, usize),
    Map(usize, i64),
    Catch(usize, i64),
    Join(Vec<usize>),
    Pick(Vec<usize>),
    Choose(Vec<usize>),
    Cancel(usize),
    Protected(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..64;
    let list = prop::collection::vec(0usize..64, 1..4);
    prop_oneof![
        3 => Just(Op::Wait),
        3 => Just(Op::Task),
        4 => (i.clone(), -5i64..5).prop_map(|(a, v)| Op::Resolve(a, v)),
        2 => (i.clone(), 0u8..3).prop_map(|(a, c)| Op::Reject(a, c)),
        2 => (i.clone(), -5i64..5).prop_map(|(a, k)| Op::BindAdd(a, k)),
        3 => (i.clone(), i.clone()).prop_map(|(a, b)| Op::BindTo(a, b)),
        2 => (i.clone(), -5i64..5).prop_map(|(a, k)| Op::Map(a, k)),
        1 => (i.clone(), -5i64..5).prop_map(|(a, k)| Op::Catch(a, k)),
        1 => list.clone().prop_map(Op::Join),
        1 => list.clone().prop_map(Op::Pick),
        1 => list.prop_map(Op::Choose),
        2 => i.clone().prop_map(Op::Cancel),
        1 => i.prop_map(Op::Protected),
    ]
}

/// What the comparison looks at.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Pending,
    Fulfilled(i64),
    Canceled,
    Failed(String),
}

fn seen_real(p: &Promise<i64>) -> Seen {
    match p.peek() {
        None => Seen::Pending,
        Some(Ok(v)) => Seen::Fulfilled(v),
        Some(Err(e)) if e.is_canceled() => Seen::Canceled,
        Some(Err(e)) => Seen::Failed(e.message().to_string()),
    }
}

// ---------------------------------------------------------------- the model

#[derive(Clone, Copy, Debug)]
enum Cb {
    BindAdd {
        res: usize,
        k: i64,
    },
    BindTo {
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
    Join {
        res: usize,
    },
    Pick {
        res: usize,
        idx: usize,
        cancel: bool,
    },
    Follow {
        res: usize,
    },
}

#[derive(Clone, Debug)]
enum How {
    Not,
    This,
    To(Vec<usize>),
}

#[derive(Clone, Debug)]
struct MP {
    state: Seen,
    callbacks: Vec<Cb>,
    how: How,
    alias: Option<usize>,
    // join / pick bookkeeping
    remaining: usize,
    first_error: Option<Seen>,
    done: bool,
    inputs: Vec<usize>,
}

impl MP {
    fn new(how: How) -> MP {
        MP {
            state: Seen::Pending,
            callbacks: Vec::new(),
            how,
            alias: None,
            remaining: 0,
            first_error: None,
            done: false,
            inputs: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Model {
    ps: Vec<MP>,
}

impl Model {
    fn u(&self, mut i: usize) -> usize {
        while let Some(a) = self.ps[i].alias {
            i = a;
        }
        i
    }

    fn state(&self, i: usize) -> Seen {
        self.ps[self.u(i)].state.clone()
    }

    fn add(&mut self, how: How) -> usize {
        self.ps.push(MP::new(how));
        self.ps.len() - 1
    }

    fn attach(&mut self, src: usize, cb: Cb) {
        let s = self.u(src);
        if self.ps[s].state == Seen::Pending {
            self.ps[s].callbacks.push(cb);
        } else {
            self.run(cb, s);
        }
    }

    fn resolve(&mut self, i: usize, st: Seen) {
        let i = self.u(i);
        if self.ps[i].state != Seen::Pending {
            return;
        }
        self.ps[i].state = st;
        let cbs = std::mem::take(&mut self.ps[i].callbacks);
        for cb in cbs {
            self.run(cb, i);
        }
    }

    /// `res` follows `j` (the promise a bind function returned).
    fn follow(&mut self, res: usize, j: usize) {
        let (res, j) = (self.u(res), self.u(j));
        if res == j || self.ps[res].state != Seen::Pending {
            return;
        }
        let st = self.ps[j].state.clone();
        if st != Seen::Pending {
            self.resolve(res, st);
            return;
        }
        // Merge: `j` becomes an alias of `res`; callbacks: res's, then j's.
        let moved = std::mem::take(&mut self.ps[j].callbacks);
        self.ps[res].callbacks.extend(moved);
        self.ps[res].how = std::mem::replace(&mut self.ps[j].how, How::Not);
        self.ps[j].alias = Some(res);
    }

    fn run(&mut self, cb: Cb, src: usize) {
        let st = self.state(src);
        match cb {
            Cb::BindAdd { res, k } => match st {
                Seen::Fulfilled(v) => self.resolve(res, Seen::Fulfilled(v + k)),
                e => self.resolve(res, e),
            },
            Cb::BindTo { res, j } => match st {
                Seen::Fulfilled(_) => self.follow(res, j),
                e => self.resolve(res, e),
            },
            Cb::Map { res, k } => match st {
                Seen::Fulfilled(v) => self.resolve(res, Seen::Fulfilled(v * 2 + k)),
                e => self.resolve(res, e),
            },
            Cb::Catch { res, k } => match st {
                Seen::Fulfilled(v) => self.resolve(res, Seen::Fulfilled(v)),
                _ => self.resolve(res, Seen::Fulfilled(k)),
            },
            Cb::Follow { res } => self.resolve(res, st),
            Cb::Join { res } => {
                // Bookkeeping stays with the join node itself, even once it
                // was merged into another (as in the real node's `extra`).
                let r = res;
                if !matches!(st, Seen::Fulfilled(_)) && self.ps[r].first_error.is_none() {
                    self.ps[r].first_error = Some(st);
                }
                self.ps[r].remaining -= 1;
                if self.ps[r].remaining == 0 {
                    let out = self.ps[r].first_error.clone().unwrap_or(Seen::Fulfilled(0));
                    self.resolve(r, out);
                }
            }
            Cb::Pick { res, idx, cancel } => {
                let r = res;
                if self.ps[r].done {
                    return;
                }
                self.ps[r].done = true;
                if cancel {
                    let inputs = self.ps[r].inputs.clone();
                    let u = self.u(r);
                    self.ps[u].how = How::Not;
                    for (n, input) in inputs.into_iter().enumerate() {
                        if n != idx {
                            self.cancel(input);
                        }
                    }
                }
                self.follow(r, src);
            }
        }
    }

    fn cancel(&mut self, i: usize) {
        let mut todo = vec![i];
        let mut leaves = Vec::new();
        while let Some(n) = todo.pop() {
            let n = self.u(n);
            if self.ps[n].state != Seen::Pending {
                continue;
            }
            match &self.ps[n].how {
                How::Not => {}
                How::This => leaves.push(n),
                How::To(v) => todo.extend(v.iter().rev().copied()),
            }
        }
        for leaf in leaves {
            self.resolve(leaf, Seen::Canceled);
        }
    }
}

// -------------------------------------------------------------- the runner

fn error_of(code: u8) -> Error {
    Error::msg(format!("e{code}"))
}

struct Real {
    ps: Vec<Promise<i64>>,
    rs: Vec<(Resolver<i64>, usize)>,
}

fn pick_list(list: &[usize], n: usize) -> Vec<usize> {
    list.iter().map(|i| i % n).collect()
}

fn check(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut real = Real {
        ps: Vec::new(),
        rs: Vec::new(),
    };
    let mut model = Model::default();
    for (step, op) in ops.iter().enumerate() {
        let n = real.ps.len();
        match op.clone() {
            Op::Wait | Op::Task => {
                let (p, r) = if matches!(op, Op::Wait) {
                    lwt::wait()
                } else {
                    lwt::task()
                };
                let m = model.add(if matches!(op, Op::Wait) {
                    How::Not
                } else {
                    How::This
                });
                real.rs.push((r, m));
                real.ps.push(p);
            }
            Op::Resolve(..) | Op::Reject(..) if real.rs.is_empty() => continue,
            Op::Resolve(i, v) => {
                let (r, m) = &real.rs[i % real.rs.len()];
                let before = model.state(*m);
                let outcome = r.resolve(v);
                model.resolve(*m, Seen::Fulfilled(v));
                prop_assert_eq!(
                    outcome.is_ok(),
                    before == Seen::Pending || before == Seen::Canceled
                );
            }
            Op::Reject(i, c) => {
                let (r, m) = &real.rs[i % real.rs.len()];
                let before = model.state(*m);
                let outcome = r.reject(error_of(c));
                model.resolve(*m, Seen::Failed(format!("e{c}")));
                prop_assert_eq!(
                    outcome.is_ok(),
                    before == Seen::Pending || before == Seen::Canceled
                );
            }
            _ if n == 0 => continue,
            Op::BindAdd(i, k) => {
                let i = i % n;
                let p = real.ps[i].bind(move |v| Promise::resolved(v + k));
                let res = model.add(How::To(vec![i]));
                real.ps.push(p);
                model.attach(i, Cb::BindAdd { res, k });
            }
            Op::BindTo(i, j) => {
                let (i, j) = (i % n, j % n);
                let target = real.ps[j].clone();
                let p = real.ps[i].bind(move |_| target);
                let res = model.add(How::To(vec![i]));
                real.ps.push(p);
                model.attach(i, Cb::BindTo { res, j });
            }
            Op::Map(i, k) => {
                let i = i % n;
                let p = real.ps[i].clone().map(move |v| v * 2 + k);
                let res = model.add(How::To(vec![i]));
                real.ps.push(p);
                model.attach(i, Cb::Map { res, k });
            }
            Op::Catch(i, k) => {
                let i = i % n;
                let p = real.ps[i].catch(move |_| Promise::resolved(k));
                let res = model.add(How::To(vec![i]));
                real.ps.push(p);
                model.attach(i, Cb::Catch { res, k });
            }
            Op::Join(list) => {
                let list = pick_list(&list, n);
                let p = lwt::join(list.iter().map(|&i| real.ps[i].clone())).map(|()| 0);
                let pending: Vec<usize> = list
                    .iter()
                    .copied()
                    .filter(|&i| model.state(i) == Seen::Pending)
                    .collect();
                let res = model.add(How::To(pending.clone()));
                // Already-resolved inputs: the first rejection in argument order.
                let first = list
                    .iter()
                    .map(|&i| model.state(i))
                    .find(|s| !matches!(s, Seen::Pending | Seen::Fulfilled(_)));
                model.ps[res].first_error = first;
                model.ps[res].remaining = pending.len();
                if pending.is_empty() {
                    let out = model.ps[res]
                        .first_error
                        .clone()
                        .unwrap_or(Seen::Fulfilled(0));
                    model.resolve(res, out);
                }
                for i in pending {
                    model.attach(i, Cb::Join { res });
                }
                real.ps.push(p);
            }
            Op::Pick(list) | Op::Choose(list) => {
                let cancel = matches!(op, Op::Pick(_));
                let list = pick_list(&list, n);
                let inputs: Vec<Promise<i64>> = list.iter().map(|&i| real.ps[i].clone()).collect();
                let p = if cancel {
                    lwt::pick(inputs)
                } else {
                    lwt::choose(inputs)
                };
                // Already-resolved inputs: a rejected one wins, then the
                // first in argument order.
                let resolved = list
                    .iter()
                    .position(|&i| !matches!(model.state(i), Seen::Pending | Seen::Fulfilled(_)))
                    .or_else(|| list.iter().position(|&i| model.state(i) != Seen::Pending));
                let res = model.add(How::To(list.clone()));
                model.ps[res].inputs = list.clone();
                match resolved {
                    Some(w) => {
                        model.ps[res].done = true;
                        if cancel {
                            for (k, &i) in list.iter().enumerate() {
                                if k != w {
                                    model.cancel(i);
                                }
                            }
                        }
                        // The result is the winning input itself.
                        model.ps[res].alias = Some(model.u(list[w]));
                    }
                    None => {
                        for (idx, &i) in list.iter().enumerate() {
                            model.attach(i, Cb::Pick { res, idx, cancel });
                        }
                    }
                }
                real.ps.push(p);
            }
            Op::Cancel(i) => {
                let i = i % n;
                real.ps[i].cancel();
                model.cancel(i);
            }
            Op::Protected(i) => {
                let i = i % n;
                let p = lwt::protected(&real.ps[i]);
                let res = model.add(How::This);
                real.ps.push(p);
                model.attach(i, Cb::Follow { res });
            }
        }
        for (k, p) in real.ps.iter().enumerate() {
            prop_assert_eq!(
                seen_real(p),
                model.state(k),
                "promise {} differs after step {} ({:?}) of {:?}",
                k,
                step,
                op,
                ops
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn core_agrees_with_the_model(ops in prop::collection::vec(op(), 1..30)) {
        check(ops)?;
    }
}
