//! Timers: a binary heap with lazy deletion.
//!
//! # Ground rules
//!
//! * Each armed timer owns a slot in a slab (its closure) and one entry in a
//!   min-heap ordered by `(deadline, sequence number)`. The sequence number
//!   grows with every arm, so timers with equal deadlines fire in the order
//!   they were armed (FIFO among equals).
//! * Canceling frees the slot and drops the closure at once (O(1)); the heap
//!   entry goes stale and is skipped when it reaches the top. When stale
//!   entries outnumber live ones the heap is rebuilt, so a program that arms
//!   and cancels timeouts forever holds O(live timers) memory.
//! * A [`TimerId`] carries the slot and its generation, so canceling a timer
//!   that already fired (and whose slot was reused) does nothing.
//! * Nothing here runs a closure: [`Timers::pop_due`] hands the closure out,
//!   and the loop runs it with no borrow held.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use lwt::engine::TimerId;

type Fire = Box<dyn FnOnce()>;

/// A heap entry: (deadline in ns, sequence, slot, generation).
type HeapEntry = Reverse<(u64, u64, u32, u32)>;

struct Slot {
    generation: u32,
    fire: Option<Fire>,
}

/// The armed timers of one loop.
pub(crate) struct Timers {
    heap: BinaryHeap<HeapEntry>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    seq: u64,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            seq: 0,
        }
    }

    /// How many timers are armed.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Arms `fire` for `deadline` (nanoseconds on the loop's clock).
    pub(crate) fn arm(&mut self, deadline: u64, fire: Fire) -> TimerId {
        let index = match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.fire = Some(fire);
                i
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    fire: Some(fire),
                });
                (self.slots.len() - 1) as u32
            }
        };
        let generation = self.slots[index as usize].generation;
        self.seq += 1;
        self.heap
            .push(Reverse((deadline, self.seq, index, generation)));
        self.live += 1;
        TimerId(u64::from(generation) << 32 | u64::from(index))
    }

    /// Disarms a timer and returns its closure (for the caller to drop with
    /// no borrow held). Unknown or fired timers give `None`.
    pub(crate) fn cancel(&mut self, id: TimerId) -> Option<Fire> {
        let index = (id.0 & 0xffff_ffff) as usize;
        let generation = (id.0 >> 32) as u32;
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation || slot.fire.is_none() {
            return None;
        }
        let fire = self.release(index);
        if self.heap.len() > 1024 && self.heap.len() > 2 * self.live {
            self.compact();
        }
        fire
    }

    fn release(&mut self, index: usize) -> Option<Fire> {
        let slot = &mut self.slots[index];
        let fire = slot.fire.take();
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index as u32);
        self.live -= 1;
        fire
    }

    /// Drops stale heap entries.
    fn compact(&mut self) {
        let slots = &self.slots;
        let entries = std::mem::take(&mut self.heap).into_vec();
        self.heap = entries
            .into_iter()
            .filter(|Reverse((_, _, i, g))| {
                let s = &slots[*i as usize];
                s.generation == *g && s.fire.is_some()
            })
            .collect();
    }

    fn skip_stale(&mut self) {
        while let Some(Reverse((_, _, i, g))) = self.heap.peek() {
            let s = &self.slots[*i as usize];
            if s.generation == *g && s.fire.is_some() {
                return;
            }
            self.heap.pop();
        }
    }

    /// The earliest deadline, if any timer is armed.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        self.skip_stale();
        self.heap.peek().map(|Reverse((d, ..))| *d)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Fire> {
        self.skip_stale();
        let Reverse((deadline, _, index, _)) = *self.heap.peek()?;
        if deadline > now {
            return None;
        }
        self.heap.pop();
        self.release(index as usize)
    }

    /// Removes every timer, returning the closures.
    pub(crate) fn take_all(&mut self) -> Vec<Fire> {
        self.heap.clear();
        self.free.clear();
        self.live = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .filter_map(|s| s.fire)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn fifo_among_equal_deadlines_and_cancel() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut t = Timers::new();
        let mut ids = Vec::new();
        for (i, d) in [5u64, 1, 5, 1, 3].into_iter().enumerate() {
            let l = log.clone();
            ids.push(t.arm(d, Box::new(move || l.borrow_mut().push(i))));
        }
        assert!(t.cancel(ids[2]).is_some());
        assert!(t.cancel(ids[2]).is_none());
        assert_eq!(t.next_deadline(), Some(1));
        assert!(t.pop_due(0).is_none());
        while let Some(f) = t.pop_due(10) {
            f();
        }
        // deadline 1: armed 1st then 3rd; then 3; then 5 (index 2 canceled)
        assert_eq!(*log.borrow(), [1, 3, 4, 0]);
        assert_eq!(t.len(), 0);
        // canceling a fired timer whose slot was reused does nothing
        let again = t.arm(7, Box::new(|| {}));
        assert!(t.cancel(ids[0]).is_none());
        assert!(t.cancel(again).is_some());
    }

    #[test]
    fn compaction_keeps_live_timers() {
        let mut t = Timers::new();
        let ids: Vec<_> = (0..5000).map(|i| t.arm(i, Box::new(|| {}))).collect();
        for id in &ids[..4900] {
            t.cancel(*id);
        }
        assert!(t.heap.len() < 5000);
        assert_eq!(t.len(), 100);
        assert_eq!(t.next_deadline(), Some(4900));
    }
}
