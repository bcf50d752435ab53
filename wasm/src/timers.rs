//! The engine's timers: a binary heap of deadlines over a slab of closures.
//!
//! # Ground rules
//!
//! 1. Timers fire in (deadline, arming order): equal deadlines fire FIFO.
//! 2. Canceling drops the closure at once and frees its slot; the timer's
//!    heap entry stays behind, dead, until it reaches the top (where it is
//!    skipped) or the heap is compacted. Compaction runs on a cancel once
//!    dead entries outnumber live ones by more than 32 (the heap is longer
//!    than twice the live timers plus 32), so a loop that arms and cancels
//!    far-off timers keeps the heap within a constant factor of the live
//!    timers.
//! 3. A [`TimerId`] is the slot and the low half of the timer's arming
//!    number, so a stale id (its timer fired or was canceled, and the slot
//!    was reused) cancels nothing.
//!
//! A heap and a `Vec` keep the wasm binary smaller than ordered maps would.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use lwt::engine::TimerId;
use lwt::Instant;

/// What a timer runs when it fires.
pub(crate) type Timer = Box<dyn FnOnce()>;

#[derive(Default)]
pub(crate) struct Timers {
    /// (deadline, arming number, slot), earliest first.
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    /// The live timers: arming number and closure.
    slots: Vec<Option<(u64, Timer)>>,
    /// Slots free for reuse.
    free: Vec<u32>,
    armed: u64,
}

impl Timers {
    /// Live timers.
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub(crate) fn arm(&mut self, deadline: Instant, fire: Timer) -> TimerId {
        let number = self.armed;
        self.armed += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some((number, fire));
                slot
            }
            None => {
                self.slots.push(Some((number, fire)));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 live timers")
            }
        };
        self.heap.push(Reverse((deadline, number, slot)));
        TimerId(((number & 0xffff_ffff) << 32) | u64::from(slot))
    }

    /// Removes the timer `id`, if it is still armed, and gives back its
    /// closure (for the caller to drop outside any borrow).
    pub(crate) fn cancel(&mut self, id: TimerId) -> Option<Timer> {
        let slot = (id.0 & 0xffff_ffff) as u32;
        let entry = self.slots.get_mut(slot as usize)?;
        if !matches!(entry, Some((number, _)) if *number & 0xffff_ffff == id.0 >> 32) {
            return None;
        }
        let (_, fire) = entry.take()?;
        self.free.push(slot);
        if self.heap.len() > 2 * self.len() + 32 {
            let slots = &self.slots;
            self.heap
                .retain(|Reverse((_, number, slot))| is_live(slots, *number, *slot));
        }
        Some(fire)
    }

    /// The earliest live deadline, dropping dead entries from the top.
    pub(crate) fn earliest(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, number, slot))) = self.heap.peek() {
            if is_live(&self.slots, number, slot) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns the earliest timer due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.earliest()? > now {
            return None;
        }
        let Reverse((_, _, slot)) = self.heap.pop()?;
        let (_, fire) = self.slots[slot as usize].take()?;
        self.free.push(slot);
        Some(fire)
    }
}

fn is_live(slots: &[Option<(u64, Timer)>], number: u64, slot: u32) -> bool {
    matches!(slots.get(slot as usize), Some(Some((n, _))) if *n == number)
}
