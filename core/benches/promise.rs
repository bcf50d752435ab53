//! Criterion benchmarks of the promise core (issues 2 and 3), each group
//! measured against a peer in the same run: tokio's current-thread runtime
//! with a `LocalSet`, or the `futures` crate's combinators.
//!
//! Run with
//! `cargo bench -p lwt-core --bench promise -- --warm-up-time 1 --measurement-time 5`.
//! Only ratios within one run mean anything on a shared machine.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lwt::testing::VirtualEngine;
use lwt::Promise;
use tokio::sync::oneshot;

/// A million, the size of the chain and task benchmarks.
const MILLION: usize = 1_000_000;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
}

/// Polls `f` once with a no-op waker.
fn poll_once<F: Future + ?Sized>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

/// Bench 1: `bind` on a promise that is already fulfilled: the closure runs at once.
fn bind_fulfilled(c: &mut Criterion) {
    let mut g = c.benchmark_group("bind_fulfilled");
    g.bench_function("lwt", |b| {
        let p = Promise::resolved(1u64);
        b.iter(|| {
            let q = black_box(&p).bind(|v| Promise::resolved(v + 1));
            black_box(q)
        })
    });
    g.bench_function("futures_then_ready", |b| {
        b.iter(|| {
            let f = futures::FutureExt::then(futures::future::ready(black_box(1u64)), |v| {
                futures::future::ready(v + 1)
            });
            black_box(futures::FutureExt::now_or_never(f))
        })
    });
    g.finish();
}

/// The lwt half of the chain benchmark: `n` binds on a pending promise, then
/// one resolve that runs them all.
fn lwt_chain(n: usize) -> Duration {
    let start = Instant::now();
    let (p0, r0) = lwt::wait::<u64>();
    let mut p = p0;
    for _ in 0..n {
        p = p.bind(|v| Promise::resolved(v + 1));
    }
    r0.resolve(0).expect("pending");
    let elapsed = start.elapsed();
    assert_eq!(p.peek().expect("resolved").expect("fulfilled"), n as u64);
    elapsed
}

/// The tokio half: `n` local tasks, each waiting on a oneshot and then firing
/// the next one.
fn tokio_chain(rt: &tokio::runtime::Runtime, n: usize) -> Duration {
    let local = tokio::task::LocalSet::new();
    let start = Instant::now();
    let last = local.block_on(rt, async move {
        let (first_tx, mut rx) = oneshot::channel::<u64>();
        for _ in 0..n {
            let (tx, next_rx) = oneshot::channel::<u64>();
            tokio::task::spawn_local(async move {
                let v = rx.await.expect("sent");
                let _ = tx.send(v + 1);
            });
            rx = next_rx;
        }
        first_tx.send(0).expect("receiver alive");
        rx.await.expect("sent")
    });
    let elapsed = start.elapsed();
    assert_eq!(last, n as u64);
    drop(local);
    elapsed
}

/// The like-for-like lwt half of the chain benchmark: `n` tasks, each
/// awaiting the one before it, as the tokio tasks do their oneshots.
fn lwt_task_chain(n: usize) -> Duration {
    let engine = VirtualEngine::new();
    let start = Instant::now();
    let (p0, r0) = lwt::wait::<u64>();
    let mut p = p0;
    for _ in 0..n {
        let prev = p;
        p = lwt::spawn(async move { Ok(prev.await? + 1) });
    }
    r0.resolve(0).expect("pending");
    engine.run_until_idle();
    let elapsed = start.elapsed();
    assert_eq!(p.peek().expect("resolved").expect("fulfilled"), n as u64);
    elapsed
}

/// Bench 2: A chain of a million steps, built and then started.
///
/// The sides do different work in one pair: `lwt_bind` is a million binds
/// (a callback each, no task), `tokio_oneshot_tasks` a million tasks each
/// awaiting a oneshot. `lwt_tasks` against `tokio_oneshot_tasks` is the pair
/// that does the same work: a million tasks, each awaiting the step before.
fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MILLION as u64));
    g.bench_function("lwt_bind", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| lwt_chain(MILLION)).sum())
    });
    g.bench_function("lwt_tasks", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| lwt_task_chain(MILLION)).sum())
    });
    let rt = current_thread();
    g.bench_function("tokio_oneshot_tasks", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_chain(&rt, MILLION)).sum())
    });
    g.finish();
}

