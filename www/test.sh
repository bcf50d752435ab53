#!/usr/bin/env bash
# Tests the www app: its crates (native tests, on the virtual engine and on
# 127.0.0.1:0), clippy of the browser app for wasm32, then the end-to-end
# tests in headless Chromium (playwright-core, /usr/bin/chromium) against
# the real server on an ephemeral port. Screenshots and the server log go to
# www/e2e/artifacts/. Exits non-zero on any failure.
# Usage: bash www/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

source tests/tools.sh
ensure_chromium
ensure_node
# tests/run-all.sh sets WWW_E2E_ONLY: it ran these with the whole workspace.
if [ -z "${WWW_E2E_ONLY:-}" ]; then
    echo "== www: crate tests"
    cargo test -q -p lwt-www-shared -p lwt-www-server -p lwt-www-client -p lwt-www-app
fi
echo "== www: clippy of the browser app for wasm32"
cargo clippy -q -p lwt-www-app --target wasm32-unknown-unknown -- -D warnings
bash www/build.sh
echo "== www: end-to-end tests in headless Chromium"
cd www/e2e
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
rm -rf artifacts
node --test --test-concurrency=1
