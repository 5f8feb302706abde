#!/usr/bin/env bash
# A real headless Chromium must apply the gain map of our output and of `regain repair`
# output, and must not for plain JPEGs. Uses the shared probe (shared/docs/chromium-gainmap-probe.md).
set -u
BIN=$1; CORPUS=$2; PROBE=$3; BROWSER_DIR=$4; TMP=$5; CHECK=$6
rm -rf "$TMP"; mkdir -p "$TMP"
[ -f "$PROBE" ] || { echo "FAIL: probe missing at $PROBE"; exit 1; }
"$BIN" samples --out "$TMP" --width 640 --height 480 >/dev/null || { echo "FAIL: samples"; exit 1; }
"$BIN" repair "$CORPUS/edited-pair/peer_pipeline_output.jpg" --out "$TMP/peer_fixed.jpg" >/dev/null || { echo "FAIL: repair"; exit 1; }
"$BIN" repair "$CORPUS/edited-pair/original_iphone15promax.jpg" --out "$TMP/iphone_repaired.jpg" >/dev/null || { echo "FAIL: repair iphone"; exit 1; }
"$BIN" repair "$CORPUS/jpeg/apple_gainmap_old.jpg" --out "$TMP/apple_old_repaired.jpg" >/dev/null || { echo "FAIL: repair apple"; exit 1; }
"$BIN" process --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --out "$TMP/edited_predictive.jpg" >/dev/null 2>&1 || { echo "FAIL: process"; exit 1; }
"$BIN" process --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --ref "$CORPUS/edited-pair/original_iphone15promax.jpg" --out "$TMP/edited_reference.jpg" >/dev/null 2>&1 || { echo "FAIL: process --ref"; exit 1; }
"$BIN" process --img "$TMP/sunset_sdr.jpg" --ref "$TMP/sunset_ultrahdr.jpg" --format avif --out "$TMP/sunset_reference.avif" >/dev/null 2>&1 || { echo "FAIL: process --format avif"; exit 1; }
"$BIN" encode --sdr "$TMP/night_sdr.jpg" --hdr "$TMP/night_hdr.exr" --no-xmp --out "$TMP/night_iso_only.jpg" >/dev/null
"$BIN" encode --sdr "$TMP/night_sdr.jpg" --hdr "$TMP/night_hdr.exr" --no-iso --out "$TMP/night_xmp_only.jpg" >/dev/null
# A black-and-white edit (a one-component JPEG) of the iPhone HEIC, in Predictive and in
# Reference mode: its base is re-packed as YCbCr, and the map must still be applied.
"$CHECK" make-edit "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" "$TMP/bw_edit.jpg" 600 800 gray || { echo "FAIL: make-edit gray"; exit 1; }
"$BIN" process --img "$TMP/bw_edit.jpg" --out "$TMP/bw_predictive.jpg" >/dev/null 2>&1 || { echo "FAIL: process gray"; exit 1; }
"$BIN" process --img "$TMP/bw_edit.jpg" --ref "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" --out "$TMP/bw_reference.jpg" >/dev/null 2>&1 || { echo "FAIL: process gray --ref"; exit 1; }
# A WebP edit (as downloads and AI tools hand them out) of the same HEIC, both modes.
"$CHECK" make-edit "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" "$TMP/webp_edit.webp" 600 800 || { echo "FAIL: make-edit webp"; exit 1; }
"$BIN" process --img "$TMP/webp_edit.webp" --out "$TMP/webp_predictive.jpg" >/dev/null 2>&1 || { echo "FAIL: process webp"; exit 1; }
"$BIN" process --img "$TMP/webp_edit.webp" --ref "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" --out "$TMP/webp_reference.jpg" >/dev/null 2>&1 || { echo "FAIL: process webp --ref"; exit 1; }
# A cut-out (RGBA PNG, a disc on a transparent background, 21 % of the frame): flattened onto
# white, and the map must light only the disc, not the white around it.
"$CHECK" make-edit "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" "$TMP/cutout_edit.png" 600 800 cutout || { echo "FAIL: make-edit cutout"; exit 1; }
"$BIN" process --img "$TMP/cutout_edit.png" --out "$TMP/cutout_predictive.jpg" >/dev/null 2>&1 || { echo "FAIL: process cutout"; exit 1; }
"$BIN" process --img "$TMP/cutout_edit.png" --ref "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" --out "$TMP/cutout_reference.jpg" >/dev/null 2>&1 || { echo "FAIL: process cutout --ref"; exit 1; }
cd "$BROWSER_DIR" || exit 1
files=("$TMP/sunset_ultrahdr.jpg" "$TMP/interior_ultrahdr.jpg" "$TMP/night_iso_only.jpg" "$TMP/night_xmp_only.jpg"
       "$TMP/peer_fixed.jpg" "$TMP/iphone_repaired.jpg" "$TMP/apple_old_repaired.jpg" "$TMP/edited_predictive.jpg" "$TMP/edited_reference.jpg"
       "$TMP/sunset_reference.avif" "$CORPUS/heif/seine_sdr_gainmap_srgb.avif"
       "$TMP/bw_predictive.jpg" "$TMP/bw_reference.jpg" "$TMP/webp_predictive.jpg" "$TMP/webp_reference.jpg"
       "$TMP/cutout_predictive.jpg" "$TMP/cutout_reference.jpg"
       "$CORPUS/edited-pair/peer_pipeline_output.jpg" "$TMP/sunset_sdr.jpg")
want=(true true true true true true true true true true true true true true true true true false false)
timeout 300 node "$PROBE" "${files[@]}" > "$TMP/probe.jsonl"
rc=$?
if [ $rc -eq 2 ]; then echo "FAIL: this Chromium lacks the HDR canvas API (cannot verify)"; exit 1; fi
pass=0; fail=0
for i in "${!files[@]}"; do
  got=$(grep -F "\"$(basename "${files[$i]}")\"" "$TMP/probe.jsonl" | head -1 | sed -E 's/.*"applied": *([a-z]+).*/\1/')
  [ -z "$got" ] && got=$(sed -n "$((i + 1))p" "$TMP/probe.jsonl" | sed -E 's/.*"applied": *([a-z]+).*/\1/')
  if [ "$got" = "${want[$i]}" ]; then pass=$((pass + 1)); else echo "FAIL: $(basename "${files[$i]}") applied=$got, wanted ${want[$i]}"; fail=$((fail + 1)); fi
done
# The cut-outs: brighter pixels only within the disc (21 % of the frame, plus edge blending).
for f in cutout_predictive.jpg cutout_reference.jpg; do
  share=$(grep -F "/$f\"" "$TMP/probe.jsonl" | head -1 | sed -E 's/.*"frac_brighter": *([0-9.eE-]+).*/\1/')
  if awk -v s="$share" 'BEGIN { exit !(s + 0 > 0.02 && s + 0 < 0.27) }'; then pass=$((pass + 1));
  else echo "FAIL: $f brightens a share of $share of the frame (the disc is 0.21)"; fail=$((fail + 1)); fi
done
cat "$TMP/probe.jsonl"
echo "chromium: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
