#!/usr/bin/env bash
# CLI behaviour on the real corpus: inspect --json on every JPEG, documented exit codes,
# encode/decode/extract/repair flows, and no partial outputs on failure.
set -u
BIN=$1; CORPUS=$2; TMP=$3
rm -rf "$TMP"; mkdir -p "$TMP"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect_rc() {  # expected-rc description command...
  local want=$1 what=$2; shift 2
  "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, wanted $want"; sed 's/^/  /' "$TMP/err.txt" | head -5; fi
}
json_get() { node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8")); const v=eval("j"+process.argv[1]); console.log(v===null?"null":(typeof v==="object"?JSON.stringify(v):v))' "$1"; }

[ -d "$CORPUS" ] || { echo "FAIL: corpus missing at $CORPUS"; exit 1; }

for f in "$CORPUS"/jpeg/*.jpg "$CORPUS"/edited-pair/*.jpg "$CORPUS"/malformed/*.jpg; do
  expect_rc 0 "inspect --json $(basename "$f")" "$BIN" inspect --json "$f"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))' "$TMP/out.txt" 2>/dev/null && ok || bad "inspect --json output of $(basename "$f") is not JSON"
  expect_rc 0 "inspect text $(basename "$f")" "$BIN" inspect "$f"
done

# JSON contract values
"$BIN" inspect --json "$CORPUS/edited-pair/original_iphone15promax.jpg" > "$TMP/iphone.json"
[ "$(json_get '.gain_map.channels' < "$TMP/iphone.json")" = 1 ] && ok || bad "iphone gain_map.channels"
[ "$(json_get '.gain_map.width' < "$TMP/iphone.json")" = 384 ] && ok || bad "iphone gain_map.width"
[ "$(json_get '.gain_map.apple.headroom' < "$TMP/iphone.json")" = 6.415851 ] && ok || bad "iphone apple headroom"
[ "$(json_get '.gain_map.metadata.alternate_hdr_headroom' < "$TMP/iphone.json")" = 2.681641 ] && ok || bad "iphone alternate headroom"
"$BIN" inspect --json "$CORPUS/jpeg/paris_exif_xmp_icc.jpg" > "$TMP/plain.json"
[ "$(json_get '.gain_map' < "$TMP/plain.json")" = null ] && ok || bad "plain JPEG gain_map should be null"
"$BIN" inspect --json "$CORPUS/edited-pair/peer_pipeline_output.jpg" > "$TMP/peer.json"
[ "$(json_get '.repair_would_help' < "$TMP/peer.json")" = true ] && ok || bad "peer file: repair_would_help"

# exit codes
expect_rc 7 "missing file" "$BIN" inspect "$TMP/nope.jpg"
expect_rc 2 "unknown option" "$BIN" inspect --bogus "$CORPUS/jpeg/paris_exif_xmp_icc.jpg"
expect_rc 2 "no subcommand" "$BIN"
printf 'not an image' > "$TMP/garbage.jpg"
expect_rc 4 "garbage input" "$BIN" inspect "$TMP/garbage.jpg"
expect_rc 6 "decode a plain JPEG" "$BIN" decode "$CORPUS/jpeg/paris_exif_xmp_icc.jpg" --out "$TMP/plain.exr"
[ ! -e "$TMP/plain.exr" ] && ok || bad "failed decode left an output file"
expect_rc 3 "truncated decode is invalid input" "$BIN" decode "$CORPUS/malformed/pixel6_truncated.jpg" --out "$TMP/trunc.exr"
[ ! -e "$TMP/trunc.exr" ] && ok || bad "truncated decode left an output file"
expect_rc 4 "decode of a PNG says it is a PNG" "$BIN" decode "$CORPUS/hdr-source/hdr_room_bt2020_hlg16.png" --out "$TMP/png.exr"
expect_rc 4 "extract of a PNG says it is a PNG" "$BIN" extract "$CORPUS/hdr-source/hdr_room_bt2020_hlg16.png" --out "$TMP/png_parts"
expect_rc 4 "repair of a PNG says it is a PNG" "$BIN" repair "$CORPUS/hdr-source/hdr_room_bt2020_hlg16.png" --out "$TMP/png_fixed.png"
ls "$TMP"/*.tmp* >/dev/null 2>&1 && bad "temp files left behind" || ok

# flows
expect_rc 0 "decode exr" "$BIN" decode "$CORPUS/jpeg/seine_sdr_gainmap_srgb.jpg" --out "$TMP/seine.exr"
expect_rc 0 "decode png" "$BIN" decode "$CORPUS/jpeg/seine_sdr_gainmap_srgb.jpg" --headroom 1 --out "$TMP/seine.png"
expect_rc 0 "decode tiff" "$BIN" decode "$CORPUS/edited-pair/original_iphone15promax.jpg" --out "$TMP/iphone.tif"
expect_rc 0 "decode --sdr" "$BIN" decode "$CORPUS/edited-pair/original_iphone15promax.jpg" --sdr --out "$TMP/iphone_sdr.png"
expect_rc 0 "extract" "$BIN" extract "$CORPUS/jpeg/pixel6pro_ultrahdr_01.jpg" --out "$TMP/ex"
[ -s "$TMP/ex/pixel6pro_ultrahdr_01_gainmap.jpg" ] && [ -s "$TMP/ex/pixel6pro_ultrahdr_01_meta.json" ] && ok || bad "extract outputs"
"$BIN" inspect --json "$TMP/ex/pixel6pro_ultrahdr_01_base.jpg" > "$TMP/base.json"
[ "$(json_get '.primary.flavours.mpf' < "$TMP/base.json")" = false ] && [ "$(json_get '.primary.flavours.xmp_hdrgm' < "$TMP/base.json")" = false ] && [ "$(json_get '.warnings.length' < "$TMP/base.json")" = 0 ] && ok || bad "extracted base still announces a gain map"
expect_rc 0 "encode from gain map + meta" "$BIN" encode --sdr "$TMP/ex/pixel6pro_ultrahdr_01_base.jpg" \
  --gainmap "$TMP/ex/pixel6pro_ultrahdr_01_gainmap.png" --meta "$TMP/ex/pixel6pro_ultrahdr_01_meta.json" --out "$TMP/repacked.jpg"
expect_rc 0 "inspect repacked" "$BIN" inspect --json "$TMP/repacked.jpg"
[ "$(json_get '.gain_map.metadata.channels[0].gain_map_max' < "$TMP/out.txt")" = 2.656715 ] && ok || bad "repacked metadata"
expect_rc 0 "samples" "$BIN" samples --out "$TMP/samples" --width 320 --height 240
expect_rc 0 "encode sdr+hdr" "$BIN" encode --sdr "$TMP/samples/sunset_sdr.jpg" --hdr "$TMP/samples/sunset_hdr.exr" --out "$TMP/sunset.jpg"
expect_rc 0 "encode 3ch scale 1" "$BIN" encode --sdr "$TMP/samples/night_sdr.jpg" --hdr "$TMP/samples/night_hdr.exr" --scale 1 --multichannel --out "$TMP/night.jpg"
expect_rc 3 "encode size mismatch" "$BIN" encode --sdr "$CORPUS/jpeg/paris_exif_xmp_icc.jpg" --hdr "$TMP/samples/sunset_hdr.exr" --out "$TMP/mismatch.jpg"
[ ! -e "$TMP/mismatch.jpg" ] && ok || bad "failed encode left an output"
expect_rc 0 "repair peer" "$BIN" repair "$CORPUS/edited-pair/peer_pipeline_output.jpg" --out "$TMP/peer_fixed.jpg"
"$BIN" inspect --json "$TMP/peer_fixed.jpg" > "$TMP/fixed.json"
[ "$(json_get '.warnings.length' < "$TMP/fixed.json")" = 0 ] && ok || bad "repaired file still has warnings"
expect_rc 6 "repair plain JPEG" "$BIN" repair "$CORPUS/jpeg/paris_exif_xmp_icc.jpg" --out "$TMP/x.jpg"

# EXIF allow-list on a real iPhone file: re-encode its own SDR with its decoded HDR.
expect_rc 0 "decode iphone to exr" "$BIN" decode "$CORPUS/edited-pair/original_iphone15promax.jpg" --out "$TMP/iphone.exr"
"$BIN" inspect --json "$CORPUS/edited-pair/original_iphone15promax.jpg" > "$TMP/iphone_in.json"
[ "$(json_get '.has_gps' < "$TMP/iphone_in.json")" = true ] && ok || bad "corpus iPhone file should carry GPS"
expect_rc 0 "re-encode iphone" "$BIN" encode --sdr "$CORPUS/edited-pair/original_iphone15promax.jpg" --hdr "$TMP/iphone.exr" --hdr-primaries p3 --out "$TMP/iphone_re.jpg"
"$BIN" inspect --json "$TMP/iphone_re.jpg" > "$TMP/iphone_re.json"
[ "$(json_get '.has_gps' < "$TMP/iphone_re.json")" = false ] && ok || bad "GPS must be dropped by default"
[ "$(json_get '.orientation' < "$TMP/iphone_re.json")" = "$(json_get '.orientation' < "$TMP/iphone_in.json")" ] && ok || bad "orientation changed"
[ "$(json_get '.gain_map.apple' < "$TMP/iphone_re.json")" = null ] && ok || bad "Apple MakerNote must not be copied"
exiftool -s -Make -Model "$TMP/iphone_re.jpg" | grep -q "iPhone 15 Pro Max" && ok || bad "camera model not kept"
expect_rc 0 "re-encode iphone keep gps" "$BIN" encode --sdr "$CORPUS/edited-pair/original_iphone15promax.jpg" --hdr "$TMP/iphone.exr" --keep-gps --out "$TMP/iphone_gps.jpg"
[ "$(json_get '.has_gps' < <("$BIN" inspect --json "$TMP/iphone_gps.jpg"))" = true ] && ok || bad "--keep-gps must keep GPS"

# process / hdr-process (Predictive mode) and batch
HDRP="$(dirname "$BIN")/hdr-process"
expect_rc 0 "process predictive" "$BIN" process --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --out "$TMP/proc/edited_hdr.jpg" --hdr-out "$TMP/proc/edited_hdr.exr" --previews --json
[ "$(json_get '.mode' < "$TMP/out.txt")" = predictive ] && ok || bad "process --json mode"
for f in edited_hdr.jpg edited_hdr_sdr_preview.jpg edited_hdr_gainmap.png edited_hdr_meta.json edited_hdr.exr; do
  [ -s "$TMP/proc/$f" ] && ok || bad "process output $f missing"
done
expect_rc 0 "hdr-process alias" "$HDRP" --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --boost 2 --out "$TMP/proc/alias.jpg"
[ "$(json_get '.boost' < "$TMP/proc/alias_meta.json")" = 2 ] && ok || bad "hdr-process --boost"
[ ! -e "$TMP/proc/alias_sdr_preview.jpg" ] && [ ! -e "$TMP/proc/alias_gainmap.png" ] && ok || bad "previews written without --previews"
expect_rc 0 "hdr-process reference mode" "$HDRP" --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --ref "$CORPUS/edited-pair/original_iphone15promax.jpg" --out "$TMP/proc/ref.jpg"
[ "$(json_get '.mode' < "$TMP/proc/ref_meta.json")" = reference ] && ok || bad "reference mode not used"
expect_rc 6 "process --ref HEIC without a gain map" "$BIN" process --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --ref "$CORPUS/heif/iphone8plus_no_gainmap.heic" --out "$TMP/proc/heic.jpg"
[ ! -e "$TMP/proc/heic.jpg" ] && ok || bad "failed process left output"
expect_rc 3 "process --background that is not a colour" "$BIN" process --img "$CORPUS/edited-pair/edited_by_ai_editor.jpg" --background pink --out "$TMP/proc/bg.jpg"
[ ! -e "$TMP/proc/bg.jpg" ] && ok || bad "bad --background left output"
expect_rc 3 "process truncated" "$BIN" process --img "$CORPUS/malformed/pixel6_truncated.jpg" --out "$TMP/proc/t.jpg"
# Batch over the whole JPEG corpus: one bad file reported, the rest processed.
"$BIN" process "$CORPUS/jpeg" "$CORPUS/edited-pair" "$CORPUS/malformed" --out-dir "$TMP/batch" --jobs 2 --json > "$TMP/batch.json" 2> "$TMP/batch.err"; rc=$?
[ "$rc" -eq 1 ] && ok || bad "batch exit $rc (wanted 1: one malformed file)"
grep -q "processed 12 file(s): 11 ok, 1 failed" "$TMP/batch.err" && ok || { bad "batch summary"; cat "$TMP/batch.err"; }
grep -q "pixel6_truncated.jpg: FAILED" "$TMP/batch.err" && ok || bad "batch per-file error"
[ "$(ls "$TMP"/batch/*_hdr.jpg | wc -l)" = 11 ] && ok || bad "batch outputs"
# Inputs sharing a stem (IMG_0001.JPG beside IMG_0001.AVIF, as phone exports come) each get
# their own outputs; the same file name in two folders is an error for both, never an overwrite.
S="$TMP/stems"; mkdir -p "$S/in" "$S/in2"
cp "$CORPUS/edited-pair/edited_by_ai_editor.jpg" "$S/in/IMG_0001.jpg"
cp "$CORPUS/heif/seine_sdr_gainmap_srgb.avif" "$S/in/IMG_0001.avif"
expect_rc 0 "batch: two inputs with one stem" "$BIN" process "$S/in" --out-dir "$S/out"
[ -f "$S/out/IMG_0001_jpg_hdr.jpg" ] && [ -f "$S/out/IMG_0001_avif_hdr.jpg" ] && ok || bad "batch: stem clash outputs"
cp "$CORPUS/jpeg/seine_sdr_gainmap_srgb.jpg" "$S/in2/IMG_0001.jpg"
expect_rc 1 "batch: one file name in two folders" "$BIN" process "$S/in" "$S/in2" --out-dir "$S/out2"
[ -f "$S/out2/IMG_0001_avif_hdr.jpg" ] && [ ! -e "$S/out2/IMG_0001_jpg_hdr.jpg" ] && ok || bad "batch: name clash must not write"
grep -q "same file name" "$TMP/err.txt" && ok || bad "batch: name clash message"

# Batch manifest in shards: N shards cover every job once; a killed shard re-run finishes the
# rest and skips what is done; batch-report merges and says when something is missing.
M="$TMP/shards"; mkdir -p "$M/in"
cp "$CORPUS/edited-pair/edited_by_ai_editor.jpg" "$M/in/a.jpg"
cp "$CORPUS/jpeg/seine_sdr_gainmap_srgb.jpg" "$M/in/b.jpg"
cp "$CORPUS/jpeg/paris_exif_xmp_icc.jpg" "$M/in/c.jpg"
cp "$CORPUS/jpeg/acr17_iso_xmp_3ch_small.jpg" "$M/in/d.jpg"
printf '# regain batch\nin/a.jpg\t%s\nin/b.jpg\t-\tboost=2\n\nin/c.jpg\t-\tformat=heic\nin/d.jpg\n' \
  "$CORPUS/edited-pair/original_iphone15promax.jpg" > "$M/jobs.tsv"
for i in 0 1 2; do
  expect_rc 0 "manifest shard $i/3" "$BIN" process --manifest "$M/jobs.tsv" --shard "$i/3" --out-dir "$M/out"
done
[ "$(ls "$M"/out/*_hdr.jpg "$M"/out/*_hdr.heic 2>/dev/null | wc -l)" = 4 ] && ok || bad "shards did not write all 4 outputs"
[ "$(json_get '.mode' < "$M/out/a_hdr_meta.json")" = reference ] && ok || bad "manifest reference column not used"
[ "$(json_get '.boost' < "$M/out/b_hdr_meta.json")" = 2 ] && ok || bad "manifest boost option not used"
expect_rc 0 "batch-report complete" "$BIN" batch-report "$M/out" --json
[ "$(json_get '.ok' < "$TMP/out.txt")" = 4 ] && [ "$(json_get '.complete' < "$TMP/out.txt")" = true ] && ok || bad "batch-report totals: $(cat "$TMP/out.txt")"
# "Kill" shard 0 mid-run: its first output gone, its report cut short; the re-run redoes only that.
rm "$M/out/a_hdr.jpg"
node -e 'const f=process.argv[1],fs=require("fs");const r=JSON.parse(fs.readFileSync(f));r.results=r.results.slice(1);fs.writeFileSync(f,JSON.stringify(r))' "$M/out/report-shard-0-of-3.json"
expect_rc 1 "batch-report sees the unfinished shard" "$BIN" batch-report "$M/out"
expect_rc 0 "manifest shard 0/3 re-run" "$BIN" process --manifest "$M/jobs.tsv" --shard 0/3 --out-dir "$M/out" --json
[ "$(json_get '[0].status' < "$TMP/out.txt")" = ok ] && [ "$(json_get '[1].status' < "$TMP/out.txt")" = skipped ] && ok || bad "re-run statuses: $(cat "$TMP/out.txt")"
expect_rc 0 "batch-report complete again" "$BIN" batch-report "$M/out"
# Killed between the output and its meta JSON: the job is redone, not skipped.
rm "$M/out/b_hdr_meta.json"
expect_rc 0 "manifest shard 1/3 re-run without meta" "$BIN" process --manifest "$M/jobs.tsv" --shard 1/3 --out-dir "$M/out" --json
[ "$(json_get '[0].status' < "$TMP/out.txt")" = ok ] && [ -s "$M/out/b_hdr_meta.json" ] && ok || bad "job without meta not redone"
printf 'in/a.jpg\t-\tformat=jpeg\nin/a.jpg\t-\tformat=heic\n' > "$M/dup.tsv"
expect_rc 3 "manifest: two jobs with one output stem" "$BIN" process --manifest "$M/dup.tsv" --shard 0/1 --out-dir "$M/dup"
printf 'in/a.jpg\tin/missing.jpg\nin/zz.jpg\n' > "$M/bad.tsv"
expect_rc 1 "manifest job failures reported" "$BIN" process --manifest "$M/bad.tsv" --shard 0/1 --out-dir "$M/bad"
expect_rc 1 "batch-report lists failures" "$BIN" batch-report "$M/bad"
grep -q "FAILED" "$TMP/out.txt" && ok || bad "batch-report failure lines"
expect_rc 3 "manifest bad shard" "$BIN" process --manifest "$M/jobs.tsv" --shard 3/3 --out-dir "$M/out"
printf 'in/a.jpg\t-\tspeed=9\n' > "$M/opt.tsv"
expect_rc 3 "manifest unknown option" "$BIN" process --manifest "$M/opt.tsv" --shard 0/1 --out-dir "$M/x"

# HEIC / AVIF: inspect, extract, decode; process output in both formats; a HEIC reference.
for f in "$CORPUS"/heif/*; do
  n=$(basename "$f")
  expect_rc 0 "inspect --json $n" "$BIN" inspect --json "$f"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))' "$TMP/out.txt" 2>/dev/null && ok || bad "inspect --json output of $n is not JSON"
  expect_rc 0 "inspect text $n" "$BIN" inspect "$f"
done
"$BIN" inspect --json "$CORPUS/heif/iphone15pro_ios18_tmap_rotated.heic" > "$TMP/i15.json"
[ "$(json_get '.display_width' < "$TMP/i15.json")" = 3024 ] && ok || bad "iphone15pro displayed width"
[ "$(json_get '.gain_map.metadata.alternate_hdr_headroom' < "$TMP/i15.json")" = 1.69043 ] && ok || bad "iphone15pro tmap headroom"
[ "$(json_get '.gain_map.metadata_source' < "$TMP/i15.json")" = iso21496-1 ] && ok || bad "iphone15pro metadata source"
expect_rc 0 "extract avif" "$BIN" extract "$CORPUS/heif/seine_sdr_gainmap_srgb.avif" --out "$TMP/ex_avif"
[ -s "$TMP/ex_avif/seine_sdr_gainmap_srgb_gainmap.png" ] && ok || bad "extract avif gain map png"
expect_rc 6 "extract heic without gain map" "$BIN" extract "$CORPUS/heif/seine_hdr_rec2020.avif" --out "$TMP/ex_none"
expect_rc 0 "decode avif to exr" "$BIN" decode "$CORPUS/heif/seine_sdr_gainmap_srgb.avif" --out "$TMP/seine_avif.exr"
expect_rc 6 "decode heic without gain map" "$BIN" decode "$CORPUS/heif/iphone8plus_no_gainmap.heic" --out "$TMP/none.exr"
[ ! -e "$TMP/none.exr" ] && ok || bad "no partial output after a failed decode"
"$BIN" samples --out "$TMP/smp" --width 640 --height 480 >/dev/null
for fmt in heic avif; do
  expect_rc 0 "process --format $fmt" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --ref "$TMP/smp/sunset_ultrahdr.jpg" --format $fmt --out "$TMP/p.$fmt"
  expect_rc 0 "inspect our $fmt" "$BIN" inspect --json "$TMP/p.$fmt"
  [ "$(json_get '.gain_map.metadata_source' < "$TMP/out.txt")" = iso21496-1 ] && ok || bad "our $fmt carries ISO metadata"
  expect_rc 0 "reference mode from our $fmt" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --ref "$TMP/p.$fmt" --out "$TMP/from_$fmt.jpg" --json
  [ "$(json_get '.mode' < "$TMP/out.txt")" = reference ] && ok || bad "reference mode used with a $fmt reference"
done

# Predictive mode: the embedded learned model by default, the heuristic on request.
expect_rc 0 "process predictive (default model)" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --out "$TMP/pred.jpg" --json
[ "$(json_get '.predictor' < "$TMP/out.txt")" = learned:regain-default ] && ok || bad "default predictor is the learned model"
expect_rc 0 "process --predictor heuristic" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --predictor heuristic --out "$TMP/heur.jpg" --json
[ "$(json_get '.predictor' < "$TMP/out.txt")" = builtin-highlight-v1 ] && ok || bad "--predictor heuristic"
expect_rc 2 "process --predictor bogus" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --predictor bogus --out "$TMP/bogus.jpg"
expect_rc 0 "model info default" "$BIN" model info default
[ "$(json_get '.info.name' < "$TMP/out.txt")" = regain-default ] && ok || bad "model info shows provenance"

# regain train: unusable files are skipped with a reason, never abort; empty sets are errors.
mkdir -p "$TMP/train"
cp "$CORPUS/jpeg/seine_sdr_gainmap_srgb.jpg" "$CORPUS/jpeg/paris_exif_xmp_icc.jpg" "$CORPUS/malformed/pixel6_truncated.jpg" "$TMP/train/"
printf 'garbage' > "$TMP/train/junk.jpg"
expect_rc 0 "train skips bad files" "$BIN" train "$TMP/train" --epochs 2 --views 1 --out "$TMP/tiny.rglm" --json
[ "$(json_get '.skipped.length' < "$TMP/out.txt")" = 3 ] && ok || bad "train reports 3 skipped files"
[ "$(json_get '.info.training_files' < "$TMP/out.txt")" = 1 ] && ok || bad "train used the one usable file"
grep -q "epoch 2/2" "$TMP/err.txt" && ok || bad "train prints per-epoch progress"
[ ! -e "$TMP/tiny.rglm.ckpt" ] && ok || bad "checkpoint removed after a finished run"
expect_rc 0 "model info on a trained model" "$BIN" model info "$TMP/tiny.rglm"
expect_rc 0 "process with a trained model" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --model "$TMP/tiny.rglm" --out "$TMP/tiny.jpg"
expect_rc 0 "fine-tune with --init" "$BIN" train "$TMP/train/seine_sdr_gainmap_srgb.jpg" --init "$TMP/tiny.rglm" --epochs 1 --views 1 --out "$TMP/tuned.rglm"
expect_rc 3 "train on no usable file" "$BIN" train "$TMP/train/junk.jpg" "$TMP/train/paris_exif_xmp_icc.jpg" --out "$TMP/none.rglm"
[ ! -e "$TMP/none.rglm" ] && ok || bad "no model written for an empty training set"
head -c 300 "$TMP/tiny.rglm" > "$TMP/cut.rglm"
expect_rc 3 "damaged model refused" "$BIN" process --img "$TMP/smp/sunset_sdr.jpg" --model "$TMP/cut.rglm" --out "$TMP/cut.jpg"
[ ! -e "$TMP/cut.jpg" ] && ok || bad "no output with a damaged model"
expect_rc 3 "model info on a damaged model" "$BIN" model info "$TMP/cut.rglm"

echo "cli: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
