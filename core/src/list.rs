//! Promise helpers over collections (Lwt's `Lwt_list`): sequential (`_s`),
//! concurrent (`_p`) and at-most-n-at-once (`_n`) forms.
//!
//! # Ground rules
//!
//! 1. `_s` calls `f` on one element, waits for its promise, then the next;
//!    the first rejection stops it and rejects the result.
//! 2. `_p` calls `f` on every element at once; results keep the input's
//!    order; the result waits for every promise and is rejected with the
//!    first rejection in input order (as [`crate::all`]).
//! 3. `_n` is `_p` with at most `n` promises of `f` pending at once (started
//!    in input order); `n == 0` is rejected with an invalid-argument error.
//! 4. `f` is called outside any borrow.

use std::cell::RefCell;
use std::rc::Rc;

use crate::{all, Error, Promise, Semaphore};

fn limited<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    n: usize,
    f: impl FnMut(T) -> Promise<U> + 'static,
) -> Promise<Vec<U>> {
    if n == 0 {
        return Promise::rejected(Error::invalid_argument(
            "list: the limit must be at least 1",
        ));
    }
    let sem = Semaphore::new(n);
    let f = Rc::new(RefCell::new(f));
    all(xs.into_iter().map(|x| {
        let (f, s) = (f.clone(), sem.clone());
        sem.acquire_promise(1).bind(move |()| {
            // The borrow of `f` ends with this statement, before `p` can
            // resolve and let the next call in.
            let p = (f.borrow_mut())(x);
            s.release_after(p)
        })
    }))
}

/// Maps one element at a time (Lwt's `Lwt_list.map_s`).
///
/// ```
/// let p = lwt::list::map_s(vec![1, 2], |x| lwt::Promise::resolved(x * 2));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![2, 4]);
/// ```
pub fn map_s<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(T) -> Promise<U> + 'static,
) -> Promise<Vec<U>> {
    crate::spawn(async move {
        let mut out = Vec::new();
        for x in xs {
            out.push(f(x).await?);
        }
        Ok(out)
    })
}

/// Maps all elements at once, keeping their order (Lwt's `Lwt_list.map_p`).
///
/// ```
/// let p = lwt::list::map_p(vec![1, 2], |x| lwt::Promise::resolved(x + 1));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![2, 3]);
/// ```
pub fn map_p<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<U>,
) -> Promise<Vec<U>> {
    all(xs.into_iter().map(f))
}

/// Maps with at most `n` promises pending at once, keeping the order.
///
/// ```
/// let p = lwt::list::map_n(2, 0..5, |x| lwt::Promise::resolved(x * x));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![0, 1, 4, 9, 16]);
/// ```
pub fn map_n<T: 'static, U: Clone + 'static>(
    n: usize,
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<U> + 'static,
) -> Promise<Vec<U>> {
    limited(xs, n, f)
}

/// Maps one element at a time, giving `f` each element's index too (Lwt's
/// `Lwt_list.mapi_s`).
///
/// ```
/// let p = lwt::list::mapi_s(vec!["a", "b"], |i, x| lwt::Promise::resolved(format!("{i}{x}")));
/// assert_eq!(p.peek().unwrap().unwrap(), ["0a", "1b"]);
/// ```
pub fn mapi_s<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(usize, T) -> Promise<U> + 'static,
) -> Promise<Vec<U>> {
    let mut i = 0;
    map_s(xs, move |x| {
        i += 1;
        f(i - 1, x)
    })
}

/// Maps all elements at once, giving `f` each element's index too, keeping
/// their order (Lwt's `Lwt_list.mapi_p`).
///
/// ```
/// let p = lwt::list::mapi_p(vec![10, 20], |i, x| lwt::Promise::resolved(x + i));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![10, 21]);
/// ```
pub fn mapi_p<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(usize, T) -> Promise<U>,
) -> Promise<Vec<U>> {
    all(xs.into_iter().enumerate().map(|(i, x)| f(i, x)))
}

