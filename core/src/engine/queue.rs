//! An engine-independent timer queue, and the timer-id codec every engine
//! shares.
//!
//! # Ground rules
//!
//! 1. Timers come out in (deadline, arming order): equal deadlines are FIFO.
//!    Nothing comes out before the clock given to [`TimerQueue::pop_due`]
//!    reads its deadline.
//! 2. A timer lives in a *slot* of a slab. Canceling frees the slot and hands
//!    the item back at once; its heap entry stays behind, dead, until it
//!    reaches the top (where it is skipped) or the heap is compacted.
//!    Compaction runs on a cancel once the heap is longer than twice the live
//!    timers plus 32, so arming and canceling far-off timers forever keeps
//!    the heap within a constant factor of the live timers.
//! 3. A [`TimerId`] is a slot and a *generation*: the low half of the arming
//!    number of the timer that took the slot. An id whose timer fired or was
//!    canceled, even once its slot was reused, matches nothing (until 2^32
//!    arms later), so a stale cancel never disarms a newer timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use crate::engine::Instant;
use crate::engine::TimerId;

impl TimerId {
    /// The id of the timer in slab slot `slot`, armed with generation
    /// `generation`: the codec shared by the engines' timer stores (the
    /// generation is the high half of the id, the slot the low half).
    ///
    /// ```
    /// use lwt::engine::TimerId;
    /// let id = TimerId::from_parts(7, 3);
    /// assert_eq!((id.slot(), id.generation()), (7, 3));
    /// assert_ne!(id, TimerId::from_parts(7, 4), "a new generation, a new id");
    /// ```
    pub fn from_parts(slot: u32, generation: u32) -> TimerId {
        TimerId((u64::from(generation) << 32) | u64::from(slot))
    }

    /// The slab slot of this id (see [`TimerId::from_parts`]).
    ///
    /// ```
    /// assert_eq!(lwt::engine::TimerId::from_parts(9, 1).slot(), 9);
    /// ```
    pub fn slot(self) -> u32 {
        self.0 as u32
    }

    /// The generation of this id (see [`TimerId::from_parts`]).
    ///
    /// ```
    /// assert_eq!(lwt::engine::TimerId::from_parts(9, 1).generation(), 1);
    /// ```
    pub fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// Armed timers, for engine authors: a binary heap of deadlines over a slab
/// of items (an engine's items are its timer closures, `Box<dyn FnOnce()>`).
/// It has no clock: the engine says what time it is when it pops due timers.
/// See the module's ground rules above: FIFO among equal deadlines, no early
/// firing, stale ids cancel nothing, memory bounded by the live timers.
///
/// Nothing here runs an item: [`TimerQueue::pop_due`] and
/// [`TimerQueue::cancel`] hand it out, for the engine to run or drop with no
/// borrow of the queue held.
///
/// ```
/// use std::time::Duration;
/// use lwt::engine::TimerQueue;
/// use lwt::Instant;
/// let at = |ms| Instant::from_epoch(Duration::from_millis(ms));
///
/// let mut q = TimerQueue::new();
/// q.arm(at(20), "b");
/// let c = q.arm(at(10), "c");
/// q.arm(at(10), "a"); // equal deadlines: FIFO
/// assert_eq!(q.cancel(c), Some("c"));
/// assert_eq!(q.cancel(c), None, "a stale id cancels nothing");
///
/// assert_eq!(q.next_deadline(), Some(at(10)));
/// assert_eq!(q.pop_due(at(5)), None, "nothing fires early");
/// assert_eq!(q.pop_due(at(30)), Some((at(10), "a")));
/// assert_eq!(q.pop_due(at(30)), Some((at(20), "b")));
/// assert!(q.is_empty());
/// ```
pub struct TimerQueue<T> {
    /// (deadline, arming number, slot), earliest first.
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    /// The live timers: arming number and item.
    slots: Vec<Option<(u64, T)>>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Arms so far.
    armed: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            armed: 0,
        }
    }
}

impl<T> fmt::Debug for TimerQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerQueue")
            .field("len", &self.len())
            .field("entries", &self.heap.len())
            .finish()
    }
}