/// Bench 3: One promise, `n` waiters, then resolved.
///
/// `lwt_map` waits with `n` maps (a callback each, no task);
/// `tokio_shared_tasks` with `n` spawned tasks awaiting a `Shared` oneshot.
/// `lwt_tasks` is the like-for-like of the tokio side: `n` spawned tasks
/// awaiting the one promise.
fn fan_out(c: &mut Criterion) {
    let mut g = c.benchmark_group("fan_out");
    let rt = current_thread();
    for n in [10usize, 1_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("lwt_tasks", n), &n, |b, &n| {
            let engine = VirtualEngine::new();
            let mut outs = Vec::with_capacity(n);
            b.iter(|| {
                let (p, r) = lwt::wait::<u64>();
                for _ in 0..n {
                    let p = p.clone();
                    outs.push(lwt::spawn(async move { Ok(p.await? + 1) }));
                }
                r.resolve(1).expect("pending");
                engine.run_until_idle();
                debug_assert!(outs.iter().all(Promise::is_fulfilled));
                outs.clear();
            })
        });
        g.bench_with_input(BenchmarkId::new("lwt_map", n), &n, |b, &n| {
            let mut outs = Vec::with_capacity(n);
            b.iter(|| {
                let (p, r) = lwt::wait::<u64>();
                for _ in 0..n {
                    outs.push(p.clone().map(|v| v + 1));
                }
                r.resolve(1).expect("pending");
                debug_assert!(outs.iter().all(Promise::is_fulfilled));
                outs.clear();
            })
        });
        g.bench_with_input(BenchmarkId::new("tokio_shared_tasks", n), &n, |b, &n| {
            let local = tokio::task::LocalSet::new();
            b.iter(|| {
                local.block_on(&rt, async {
                    let (tx, rx) = oneshot::channel::<u64>();
                    let shared = futures::FutureExt::shared(rx);
                    let handles: Vec<_> = (0..n)
                        .map(|_| {
                            let s = shared.clone();
                            tokio::task::spawn_local(async move { s.await.expect("sent") + 1 })
                        })
                        .collect();
                    tokio::task::yield_now().await;
                    tx.send(1).expect("receiver alive");
                    for h in handles {
                        black_box(h.await.expect("task ran"));
                    }
                })
            })
        });
    }
    g.finish();
}

fn lwt_join(n: usize) {
    let (ps, rs): (Vec<_>, Vec<_>) = (0..n).map(|_| lwt::wait::<()>()).unzip();
    let all = lwt::join(ps);
    for r in rs {
        r.resolve(()).expect("pending");
    }
    assert!(all.is_fulfilled());
}

fn lwt_pick(n: usize) {
    let (ps, rs): (Vec<_>, Vec<_>) = (0..n).map(|_| lwt::task::<u32>()).unzip();
    let first = lwt::pick(ps);
    rs[n / 2].resolve(7).expect("pending");
    assert!(first.is_fulfilled());
    drop(rs);
}