/// [`map_s`] with the results in reverse order (Lwt's `Lwt_list.rev_map_s`):
/// `f` still runs on the elements first to last.
///
/// ```
/// let p = lwt::list::rev_map_s(vec![1, 2, 3], |x| lwt::Promise::resolved(x * 2));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![6, 4, 2]);
/// ```
pub fn rev_map_s<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    f: impl FnMut(T) -> Promise<U> + 'static,
) -> Promise<Vec<U>> {
    map_s(xs, f).map(|mut v| {
        v.reverse();
        v
    })
}

/// [`map_p`] with the results in reverse order (Lwt's `Lwt_list.rev_map_p`):
/// `f` is still called on the elements first to last.
///
/// ```
/// let p = lwt::list::rev_map_p(vec![1, 2, 3], |x| lwt::Promise::resolved(x + 1));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![4, 3, 2]);
/// ```
pub fn rev_map_p<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<U>,
) -> Promise<Vec<U>> {
    map_p(xs, f).map(|mut v| {
        v.reverse();
        v
    })
}

/// Calls `f` on each element, one at a time (Lwt's `Lwt_list.iter_s`).
///
/// ```
/// let p = lwt::list::iter_s(vec![1, 2], |_| lwt::Promise::resolved(()));
/// assert!(p.is_fulfilled());
/// ```
pub fn iter_s<T: 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    f: impl FnMut(T) -> Promise<()> + 'static,
) -> Promise<()> {
    map_s(xs, f).ignore()
}

/// Calls `f` on every element at once (Lwt's `Lwt_list.iter_p`).
///
/// ```
/// let p = lwt::list::iter_p(vec![1, 2], |_| lwt::Promise::resolved(()));
/// assert!(p.is_fulfilled());
/// ```
pub fn iter_p<T: 'static>(
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<()>,
) -> Promise<()> {
    crate::join(xs.into_iter().map(f))
}

/// Calls `f` with at most `n` promises pending at once (Lwt's
/// `Lwt_list.iter_n`).
///
/// ```
/// let p = lwt::list::iter_n(1, vec![1, 2], |_| lwt::Promise::resolved(()));
/// assert!(p.is_fulfilled());
/// assert!(lwt::list::iter_n(0, vec![1], |_| lwt::Promise::resolved(())).is_rejected());
/// ```
pub fn iter_n<T: 'static>(
    n: usize,
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<()> + 'static,
) -> Promise<()> {
    limited(xs, n, f).ignore()
}

/// Calls `f` on each element and its index, one at a time (Lwt's
/// `Lwt_list.iteri_s`).
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let s = seen.clone();
/// let p = lwt::list::iteri_s(vec!['a', 'b'], move |i, c| {
///     s.borrow_mut().push((i, c));
///     lwt::Promise::resolved(())
/// });
/// assert!(p.is_fulfilled());
/// assert_eq!(*seen.borrow(), [(0, 'a'), (1, 'b')]);
/// ```
pub fn iteri_s<T: 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    f: impl FnMut(usize, T) -> Promise<()> + 'static,
) -> Promise<()> {
    mapi_s(xs, f).ignore()
}

/// Calls `f` on every element and its index at once (Lwt's
/// `Lwt_list.iteri_p`).
///
/// ```
/// let (p, r) = lwt::wait::<()>();
/// let all = lwt::list::iteri_p(vec![(), ()], move |i, ()| {
///     if i == 0 { p.clone() } else { lwt::Promise::resolved(()) }
/// });
/// assert!(all.is_pending()); // waits for every element's promise
/// r.resolve(()).unwrap();
/// assert!(all.is_fulfilled());
/// ```
pub fn iteri_p<T: 'static>(
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(usize, T) -> Promise<()>,
) -> Promise<()> {
    crate::join(xs.into_iter().enumerate().map(|(i, x)| f(i, x)))
}

/// Keeps the elements whose promise is true, one at a time (Lwt's
/// `Lwt_list.filter_s`).
///
/// ```
/// let p = lwt::list::filter_s(vec![1, 2, 3], |x| lwt::Promise::resolved(*x != 2));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![1, 3]);
/// ```
pub fn filter_s<T: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(&T) -> Promise<bool> + 'static,
) -> Promise<Vec<T>> {
    filter_map_s(xs, move |x| f(&x).map(move |k| k.then_some(x)))
}

