#!/usr/bin/env bash
# Runs the conformance suite on the wasm engine (lwt-wasm), in Node and in
# headless Chromium: one test binary (tests/tests/wasm.rs), two runs.
# wasm-bindgen-test-runner runs it in Node by default and in the browser with
# WASM_BINDGEN_USE_BROWSER=1 (the binary has no wasm_bindgen_test_configure!).
# Needs: the wasm32-unknown-unknown target, wasm-bindgen-cli of the version
# in Cargo.lock (wasm-bindgen-test-runner), node, chromium and chromedriver
# (tests/tools.sh installs what is missing).
# Usage: tests/run-wasm.sh [--release] [test filter...]
# Each run's output is also kept in $WASM_LOG_DIR (default: target/wasm-logs)
# as node.log and chromium.log, for tests/run-all.sh to count the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/tools.sh
prepare_wasm_tests
logs="${WASM_LOG_DIR:-$(pwd)/target/wasm-logs}"
mkdir -p "$logs"

run() {
    local name=$1
    shift
    echo "== conformance suite on lwt-wasm in $name"
    cargo test -p lwt-conformance --target wasm32-unknown-unknown --test wasm "$@" 2>&1 |
        tee "$logs/$name.log"
}

run node "$@"
WASM_BINDGEN_USE_BROWSER=1 run chromium "$@"
