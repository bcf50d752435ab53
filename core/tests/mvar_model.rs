//! `lwt::MVar` against a model, with property tests.

use std::collections::VecDeque;

use lwt::{MVar, Promise};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Put(u8),
    Take,
    CancelTake(usize),
    CancelPut(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(Op::Put),
        3 => Just(Op::Take),
        1 => (0usize..4).prop_map(Op::CancelTake),
        1 => (0usize..4).prop_map(Op::CancelPut),
    ]
}

proptest! {
    /// Model: a slot, a FIFO of waiting takers and a FIFO of waiting puts.
    /// No value is lost or duplicated, whatever is canceled.
    #[test]
    fn mvar_matches_model(ops in proptest::collection::vec(op(), 0..60)) {
        let mv = MVar::new_empty();
        let mut slot: Option<u8> = None;
        let mut takers: VecDeque<usize> = VecDeque::new();
        let mut putters: VecDeque<(usize, u8)> = VecDeque::new();
        let mut takes: Vec<(Promise<u8>, Option<u8>, bool)> = Vec::new();
        let mut puts: Vec<(Promise<()>, bool, bool)> = Vec::new();
        for o in ops {
            match o {
                Op::Put(v) => {
                    let p = mv.put(v);
                    let i = puts.len();
                    if slot.is_none() {
                        if let Some(t) = takers.pop_front() { takes[t].1 = Some(v); }
                        else { slot = Some(v); }
                        puts.push((p, true, false));
                    } else {
                        puts.push((p, false, false));
                        putters.push_back((i, v));
                    }
                }
                Op::Take => {
                    let p = mv.take();
                    let i = takes.len();
                    if let Some(v) = slot.take() {
                        takes.push((p, Some(v), false));
                        if let Some((pi, pv)) = putters.pop_front() { slot = Some(pv); puts[pi].1 = true; }
                    } else {
                        takes.push((p, None, false));
                        takers.push_back(i);
                    }
                }
                Op::CancelTake(k) => {
                    if let Some(i) = takers.remove(k) { takes[i].0.cancel(); takes[i].2 = true; }
                }
                Op::CancelPut(k) => {
                    if let Some((i, _)) = putters.remove(k) { puts[i].0.cancel(); puts[i].2 = true; }
                }
            }
            for (p, e, c) in &takes {
                if *c { prop_assert!(p.peek().unwrap().unwrap_err().is_canceled()); }
                else if let Some(e) = e { prop_assert_eq!(p.peek().unwrap().unwrap(), *e); }
                else { prop_assert!(p.is_pending()); }
            }
            for (p, done, c) in &puts {
                if *c { prop_assert!(p.peek().unwrap().unwrap_err().is_canceled()); }
                else { prop_assert_eq!(p.is_fulfilled(), *done); }
            }
            prop_assert_eq!(mv.is_empty(), slot.is_none());
        }
    }
}
