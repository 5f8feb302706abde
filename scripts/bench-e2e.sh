#!/usr/bin/env bash
# Whole commands as a user runs them, on 12-MP real photos (not part of `make test`): each
# command and its anchor alternately in the same run, RUNS times (default 3), median wall
# time and the largest peak RSS (/usr/bin/time). Prints a Markdown table for the README.
#
# Inputs: corpus files (../shared/corpus); the 12-MP "edited" PNGs (and one WebP) are made
# from them by tests/tools/master_check make-edit (crop, resize, a recoloured block), the 12-MP PQ master
# by master_check make-master. Anchors, each only where available (reported absent otherwise):
#   ULTRAHDR_APP  libultrahdr's ultrahdr_app (built locally; never part of this repo)
#   HEIF_ENC      libheif's heif-enc (default: Debian's, if installed)
#   HEIF_DEC      libheif's decoder to PNG (default: Debian's heif-convert, if installed)
# BIG_HEIC=FILE adds the 200-MP row (`decode --sdr` of a large HEIC to PNG); no such file is
# in the corpus (one can be made with master_check make-edit ... 16320 12240 and
# `regain process --format heic`).
# usage: scripts/bench-e2e.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-3}
CORPUS=../shared/corpus
R="$BUILD/regain"
ULTRAHDR_APP=${ULTRAHDR_APP:-}
HEIF_ENC=${HEIF_ENC:-$(command -v heif-enc || true)}
HEIF_DEC=${HEIF_DEC:-$(command -v heif-convert || true)}
for f in "$R" "$BUILD/tests/master_check" "$CORPUS/jpeg/pixel6pro_ultrahdr_01.jpg"; do
  [ -e "$f" ] || { echo "bench-e2e: missing $f (build first; the corpus sits beside the repo)" >&2; exit 2; }
done
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
PIXEL="$CORPUS/jpeg/pixel6pro_ultrahdr_01.jpg"       # 4080x3072 Ultra HDR, Display P3
IPHONE="$CORPUS/heif/iphone15promax_ios18_tmap.heic"  # 5712x4284, rotated, tmap + Apple map
IPHONE12="$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic"  # 4032x3024, rotated, tmap + Apple map
"$BUILD/tests/master_check" make-edit "$PIXEL" "$TMP/pixel_edit.png" 4000 3000
"$BUILD/tests/master_check" make-edit "$PIXEL" "$TMP/pixel_edit.webp" 4000 3000
"$BUILD/tests/master_check" make-edit "$PIXEL" "$TMP/pixel_cutout.png" 4000 3000 cutout
"$BUILD/tests/master_check" make-edit "$IPHONE" "$TMP/iphone_edit.png" 3024 4032
"$BUILD/tests/master_check" make-edit "$IPHONE12" "$TMP/iphone12_edit.png" 3024 4032
"$BUILD/tests/master_check" make-master "$CORPUS/hdr-source/Desk.exr" "$TMP/master.tif" 4000 3000

# run LABEL CMD... : one timed run, appends "secs kb" to $TMP/LABEL.
run() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || {
    echo "bench-e2e: '$label' failed:" >&2; cat "$TMP/err" >&2; exit 1; }
  cat "$TMP/t" >> "$TMP/$label.times"
}
# stats LABEL -> "median_s peak_MiB"
stats() {
  sort -n "$TMP/$1.times" | awk '{s[NR]=$1; if ($2>m) m=$2} END {printf "%.2f %d", (NR%2 ? s[(NR+1)/2] : (s[NR/2]+s[NR/2+1])/2), m/1024}'
}

ROWS=()
# row KEY "description" "regain command" ["anchor label" "anchor command"]
row() { ROWS+=("$1"); eval "DESC_$1=\"\$2\""; eval "CMD_$1=\"\$3\""; eval "ALAB_$1=\"\${4:-}\""; eval "ACMD_$1=\"\${5:-}\""; }

row pred "\`process --img\` 12-MP Display-P3 Ultra HDR JPEG (Predictive)" \
  "$R process --img $PIXEL --out $TMP/o1.jpg"
row predprev "the same with \`--previews\` (sRGB preview JPEG + map PNG)" \
  "$R process --img $PIXEL --out $TMP/o2.jpg --previews"
