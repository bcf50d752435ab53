//! `lwt::OnceCell` through its public API: the accessors around
//! `get_or_init` (made with a value, `initialized`, `set`, `take`,
//! `into_inner`, `Debug`).

use lwt::OnceCell;

/// A cell made with a value holds it: `get`, `initialized`, `Debug`.
#[test]
fn a_cell_made_with_a_value_holds_it() {
    let cell = OnceCell::with_value(3u8);
    assert_eq!(cell.get(), Some(&3));
    assert!(cell.initialized());
    let shown = format!("{cell:?}");
    assert!(shown.starts_with("OnceCell"), "{shown}");
    assert!(shown.contains("Some(3)"), "{shown}");
    assert!(format!("{:?}", OnceCell::<u8>::new()).contains("None"));
}

/// `initialized` is false until a value is set, true after.
#[test]
fn initialized_follows_set() {
    let cell = OnceCell::new();
    assert!(!cell.initialized());
    cell.set(1).unwrap();
    assert!(cell.initialized());
}

/// `set` on a full cell fails and keeps the first value; `set` while an
/// initializer runs fails too, and the initializer's value wins.
#[test]
fn set_fails_on_a_full_cell_and_while_an_init_runs() {
    let engine = lwt::testing::VirtualEngine::new();
    let cell = std::rc::Rc::new(OnceCell::new());
    cell.set(1).unwrap();
    assert!(cell.set(2).unwrap_err().is_invalid_argument());
    assert_eq!(cell.get(), Some(&1));

    let cell = std::rc::Rc::new(OnceCell::<u8>::new());
    let (load, loaded) = lwt::wait::<u8>();
    let c = cell.clone();
    let init = lwt::spawn(async move { Ok(*c.get_or_init(|| load).await?) });
    assert!(
        cell.set(5).unwrap_err().is_invalid_argument(),
        "an initializer is running"
    );
    assert!(!cell.initialized());
    loaded.resolve(7).unwrap();
    assert_eq!(engine.run(&init).unwrap(), 7);
    assert_eq!(cell.get(), Some(&7));
}

/// `take` moves the value out and empties the cell; `into_inner` gives it.
#[test]
fn take_and_into_inner_give_the_value_back() {
    let mut cell = OnceCell::with_value(String::from("x"));
    assert_eq!(cell.take().as_deref(), Some("x"));
    assert!(cell.get().is_none());
    assert!(!cell.initialized());
    assert_eq!(cell.take(), None);
    cell.set(String::from("y")).unwrap();
    assert_eq!(cell.into_inner().as_deref(), Some("y"));
    assert_eq!(OnceCell::<u8>::new().into_inner(), None);
}

/// A pool's `Debug` output names its bound and its counts.
#[test]
fn a_pools_debug_shows_its_bound_and_counts() {
    let engine = lwt::testing::VirtualEngine::new();
    let pool = lwt::Pool::new(3, || lwt::Promise::resolved(1u8));
    let used = pool.use_(|x| lwt::Promise::resolved(x + 1));
    assert_eq!(engine.run(&used).unwrap(), 2);
    let shown = format!("{pool:?}");
    assert!(shown.starts_with("Pool"), "{shown}");
    for field in ["max: 3", "count: 1", "idle: 1", "waiters: 0"] {
        assert!(shown.contains(field), "{field} in {shown}");
    }
}