/// Bench 4: `join` and `pick` of many pending promises, built and resolved.
fn join_pick(c: &mut Criterion) {
    let n = 10_000;
    let mut g = c.benchmark_group("join_10k");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("lwt", |b| b.iter(|| lwt_join(n)));
    g.bench_function("futures_join_all_oneshot", |b| {
        b.iter(|| {
            let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| oneshot::channel::<()>()).unzip();
            let mut all = pin!(futures::future::join_all(rxs));
            assert!(poll_once(all.as_mut()).is_pending());
            for tx in txs {
                tx.send(()).expect("receiver alive");
            }
            assert!(poll_once(all.as_mut()).is_ready());
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pick_10k");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("lwt", |b| b.iter(|| lwt_pick(n)));
    g.bench_function("futures_select_all_oneshot", |b| {
        b.iter(|| {
            let (mut txs, rxs): (Vec<_>, Vec<_>) =
                (0..n).map(|_| oneshot::channel::<u32>()).unzip();
            let mut any = futures::future::select_all(rxs);
            assert!(poll_once(std::pin::Pin::new(&mut any)).is_pending());
            txs.swap_remove(n / 2).send(7).expect("receiver alive");
            let Poll::Ready((v, _, rest)) = poll_once(std::pin::Pin::new(&mut any)) else {
                panic!("select_all should be ready");
            };
            assert_eq!(v.expect("sent"), 7);
            drop(rest); // the losers: what canceling them means for futures
            assert!(txs[0].is_closed());
        })
    });
    g.finish();

    let mut g = c.benchmark_group("join_pick_curve");
    g.sample_size(20);
    for n in [1_000usize, 10_000, 100_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("join", n), &n, |b, &n| {
            b.iter(|| lwt_join(n))
        });
        g.bench_with_input(BenchmarkId::new("pick", n), &n, |b, &n| {
            b.iter(|| lwt_pick(n))
        });
    }
    g.finish();
}

/// Bench 5: Cancel the end of a chain of 10 binds on a `task`: the walk reaches the
/// task, which is rejected, and the rejection flows back through the chain.
fn cancel_chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("cancel_chain_10");
    g.bench_function("lwt", |b| {
        b.iter(|| {
            let (p0, _r) = lwt::task::<u64>();
            let mut p = p0.clone();
            for _ in 0..10 {
                p = p.bind(|v| Promise::resolved(v + 1));
            }
            p.cancel();
            debug_assert!(p0.is_rejected() && p.is_rejected());
            black_box(p)
        })
    });
    g.bench_function("futures_then_drop", |b| {
        // Cancellation in `futures` is dropping: 10 `then`s on a oneshot,
        // polled once so they are registered, then dropped.
        b.iter(|| {
            let (tx, rx) = oneshot::channel::<u64>();
            use futures::FutureExt as _;
            let mut f: futures::future::LocalBoxFuture<'static, u64> =
                rx.map(|r| r.unwrap_or(0)).boxed_local();
            for _ in 0..10 {
                f = f.then(|v| futures::future::ready(v + 1)).boxed_local();
            }
            assert!(poll_once(f.as_mut()).is_pending());
            drop(f);
            assert!(tx.is_closed());
        })
    });
    g.finish();
}

/// Bench 6: Spawn a million trivial tasks and run them to completion.
///
/// Different work in the first pair: an lwt task that finishes at once
/// completes inside `spawn` (polled there, never queued), while
/// `tokio_spawn_local` queues every task and its scheduler polls each one
/// later. The `_once` pair is closer to the same work: each task is polled,
/// goes back to the scheduler once (`pause` / `yield_now`), and is polled
/// again to finish (tokio also queues each before its first poll).
fn spawn_tasks(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MILLION as u64));
    g.bench_function("lwt_virtual", |b| {
        let engine = VirtualEngine::new();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                for _ in 0..MILLION {
                    drop(lwt::spawn(async { Ok(()) }));
                }
                engine.run_until_idle();
                total += start.elapsed();
            }
            total
        })
    });
    let rt = current_thread();
    g.bench_function("tokio_spawn_local", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let local = tokio::task::LocalSet::new();
                let start = Instant::now();
                for _ in 0..MILLION {
                    drop(local.spawn_local(async {}));
                }
                // A `LocalSet` completes once all its tasks have.
                rt.block_on(&mut *Box::pin(local));
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("lwt_virtual_pause_once", |b| {
        let engine = VirtualEngine::new();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                for _ in 0..MILLION {
                    drop(lwt::spawn(async { lwt::pause().await }));
                }
                engine.run_until_idle();
                total += start.elapsed();
                assert_eq!(lwt::paused_count(), 0);
            }
            total
        })
    });
    g.bench_function("tokio_spawn_local_yield_once", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let local = tokio::task::LocalSet::new();
                let start = Instant::now();
                for _ in 0..MILLION {
                    drop(local.spawn_local(tokio::task::yield_now()));
                }
                rt.block_on(&mut *Box::pin(local));
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

/// Bench 7: One task that yields to the engine a million times.
fn pause_loop(c: &mut Criterion) {
    let mut g = c.benchmark_group("yield_loop_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MILLION as u64));
    g.bench_function("lwt_pause_virtual", |b| {
        let engine = VirtualEngine::new();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let done = lwt::spawn(async {
                    for _ in 0..MILLION {
                        lwt::pause().await?;
                    }
                    Ok(())
                });
                engine.run_until_idle();
                total += start.elapsed();
                assert!(done.is_fulfilled());
            }
            total
        })
    });
    let rt = current_thread();
    g.bench_function("tokio_yield_now_spawn_local", |b| {
        // Like for like: the loop runs in a task, as the lwt one does.
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let local = tokio::task::LocalSet::new();
                let start = Instant::now();
                local.block_on(&rt, async {
                    tokio::task::spawn_local(async {
                        for _ in 0..MILLION {
                            tokio::task::yield_now().await;
                        }
                    })
                    .await
                    .expect("task ran");
                });
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("tokio_yield_now_block_on", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..MILLION {
                        tokio::task::yield_now().await;
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

/// Bench 8: what the resolution loop pays to catch panics (issue 17): a
/// callback called directly, and through `catch_unwind` as the loop calls
/// every user closure, in the same run. A `bind` chain on a pending promise
/// (`chain_1M`) and on a fulfilled one (`bind_fulfilled`) pay it once per
/// link.
fn catch_cost(c: &mut Criterion) {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut g = c.benchmark_group("catch_unwind");
    let f = black_box(|x: u64| x.wrapping_mul(3) + 1);
    g.bench_function("direct_call", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for i in 0..1000u64 {
                acc = acc.wrapping_add(black_box(f)(black_box(i)));
            }
            acc
        })
    });
    g.bench_function("caught_call", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for i in 0..1000u64 {
                let r = catch_unwind(AssertUnwindSafe(|| black_box(f)(black_box(i))));
                acc = acc.wrapping_add(r.unwrap_or(0));
            }
            acc
        })
    });
    g.finish();
}

