#!/usr/bin/env bash
# `make demo`'s pipeline end to end: the demo script on the generated sunset, then its page in
# headless Chromium (every image decodes, no stacking context around an HDR image, a
# screenshot), and the results are what the page says: Reference mode used, three formats.
set -u
BIN=$1; BROWSER_DIR=$2; OUT=$3
rm -rf "$OUT"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
bash "$(dirname "$0")/../../scripts/demo.sh" "$BIN" "$OUT" > "$OUT.log" 2>&1 && ok || { bad "demo.sh failed"; tail -20 "$OUT.log"; }
for f in index.html sunset_reference.jpg sunset_reference.heic sunset_reference.avif sunset_predictive.jpg \
         sunset_reference_where_hdr.jpg sunset_predictive_where_hdr.jpg; do
  [ -s "$OUT/$f" ] && ok || bad "missing $f"
done
grep -q '"mode": "reference"' "$OUT/sunset_reference_meta.json" && ok || bad "Reference mode was not used"
grep -q "removal+recolour+reframe" "$OUT.log" && ok || bad "eval numbers not printed"
(cd "$BROWSER_DIR" && node gallery_check.mjs "$OUT/index.html" "$OUT/screenshot.png") > "$OUT.check" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "page check (rc $rc): $(cat "$OUT.check")"; fi
[ -s "$OUT/screenshot.png" ] && ok || bad "no screenshot"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
