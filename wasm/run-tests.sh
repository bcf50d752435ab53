#!/usr/bin/env bash
# Runs lwt-wasm's wasm tests in Node and in headless Chromium.
# Installs what is missing (tests/tools.sh): the wasm32-unknown-unknown
# target, wasm-bindgen-cli of the version in Cargo.lock, chromium and
# chromedriver, Node.js >= 20.
# Usage: wasm/run-tests.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/tools.sh
prepare_wasm_tests

echo "== lwt-wasm tests in Node"
cargo test -p lwt-wasm --target wasm32-unknown-unknown "$@" --test node
echo "== lwt-wasm tests in headless Chromium"
cargo test -p lwt-wasm --target wasm32-unknown-unknown "$@" --test browser
