//! [`select!`](crate::select!): wait for the first of several promises of
//! different types, and cancel the others (tokio's `select!`, with Lwt's
//! `pick` semantics).
//!
//! # Ground rules
//!
//! 1. Each branch's promise is *tagged*: a promise of its index that is
//!    fulfilled when the branch resolves, either way, and whose cancellation
//!    reaches back to the branch like a `map` does. [`crate::pick`] over the
//!    tags chooses the winner and cancels the losers' tags, which cancels
//!    what the losing branches wait on: their timers, listeners and fetches
//!    are released, as with `pick`.
//! 2. Tags are always fulfilled, so the winner is the first branch in
//!    argument order among those resolved: a branch that rejects wins like
//!    one that is fulfilled, and its handler sees the `Err`.
//! 3. The macro expands to code with `.await`, so it is used inside `async`
//!    code. Each branch gets its own hygienic variables through the macro's
//!    recursion, so no counting macro or procedural macro is needed.

use crate::promise::Promise;
use crate::sequential::{then_node, CancelVia, Next};

/// The macro's helpers, reached as `$crate::__select`.
#[doc(hidden)]
pub mod __private {
    pub use super::{next, tag, Branch};
}

/// What a `select!` branch may be: a [`Promise`], or a reference to one
/// (which is cloned, so the caller keeps its handle).
#[doc(hidden)]
pub trait Branch {
    type Output: 'static;
    fn into_promise(self) -> Promise<Self::Output>;
}

impl<T: 'static> Branch for Promise<T> {
    type Output = T;
    fn into_promise(self) -> Promise<T> {
        self
    }
}

impl<T: 'static> Branch for &Promise<T> {
    type Output = T;
    fn into_promise(self) -> Promise<T> {
        self.clone()
    }
}

/// `p`'s tag: fulfilled with `index` once `p` resolves, either way;
/// canceling it cancels `p` (ground rule 1).
#[doc(hidden)]
pub fn tag<T: 'static>(p: &Promise<T>, index: usize) -> Promise<usize> {
    then_node(p, CancelVia::Source, move |_, _| Next::Done(Ok(index)))
}

/// The next branch index.
#[doc(hidden)]
pub fn next(n: &mut usize) -> usize {
    let i = *n;
    *n += 1;
    i
}

