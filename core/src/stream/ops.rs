//! Transforming and consuming [`Stream`]s: `map`, `filter`, `filter_map`,
//! `fold`, `iter` in sequential (`_s`), concurrent (`_p`) and
//! at-most-n-at-once (`_n`) forms, and `append`, `concat`, `choose`,
//! `combine`, `take`.
//!
//! # Ground rules
//!
//! 1. A transformation consumes its input and makes a new stream fed by a
//!    pull function (see [`Stream::from_fn`]): it reads the input only when
//!    its own reader waits, one element at a time. Nothing is read ahead,
//!    except by the concurrent forms.
//! 2. The concurrent forms (`map_p`, `map_n`, ...) run a *driver* task that
//!    reads the input and starts the user's function on each element as it
//!    comes (`_p`), or while fewer than `n` are started and not yet read
//!    from the output (`_n`). The output keeps the input's order.
//! 3. A rejection of a user's promise, or an input that ends with an error,
//!    ends the output with that error (module `stream`, rule 3); a
//!    consuming function (`fold`, `iter`) is then rejected with it.
//! 4. User functions are called outside any borrow of a stream's state.
//! 5. A driver task belongs to its output stream: when the output is
//!    dropped or ends, the driver is aborted and everything it holds (the
//!    input, the user's function, its semaphore) is freed.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::{Error, Promise, Semaphore, Stream};

/// `p`, giving one permit back to `sem` (if any) once `p` is resolved.
fn release_after<X: 'static>(p: Promise<X>, sem: &Option<Semaphore>) -> Promise<X> {
    match sem {
        Some(s) => s.release_after(p),
        None => p,
    }
}

fn check_n(n: usize, what: &str) -> Result<(), Error> {
    if n == 0 {
        Err(Error::invalid_argument(format!(
            "Stream::{what}: the limit must be at least 1"
        )))
    } else {
        Ok(())
    }
}

