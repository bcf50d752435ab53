#!/usr/bin/env bash
# Builds the www app: installs what is missing (the wasm32 target, the
# wasm-bindgen CLI of the version in Cargo.lock), builds the browser app
# (wasm32, release) into www/dist with the static pages, and builds the
# server and the CLI client (release). Idempotent; prints what it does.
# Usage: www/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target_dir=${CARGO_TARGET_DIR:-$root/target}
dist=$root/www/dist

say() { echo "www: $*" >&2; }

command -v cargo >/dev/null || { say "cargo is missing: install Rust from rustup first"; exit 1; }
source tests/tools.sh
ensure_wasm_target
ensure_wasm_bindgen

say "building the browser app (wasm32, release)"
cargo build -q -p lwt-www-app --target wasm32-unknown-unknown --release
rm -rf "$dist"
mkdir -p "$dist/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$dist/pkg" \
    "$target_dir/wasm32-unknown-unknown/release/lwt_www_app.wasm"
cp "$root"/www/static/* "$dist/"
say "app: $(wc -c <"$dist/pkg/lwt_www_app_bg.wasm") bytes of wasm in $dist"

say "building the server and the CLI client (release)"
cargo build -q --release -p lwt-www-server -p lwt-www-client
