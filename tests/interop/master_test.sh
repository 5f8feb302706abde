#!/usr/bin/env bash
# `regain master` as independent readers see it. Masters: 16-bit PQ P3 TIFFs made here from
# the corpus EXRs, the corpus HLG PNG, and one junk file that must be reported and skipped.
#  - the three seed-named HEICs exist and Debian's heif-convert decodes them; the PQ HEICs
#    decode to the master's 10-bit PQ codes (master_check pq-codes);
#  - the gain-map HEIC/JPEG reproduce the master at full headroom (< 0.1 stop, regain's decoder);
#  - exiftool shows both ICC descriptions and the Apple gain-map aux image;
#  - Chromium applies the gain map of the JPEG_R and AVIF exports (shared probe);
#  - the gallery loads in headless Chromium with every row, no broken image and no stacking
#    context around the HDR <img> elements (screenshot kept as gallery.png).
set -u
BIN=$1; CHECK=$2; CORPUS=$3; PROBE=$4; BROWSER_DIR=$5; TMP=$6
rm -rf "$TMP"; mkdir -p "$TMP/in"
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

"$CHECK" make-master "$CORPUS/hdr-source/Desk.exr" "$TMP/in/Desk.tif" 0 0 || { echo "FAIL: make Desk master"; exit 1; }
"$CHECK" make-master "$CORPUS/hdr-source/StillLife.exr" "$TMP/in/StillLife.tif" 0 0 || { echo "FAIL: make StillLife master"; exit 1; }
cp "$CORPUS/hdr-source/hdr_room_bt2020_hlg16.png" "$TMP/in/room_hlg.png"
head -c 5000 /dev/urandom > "$TMP/in/junk.tif"

"$BIN" master "$TMP/in" --exports pq,pq-compat,gainmap,jpeg,avif --gallery --jobs 2 --json \
  > "$TMP/master.json" 2> "$TMP/master.log"
rc=$?
cat "$TMP/master.log"
OUT="$TMP/in/converted"
check "exit code 1 for a batch with one bad file (got $rc)" '[ $rc -eq 1 ]'
check "junk reported" 'grep -q "junk.tif: FAILED" "$TMP/master.log"'
check "summary line" 'grep -q "mastered 4 file(s): 3 ok, 1 failed" "$TMP/master.log"'
check "no output for junk" '! ls "$OUT" | grep -q "^junk"'
check "no temporary files left" '! ls -a "$OUT" | grep -qi "tmp"'

for s in Desk StillLife room_hlg; do
  for p in HDR_P3_D65_ST2084.heic P3_PQ.heic HDR_gain_map.heic HDR_gain_map.jpg HDR_gain_map.avif; do
    check "$s: ${s}_$p exists" '[ -s "$OUT/${s}_$p" ]'
  done
  for p in HDR_P3_D65_ST2084 P3_PQ HDR_gain_map; do
    check "$s: heif-convert decodes ${s}_$p.heic" 'heif-convert "$OUT/${s}_$p.heic" "$TMP/${s}_$p.png" >/dev/null 2>&1'
  done
  # exiftool: ICC description of each profile, the Apple aux image and its headroom.
  exiftool -G1 -a -s "$OUT/${s}_HDR_P3_D65_ST2084.heic" > "$TMP/${s}_pq.txt"
  exiftool -G1 -a -s "$OUT/${s}_P3_PQ.heic" > "$TMP/${s}_compat.txt"
  exiftool -G1 -a -s "$OUT/${s}_HDR_gain_map.heic" > "$TMP/${s}_gm.txt"
  check "$s: exiftool ICC HDR_P3_D65_ST2084" 'grep -q "ProfileDescription *: HDR_P3_D65_ST2084" "$TMP/${s}_pq.txt"'
  check "$s: exiftool ICC P3_PQ" 'grep -q "ProfileDescription *: P3_PQ" "$TMP/${s}_compat.txt"'
  check "$s: exiftool ICC version 4.3 / 2.4" 'grep -q "ProfileVersion *: 4.3" "$TMP/${s}_pq.txt" && grep -q "ProfileVersion *: 2.4" "$TMP/${s}_compat.txt"'
  check "$s: exiftool nclx PQ P3" 'grep -q "TransferCharacteristics *: SMPTE ST 2084" "$TMP/${s}_pq.txt" && grep -q "ColorPrimaries *: P3 (D65)\|ColorPrimaries *: SMPTE EG 432-1" "$TMP/${s}_pq.txt"'
  check "$s: exiftool Apple aux image" 'grep -q "AuxiliaryImageType *: urn:com:apple:photo:2020:aux:hdrgainmap" "$TMP/${s}_gm.txt"'
  check "$s: exiftool HDRGainMapHeadroom" 'grep -q "HDRGainMapHeadroom" "$TMP/${s}_gm.txt"'
  check "$s: exiftool no warnings" '! grep -qi "warning" "$TMP/${s}_pq.txt" "$TMP/${s}_compat.txt" "$TMP/${s}_gm.txt"'
  # Pixels: PQ codes through heif-convert, gain-map round trip through regain's decoder.
  master="$TMP/in/$s.tif"; [ "$s" = room_hlg ] && master="$TMP/in/room_hlg.png"
  if [ "$s" != room_hlg ]; then
    for p in HDR_P3_D65_ST2084 P3_PQ; do
      line=$("$CHECK" pq-codes "$master" "$TMP/${s}_$p.png" "$p"); r=$?
      echo "$s $p heif-convert: $line"
      check "$s: ${p}.heic PQ codes within 10-bit coding error" '[ $r -eq 0 ]'
    done
  fi
  for p in HDR_gain_map.heic HDR_gain_map.jpg HDR_gain_map.avif; do
    line=$("$CHECK" log2-error "$master" "$OUT/${s}_$p"); r=$?
    echo "$s $p: $line"
    check "$s: $p reproduces the master within 0.1 stop" '[ $r -eq 0 ]'
  done
