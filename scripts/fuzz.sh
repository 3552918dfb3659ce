#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 10) from the seed
# corpus in tests/fuzz/corpus/. A longer run: bash scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DNSRUN_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(fuzz_command_line fuzz_config_file fuzz_values fuzz_seccomp_profile fuzz_seccomp_json fuzz_resolv_conf
         fuzz_interface_record fuzz_sandbox_record)
cmake --build build-fuzz -j2 --target "${targets[@]}"
for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target
  mkdir -p "$corpus"
  seeds=tests/fuzz/corpus/$target
  echo "fuzz: $target for ${seconds}s"
  build-fuzz/tests/fuzz/$target -artifact_prefix=build-fuzz/ -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    "$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | grep -E '^#[0-9]+ +(DONE|INITED)|ERROR|SUMMARY' || true
  # libFuzzer writes crash-*/leak-*/timeout-*/oom-* files for anything it finds.
  shopt -s nullglob
  found=(build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* build-fuzz/oom-*)
  shopt -u nullglob
  if ((${#found[@]})); then
    echo "fuzz: $target found a fault (reproduce: build-fuzz/tests/fuzz/$target FILE):" >&2
    printf '  %s\n' "${found[@]}" >&2
    exit 1
  fi
done
echo "fuzz: no fault found"
