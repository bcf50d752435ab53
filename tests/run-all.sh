#!/usr/bin/env bash
# Every check CI makes, from a fresh clone: installs what is missing (and skips
# what is present), then formatting, lints, docs, the native tests and the wasm
# tests. Run from anywhere: `bash tests/run-all.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

export CARGO_TERM_COLOR=never
export PATH="$HOME/.cargo/bin:$PATH"

step "toolchain: wasm32 target"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock || true)
if [ -n "$wb_version" ]; then
  step "toolchain: wasm-bindgen-cli $wb_version"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
    cargo install wasm-bindgen-cli --version "$wb_version" --force
  fi
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "toolchain: chromium and chromedriver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
  fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (host)"
cargo clippy --workspace --all-targets -- -D warnings

step "clippy (wasm32)"
# The core's library must build for wasm32; its tests and benches are native
# (proptest, criterion, tokio). The wasm crate's tests are wasm tests.
cargo clippy -p lwt --target wasm32-unknown-unknown --lib -- -D warnings
if [ -f wasm/Cargo.toml ]; then
  cargo clippy -p lwt-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings
fi

step "docs (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "tests (native, virtual engine, doc tests)"
cargo test --workspace

if [ -x wasm/run-tests.sh ] || [ -f wasm/run-tests.sh ]; then
  step "wasm tests (Node and headless Chromium)"
  bash wasm/run-tests.sh
fi

step "done in $(( $(date +%s) - start ))s"
