//! The www browser app on lwt-wasm (being built).
