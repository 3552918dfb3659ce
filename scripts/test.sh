#!/usr/bin/env bash
# README's test command: installs what is needed, builds, and runs the whole suite (unit and integration
# tests) under ctest, twice: as shipped (build/) and with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/); then a short fuzz run of every parser of untrusted text (scripts/fuzz.sh 10). As root, a
# skipped test is a failure: the integration tests need root and a full kernel, and a skip there would hide an
# untested product.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
# The demo's and the install's build (-O3): GCC warns there of things -O2 never shows, and -Werror makes them
# errors.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j2 --target nsrun
# -O1 -g1, ASan's usual level: several times faster to build than -O2 -g, with line numbers in every report.
cmake -S . -B build-asan -DNSRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
cmake --build build-asan -j2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
bash scripts/fuzz.sh 10 || status=$?
for dir in build build-asan; do
  echo "test.sh: ctest in $dir"
  ctest --test-dir "$dir" --output-on-failure --timeout 600 -j2 2>&1 | tee -a "$log" || status=$?
done
if [ "$(id -u)" = 0 ] && grep -q '(Skipped)' "$log"; then
  echo "test.sh: tests were skipped on a root machine; every test must run here:" >&2
  grep '(Skipped)' "$log" >&2
  exit 1
fi
exit "$status"
