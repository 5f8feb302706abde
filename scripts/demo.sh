#!/usr/bin/env bash
# The README's demo: the product's main job on a generated photo. The bundled synthetic
# sunset (the interior and night scenes are too smooth for feature alignment): the HDR original (Ultra HDR JPEG), an edit of it as an editor writes it (a patch
# copied over the upper right, a recoloured block, a 4:5 reframe; a flat JPEG, the gain map
# lost), then Reference mode (edit + original) as Ultra HDR JPEG, HEIC and AVIF, and
# Predictive mode (edit alone). out/index.html shows them side by side (HDR screens show the
# HDR; the "where HDR is added" images show it on any screen), and `regain eval` prints how
# close each method gets to the ground truth.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/regain}
OUT=${2:-out}
mkdir -p "$OUT"
start=$(date +%s)
"$BIN" samples --out "$OUT/samples" >/dev/null
scenes=(sunset)
for scene in "${scenes[@]}"; do
  orig="$OUT/samples/${scene}_ultrahdr.jpg"
  edit="$OUT/samples/${scene}_edited.jpg"
  "$BIN" process --img "$edit" --ref "$orig" --out "$OUT/${scene}_reference.jpg" --previews
  "$BIN" process --img "$edit" --ref "$orig" --out "$OUT/${scene}_reference.heic" --format heic
  "$BIN" process --img "$edit" --ref "$orig" --out "$OUT/${scene}_reference.avif" --format avif
  "$BIN" process --img "$edit" --out "$OUT/${scene}_predictive.jpg" --previews
  "$BIN" process --img "$OUT/samples/${scene}_sdr.jpg" --ref "$orig" --out "$OUT/${scene}_original.jpg" --previews \
    2>/dev/null  # the original's own map, for its "where HDR is added" picture
  "$BIN" process --img "$edit" --boost 0.01 --out "$OUT/${scene}_edited.jpg" --previews 2>/dev/null  # ~no gain
done

# The page: plain block/grid layout, no transforms, filters, opacity or clipping around any
# image (Chrome and Safari stop rendering HDR inside such stacking contexts).
{
  cat <<'HTML'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>regain demo: HDR restored after an edit</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; background: #111; color: #ddd; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.row { display: grid; grid-template-columns: repeat(4, 1fr); gap: 0.75rem; }
figure { margin: 0; } img { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85rem; color: #aaa; margin: 0.3rem 0 0.8rem; }
a { color: #8cf; }
</style></head><body>
<h1>regain: HDR back after an edit</h1>
<p>Each row: the HDR original, the edit an editor wrote (a flat SDR JPEG: the gain map is lost),
and what regain makes of it. On an HDR screen (Chrome, Safari, Android 14+) the HDR images glow;
on any screen the second line shows <em>where</em> HDR light is added (purple to yellow = up to
3 stops above white, the same scale for all three; grey = none). The patch copied over the upper right and the recoloured block
are the edit; the frame is cropped to 4:5.</p>
HTML
  for scene in "${scenes[@]}"; do
    cat <<HTML
<h2>${scene}</h2>
<div class="row">
<figure><img class="hdr" src="samples/${scene}_ultrahdr.jpg" alt="${scene}: the HDR original"><figcaption>Original (Ultra HDR JPEG)</figcaption></figure>
<figure><img src="samples/${scene}_edited.jpg" alt="${scene}: the edit, SDR only"><figcaption>The edit as written by an editor (SDR, no gain map)</figcaption></figure>
<figure><img class="hdr" src="${scene}_reference.jpg" alt="${scene}: Reference mode result"><figcaption>Reference mode (edit + original): <a href="${scene}_reference.jpg">JPEG</a> · <a href="${scene}_reference.heic">HEIC</a> · <a href="${scene}_reference.avif">AVIF</a></figcaption></figure>
<figure><img class="hdr" src="${scene}_predictive.jpg" alt="${scene}: Predictive mode result"><figcaption>Predictive mode (edit alone)</figcaption></figure>
<figure><img src="${scene}_original_where_hdr.jpg" alt="${scene}: where the original adds HDR"><figcaption>Where the original adds HDR</figcaption></figure>
<figure><img src="${scene}_edited_where_hdr.jpg" alt="${scene}: the edit adds no HDR"><figcaption>Where the edit adds HDR: nowhere (the gain map was lost)</figcaption></figure>
<figure><img src="${scene}_reference_where_hdr.jpg" alt="${scene}: where Reference mode adds HDR"><figcaption>Where Reference mode adds HDR: the original's, following the edit</figcaption></figure>
<figure><img src="${scene}_predictive_where_hdr.jpg" alt="${scene}: where Predictive mode adds HDR"><figcaption>Where Predictive mode adds HDR: estimated</figcaption></figure>
</div>
HTML
  done
  echo '<p>Scores: run <code>regain eval out/samples/*_ultrahdr.jpg</code> (the demo prints them for the sunset scene).</p></body></html>'
} > "$OUT/index.html.tmp"
mv "$OUT/index.html.tmp" "$OUT/index.html"

echo "Restore quality on the sunset scene (PU21 PSNR in dB, higher is better; log2 = mean |log2 luminance error|):"
"$BIN" eval "$OUT/samples/sunset_ultrahdr.jpg" 2>/dev/null | grep -E "edit|removal\+recolour\+reframe|recolour|object-removal|reframe" | head -20
echo "demo outputs are in $OUT/ (open $OUT/index.html in Chrome on an HDR screen); $(( $(date +%s) - start )) s"
