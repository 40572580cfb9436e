#!/usr/bin/env bash
# README command 2, and exactly what CI runs (.ci/run): on a machine as it boots (Node, npm,
# python3, make, g++), installs what the tests need from Debian's packages (as root, or through
# sudo), then `npm ci`, the demo with the C toolchain hidden, and `npm test`.
#   clang lld wasi-libc libclang-rt-dev-wasm32: rebuild the C guests and check they give the
#     committed bytes (CI=true); nats-server: cluster tests;
#     chromium: the web console's end-to-end tests (playwright-core drives /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v clang >/dev/null || need+=(clang lld)
[ -e /usr/share/wasi-sysroot ] || [ -e /usr/lib/wasi-libc ] || need+=(wasi-libc)
dpkg -s libclang-rt-dev-wasm32 >/dev/null 2>&1 || need+=(libclang-rt-dev-wasm32)
command -v nats-server >/dev/null || need+=(nats-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
# node-gyp (native addons: better-sqlite3, native/warren_fs.c) needs a C/C++ toolchain and python3.
{ command -v make && command -v cc && command -v c++ && command -v python3; } >/dev/null || need+=(build-essential python3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "fresh-test: missing Debian packages ${need[*]}, and neither root nor sudo to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "${need[@]}"
fi
npm ci
bash scripts/demo-without-toolchain.sh
npm test
