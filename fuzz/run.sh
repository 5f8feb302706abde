#!/usr/bin/env bash
# Runs libFuzzer harnesses one after another: run.sh BIN_DIR SEEDS_DIR WORK_DIR SECONDS [HARNESS...]
# (all harnesses when none are named). The grown corpus and any crash inputs stay in WORK_DIR
# (outside the repository for `make fuzz`); seeds are read, never written. Prints one line per
# harness (executions, coverage, corpus) and exits non-zero if any harness found a crash,
# leak, timeout or out-of-memory.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=$1 seeds=$2 work=$3 seconds=$4
shift 4
all=(jpegr xmp exif iso21496 mpf heif_structure heif_pixels decode models cube_lut icc upload_form)
[ $# -gt 0 ] && harnesses=("$@") || harnesses=("${all[@]}")

seed_dirs() {  # harness -> seed folders made by make_seeds
  case $1 in
    heif_structure|heif_pixels) echo heif ;;
    decode) echo "decode jpegr" ;;
    *) echo "$1" ;;
  esac
}
dicts() {  # harness -> dictionary files in fuzz/dict
  case $1 in
    jpegr) echo "jpeg.dict xmp.dict" ;;
    xmp) echo "xmp.dict" ;;
    exif|mpf) echo "tiff.dict" ;;
    heif_structure|heif_pixels) echo "heif.dict" ;;
    decode) echo "jpeg.dict heif.dict tiff.dict" ;;
    cube_lut) echo "cube.dict" ;;
  esac
}

failed=0
for h in "${harnesses[@]}"; do
  exe="$bin/fuzz_$h"
  [ -x "$exe" ] || { echo "fuzz $h: no harness at $exe"; failed=1; continue; }
  corpus="$work/corpus/$h" artifacts="$work/artifacts/$h" log="$work/logs/$h.log"
  mkdir -p "$corpus" "$artifacts" "$work/logs"
  inputs=("$corpus")
  for s in $(seed_dirs "$h"); do
    [ -d "$seeds/$s" ] && inputs+=("$seeds/$s")
  done
  dict_args=()
  d=$(dicts "$h")
  if [ -n "$d" ]; then
    (cd "$here/dict" && cat $d) > "$work/$h.dict"
    dict_args=(-dict="$work/$h.dict")
  fi
  LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/../tests/lsan_suppressions.txt}" \
  "$exe" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict_args[@]}" "${inputs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+')
  if [ $rc -ne 0 ]; then
    failed=1
    echo "fuzz $h: FAILED (exit $rc) after ${execs:-?} executions; log $log"
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -20
  else
    echo "fuzz $h: ok ${seconds}s, ${execs:-?} executions, cov ${cov:-?}, features ${ft:-?}, corpus ${corp:-?}"
  fi
done
exit $failed
