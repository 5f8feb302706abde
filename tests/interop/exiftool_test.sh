#!/usr/bin/env bash
# Our JPEG_R output as exiftool (an independent parser) sees it: MPF, XMP-hdrgm, GContainer.
set -u
BIN=$1; TMP=$2
rm -rf "$TMP"; mkdir -p "$TMP"
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
"$BIN" samples --out "$TMP" --width 640 --height 480 >/dev/null || { echo "FAIL: samples"; exit 1; }
for f in "$TMP"/sunset_ultrahdr.jpg "$TMP"/night_ultrahdr.jpg; do
  exiftool -G1 -a -s "$f" > "$TMP/tags.txt"
  exiftool -G1 -a -s -ee "$f" > "$TMP/tags_ee.txt"
  get() { grep -E "^\[$1\] +$2 " "$3" | head -1 | sed -E 's/.*: //'; }
  n=$(basename "$f")
  check "$n MPF NumberOfImages" '[ "$(get MPF0 NumberOfImages "$TMP/tags.txt")" = 2 ]'
  check "$n XMP-hdrgm Version" '[ "$(get XMP-hdrgm Version "$TMP/tags.txt")" = 1.0 ]'
  check "$n GContainer GainMap item" 'grep -q "DirectoryItemSemantic *: GainMap" "$TMP/tags.txt"'
  len=$(grep -E "DirectoryItemLength" "$TMP/tags.txt" | sed -E 's/.*: //')
  check "$n Item:Length = MPImage2 length" '[ "$len" = "$(get MPImage2 MPImageLength "$TMP/tags.txt")" ]'
  check "$n MPImage2 start = primary length" '[ "$(get MPImage2 MPImageStart "$TMP/tags.txt")" = "$(get MPImage1 MPImageLength "$TMP/tags.txt")" ]'
  check "$n gain-map hdrgm GainMapMax (-ee)" 'grep -q "XMP-hdrgm\] *GainMapMax" "$TMP/tags_ee.txt"'
  check "$n ICC profile" 'grep -q "ProfileDescription" "$TMP/tags.txt"'
  check "$n no exiftool warnings" '! grep -qi "warning" "$TMP/tags.txt"'
done
# HEIC with gain map: the Apple auxiliary image and its HDRGainMap XMP, as exiftool reads them.
"$BIN" process --img "$TMP/sunset_sdr.jpg" --ref "$TMP/sunset_ultrahdr.jpg" --format heic --out "$TMP/sunset.heic" >/dev/null 2>&1
exiftool -G1 -a -s "$TMP/sunset.heic" > "$TMP/heic.txt"
check "heic aux type" 'grep -q "AuxiliaryImageType *: urn:com:apple:photo:2020:aux:hdrgainmap" "$TMP/heic.txt"'
check "heic HDRGainMapVersion" 'grep -q "XMP-HDRGainMap\] *HDRGainMapVersion *: 131072" "$TMP/heic.txt"'
check "heic HDRGainMapHeadroom" 'grep -q "XMP-HDRGainMap\] *HDRGainMapHeadroom" "$TMP/heic.txt"'
check "heic ICC profile" 'grep -q "ProfileDescription" "$TMP/heic.txt"'
check "heic no exiftool warnings" '! grep -qi "warning" "$TMP/heic.txt"'
check "heif-convert decodes our heic" 'heif-convert "$TMP/sunset.heic" "$TMP/sunset_heic.png" >/dev/null 2>&1'
echo "exiftool: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
