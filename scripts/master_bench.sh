#!/usr/bin/env bash
# `regain master` speed on one 12-MP master (not part of `make test`): a 4000x3000 16-bit PQ P3
# TIFF made from the corpus Desk.exr (bilinear upscale), exported to the three default HEICs,
# against Debian's heif-enc (libheif + x265) encoding the same PQ pixels (16-bit PNG, cICP
# 12/16/0) three times, 10-bit 4:4:4 RGB, at quality 92 and at 100 (regain's PQ default).
# Wall time and peak RSS from /usr/bin/time. usage: scripts/master_bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CORPUS=../shared/corpus/hdr-source
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
"$BUILD/tests/master_check" make-master "$CORPUS/Desk.exr" "$TMP/m.tif" 4000 3000 "$TMP/m.png"
measure() {  # label command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; exit 1; }
  read -r secs kb < "$TMP/t"
  printf '%-34s %7.1f s  peak RSS %6.0f MiB\n' "$label" "$secs" "$((kb / 1024))"
  echo "$secs" > "$TMP/last"
}
measure "regain master (3 HEICs)" "$BUILD/regain" master "$TMP/m.tif" --out-dir "$TMP/out"
ours=$(cat "$TMP/last")
ls -l "$TMP/out" | awk 'NR>1 {printf "  %-40s %9d bytes\n", $9, $5}'
for q in 92 100; do
  heif() {
    for i in 1 2 3; do
      heif-enc -q "$q" -b 10 -p chroma=444 --matrix_coefficients 0 --colour_primaries 12 \
        --transfer_characteristic 16 --full_range_flag 1 "$TMP/m.png" -o "$TMP/h$i.heic" || return 1
    done
  }
  export -f heif; export q TMP
  measure "heif-enc x3 (q$q)" bash -c heif
  printf '  heif-enc output %d bytes each; ratio regain/heif-enc x3 = %.2f\n' "$(stat -c %s "$TMP/h1.heic")" \
    "$(awk -v a="$ours" -v b="$(cat "$TMP/last")" 'BEGIN {print a / b}')"
done