/// One step of Lwt's pending-bind loop: make a pending promise, bind the
/// rest of the loop on it, resolve it with `resolve_later` (Lwt's
/// `wakeup_later`: inside a callback, its callbacks run when the current one
/// returns, so the loop runs in constant stack).
fn pending_bind_loop(n: u64) -> Promise<u64> {
    if n == 0 {
        return Promise::resolved(0);
    }
    let (p, r) = lwt::wait::<u64>();
    let rest = p.bind(move |_| pending_bind_loop(n - 1));
    r.resolve_later(Ok(n)).expect("pending");
    rest
}

/// Bench 10 (issue 21): a million steps of the pending-bind loop (no task,
/// no engine: callbacks only) against the nearest peers' shape, a task
/// spawned per step awaiting a oneshot that is then sent: tokio
/// `spawn_local` on `current_thread`, and `futures` `LocalPool`. A third
/// peer, one tokio task making, sending and awaiting a oneshot per step,
/// does less (nothing ever waits) and is there as the floor.
fn pending_bind(c: &mut Criterion) {
    let mut g = c.benchmark_group("pending_bind_1M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MILLION as u64));
    g.bench_function("lwt_wait_bind_resolve_later", |b| {
        b.iter(|| {
            let p = pending_bind_loop(black_box(MILLION as u64));
            assert_eq!(p.peek().expect("done").expect("ok"), 0);
        })
    });
    let rt = current_thread();
    g.bench_function("tokio_spawn_local_oneshot", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async {
                for i in 0..MILLION as u64 {
                    let (tx, rx) = oneshot::channel::<u64>();
                    let step = tokio::task::spawn_local(async move { rx.await.expect("sent") });
                    tx.send(black_box(i)).expect("waiting");
                    step.await.expect("the step ran");
                }
            })
        })
    });
    // Not the same work (no task per step, and the value is sent before the
    // await, which never waits): the cheapest oneshot step tokio has.
    g.bench_function("tokio_oneshot_in_one_task", |b| {
        b.iter(|| {
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async {
                let mut acc = 0u64;
                for i in 0..MILLION as u64 {
                    let (tx, rx) = oneshot::channel::<u64>();
                    tx.send(black_box(i)).expect("waiting");
                    acc = acc.wrapping_add(rx.await.expect("sent"));
                }
                acc
            })
        })
    });
    g.bench_function("localpool_spawn_oneshot", |b| {
        use futures::task::LocalSpawnExt as _;
        b.iter(|| {
            let mut pool = futures::executor::LocalPool::new();
            let spawner = pool.spawner();
            pool.run_until(async move {
                for i in 0..MILLION as u64 {
                    let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                    let step = spawner
                        .spawn_local_with_handle(async move { rx.await.expect("sent") })
                        .expect("spawned");
                    tx.send(black_box(i)).expect("waiting");
                    step.await;
                }
            })
        })
    });
    g.finish();
}

