#!/usr/bin/env bash
# README's test command: installs what is needed, builds, and runs the whole suite (unit and integration
# tests) under ctest. As root, a skipped test is a failure: the integration tests need root and a full kernel,
# and a skip there would hide an untested product.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ctest --test-dir build --output-on-failure --timeout 600 -j2 2>&1 | tee "$log" || status=$?
if [ "$(id -u)" = 0 ] && grep -q '(Skipped)' "$log"; then
  echo "test.sh: tests were skipped on a root machine; every test must run here:" >&2
  grep '(Skipped)' "$log" >&2
  exit 1
fi
exit "$status"
