// Repair: re-pack a gain-map JPEG so Chrome, Android and Apple all find it. Base pixels are
// copied byte for byte; only an Apple-curve map is re-quantised to the ISO log curve.
#include <cmath>

#include "regain/pipeline.h"

namespace regain {

namespace {

// Apple maps store linear gain through the BT.709 curve; ISO maps store normalised log2
// gain. Remap codes so min 0 / max log2(H) / gamma 1 reproduces Apple's rendering.
Image8 apple_to_iso_codes(const Image8& map, double headroom) {
  uint8_t lut[256];
  const double l2 = std::log2(headroom);
  for (int i = 0; i < 256; ++i) {
    double lin = bt709_to_linear(i / 255.f);
    double g = l2 > 0 ? std::log2(1.0 + (headroom - 1.0) * lin) / l2 : 0.0;
    lut[i] = uint8_t(std::clamp(g, 0.0, 1.0) * 255.0 + 0.5);
  }
  Image8 out = map;
  for (auto& v : out.span()) v = lut[v];
  return out;
}

}  // namespace

Result<RepairResult> repair_jpegr(std::span<const uint8_t> file) {
  REGAIN_TRY(jr, read_jpegr(file));
  if (!jr.gain_map) return fail(ErrorCode::NotFound, "no gain map could be located: nothing to repair");
  if (!jr.metadata) return fail(ErrorCode::InvalidInput, "the gain map has no usable metadata: cannot repair");
  if (jr.trailing_bytes)
    return fail(ErrorCode::Unsupported, std::to_string(jr.trailing_bytes) +
                                            " bytes follow the gain map (e.g. a Motion Photo video); "
                                            "repair would drop them, so it refuses");
  RepairResult r;
  for (const auto& w : jr.warnings) r.fixes.push_back("was: " + w);
  GainMapMetadata meta = *jr.metadata;
  std::vector<uint8_t> map_jpeg(jr.gain_map_bytes.begin(), jr.gain_map_bytes.end());
  if (meta.curve == GainCurve::AppleLinear) {
    REGAIN_TRY(map, decode_jpeg(jr.gain_map_bytes, {}, 0));
    double h = std::exp2(meta.channel[0].max);
    Image8 iso = apple_to_iso_codes(map, h);
    JpegEncodeOptions jo;
    jo.quality = 95;
    REGAIN_TRY(enc, encode_jpeg(iso, jo));
    map_jpeg = std::move(enc);
    meta.curve = GainCurve::Iso21496;
    for (auto& ch : meta.channel) ch = {0.0, std::log2(h), 1.0, 0.0, 0.0};
    r.fixes.push_back("converted the Apple gain map to ISO 21496-1 form (map re-quantised)");
  }
  JpegrWriteOptions wo;  // both flavours; EXIF, ICC and other XMP kept as they are
  REGAIN_TRY(bytes, assemble_jpegr(jr.primary_bytes, map_jpeg, meta, wo));
  // Report what the output really carries (XMP cannot express every ISO file).
  REGAIN_TRY(check, read_jpegr(bytes));
  if (!check.gain_map || !check.metadata)
    return fail(ErrorCode::Internal, "repair produced a file whose gain map cannot be read back");
  std::string wrote = "wrote MPF";
  if (check.primary.xmp_container) wrote += ", GContainer XMP";
  if (check.xmp_metadata) wrote += ", hdrgm XMP";
  if (check.iso_metadata) wrote += ", ISO 21496-1 metadata";
  if (!check.xmp_metadata) wrote += " (no hdrgm XMP: this metadata cannot be expressed in XMP)";
  r.fixes.push_back(wrote);
  r.bytes = std::move(bytes);
  return r;
}

}  // namespace regain