impl<T: Clone + 'static> Stream<T> {
    /// The sequential filter-and-map every other sequential transformation
    /// is made of: `f`'s promise of `Some(u)` gives an element, of `None`
    /// drops the input element (Lwt's `Lwt_stream.filter_map_s`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=4)
    ///     .filter_map_s(|x| lwt::Promise::resolved((x % 2 == 0).then_some(x * 10)));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![20, 40]);
    /// ```
    pub fn filter_map_s<U: Clone + 'static>(
        self,
        f: impl FnMut(T) -> Promise<Option<U>> + 'static,
    ) -> Stream<U> {
        let f = Rc::new(RefCell::new(f));
        Stream::pulled(
            move || {
                let src = self.handle();
                let f = f.clone();
                crate::spawn(async move {
                    loop {
                        let Some(v) = src.next().await? else {
                            return Ok(None);
                        };
                        let p = (f.borrow_mut())(v);
                        if let Some(u) = p.await? {
                            return Ok(Some(u));
                        }
                    }
                })
            },
            false,
        )
    }

    /// Applies `f` to each element (Lwt's `Lwt_stream.map`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=3).map(|x| x * 2);
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![2, 4, 6]);
    /// ```
    pub fn map<U: Clone + 'static>(self, mut f: impl FnMut(T) -> U + 'static) -> Stream<U> {
        self.filter_map_s(move |v| Promise::resolved(Some(f(v))))
    }

    /// Applies `f` to each element, one at a time, waiting for each result
    /// (Lwt's `Lwt_stream.map_s`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=3).map_s(|x| lwt::Promise::resolved(x + 1));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![2, 3, 4]);
    /// ```
    pub fn map_s<U: Clone + 'static>(
        self,
        mut f: impl FnMut(T) -> Promise<U> + 'static,
    ) -> Stream<U> {
        self.filter_map_s(move |v| f(v).map(Some))
    }

    /// Keeps the elements for which `f` is true (Lwt's `Lwt_stream.filter`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=6).filter(|x| x % 3 == 0);
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![3, 6]);
    /// ```
    pub fn filter(self, mut f: impl FnMut(&T) -> bool + 'static) -> Stream<T> {
        self.filter_map_s(move |v| Promise::resolved(f(&v).then_some(v)))
    }

    /// Keeps the elements for which `f`'s promise is true, one at a time
    /// (Lwt's `Lwt_stream.filter_s`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=4).filter_s(|x| lwt::Promise::resolved(*x > 2));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![3, 4]);
    /// ```
    pub fn filter_s(self, mut f: impl FnMut(&T) -> Promise<bool> + 'static) -> Stream<T> {
        self.filter_map_s(move |v| f(&v).map(move |keep| keep.then_some(v)))
    }

    /// Maps and filters at once (Lwt's `Lwt_stream.filter_map`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(["1", "x", "3"]).filter_map(|s| s.parse::<u8>().ok());
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 3]);
    /// ```
    pub fn filter_map<U: Clone + 'static>(
        self,
        mut f: impl FnMut(T) -> Option<U> + 'static,
    ) -> Stream<U> {
        self.filter_map_s(move |v| Promise::resolved(f(v)))
    }

    /// The concurrent filter-and-map the other concurrent forms are made
    /// of. `limit`: `None` for no limit.
    ///
    /// The driver task is owned by the output's pull function (rule 5): when
    /// the output is dropped, or ends (normally, or with an error, which
    /// drops its pull function), the driver is aborted, which drops its
    /// future and with it the input, the user's function, the push handle
    /// and its semaphore handle. Without that, a driver waiting on the
    /// semaphore (or on the input) would be held by its own waiter, an `Rc`
    /// cycle nothing would ever resolve.
    fn filter_map_driven<U: Clone + 'static>(
        self,
        limit: Option<usize>,
        f: impl FnMut(T) -> Promise<Option<U>> + 'static,
    ) -> Stream<U> {
        let (started, push) = Stream::<Promise<Option<U>>>::create();
        let sem = limit.map(Semaphore::new);
        let driver_sem = sem.clone();
        let mut f = f;
        let src = self;
        let driver = crate::spawn(async move {
            loop {
                if let Some(s) = &driver_sem {
                    s.acquire_promise(1).await?;
                }
                match src.next().await {
                    Ok(Some(v)) => {
                        if push.push(f(v)).is_err() {
                            return Ok(());
                        }
                    }
                    Ok(None) => {
                        push.close();
                        return Ok(());
                    }
                    Err(e) => {
                        push.fail(e);
                        return Ok(());
                    }
                }
            }
        });
        driver.on_failure(|e| {
            // Canceled: aborted by `AbortOnDrop`, on purpose.
            if !e.is_canceled() {
                crate::report_unhandled(&e);
            }
        });
        let driver = driver.abort_on_drop();
        Stream::pulled(
            move || {
                let _owned_by_the_output = &driver;
                let started = started.handle();
                let sem = sem.clone();
                crate::spawn(async move {
                    loop {
                        let Some(p) = started.next().await? else {
                            return Ok(None);
                        };
                        // The result is read: make room for one more.
                        let p = release_after(p, &sem);
                        if let Some(u) = p.await? {
                            return Ok(Some(u));
                        }
                    }
                })
            },
            false,
        )
    }

    /// Like [`Stream::filter_map_s`], but `f` runs on every element as soon
    /// as it arrives, without waiting for earlier results; the output keeps
    /// the input's order. The input is read eagerly.
    ///
    /// ```
    /// let (gate, open) = lwt::wait::<()>();
    /// let s = lwt::Stream::from_iter([1, 2])
    ///     .filter_map_p(move |x| gate.clone().map(move |()| Some(x)));
    /// let all = s.to_vec();
    /// open.resolve(()).unwrap(); // both ran at once, waiting on one gate
    /// assert_eq!(all.peek().unwrap().unwrap(), vec![1, 2]);
    /// ```
    pub fn filter_map_p<U: Clone + 'static>(
        self,
        f: impl FnMut(T) -> Promise<Option<U>> + 'static,
    ) -> Stream<U> {
        self.filter_map_driven(None, f)
    }

    /// Like [`Stream::filter_map_p`] with at most `n` calls of `f` started
    /// and not yet read from the output. `n == 0` gives a failed stream.
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=5).filter_map_n(2, |x| lwt::Promise::resolved(Some(x)));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2, 3, 4, 5]);
    /// ```
    pub fn filter_map_n<U: Clone + 'static>(
        self,
        n: usize,
        f: impl FnMut(T) -> Promise<Option<U>> + 'static,
    ) -> Stream<U> {
        if let Err(e) = check_n(n, "filter_map_n") {
            return Stream::failed(e);
        }
        self.filter_map_driven(Some(n), f)
    }

    /// Concurrent [`Stream::map_s`]; the output keeps the input's order.
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=3).map_p(|x| lwt::Promise::resolved(x * x));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 4, 9]);
    /// ```
    pub fn map_p<U: Clone + 'static>(
        self,
        mut f: impl FnMut(T) -> Promise<U> + 'static,
    ) -> Stream<U> {
        self.filter_map_p(move |v| f(v).map(Some))
    }

    /// [`Stream::map_p`] with at most `n` running (or done and not yet read)
    /// at once.
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=3).map_n(1, |x| lwt::Promise::resolved(-x));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![-1, -2, -3]);
    /// ```
    pub fn map_n<U: Clone + 'static>(
        self,
        n: usize,
        mut f: impl FnMut(T) -> Promise<U> + 'static,
    ) -> Stream<U> {
        self.filter_map_n(n, move |v| f(v).map(Some))
    }

    /// Concurrent [`Stream::filter_s`].
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=4).filter_p(|x| lwt::Promise::resolved(x % 2 == 1));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 3]);
    /// ```
    pub fn filter_p(self, mut f: impl FnMut(&T) -> Promise<bool> + 'static) -> Stream<T> {
        self.filter_map_p(move |v| f(&v).map(move |keep| keep.then_some(v)))
    }

    /// [`Stream::filter_p`] with at most `n` at once.
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(1..=4).filter_n(3, |x| lwt::Promise::resolved(*x < 3));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2]);
    /// ```
    pub fn filter_n(self, n: usize, mut f: impl FnMut(&T) -> Promise<bool> + 'static) -> Stream<T> {
        self.filter_map_n(n, move |v| f(&v).map(move |keep| keep.then_some(v)))
    }

    /// Folds the elements, in order, into one value (Lwt's
    /// `Lwt_stream.fold`, with the accumulator first).
    ///
    /// ```
    /// let sum = lwt::Stream::from_iter(1..=4).fold(0, |acc, x| acc + x);
    /// assert_eq!(sum.peek().unwrap().unwrap(), 10);
    /// ```
    pub fn fold<A: 'static>(self, init: A, mut f: impl FnMut(A, T) -> A + 'static) -> Promise<A> {
        crate::spawn(async move {
            let mut acc = init;
            while let Some(v) = self.next().await? {
                acc = f(acc, v);
            }
            Ok(acc)
        })
    }

    /// Folds with a promise-producing function, one element at a time
    /// (Lwt's `Lwt_stream.fold_s`).
    ///
    /// ```
    /// let p = lwt::Stream::from_iter(["a", "b"])
    ///     .fold_s(String::new(), |acc, x| lwt::Promise::resolved(acc + x));
    /// assert_eq!(p.peek().unwrap().unwrap(), "ab");
    /// ```
    pub fn fold_s<A: Clone + 'static>(
        self,
        init: A,
        mut f: impl FnMut(A, T) -> Promise<A> + 'static,
    ) -> Promise<A> {
        crate::spawn(async move {
            let mut acc = init;
            while let Some(v) = self.next().await? {
                acc = f(acc, v).await?;
            }
            Ok(acc)
        })
    }

    /// Calls `f` on each element (Lwt's `Lwt_stream.iter`); fulfilled once
    /// the stream ends.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let s = seen.clone();
    /// let done = lwt::Stream::from_iter(1..=3).iter(move |x| s.borrow_mut().push(x));
    /// assert!(done.is_fulfilled());
    /// assert_eq!(*seen.borrow(), [1, 2, 3]);
    /// ```
    pub fn iter(self, mut f: impl FnMut(T) + 'static) -> Promise<()> {
        self.fold((), move |(), v| f(v))
    }

    /// Calls `f` on each element, waiting for each promise before reading
    /// the next element (Lwt's `Lwt_stream.iter_s`).
    ///
    /// ```
    /// let done = lwt::Stream::from_iter(1..=3).iter_s(|_| lwt::Promise::resolved(()));
    /// assert!(done.is_fulfilled());
    /// ```
    pub fn iter_s(self, mut f: impl FnMut(T) -> Promise<()> + 'static) -> Promise<()> {
        self.fold_s((), move |(), v| f(v))
    }

    fn iter_limited(
        self,
        limit: Option<usize>,
        mut f: impl FnMut(T) -> Promise<()> + 'static,
    ) -> Promise<()> {
        crate::spawn(async move {
            let sem = limit.map(Semaphore::new);
            let mut running: Vec<Promise<()>> = Vec::new();
            loop {
                if let Some(s) = &sem {
                    s.acquire_promise(1).await?;
                }
                let Some(v) = self.next().await? else { break };
                let p = f(v);
                let p = release_after(p, &sem);
                if let Some(Err(e)) = running.iter().find_map(|p| p.peek().filter(Result::is_err)) {
                    // Stop starting new calls once one failed; wait for the rest.
                    running.push(p);
                    crate::join(running).await?;
                    return Err(e);
                }
                running.retain(Promise::is_pending);
                running.push(p);
            }
            crate::join(running).await
        })
    }

    /// Calls `f` on each element as it arrives, without waiting for earlier
    /// calls (Lwt's `Lwt_stream.iter_p`). Fulfilled once the stream ended
    /// and every call's promise is fulfilled; rejected with the first
    /// rejection.
    ///
    /// ```
    /// let (gate, open) = lwt::wait::<()>();
    /// let done = lwt::Stream::from_iter(1..=3).iter_p(move |_| gate.clone());
    /// assert!(done.is_pending());
    /// open.resolve(()).unwrap();
    /// assert!(done.is_fulfilled());
    /// ```
    pub fn iter_p(self, f: impl FnMut(T) -> Promise<()> + 'static) -> Promise<()> {
        self.iter_limited(None, f)
    }

    /// [`Stream::iter_p`] with at most `n` calls running at once (Lwt's
    /// `Lwt_stream.iter_n`). `n == 0` is rejected.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let (running, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    /// let (r, pk) = (running.clone(), peak.clone());
    /// let done = lwt::Stream::from_iter(0..10).iter_n(3, move |_| {
    ///     r.set(r.get() + 1);
    ///     pk.set(pk.get().max(r.get()));
    ///     let r = r.clone();
    ///     lwt::pause().map(move |()| r.set(r.get() - 1))
    /// });
    /// engine.run(&done).unwrap();
    /// assert_eq!(peak.get(), 3);
    /// ```
    pub fn iter_n(self, n: usize, f: impl FnMut(T) -> Promise<()> + 'static) -> Promise<()> {
        if let Err(e) = check_n(n, "iter_n") {
            return Promise::rejected(e);
        }
        self.iter_limited(Some(n), f)
    }

    /// The elements of this stream, then those of `other` (Lwt's
    /// `Lwt_stream.append`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter([1]).append(lwt::Stream::from_iter([2]));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![1, 2]);
    /// ```
    pub fn append(self, other: Stream<T>) -> Stream<T> {
        Stream::concat([self, other])
    }

    /// The elements of each stream in turn (Lwt's `Lwt_stream.concat`, over
    /// any collection of streams).
    ///
    /// ```
    /// let s = lwt::Stream::concat((0..3).map(|i| lwt::Stream::from_iter([i; 2])));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![0, 0, 1, 1, 2, 2]);
    /// ```
    pub fn concat(streams: impl IntoIterator<Item = Stream<T>>) -> Stream<T> {
        let q: Rc<RefCell<VecDeque<Stream<T>>>> =
            Rc::new(RefCell::new(streams.into_iter().collect()));
        Stream::pulled(
            move || {
                let q = q.clone();
                crate::spawn(async move {
                    loop {
                        let current = q.borrow().front().map(Stream::handle);
                        let Some(s) = current else { return Ok(None) };
                        match s.next().await? {
                            Some(v) => return Ok(Some(v)),
                            None => drop(q.borrow_mut().pop_front()),
                        }
                    }
                })
            },
            false,
        )
    }

    /// The elements of all the streams, as they come: each read takes from
    /// the first stream (in the given order) that has an element (Lwt's
    /// `Lwt_stream.choose`). Ends when all have ended; fails when one fails.
    ///
    /// ```
    /// let (a, pa) = lwt::Stream::create();
    /// let (b, pb) = lwt::Stream::create();
    /// let s = lwt::Stream::choose([a, b]);
    /// let first = s.next();
    /// pb.push("from b").unwrap();
    /// assert_eq!(first.peek().unwrap().unwrap(), Some("from b"));
    /// # drop(pa);
    /// ```
    pub fn choose(streams: impl IntoIterator<Item = Stream<T>>) -> Stream<T> {
        let list: Rc<RefCell<Vec<Stream<T>>>> =
            Rc::new(RefCell::new(streams.into_iter().collect()));
        Stream::pulled(
            move || {
                let list = list.clone();
                crate::spawn(async move {
                    'outer: loop {
                        let live: Vec<Stream<T>> =
                            list.borrow().iter().map(Stream::handle).collect();
                        if live.is_empty() {
                            return Ok(None);
                        }
                        for (i, s) in live.iter().enumerate() {
                            match s.take_now() {
                                Some(Ok(Some(v))) => return Ok(Some(v)),
                                Some(Ok(None)) => {
                                    drop(list.borrow_mut().remove(i));
                                    continue 'outer;
                                }
                                Some(Err(e)) => return Err(e),
                                None => {}
                            }
                        }
                        crate::pick(live.iter().map(Stream::ready)).await?;
                    }
                })
            },
            false,
        )
    }

    /// Pairs of elements, one from each stream, until either ends (Lwt's
    /// `Lwt_stream.combine`).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter([1, 2, 3]).combine(lwt::Stream::from_iter("ab".chars()));
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![(1, 'a'), (2, 'b')]);
    /// ```
    pub fn combine<U: Clone + 'static>(self, other: Stream<U>) -> Stream<(T, U)> {
        Stream::pulled(
            move || {
                let (a, b) = (self.handle(), other.handle());
                crate::spawn(async move {
                    let Some(x) = a.next().await? else {
                        return Ok(None);
                    };
                    let Some(y) = b.next().await? else {
                        return Ok(None);
                    };
                    Ok(Some((x, y)))
                })
            },
            false,
        )
    }

    /// The first `n` elements (Lwt's `Lwt_stream.nget`, as a stream).
    ///
    /// ```
    /// let s = lwt::Stream::from_iter(0..).take(3);
    /// assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![0, 1, 2]);
    /// ```
    pub fn take(self, n: usize) -> Stream<T> {
        let mut left = n;
        Stream::pulled(
            move || {
                if left == 0 {
                    return Promise::resolved(None);
                }
                left -= 1;
                self.next()
            },
            false,
        )
    }
}
