#!/usr/bin/env bash
# README command 1 as a fresh machine runs it: `npm run demo` with clang, lld, wasi-libc's
# compiler, binaryen's wasm-opt and nats-server hidden from PATH, the guests' build outputs
# removed and a new WARREN_HOME. The C guests then come from their committed builds. Fails
# unless the demo prints its line. (`npm ci` has run before: node_modules is there.)
set -euo pipefail
cd "$(dirname "$0")/.."
hidden=$(mktemp -d)
home=$(mktemp -d)
trap 'rm -rf "$hidden" "$home"' EXIT
mkdir "$hidden/bin"
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    name=$(basename "$f")
    case "$name" in clang* | *lld* | wasm-* | wasm2js | nats-server) continue ;; esac
    [ -e "$hidden/bin/$name" ] || ln -s "$f" "$hidden/bin/$name"
  done
done
if PATH="$hidden/bin" command -v clang >/dev/null; then echo "demo-without-toolchain: clang still on PATH" >&2; exit 1; fi
rm -rf fixtures/build examples/*/build
out=$(PATH="$hidden/bin" WARREN_HOME="$home" npm run --silent demo 2>&1) || { echo "$out" >&2; echo "demo-without-toolchain: npm run demo failed" >&2; exit 1; }
echo "$out" | tail -n 3
if ! grep -qx 'LET IT ALL OUT' <<<"$out"; then echo "demo-without-toolchain: the demo did not print LET IT ALL OUT" >&2; exit 1; fi
echo "demo-without-toolchain: ok (no clang, no wasm-ld, no wasm-opt, no nats-server on PATH)"
