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
source tests/tools.sh

step "toolchain: wasm32 target, clippy, rustfmt, wasm-bindgen-cli, chromium, node"
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
prepare_wasm_tests

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (host)"
cargo clippy --workspace --all-targets -- -D warnings

step "clippy (wasm32)"
# The core's library must build for wasm32; its tests and benches are native
# (proptest, criterion, tokio). The wasm crate's tests are wasm tests.
cargo clippy -p lwt --target wasm32-unknown-unknown --lib -- -D warnings
cargo clippy -p lwt-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings

step "docs (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "tests (native, virtual engine, doc tests)"
logs="$root/target/test-logs"
mkdir -p "$logs"
cargo test --workspace 2>&1 | tee "$logs/workspace.log"

# The conformance suite's bodies: every `pub async fn` in the modules listed
# in tests/build.rs's MODULES. Each engine must report at least that many
# tests (passed + ignored known failures; a failure already stopped us).
bodies=0
for m in $(sed -n '/^const MODULES/,/];/p' tests/build.rs | grep -o '"[a-z_]*"' | tr -d '"'); do
  bodies=$(( bodies + $(grep -c '^pub async fn ' "tests/src/$m.rs") ))
done
# check_engine NAME LOG [SECTION]: the "test result" line of LOG (or of the
# part of LOG after the line "Running SECTION") must count >= $bodies tests.
check_engine() {
  local name=$1 log=$2 section=${3:-} result
  if [ -n "$section" ]; then
    result=$(awk -v s="Running $section" 'index($0, s) {on = 1} on && /test result:/ {print; exit}' "$log")
  else
    result=$(grep -m1 'test result:' "$log" || true)
  fi
  local passed ignored
  passed=$(sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p' <<<"$result")
  ignored=$(sed -n 's/.* \([0-9][0-9]*\) ignored.*/\1/p' <<<"$result")
  passed=${passed:-0}
  ignored=${ignored:-0}
  echo "conformance on $name: $passed passed, $ignored ignored (known failures), $bodies bodies"
  if [ "$passed" -eq 0 ] || [ $(( passed + ignored )) -lt "$bodies" ]; then
    echo "FAIL: the $name engine reported fewer tests than the $bodies conformance bodies" >&2
    exit 1
  fi
}
check_engine virtual "$logs/workspace.log" tests/virtual.rs
check_engine native "$logs/workspace.log" tests/native.rs

step "conformance suite on wasm (Node and headless Chromium)"
WASM_LOG_DIR="$logs" bash tests/run-wasm.sh
check_engine wasm-node "$logs/node.log"
check_engine wasm-chromium "$logs/chromium.log"

step "wasm tests (Node and headless Chromium)"
bash wasm/run-tests.sh

step "www: wasm clippy, end-to-end tests in headless Chromium"
# The www crates' own tests already ran in `cargo test --workspace`.
WWW_E2E_ONLY=1 bash www/test.sh

step "done in $(( $(date +%s) - start ))s"
