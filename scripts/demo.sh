#!/usr/bin/env bash
# The README's demo: generate the bundled synthetic scenes and run the main jobs on them,
# writing everything under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/regain}
OUT=${2:-out}
mkdir -p "$OUT"
"$BIN" samples --out "$OUT/samples"
for scene in sunset interior night; do
  "$BIN" encode --sdr "$OUT/samples/${scene}_sdr.jpg" --hdr "$OUT/samples/${scene}_hdr.exr" --out "$OUT/${scene}_ultrahdr.jpg"
  "$BIN" inspect "$OUT/${scene}_ultrahdr.jpg" | head -3
  "$BIN" decode "$OUT/${scene}_ultrahdr.jpg" --out "$OUT/${scene}_decoded.exr"
  "$BIN" decode "$OUT/${scene}_ultrahdr.jpg" --out "$OUT/${scene}_decoded_pq.png"
  "$BIN" extract "$OUT/${scene}_ultrahdr.jpg" --out "$OUT/extract" >/dev/null
done
echo "demo outputs are in $OUT/"
