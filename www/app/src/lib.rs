//! The www browser app, on `lwt-wasm`: a chat room with presence that runs
//! the shared client logic (`lwt-www-shared`), a promise lab, and an
//! in-browser benchmark. The pages (`www/static/*.html`) are plain HTML and
//! a little JS that renders; the promises are all here.
//!
//! # Ground rules
//!
//! 1. **Chat** ([`ChatApp`]): the shared [`lwt_www_shared::Client`] over the
//!    browser's `WebSocket` (`BrowserConnector`). Events reach the page as
//!    JSON strings through one JS callback.
//! 2. **Lab** ([`Lab`]): the user makes promises (sleeps, fetches, clicks),
//!    races them (`pick`, `choose`), bounds them (`with_timeout`) and
//!    cancels them; [`Lab::snapshot`] reports each one's state and the
//!    engine resources held (`lwt_wasm::stats`, fetches in flight).
//! 3. **Bench** ([`bench_lwt_chain`], ...): promise chains timed in the
//!    page against JS promises and wasm-bindgen-futures.
//! 4. The crate builds on the host too (so the workspace's `cargo test` and
//!    `clippy` cover it); calling it off wasm32 panics, like `lwt-wasm`.

#![forbid(unsafe_code)]

mod bench;
mod chat;
mod lab;

pub use bench::{bench_lwt_async_chain, bench_lwt_chain, bench_wbf_chain};
pub use chat::{ChatApp, DelayRequest};
pub use lab::Lab;