impl<T> TimerQueue<T> {
    /// An empty queue.
    ///
    /// ```
    /// let q = lwt::engine::TimerQueue::<()>::new();
    /// assert!(q.is_empty());
    /// ```
    pub fn new() -> TimerQueue<T> {
        TimerQueue::default()
    }

    /// How many timers are armed.
    ///
    /// ```
    /// let mut q = lwt::engine::TimerQueue::new();
    /// q.arm(lwt::Instant::EPOCH, ());
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// True when no timer is armed.
    ///
    /// ```
    /// assert!(lwt::engine::TimerQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Arms `item` for `deadline`; the id cancels it.
    ///
    /// ```
    /// let mut q = lwt::engine::TimerQueue::new();
    /// let a = q.arm(lwt::Instant::EPOCH, 1);
    /// let b = q.arm(lwt::Instant::EPOCH, 2);
    /// assert_ne!(a, b);
    /// ```
    pub fn arm(&mut self, deadline: Instant, item: T) -> TimerId {
        let number = self.armed;
        self.armed += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some((number, item));
                slot
            }
            None => {
                self.slots.push(Some((number, item)));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 live timers")
            }
        };
        self.heap.push(Reverse((deadline, number, slot)));
        TimerId::from_parts(slot, number as u32)
    }

    /// Disarms the timer `id` and gives its item back; `None` if it fired,
    /// was canceled, or is not this queue's.
    ///
    /// ```
    /// let mut q = lwt::engine::TimerQueue::new();
    /// let id = q.arm(lwt::Instant::EPOCH, "x");
    /// assert_eq!(q.cancel(id), Some("x"));
    /// assert_eq!(q.cancel(id), None);
    /// ```
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let slot = id.slot();
        let entry = self.slots.get_mut(slot as usize)?;
        if !matches!(entry, Some((number, _)) if *number as u32 == id.generation()) {
            return None;
        }
        let (_, item) = entry.take()?;
        self.free.push(slot);
        if self.heap.len() > 2 * self.len() + 32 {
            let slots = &self.slots;
            self.heap
                .retain(|Reverse((_, number, slot))| is_live(slots, *number, *slot));
        }
        Some(item)
    }

    /// The earliest deadline of an armed timer (dropping dead entries on the
    /// way).
    ///
    /// ```
    /// let mut q = lwt::engine::TimerQueue::new();
    /// let at = lwt::Instant::from_epoch(std::time::Duration::from_secs(3));
    /// q.arm(at, ());
    /// assert_eq!(q.next_deadline(), Some(at));
    /// ```
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, number, slot))) = self.heap.peek() {
            if is_live(&self.slots, number, slot) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns the earliest timer due at `now` (its deadline at
    /// or before `now`) with its deadline; `None` if none is due.
    ///
    /// ```
    /// use lwt::Instant;
    /// let mut q = lwt::engine::TimerQueue::new();
    /// let at = Instant::from_epoch(std::time::Duration::from_secs(3));
    /// q.arm(at, "x");
    /// assert_eq!(q.pop_due(Instant::EPOCH), None);
    /// assert_eq!(q.pop_due(at), Some((at, "x")));
    /// ```
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, T)> {
        if self.next_deadline()? > now {
            return None;
        }
        let Reverse((deadline, _, slot)) = self.heap.pop()?;
        let (_, item) = self.slots[slot as usize].take()?;
        self.free.push(slot);
        Some((deadline, item))
    }

    /// Disarms every timer and gives back their items, in no set order.
    ///
    /// ```
    /// let mut q = lwt::engine::TimerQueue::new();
    /// q.arm(lwt::Instant::EPOCH, 1);
    /// q.arm(lwt::Instant::EPOCH, 2);
    /// assert_eq!(q.take_all().len(), 2);
    /// assert!(q.is_empty());
    /// ```
    pub fn take_all(&mut self) -> Vec<T> {
        self.heap.clear();
        self.free.clear();
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .map(|(_, item)| item)
            .collect()
    }
}