/// Ten million, the size of the resolved-promise loops.
const TEN_MILLION: u64 = 10_000_000;

/// Lwt's recursion on resolved promises: `resolved(acc + 1).bind(loop)`.
fn lwt_resolved_recursion(acc: u64, n: u64) -> Promise<u64> {
    if acc == n {
        return Promise::resolved(acc);
    }
    Promise::resolved(acc + 1).bind(move |a| lwt_resolved_recursion(a, n))
}

/// Bench 9: ten million awaits (or binds) of a promise that is already
/// resolved, in one task, against `std::future::ready(x).await` in a tokio
/// task and in a `futures` `LocalPool` task (issue 21). Each step reads the
/// value and adds one.
///
/// `lwt_await_resolved`: `Promise::resolved(acc + 1).await` in a spawned
/// task (virtual engine). `lwt_bind_recursion`: Lwt's
/// `resolved(acc + 1).bind(loop)`, no task. The peers await a `ready`
/// future in a task spawned on their executor.
fn resolved_loop(c: &mut Criterion) {
    let mut g = c.benchmark_group("resolved_10M");
    g.sample_size(10);
    g.throughput(Throughput::Elements(TEN_MILLION));
    g.bench_function("lwt_await_resolved", |b| {
        let engine = VirtualEngine::new();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let done = lwt::spawn(async {
                    let mut acc = 0u64;
                    for _ in 0..TEN_MILLION {
                        acc = Promise::resolved(black_box(acc) + 1).await?;
                    }
                    Ok(acc)
                });
                engine.run_until_idle();
                total += start.elapsed();
                assert_eq!(done.peek().expect("done").expect("ok"), TEN_MILLION);
            }
            total
        })
    });
    g.bench_function("lwt_bind_recursion", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let p = lwt_resolved_recursion(0, black_box(TEN_MILLION));
                total += start.elapsed();
                assert_eq!(p.peek().expect("done").expect("ok"), TEN_MILLION);
            }
            total
        })
    });
    let rt = current_thread();
    g.bench_function("tokio_ready_await", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let local = tokio::task::LocalSet::new();
                let start = Instant::now();
                let acc = local.block_on(&rt, async {
                    tokio::task::spawn_local(async {
                        let mut acc = 0u64;
                        for _ in 0..TEN_MILLION {
                            acc = std::future::ready(black_box(acc) + 1).await;
                        }
                        acc
                    })
                    .await
                    .expect("task ran")
                });
                total += start.elapsed();
                assert_eq!(acc, TEN_MILLION);
            }
            total
        })
    });
    g.bench_function("localpool_ready_await", |b| {
        use futures::task::LocalSpawnExt as _;
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut pool = futures::executor::LocalPool::new();
                let start = Instant::now();
                let handle = pool
                    .spawner()
                    .spawn_local_with_handle(async {
                        let mut acc = 0u64;
                        for _ in 0..TEN_MILLION {
                            acc = std::future::ready(black_box(acc) + 1).await;
                        }
                        acc
                    })
                    .expect("spawned");
                let acc = pool.run_until(handle);
                total += start.elapsed();
                assert_eq!(acc, TEN_MILLION);
            }
            total
        })
    });
    g.finish();
}

/// `criterion_group!` makes a public function without docs.
mod group {
    #![allow(missing_docs)]
    use super::*;

    criterion_group!(
        benches,
        bind_fulfilled,
        chain,
        fan_out,
        join_pick,
        cancel_chain,
        spawn_tasks,
        pause_loop,
        catch_cost,
        resolved_loop,
        pending_bind
    );
}

criterion_main!(group::benches);