done

# CLI edges: bad options and bad single inputs give clear errors and leave no files.
mkdir -p "$TMP/edge"
printf 'LUT_3D_SIZE 2\n0 0 0\n1 nan 0\n' > "$TMP/edge/bad.cube"
"$BIN" master "$TMP/in/Desk.tif" --lut "$TMP/edge/bad.cube" --out-dir "$TMP/edge/out" 2> "$TMP/edge/lut.err"; r=$?
check "hostile LUT: exit 3 (got $r)" '[ $r -eq 3 ]'
check "hostile LUT: message names the line" 'grep -q "line" "$TMP/edge/lut.err"'
check "hostile LUT: no outputs" '[ ! -e "$TMP/edge/out" ]'
"$BIN" master "$TMP/in/Desk.tif" --exports pq,bogus --out-dir "$TMP/edge/out" 2>/dev/null; r=$?
check "unknown export: exit 3 (got $r)" '[ $r -eq 3 ]'
"$BIN" master "$TMP/in/junk.tif" --out-dir "$TMP/edge/out" 2>/dev/null; r=$?
check "single junk input: exit 4 (got $r)" '[ $r -eq 4 ]'
check "single junk input: no outputs" '[ -z "$(ls -A "$TMP/edge/out" 2>/dev/null)" ]'
"$BIN" master "$TMP/in/Desk.tif" --no-label --exports gainmap --out-dir "$TMP/edge/nolabel" 2>/dev/null; r=$?
check "--no-label run (got $r)" '[ $r -eq 0 ] && [ -s "$TMP/edge/nolabel/Desk_HDR_gain_map.heic" ]'

# Gallery files.
check "index.html" '[ -s "$OUT/index.html" ]'
check "README.md" '[ -s "$OUT/README.md" ]'
check "previews (5 exports, the gain map and the where-HDR overlay for 3 masters)" '[ "$(ls "$OUT/previews" | wc -l)" -eq 21 ]'

cd "$BROWSER_DIR" || exit 1
# Chromium applies the gain maps of the JPEG_R and AVIF exports.
files=("$OUT/Desk_HDR_gain_map.jpg" "$OUT/Desk_HDR_gain_map.avif" "$OUT/StillLife_HDR_gain_map.jpg"
       "$OUT/StillLife_HDR_gain_map.avif" "$OUT/room_hlg_HDR_gain_map.jpg" "$OUT/room_hlg_HDR_gain_map.avif")
timeout 300 node "$PROBE" "${files[@]}" > "$TMP/probe.jsonl"
prc=$?
if [ $prc -eq 2 ]; then echo "FAIL: this Chromium lacks the HDR canvas API (cannot verify)"; fail=$((fail + 1)); fi
cat "$TMP/probe.jsonl"
for f in "${files[@]}"; do
  got=$(grep -F "/$(basename "$f")\"" "$TMP/probe.jsonl" | head -1 | sed -E 's/.*"applied": *([a-z]+).*/\1/')
  check "Chromium applies the gain map of $(basename "$f") (got $got)" '[ "$got" = true ]'
done
# The gallery page in Chromium: every row, every image, no stacking context; screenshot.
g=$(timeout 300 node gallery_check.mjs "$OUT/index.html" "$TMP/gallery.png"); grc=$?
echo "gallery: $g"
check "gallery loads without broken images or stacking contexts" '[ $grc -eq 0 ]'
check "gallery has 4 rows (1 failed)" 'echo "$g" | grep -q "\"rows\":4,\"failed_rows\":1"'
check "gallery shows 6 HDR <img>" 'echo "$g" | grep -q "\"hdr_images\":6"'
check "gallery screenshot" '[ -s "$TMP/gallery.png" ]'

echo "master interop: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