fn is_live<T>(slots: &[Option<(u64, T)>], number: u64, slot: u32) -> bool {
    matches!(slots.get(slot as usize), Some(Some((n, _))) if *n == number)
}

#[cfg(test)]
mod tests {
    use super::TimerQueue;
    use crate::engine::Instant;
    use crate::engine::TimerId;
    use std::time::Duration;

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    fn drain(q: &mut TimerQueue<u32>, now: Instant) -> Vec<u32> {
        std::iter::from_fn(|| q.pop_due(now).map(|(_, v)| v)).collect()
    }

    #[test]
    fn deadline_order_fifo_among_equals_never_early() {
        let mut q = TimerQueue::new();
        for (i, d) in [5u64, 1, 5, 1, 3].into_iter().enumerate() {
            q.arm(at(d), i as u32);
        }
        assert_eq!(q.next_deadline(), Some(at(1)));
        assert!(q.pop_due(at(0)).is_none());
        assert_eq!(drain(&mut q, at(3)), [1, 3, 4]);
        assert_eq!(q.next_deadline(), Some(at(5)));
        assert_eq!(drain(&mut q, at(10)), [0, 2]);
        assert!(q.is_empty());
        assert_eq!(q.next_deadline(), None);
    }

    #[test]
    fn a_stale_id_never_cancels_the_timer_that_reused_its_slot() {
        let mut q = TimerQueue::new();
        let old = q.arm(at(1), 1);
        assert_eq!(q.pop_due(at(1)), Some((at(1), 1)));
        let new = q.arm(at(2), 2);
        assert_eq!(old.slot(), new.slot(), "the slot is reused");
        assert_ne!(old, new);
        assert_eq!(q.cancel(old), None);
        assert_eq!(q.len(), 1);
        let canceled = q.arm(at(3), 3);
        assert_eq!(q.cancel(canceled), Some(3));
        let reused = q.arm(at(3), 4);
        assert_eq!(q.cancel(canceled), None);
        assert_eq!(drain(&mut q, at(3)), [2, 4]);
        assert_eq!(q.cancel(reused), None, "fired");
        assert_eq!(q.cancel(TimerId::from_parts(999, 0)), None, "unknown");
    }

    #[test]
    fn ids_stay_distinct_when_the_arm_count_passes_u32() {
        let mut q = TimerQueue::new();
        q.armed = u64::from(u32::MAX) - 4;
        let mut seen = Vec::new();
        for i in 0..10 {
            let id = q.arm(at(100), i);
            assert!(!seen.contains(&id), "{id:?} handed out twice");
            for old in &seen {
                assert_eq!(q.cancel(*old), None);
            }
            assert_eq!(q.cancel(id), Some(i));
            seen.push(id);
        }
        assert!(q.is_empty());
    }

    #[test]
    fn huge_deadlines_sort_last_and_fire_only_when_reached() {
        let mut q = TimerQueue::new();
        let far = Instant::from_epoch(Duration::from_secs(u64::MAX / 2));
        q.arm(far, 1);
        q.arm(at(1), 2);
        assert_eq!(drain(&mut q, at(1_000_000)), [2]);
        assert_eq!(q.next_deadline(), Some(far));
        assert_eq!(drain(&mut q, far), [1]);
    }

    #[test]
    fn arming_and_canceling_forever_keeps_the_heap_bounded() {
        let mut q = TimerQueue::new();
        let keep = q.arm(at(1), 0);
        for i in 0..10_000 {
            let id = q.arm(at(1_000_000 + i), 1);
            assert_eq!(q.cancel(id), Some(1));
            assert!(q.heap.len() <= 2 * q.len() + 33, "{}", q.heap.len());
        }
        assert_eq!(q.len(), 1);
        assert_eq!(q.cancel(keep), Some(0));
    }

    #[test]
    fn take_all_empties_and_old_ids_stay_dead() {
        let mut q = TimerQueue::new();
        let a = q.arm(at(1), 1);
        q.arm(at(2), 2);
        let mut all = q.take_all();
        all.sort();
        assert_eq!(all, [1, 2]);
        let b = q.arm(at(3), 3);
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.cancel(b), Some(3));
    }
}
