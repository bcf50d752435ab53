//! The wasm tests, in Node (`wasm-bindgen-test-runner`'s default).
#![cfg(target_arch = "wasm32")]

pub mod common;
