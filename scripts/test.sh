#!/usr/bin/env bash
# The README's test command: installs dependencies, builds twice (Release with GCC, and
# ASan+UBSan with clang-14, whose tree also holds the libFuzzer harnesses), runs every test in
# both (browser/exiftool interop checks only in Release; each fuzz harness 30 s on its seeds
# in the sanitizer tree), and ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
export CCACHE_DIR="${CCACHE_DIR:-$PWD/.cache/ccache}"
JOBS="${JOBS:-$(nproc)}"

total_pass=0
total_fail=0
run_suite() {  # name build-dir cmake-args... ; ctest args in CTEST_ARGS
  local name=$1 dir=$2
  shift 2
  echo "=== $name: configure + build"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null || return 1
  cmake --build "$dir" -j "$JOBS" || return 1
  echo "=== $name: ctest"
  local log="$dir/ctest.log"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" $CTEST_ARGS) 2>&1 | tee "$log"
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
  local failed total
  failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
  if [ -z "$line" ]; then failed=1; total=1; fi
  total_pass=$((total_pass + total - failed))
  total_fail=$((total_fail + failed))
}

CTEST_ARGS="" run_suite "Release" build -DCMAKE_BUILD_TYPE=Release || total_fail=$((total_fail + 1))
CTEST_ARGS="-LE interop" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan_suppressions.txt" \
  run_suite "ASan+UBSan" build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREGAIN_SANITIZE=ON -DREGAIN_BENCH=OFF \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DREGAIN_FUZZ=ON \
  || total_fail=$((total_fail + 1))

echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
