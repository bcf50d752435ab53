//! Payloads that cannot leave their thread (a `JsValue`, an `Rc`), kept in a
//! per-thread table so that [`Error`](super::Error) itself stays `Send + Sync`.
//!
//! # Ground rules
//!
//! 1. The error holds a [`Local`]: a key (the owner thread's number and a
//!    slot number), never the value. The value lives in the owner thread's
//!    table and is reachable only there.
//! 2. Dropping the last handle on the owner thread frees the value at once.
//!    Dropped on another thread, the key goes onto a shared list of orphans;
//!    the owner frees their values the next time it stores or frees a local
//!    payload. A thread that ends frees its whole table.
//! 3. Nothing here panics: a table already borrowed, or already gone at
//!    thread exit, turns a free into an orphan, and a read into `None`.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A key into the owner thread's table.
pub(super) struct Local {
    thread: u64,
    slot: u64,
}

#[derive(Default)]
struct Table {
    next: u64,
    values: HashMap<u64, Box<dyn Any>>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::default();
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

static NEXT_THREAD: AtomicU64 = AtomicU64::new(0);
/// Keys dropped away from their thread, and how many there are (read without
/// the lock on every store and free, so the common case takes no lock).
static ORPHANS: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());
static ORPHAN_COUNT: AtomicUsize = AtomicUsize::new(0);

fn this_thread() -> Option<u64> {
    THREAD.try_with(|t| *t).ok()
}

impl Local {
    /// Stores `value` in this thread's table. `None` only while the thread
    /// is being torn down (its table is gone).
    pub(super) fn store(value: Box<dyn Any>) -> Option<Local> {
        let thread = this_thread()?;
        let slot = TABLE
            .try_with(|t| {
                let mut t = t.try_borrow_mut().ok()?;
                let freed = free_orphans(&mut t, thread);
                let slot = t.next;
                t.next += 1;
                t.values.insert(slot, value);
                drop(t);
                drop(freed);
                Some(slot)
            })
            .ok()
            .flatten()?;
        Some(Local { thread, slot })
    }

    /// Runs `f` on the value, on the owner thread only.
    pub(super) fn with<R>(&self, f: impl FnOnce(&dyn Any) -> R) -> Option<R> {
        if this_thread() != Some(self.thread) {
            return None;
        }
        TABLE
            .try_with(|t| {
                let t = t.try_borrow().ok()?;
                t.values.get(&self.slot).map(|v| f(&**v))
            })
            .ok()
            .flatten()
    }

    /// True when both keys name the same value.
    pub(super) fn same_as(&self, other: &Local) -> bool {
        self.thread == other.thread && self.slot == other.slot
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let (thread, slot) = (self.thread, self.slot);
        let freed = this_thread() == Some(thread)
            && TABLE
                .try_with(|t| {
                    let Ok(mut t) = t.try_borrow_mut() else {
                        return false;
                    };
                    // Moved out first: the value's own drop may free more.
                    let value = t.values.remove(&slot);
                    let orphaned = free_orphans(&mut t, thread);
                    drop(t);
                    drop((value, orphaned));
                    true
                })
                .unwrap_or(false);
        if !freed {
            if let Ok(mut orphans) = ORPHANS.lock() {
                orphans.push((thread, slot));
                ORPHAN_COUNT.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Takes out the values whose keys were dropped on other threads. The
/// caller drops them once it has let go of the table: dropping one may drop
/// more local payloads.
fn free_orphans(t: &mut Table, thread: u64) -> Vec<Box<dyn Any>> {
    let mut freed = Vec::new();
    if ORPHAN_COUNT.load(Ordering::Relaxed) == 0 {
        return freed;
    }
    let Ok(mut orphans) = ORPHANS.lock() else {
        return freed;
    };
    let before = orphans.len();
    orphans.retain(|&(owner, slot)| {
        if owner != thread {
            return true;
        }
        freed.extend(t.values.remove(&slot));
        false
    });
    ORPHAN_COUNT.fetch_sub(before - orphans.len(), Ordering::Relaxed);
    freed
}

/// How many local payloads this thread holds (for tests).
#[cfg(test)]
pub(super) fn held() -> usize {
    TABLE.with(|t| t.borrow().values.len())
}
