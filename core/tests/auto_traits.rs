//! The threading rules are in the types: promises and resolvers stay on
//! their thread; what must cross threads (an error a loop returns, a wake-up)
//! is `Send`.
//!
//! `assert_not_send!` compiles only if the type is *not* `Send`: if it were,
//! the two blanket impls below would both apply and the call would be
//! ambiguous (the trick of futures-rs's `tests/auto_traits.rs`).

#![allow(dead_code)]

trait AmbiguousIfSend<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

trait AmbiguousIfSync<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

macro_rules! assert_not_send {
    ($t:ty) => {
        let _ = <$t as AmbiguousIfSend<_>>::some_item;
    };
}

macro_rules! assert_not_sync {
    ($t:ty) => {
        let _ = <$t as AmbiguousIfSync<_>>::some_item;
    };
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn promises_stay_on_their_thread() {
    assert_not_send!(lwt::Promise<u8>);
    assert_not_sync!(lwt::Promise<u8>);
    assert_not_send!(lwt::Resolver<u8>);
    assert_not_sync!(lwt::Resolver<u8>);
    assert_not_send!(lwt::Stream<u8>);
    assert_not_send!(lwt::testing::VirtualEngine);
}

#[test]
fn what_crosses_threads_is_send() {
    assert_send_sync::<lwt::engine::WakeHandle>();
    assert_send_sync::<lwt::Instant>();
    assert_send_sync::<lwt::engine::TimerId>();
    assert_send_sync::<lwt::Error>();
}
