#!/usr/bin/env bash
# Runs lwt-wasm's wasm tests in Node and in headless Chromium.
# Needs: the wasm32-unknown-unknown target, wasm-bindgen-cli 0.2.130
# (wasm-bindgen-test-runner), node, chromium and chromedriver.
# Usage: wasm/run-tests.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
    echo "installing wasm-bindgen-cli 0.2.130" >&2
    cargo install wasm-bindgen-cli --version 0.2.130 --locked
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
# A fresh browser profile each run, no sandbox (CI runs as root).
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"

echo "== lwt-wasm tests in Node"
cargo test -p lwt-wasm --target wasm32-unknown-unknown "$@" --test node
echo "== lwt-wasm tests in headless Chromium"
cargo test -p lwt-wasm --target wasm32-unknown-unknown "$@" --test browser
