# Sourced by the test and build scripts (tests/run-all.sh, tests/run-wasm.sh,
# wasm/run-tests.sh, www/build.sh, www/test.sh): installs what they need when
# it is missing, and skips what is present. Run from the workspace root.
#
#   ensure_wasm_target    the wasm32-unknown-unknown target
#   ensure_wasm_bindgen   wasm-bindgen-cli of exactly the version in Cargo.lock
#   ensure_chromium       Debian's chromium and chromium-driver
#   ensure_node           Node.js >= 20 and npm (checked: Debian's own is older)
#   wasm_test_env         what wasm-bindgen-test-runner needs, exported

export PATH="$HOME/.cargo/bin:$PATH"

tools_say() { echo "tools: $*" >&2; }

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        tools_say "installing the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
}

ensure_wasm_bindgen() {
    local want have
    want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
    if [ -z "$want" ]; then
        tools_say "no wasm-bindgen version in Cargo.lock"
        return 1
    fi
    have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
    if [ "$have" != "$want" ]; then
        tools_say "installing wasm-bindgen-cli $want (found: ${have:-none})"
        cargo install wasm-bindgen-cli --version "$want" --locked --force
    fi
}

ensure_chromium() {
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        tools_say "installing chromium and chromium-driver"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
    fi
}

ensure_node() {
    local major
    major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')
    if [ -z "$major" ] || [ "$major" -lt 20 ] || ! command -v npm >/dev/null; then
        tools_say "needs Node.js >= 20 with npm (found: $(node --version 2>/dev/null || echo none))"
        return 1
    fi
}

wasm_test_env() {
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
    export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
    export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
}