/// Waits for the first of several promises, of any types, to resolve,
/// cancels the others, and runs the winner's handler (tokio's `select!`, with
/// the semantics of [`pick`](crate::pick)). Use it inside `async` code
/// ([`spawn`](crate::spawn), [`VirtualEngine::block_on`](crate::testing::VirtualEngine::block_on),
/// an engine's `run`).
///
/// ```text
/// lwt::select! {
///     pattern = promise => handler,
///     ...
/// }
/// ```
///
/// Each `promise` is an expression giving a [`Promise<T>`](crate::Promise)
/// or a `&Promise<T>`. All are evaluated first, in order. The first to
/// resolve wins; the `pattern` is bound to its result, a
/// `Result<T, lwt::Error>` (what awaiting the promise gives), and the
/// `handler` expression is the value of the whole `select!`. All handlers
/// have the same type; a handler that is a block needs no comma after it.
///
/// * **The losers are canceled**, as by [`pick`](crate::pick): canceling
///   reaches back to what each losing promise waits on, so a losing
///   [`sleep`](crate::sleep) disarms its timer, a losing DOM event removes
///   its listener, a losing fetch is aborted. Dropping a promise would not
///   do it (that is `futures::select!`'s way). Wrap a branch in
///   [`protected`](crate::protected) to keep it running when it loses.
/// * **Order**: when several branches are already resolved, the first of
///   them in argument order wins, so a `select!` gives the same answer on
///   every run and engine. That is also what tokio's `biased;` means; it is
///   accepted, and changes nothing.
/// * **A branch that rejects wins like any other**: its handler gets the
///   `Err` (bind it, or write `v = p => v?` to pass the error on).
/// * **All branches canceled** (say the promises were canceled elsewhere, or
///   the task running the `select!` was canceled, which reaches every
///   branch): the first branch that was rejected wins, and its handler sees
///   `Err(e)` with [`Error::is_canceled`](crate::Error::is_canceled). Nothing
///   panics.
/// * Patterns must be irrefutable (`v`, `_`, `(a, b)`, `Ok(v)` is not):
///   match on the `Result` in the handler. Unlike tokio there are no `if`
///   preconditions and no `else` branch.
/// * A branch that is not an lwt promise: run it with
///   [`spawn`](crate::spawn) first (`v = lwt::spawn(fut) => ...`). Losing
///   cancels the task, which cancels the lwt promises it awaits; a foreign
///   future it awaits is not reached by a cancel (stop such a task with
///   [`Promise::abort`](crate::Promise::abort)).
/// * Every branch's value must be `Clone`, as for awaiting a promise.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let (line, got_line) = lwt::task::<String>();
/// let t = lwt::spawn(async move {
///     let word = lwt::select! {
///         l = line => l?,
///         _ = lwt::sleep(Duration::from_secs(5)) => "timed out".to_string(),
///     };
///     Ok(word)
/// });
/// assert_eq!(engine.timer_count(), 1); // the sleep's timer
/// got_line.resolve("hello".into()).unwrap();
/// assert_eq!(t.peek().unwrap().unwrap(), "hello");
/// assert_eq!(engine.timer_count(), 0); // the losing sleep was canceled
/// ```
///
/// Branches of different types, a protected branch, and the order rule:
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let (slow, _keep) = lwt::task::<u64>();
/// let n = engine.block_on(async move {
///     let n: u64 = lwt::select! {
///         n = lwt::protected(&slow) => n?,
///         s = lwt::Promise::resolved("7") => s?.parse().unwrap_or(0),
///         b = lwt::Promise::resolved(true) => u64::from(b?), // resolved too, but later in order
///     };
///     assert!(slow.is_pending()); // protected: the cancel did not reach it
///     Ok(n)
/// });
/// assert_eq!(n.unwrap(), 7);
/// ```
///
/// A rejected branch wins, and the handler sees its error:
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let r = engine.block_on(async {
///     let failed = lwt::select! {
///         v = lwt::Promise::<u8>::rejected(lwt::Error::msg("boom")) => v.is_err(),
///         _ = lwt::Promise::<()>::never() => false,
///     };
///     Ok(failed)
/// });
/// assert!(r.unwrap());
/// ```
#[macro_export]
macro_rules! select {
    // tokio's `biased;`: our order is always argument order.
    (biased; $($rest:tt)*) => {
        $crate::select! { $($rest)* }
    };
    ($($rest:tt)+) => {
        $crate::__select_munch! { [] $($rest)+ }
    };
}

/// Parses `select!` branches one at a time; each step's `__b`/`__i` are new
/// variables (macro hygiene), one per branch.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_munch {
    ([$($acc:tt)*]) => {
        $crate::__select_gen! { $($acc)* }
    };
    ([$($acc:tt)*] $p:pat = $e:expr => $h:block , $($rest:tt)*) => {
        $crate::__select_munch! { [$($acc)* (__b __i ($p) ($e) ($h))] $($rest)* }
    };
    ([$($acc:tt)*] $p:pat = $e:expr => $h:block $($rest:tt)*) => {
        $crate::__select_munch! { [$($acc)* (__b __i ($p) ($e) ($h))] $($rest)* }
    };
    ([$($acc:tt)*] $p:pat = $e:expr => $h:expr , $($rest:tt)*) => {
        $crate::__select_munch! { [$($acc)* (__b __i ($p) ($e) ($h))] $($rest)* }
    };
    ([$($acc:tt)*] $p:pat = $e:expr => $h:expr) => {
        $crate::__select_munch! { [$($acc)* (__b __i ($p) ($e) ($h))] }
    };
}

/// Generates a `select!` from its parsed branches: the first one is the
/// fallback of the dispatch, so no arm is unreachable.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_gen {
    (($b0:ident $i0:ident ($p0:pat) ($e0:expr) ($h0:expr))
     $(($b:ident $i:ident ($p:pat) ($e:expr) ($h:expr)))*) => {{
        let mut __n: usize = 0;
        let $b0 = $crate::__select::Branch::into_promise($e0);
        let $i0 = $crate::__select::next(&mut __n);
        $(
            let $b = $crate::__select::Branch::into_promise($e);
            let $i = $crate::__select::next(&mut __n);
        )*
        let __w = $crate::pick([
            $crate::__select::tag(&$b0, $i0),
            $($crate::__select::tag(&$b, $i),)*
        ])
        .await
        .unwrap_or($i0);
        $(
            if __w == $i {
                let $p = $b.await;
                $h
            } else
        )*
        {
            let _ = __w;
            let $p0 = $b0.await;
            $h0
        }
    }};
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::testing::VirtualEngine;
    use crate::{spawn, task, wait, Error, Promise};

    #[test]
    fn the_winner_runs_and_the_losers_timers_are_released() {
        let engine = VirtualEngine::new();
        let t = spawn(async {
            let v = crate::select! {
                _ = crate::sleep(Duration::from_secs(9)) => 0,
                _ = crate::sleep(Duration::from_secs(1)) => 1,
                _ = crate::sleep(Duration::from_secs(5)) => 5,
            };
            Ok(v)
        });
        assert_eq!(engine.timer_count(), 3);
        engine.advance(Duration::from_secs(1));
        assert_eq!(t.peek().unwrap().unwrap(), 1);
        assert_eq!(engine.timer_count(), 0);
    }

    #[test]
    fn already_resolved_branches_go_in_argument_order() {
        let engine = VirtualEngine::new();
        let (pending, _r) = task::<u8>();
        let r = engine.block_on(async move {
            let v = crate::select! {
                a = &pending => a? as u32,
                b = Promise::resolved(2u16) => u32::from(b?),
                c = Promise::resolved(3u32) => c?,
            };
            assert!(pending.peek().unwrap().unwrap_err().is_canceled());
            Ok(v)
        });
        assert_eq!(r.unwrap(), 2);
    }

    #[test]
    fn a_rejection_is_the_winners_result() {
        let engine = VirtualEngine::new();
        let (p, r) = task::<u8>();
        let (slow, _rs) = task::<()>();
        let t = spawn(async move {
            Ok(crate::select! {
                v = p => v.map(u32::from),
                _ = slow.clone() => Ok(99),
            })
        });
        r.reject(Error::msg("bad")).unwrap();
        let got = engine.run(&t).unwrap();
        assert_eq!(got.unwrap_err().message(), "bad");
    }

    #[test]
    fn all_canceled_gives_the_first_a_canceled_error() {
        let engine = VirtualEngine::new();
        let (a, _ra) = task::<u8>();
        let (b, _rb) = task::<u8>();
        let (a2, b2) = (a.clone(), b.clone());
        let t = spawn(async move {
            Ok(crate::select! {
                x = a2 => ("a", x.unwrap_err().is_canceled()),
                y = b2 => ("b", y.unwrap_err().is_canceled()),
            })
        });
        b.cancel();
        assert_eq!(engine.run(&t).unwrap(), ("b", true));
        assert!(a.peek().unwrap().unwrap_err().is_canceled()); // a loser
    }

    #[test]
    fn canceling_the_task_reaches_every_branch() {
        let _engine = VirtualEngine::new();
        let (a, _ra) = task::<u8>();
        let (b, _rb) = task::<u8>();
        let (a2, b2) = (a.clone(), b.clone());
        let t = spawn(async move {
            Ok(crate::select! {
                x = a2 => x.is_err(),
                y = b2 => y.is_err(),
            })
        });
        t.cancel();
        assert!(a.peek().unwrap().unwrap_err().is_canceled());
        assert!(b.peek().unwrap().unwrap_err().is_canceled());
        assert!(t.peek().unwrap().unwrap()); // the handler saw Err(canceled)
    }

    #[test]
    fn protected_branch_survives_and_wait_promises_are_not_cancelable() {
        let engine = VirtualEngine::new();
        let (guarded, rg) = task::<u8>();
        let (plain, _rp) = wait::<u8>();
        let (g2, p2) = (guarded.clone(), plain.clone());
        let v = engine.block_on(async move {
            Ok(crate::select! {
                biased;
                _ = crate::protected(&g2) => 0,
                _ = p2 => 1,
                v = Promise::resolved(2) => v?,
            })
        });
        assert_eq!(v.unwrap(), 2);
        assert!(guarded.is_pending());
        assert!(plain.is_pending());
        rg.resolve(1).unwrap();
    }

    #[test]
    fn block_handlers_need_no_comma_and_break_reaches_the_loop() {
        let engine = VirtualEngine::new();
        let r = engine.block_on(async {
            let mut turns = 0;
            loop {
                turns += 1;
                crate::select! {
                    _ = crate::sleep(Duration::from_millis(1)) => {
                        if turns == 3 {
                            break;
                        }
                    }
                    _ = Promise::<()>::never() => {}
                }
            }
            Ok(turns)
        });
        assert_eq!(r.unwrap(), 3);
    }

    #[test]
    fn a_single_branch() {
        let engine = VirtualEngine::new();
        let r = engine.block_on(async { Ok(crate::select! { v = Promise::resolved(4) => v? }) });
        assert_eq!(r.unwrap(), 4);
    }

    #[test]
    fn inherent_map_wins_over_future_ext() {
        use futures::{FutureExt, TryFutureExt};
        let p = Promise::resolved(2);
        // By value, as `FutureExt::map`: the inherent method is found first.
        let q: Promise<i32> = p.clone().map(|x| x * 10);
        assert_eq!(q.peek().unwrap().unwrap(), 20);
        let q: Promise<u8> = p.clone().and_then(u8::try_from);
        assert_eq!(q.peek().unwrap().unwrap(), 2);
        let q: Promise<i32> = p.clone().map_err(|e| e.context("c"));
        assert_eq!(q.peek().unwrap().unwrap(), 2);
        // The futures' own combinators, by their paths.
        let ok = TryFutureExt::map_ok(p.clone(), |x| x + 5);
        assert_eq!(ok.now_or_never().unwrap().unwrap(), 7);
        let f = FutureExt::map(p, |r: Result<i32, Error>| r.unwrap() - 1);
        assert_eq!(f.now_or_never(), Some(1));
    }
}