row predwebp "\`process --img edit.webp\` 12-MP WebP download (Predictive)" \
  "$R process --img $TMP/pixel_edit.webp --out $TMP/o12.jpg"
row predcut "\`process --img cutout.png\` 12-MP RGBA cut-out (a disc, 79 % transparent; Predictive)" \
  "$R process --img $TMP/pixel_cutout.png --out $TMP/o13.jpg"
row ref12 "\`process --img edit.png --ref\` 12-MP Ultra HDR original (Reference)" \
  "$R process --img $TMP/pixel_edit.png --ref $PIXEL --out $TMP/o3.jpg"
row refh12 "\`process --img edit.png --ref\` 12-MP iPhone HEIC original" \
  "$R process --img $TMP/iphone12_edit.png --ref $IPHONE12 --out $TMP/o10.jpg"
row refh12heic "the same with \`--format heic\`" \
  "$R process --img $TMP/iphone12_edit.png --ref $IPHONE12 --out $TMP/o11.heic --format heic"
row ref24 "\`process --img edit.png --ref\` 24-MP iPhone HEIC original, 12-MP edit" \
  "$R process --img $TMP/iphone_edit.png --ref $IPHONE --out $TMP/o4.jpg"
HEIF_ANCHOR=""
[ -n "$HEIF_ENC" ] && HEIF_ANCHOR="$HEIF_ENC -q 90 $TMP/iphone_edit.png -o $TMP/a5.heic"
row refheic "the same with \`--format heic\`" \
  "$R process --img $TMP/iphone_edit.png --ref $IPHONE --out $TMP/o5.heic --format heic" \
  "heif-enc -q 90 on the same PNG (no gain map)" "$HEIF_ANCHOR"
UHDR_ANCHOR=""
[ -n "$ULTRAHDR_APP" ] && UHDR_ANCHOR="$ULTRAHDR_APP -m 1 -j $PIXEL -o 0 -O 4 -z $TMP/a6.raw"
row dexr "\`decode\` 12-MP Ultra HDR -> EXR (half float)" \
  "$R decode $PIXEL --out $TMP/o6.exr" "libultrahdr ultrahdr_app decode to raw half float" "$UHDR_ANCHOR"
row dpng "\`decode\` -> 16-bit PQ PNG" "$R decode $PIXEL --out $TMP/o7.png"
row dtif "\`decode\` -> 16-bit PQ TIFF" "$R decode $PIXEL --out $TMP/o8.tif"
row master "\`master\` 12-MP PQ TIFF -> 3 HEICs (pq, pq-compat, gain map)" \
  "$R master $TMP/master.tif --out-dir $TMP/m"
if [ -n "${BIG_HEIC:-}" ]; then
  BIG_ANCHOR=""
  [ -n "$HEIF_DEC" ] && BIG_ANCHOR="$HEIF_DEC $BIG_HEIC $TMP/a9.png"
  row big "\`decode --sdr\` $(basename "$BIG_HEIC") -> PNG" "$R decode $BIG_HEIC --sdr --out $TMP/o9.png" \
    "libheif heif-convert to PNG" "$BIG_ANCHOR"
fi

for ((i = 1; i <= RUNS; ++i)); do
  for k in "${ROWS[@]}"; do
    eval "cmd=\$CMD_$k; acmd=\$ACMD_$k"
    rm -rf "$TMP/m"
    # shellcheck disable=SC2086
    run "$k" $cmd
    # shellcheck disable=SC2086
    [ -n "$acmd" ] && run "${k}_anchor" $acmd
  done
  echo "bench-e2e: pass $i/$RUNS done" >&2
done

echo "| command | regain s | peak MiB | anchor | anchor s | anchor MiB |"
echo "|---|---|---|---|---|---|"
for k in "${ROWS[@]}"; do
  eval "desc=\$DESC_$k; alab=\$ALAB_$k; acmd=\$ACMD_$k"
  read -r s m <<< "$(stats "$k")"
  if [ -n "$acmd" ]; then
    read -r as am <<< "$(stats "${k}_anchor")"
    echo "| $desc | $s | $m | $alab | $as | $am |"
  elif [ -n "$alab" ]; then
    echo "| $desc | $s | $m | $alab: not available here | | |"
  else
    echo "| $desc | $s | $m | | | |"
  fi
done
echo
echo "$RUNS runs each, median wall time, largest peak RSS; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
