#!/usr/bin/env bash
# Builds the benchmark apps (release, wasm32), reports the .wasm sizes of the
# two minimal apps (wasm-opt -Oz when available, gzipped), and runs the
# in-browser harness in headless Chromium. Needs wasm-bindgen 0.2.130, node,
# /usr/bin/chromium; npm installs playwright-core here (no browser download).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --target wasm32-unknown-unknown -p harness
cargo build --profile size --target wasm32-unknown-unknown -p app-lwt -p app-wbf
wasm-bindgen --target web --out-dir pkg/harness target/wasm32-unknown-unknown/release/harness.wasm
for app in app_lwt app_wbf; do
    wasm-bindgen --target web --out-dir "pkg/${app//_/-}" "target/wasm32-unknown-unknown/size/$app.wasm"
done
echo "== minimal app sizes (bytes)"
for app in app_lwt app_wbf; do
    wasm="pkg/${app//_/-}/${app}_bg.wasm"
    if command -v wasm-opt >/dev/null 2>&1; then
        wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue "$wasm" -o "$wasm.opt"
        opt="$wasm.opt"
    else
        echo "(wasm-opt not found: sizes are before wasm-opt)"
        opt="$wasm"
    fi
    echo "$app: raw $(wc -c <"$wasm") opt $(wc -c <"$opt") gzip $(gzip -9 -c "$opt" | wc -c)"
done
[ -d node_modules/playwright-core ] || npm install --no-audit --no-fund
echo "== in-browser harness"
node bench.mjs