/// Keeps the elements whose promise is true, all at once, in order (Lwt's
/// `Lwt_list.filter_p`).
///
/// ```
/// let p = lwt::list::filter_p(vec![1, 2, 3], |x| lwt::Promise::resolved(*x > 1));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![2, 3]);
/// ```
pub fn filter_p<T: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(&T) -> Promise<bool>,
) -> Promise<Vec<T>> {
    filter_map_p(xs, move |x| f(&x).map(move |k| k.then_some(x)))
}

/// [`filter_p`] with at most `n` pending at once.
///
/// ```
/// let p = lwt::list::filter_n(2, vec![1, 2, 3], |x| lwt::Promise::resolved(*x < 3));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![1, 2]);
/// ```
pub fn filter_n<T: Clone + 'static>(
    n: usize,
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(&T) -> Promise<bool> + 'static,
) -> Promise<Vec<T>> {
    filter_map_n(n, xs, move |x| f(&x).map(move |k| k.then_some(x)))
}

/// Maps and filters, one at a time (Lwt's `Lwt_list.filter_map_s`).
///
/// ```
/// let p = lwt::list::filter_map_s(vec!["1", "x"], |s| lwt::Promise::resolved(s.parse::<u8>().ok()));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![1]);
/// ```
pub fn filter_map_s<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    f: impl FnMut(T) -> Promise<Option<U>> + 'static,
) -> Promise<Vec<U>> {
    map_s(xs, f).map(|v| v.into_iter().flatten().collect())
}

/// Maps and filters, all at once, in order (Lwt's `Lwt_list.filter_map_p`).
///
/// ```
/// let p = lwt::list::filter_map_p(vec![1, 2], |x| lwt::Promise::resolved((x > 1).then_some(x)));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![2]);
/// ```
pub fn filter_map_p<T: 'static, U: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<Option<U>>,
) -> Promise<Vec<U>> {
    map_p(xs, f).map(|v| v.into_iter().flatten().collect())
}

/// [`filter_map_p`] with at most `n` pending at once.
///
/// ```
/// let p = lwt::list::filter_map_n(1, vec![1, 2], |x| lwt::Promise::resolved(Some(x)));
/// assert_eq!(p.peek().unwrap().unwrap(), vec![1, 2]);
/// ```
pub fn filter_map_n<T: 'static, U: Clone + 'static>(
    n: usize,
    xs: impl IntoIterator<Item = T>,
    f: impl FnMut(T) -> Promise<Option<U>> + 'static,
) -> Promise<Vec<U>> {
    limited(xs, n, f).map(|v| v.into_iter().flatten().collect())
}

/// Folds from the left, one element at a time (Lwt's
/// `Lwt_list.fold_left_s`).
///
/// ```
/// let p = lwt::list::fold_left_s(vec![1, 2, 3], 0, |a, x| lwt::Promise::resolved(a + x));
/// assert_eq!(p.peek().unwrap().unwrap(), 6);
/// ```
pub fn fold_left_s<T: 'static, A: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    init: A,
    mut f: impl FnMut(A, T) -> Promise<A> + 'static,
) -> Promise<A> {
    crate::spawn(async move {
        let mut acc = init;
        for x in xs {
            acc = f(acc, x).await?;
        }
        Ok(acc)
    })
}

/// Folds from the right, one element at a time, last element first: `f`
/// gets an element and the accumulator (Lwt's `Lwt_list.fold_right_s`, whose
/// argument order this keeps).
///
/// ```
/// let p = lwt::list::fold_right_s(vec!["a", "b", "c"], String::new(), |x, acc| {
///     lwt::Promise::resolved(acc + x)
/// });
/// assert_eq!(p.peek().unwrap().unwrap(), "cba");
/// ```
pub fn fold_right_s<T: 'static, A: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    init: A,
    mut f: impl FnMut(T, A) -> Promise<A> + 'static,
) -> Promise<A> {
    let mut xs: Vec<T> = xs.into_iter().collect();
    xs.reverse();
    fold_left_s(xs, init, move |acc, x| f(x, acc))
}

