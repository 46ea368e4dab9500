#!/usr/bin/env bash
# Installs the system packages the project needs, on Debian or Ubuntu, as
# root (or with sudo). Installs only what is missing.
#
#   scripts/install-prerequisites.sh         what `cargo test --locked` needs
#   scripts/install-prerequisites.sh --all   also what CI's other checks need
#                                            (image build, load benchmark)
#
# Rust (rustup), Go, Python 3 and Node.js are assumed: see README.md.
# CI (.ci/run) runs this same script, so a test that needs a package not
# listed here fails CI on a fresh machine.
set -euo pipefail

# command → package, for `cargo test`: a real Redis (built with TLS, as
# Debian's is) and Sentinel, which the tests start on free ports; curl, the
# HTTP client the protocol tests use; Chromium and its WebDriver, for the
# web page's tests in a real headless browser.
tests=(redis-server:redis-server redis-sentinel:redis-sentinel curl:curl
  chromium:chromium chromedriver:chromium-driver)
# CI's other checks: the container image (podman, buildah, runc), the
# static musl build, h2load for the load benchmark.
rest=(podman:podman buildah:buildah runc:runc musl-gcc:musl-tools h2load:nghttp2-client)

wanted=("${tests[@]}")
case "${1:-}" in
  --all) wanted+=("${rest[@]}") ;;
  "") ;;
  *) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac

missing=()
for pair in "${wanted[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]} == 0)); then
  echo "prerequisites: all packages present"
else
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "prerequisites: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "prerequisites: installed ${missing[*]}"
fi

# axe-core, which the page's browser test injects to check accessibility:
# the version and digest in tests/web/package-lock.json (npm, from Node.js).
web="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
if [ ! -f "$web/node_modules/axe-core/axe.min.js" ]; then
  echo "prerequisites: npm ci in tests/web (axe-core)"
  npm ci --prefix "$web" --no-audit --no-fund --silent
fi
echo "prerequisites: axe-core $(node -p "require('$web/node_modules/axe-core/package.json').version")"
