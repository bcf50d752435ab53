//! Runs a [`Program`] on the installed engine, through lwt's public API
//! alone, recording the callbacks that ran.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lwt::{Error, Instant, Mutex, Promise, Push, Resolver, Stream};

use super::program::{fold, Action, Op, Program};
use super::trace::{error_message, Event, Seen};

type Trace = Rc<RefCell<Vec<Event>>>;

/// What the timers of a program reach: its promises, resolvers and stream.
struct Env {
    trace: Trace,
    promises: RefCell<Vec<Promise<i64>>>,
    resolvers: RefCell<Vec<Resolver<i64>>>,
    stream: Stream<i64>,
    push: Push<i64>,
    mutex: Mutex,
    /// How late the latest-firing `At` timer fired.
    lateness: Cell<Duration>,
}

impl Env {
    fn log(&self, e: Event) {
        self.trace.borrow_mut().push(e);
    }

    fn promise(&self, i: usize) -> Promise<i64> {
        self.promises.borrow()[i].clone()
    }

    fn resolve(&self, r: usize, result: Result<i64, Error>) {
        let resolver = self.resolvers.borrow()[r].clone();
        let ok = resolver.resolve_with(result).is_ok();
        self.log(Event::Resolved(r, ok));
    }

    fn push(&self, v: i64) {
        let ok = self.push.push(v).is_ok();
        self.log(Event::Pushed(ok));
    }

    fn act(&self, a: &Action) {
        match a {
            Action::Resolve(r, v) => self.resolve(*r, Ok(*v)),
            Action::Reject(r, c) => self.resolve(*r, Err(Error::msg(error_message(*c)))),
            Action::Cancel(i) => self.promise(*i).cancel(),
            Action::Push(v) => self.push(*v),
            Action::Close => self.push.close(),
        }
    }

    /// Appends `p` as the next promise, with the callback that records how
    /// it ends.
    fn add(&self, p: Promise<i64>) {
        let n = self.promises.borrow().len();
        let trace = self.trace.clone();
        p.on_result(move |r| trace.borrow_mut().push(Event::Settled(n, Seen::of(r))));
        self.promises.borrow_mut().push(p);
    }
}

/// A program running on the installed engine.
pub struct Running {
    env: Rc<Env>,
    end: Promise<()>,
}

impl Running {
    /// Resolved at the program's end slot, after everything it does.
    pub fn end(&self) -> Promise<()> {
        self.end.clone()
    }

    /// How late the program's latest `At` timer fired, so far.
    pub fn lateness(&self) -> Duration {
        self.env.lateness.get()
    }

    /// The trace so far; also lets go of the program's promises.
    pub fn finish(self) -> Vec<Event> {
        self.env.promises.borrow_mut().clear();
        self.env.resolvers.borrow_mut().clear();
        self.env.trace.take()
    }
}

/// Starts `program` with timer slot `k` at `base + k * quantum`: runs its
/// ops now, and arms its timers.
pub fn start(program: &Program, base: Instant, quantum: Duration) -> Running {
    let (stream, push) = Stream::create();
    let env = Rc::new(Env {
        trace: Trace::default(),
        promises: RefCell::new(Vec::new()),
        resolvers: RefCell::new(Vec::new()),
        stream,
        push,
        mutex: Mutex::new(),
        lateness: Cell::new(Duration::ZERO),
    });
    let at = |k: u32| lwt::sleep_until(base + quantum * k);
    for op in &program.ops {
        let p = |i: usize| env.promise(i);
        let list = |l: &[usize]| l.iter().map(|&i| env.promise(i)).collect::<Vec<_>>();
        let made = match op {
            Op::Wait | Op::Task => {
                let (p, r) = if *op == Op::Wait {
                    lwt::wait()
                } else {
                    lwt::task()
                };
                env.resolvers.borrow_mut().push(r);
                p
            }
            Op::Sleep(k) => {
                let k = *k;
                at(k).map(move |()| i64::from(k))
            }
            Op::Resolve(r, v) => {
                env.resolve(*r, Ok(*v));
                continue;
            }
            Op::Reject(r, c) => {
                env.resolve(*r, Err(Error::msg(error_message(*c))));
                continue;
            }
            Op::At(k, a) => {
                let (k, a, e) = (*k, a.clone(), env.clone());
                let deadline = base + quantum * k;
                at(k).on_success(move |()| {
                    if let Ok(now) = lwt::now() {
                        e.lateness.set(e.lateness.get().max(now - deadline));
                    }
                    e.log(Event::Timer(k));
                    e.act(&a);
                });
                continue;
            }
            Op::Bind(i, k) => {
                let k = *k;
                p(*i).bind(move |v| Promise::resolved(v.wrapping_add(k)))
            }
            Op::BindTo(i, j) => {
                let target = p(*j);
                p(*i).bind(move |_| target)
            }
            Op::Map(i, k) => {
                let k = *k;
                p(*i).map(move |v| v.wrapping_mul(2).wrapping_add(k))
            }
            Op::Catch(i, k) => {
                let k = *k;
                p(*i).catch(move |_| Promise::resolved(k))
            }
            Op::Finalize(i) => {
                let (n, trace) = (env.promises.borrow().len(), env.trace.clone());
                p(*i).finalize(move || {
                    trace.borrow_mut().push(Event::Finalized(n));
                    Promise::resolved(())
                })
            }
            Op::Join(l) => lwt::join(list(l)).map(|()| 0),
            Op::All(l) => lwt::all(list(l)).map(|v| fold(&v)),
            Op::Pick(l) => lwt::pick(list(l)),
            Op::Choose(l) => lwt::choose(list(l)),
            Op::NChoose(l) => lwt::nchoose(list(l)).map(|v| fold(&v)),
            Op::Cancel(i) => {
                p(*i).cancel();
                continue;
            }
            Op::Protected(i) => lwt::protected(&p(*i)),
            Op::Pause => lwt::pause().map(|()| 0),
            Op::PauseAfter(i) => p(*i).bind(|v| lwt::pause().map(move |()| v)),
            Op::YieldAfter(i) => p(*i).bind(|v| lwt::yield_now().map(move |()| v)),
            Op::Next => env.stream.next().map(|o| o.unwrap_or(-1)),
            Op::Push(v) => {
                env.push(*v);
                continue;
            }
            Op::Close => {
                env.push.close();
                continue;
            }
            Op::Locked(i) => {
                let m = env.mutex.clone();
                p(*i).bind(move |v| m.with_lock(move || lwt::pause().map(move |()| v)))
            }
        };
        env.add(made);
    }
    let end = at(program.end_slot());
    Running { env, end }
}