/// True if every promise is true, checked one at a time, stopping at the
/// first false (Lwt's `Lwt_list.for_all_s`).
///
/// ```
/// let p = lwt::list::for_all_s(vec![2, 4], |x| lwt::Promise::resolved(x % 2 == 0));
/// assert!(p.peek().unwrap().unwrap());
/// ```
pub fn for_all_s<T: 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(&T) -> Promise<bool> + 'static,
) -> Promise<bool> {
    crate::spawn(async move {
        for x in xs {
            if !f(&x).await? {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// True if every promise is true, all checked at once (Lwt's
/// `Lwt_list.for_all_p`).
///
/// ```
/// let p = lwt::list::for_all_p(vec![1, 3], |x| lwt::Promise::resolved(x % 2 == 1));
/// assert!(p.peek().unwrap().unwrap());
/// ```
pub fn for_all_p<T: 'static>(
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(&T) -> Promise<bool>,
) -> Promise<bool> {
    map_p(xs, move |x| f(&x)).map(|v| v.into_iter().all(|b| b))
}

/// True if some promise is true, checked one at a time, stopping at the
/// first true (Lwt's `Lwt_list.exists_s`).
///
/// ```
/// let p = lwt::list::exists_s(vec![1, 2], |x| lwt::Promise::resolved(*x == 2));
/// assert!(p.peek().unwrap().unwrap());
/// ```
pub fn exists_s<T: 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(&T) -> Promise<bool> + 'static,
) -> Promise<bool> {
    for_all_s(xs, move |x| f(x).map(|b| !b)).map(|all_false| !all_false)
}

/// True if some promise is true, all checked at once (Lwt's
/// `Lwt_list.exists_p`).
///
/// ```
/// let p = lwt::list::exists_p(vec![1, 2], |x| lwt::Promise::resolved(*x > 5));
/// assert!(!p.peek().unwrap().unwrap());
/// ```
pub fn exists_p<T: 'static>(
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(&T) -> Promise<bool>,
) -> Promise<bool> {
    map_p(xs, move |x| f(&x)).map(|v| v.into_iter().any(|b| b))
}

/// The first element whose promise is true, checked one at a time; `None`
/// if there is none (Lwt's `Lwt_list.find_s`, without the exception).
///
/// ```
/// let p = lwt::list::find_s(vec![1, 2, 3], |x| lwt::Promise::resolved(*x > 1));
/// assert_eq!(p.peek().unwrap().unwrap(), Some(2));
/// ```
pub fn find_s<T: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(&T) -> Promise<bool> + 'static,
) -> Promise<Option<T>> {
    crate::spawn(async move {
        for x in xs {
            if f(&x).await? {
                return Ok(Some(x));
            }
        }
        Ok(None)
    })
}

/// Splits into the elements whose promise is true and the others, one at a
/// time (Lwt's `Lwt_list.partition_s`).
///
/// ```
/// let p = lwt::list::partition_s(vec![1, 2, 3], |x| lwt::Promise::resolved(x % 2 == 1));
/// assert_eq!(p.peek().unwrap().unwrap(), (vec![1, 3], vec![2]));
/// ```
pub fn partition_s<T: Clone + 'static>(
    xs: impl IntoIterator<Item = T> + 'static,
    mut f: impl FnMut(&T) -> Promise<bool> + 'static,
) -> Promise<(Vec<T>, Vec<T>)> {
    map_s(xs, move |x| f(&x).map(move |b| (b, x))).map(split)
}

/// Splits all at once, in order (Lwt's `Lwt_list.partition_p`).
///
/// ```
/// let p = lwt::list::partition_p(vec![1, 2], |x| lwt::Promise::resolved(*x == 1));
/// assert_eq!(p.peek().unwrap().unwrap(), (vec![1], vec![2]));
/// ```
pub fn partition_p<T: Clone + 'static>(
    xs: impl IntoIterator<Item = T>,
    mut f: impl FnMut(&T) -> Promise<bool>,
) -> Promise<(Vec<T>, Vec<T>)> {
    map_p(xs, move |x| f(&x).map(move |b| (b, x))).map(split)
}

fn split<T>(v: Vec<(bool, T)>) -> (Vec<T>, Vec<T>) {
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for (b, x) in v {
        if b {
            yes.push(x)
        } else {
            no.push(x)
        }
    }
    (yes, no)
}
