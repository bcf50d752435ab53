//! Stream and mutex throughput against `futures::channel::mpsc` and
//! `tokio::sync::{mpsc, Mutex}`, all on one thread, in the same run.

#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use futures::task::noop_waker;

const N: u64 = 1000;

fn stream_push_next(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream_push_then_drain_1000");
    g.bench_function("lwt_stream_try_next", |b| {
        b.iter(|| {
            let (s, push) = lwt::Stream::create();
            for i in 0..N {
                push.push(i).unwrap();
            }
            let mut sum = 0;
            while let Some(v) = s.try_next() {
                sum += v;
            }
            black_box(sum)
        })
    });
    g.bench_function("lwt_stream_poll_next", |b| {
        let waker = noop_waker();
        b.iter(|| {
            let (mut s, push) = lwt::Stream::create();
            for i in 0..N {
                push.push(i).unwrap();
            }
            let mut cx = Context::from_waker(&waker);
            let mut sum = 0;
            while let Poll::Ready(Some(Ok(v))) =
                futures_core::Stream::poll_next(Pin::new(&mut s), &mut cx)
            {
                sum += v;
                if sum >= N * (N - 1) / 2 {
                    break;
                }
            }
            black_box(sum)
        })
    });
    g.bench_function("lwt_stream_next_promise", |b| {
        b.iter(|| {
            let (s, push) = lwt::Stream::create();
            for i in 0..N {
                push.push(i).unwrap();
            }
            let mut sum = 0;
            for _ in 0..N {
                sum += s.next().peek().unwrap().unwrap().unwrap();
            }
            black_box(sum)
        })
    });
    g.bench_function("futures_mpsc_unbounded", |b| {
        b.iter(|| {
            let (tx, mut rx) = futures::channel::mpsc::unbounded();
            for i in 0..N {
                tx.unbounded_send(i).unwrap();
            }
            let mut sum = 0;
            while let Ok(v) = rx.try_recv() {
                sum += v;
                if sum >= N * (N - 1) / 2 {
                    break;
                }
            }
            black_box(sum)
        })
    });
    g.bench_function("tokio_mpsc_unbounded", |b| {
        b.iter(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            for i in 0..N {
                tx.send(i).unwrap();
            }
            let mut sum = 0;
            while let Ok(v) = rx.try_recv() {
                sum += v;
            }
            black_box(sum)
        })
    });
    g.finish();

    // A reader waiting before each push: the hand-off path.
    let mut g = c.benchmark_group("stream_waiting_reader_1000");
    g.bench_function("lwt_stream_next_then_push", |b| {
        b.iter(|| {
            let (s, push) = lwt::Stream::create();
            let mut sum = 0;
            for i in 0..N {
                let p = s.next();
                push.push(i).unwrap();
                sum += p.peek().unwrap().unwrap().unwrap();
            }
            black_box(sum)
        })
    });
    g.bench_function("tokio_mpsc_poll_then_send", |b| {
        let waker = noop_waker();
        b.iter(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let mut cx = Context::from_waker(&waker);
            let mut sum = 0;
            for i in 0..N {
                assert!(rx.poll_recv(&mut cx).is_pending());
                tx.send(i).unwrap();
                if let Poll::Ready(Some(v)) = rx.poll_recv(&mut cx) {
                    sum += v;
                }
            }
            black_box(sum)
        })
    });
    g.finish();
}

fn mutex(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_uncontended_1000");
    g.bench_function("lwt_mutex", |b| {
        let m = lwt::Mutex::new();
        b.iter(|| {
            for _ in 0..N {
                let p = m.lock();
                black_box(&p);
                m.unlock().unwrap();
            }
        })
    });
    g.bench_function("tokio_mutex", |b| {
        let m = tokio::sync::Mutex::new(());
        b.iter(|| {
            for _ in 0..N {
                let guard = m.try_lock().unwrap();
                black_box(&guard);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("mutex_handoff_1000_waiters");
    g.bench_function("lwt_mutex", |b| {
        b.iter_batched(
            || {
                let m = lwt::Mutex::new();
                m.lock().peek().unwrap().unwrap();
                for _ in 0..N {
                    let m2 = m.clone();
                    m.lock().on_success(move |()| m2.unlock().unwrap());
                }
                m
            },
            |m| {
                m.unlock().unwrap();
                assert!(!m.is_locked());
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("tokio_mutex", |b| {
        b.iter_batched(
            || {
                let m = std::sync::Arc::new(tokio::sync::Mutex::new(()));
                let guard = m.clone().try_lock_owned().unwrap();
                let waiters: Vec<_> = (0..N)
                    .map(|_| {
                        let m = m.clone();
                        Box::pin(async move {
                            drop(m.lock().await);
                        })
                    })
                    .collect();
                let all = futures::future::join_all(waiters);
                let mut all = Box::pin(all);
                let waker = noop_waker();
                let mut cx = Context::from_waker(&waker);
                // Queue every waiter.
                assert!(all.as_mut().poll(&mut cx).is_pending());
                (guard, all)
            },
            |(guard, all)| {
                drop(guard);
                futures::executor::block_on(all);
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, stream_push_next, mutex);
criterion_main!(benches);
