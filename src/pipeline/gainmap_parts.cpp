#include "pipeline/gainmap_parts.h"

#include "container/heif_decode.h"
#include "util/orientation.h"

namespace regain {

std::optional<Primaries> jpegr_math_space(const JpegrFile& jr, Primaries base) {
  // ISO 21496-1: the map was made in the alternate rendition's primaries, which the
  // gain-map image's ICC names; without one, the base primaries are the fallback.
  if (!jr.metadata || jr.metadata->use_base_colour_space || jr.gain_map_icc.empty()) return std::nullopt;
  const Primaries p = jpeg_primaries(jr.gain_map_icc);
  return p == base ? std::nullopt : std::optional<Primaries>(p);
}

std::optional<Primaries> heif_math_space(const HeifFile& hf, Primaries base) {
  // The tmap item's colr names the math space when the map was not made in the base's.
  if (!hf.metadata || hf.metadata->use_base_colour_space) return std::nullopt;
  std::optional<Primaries> p = hf.alternate_nclx ? primaries_from_cicp(hf.alternate_nclx->primaries) : std::nullopt;
  if (!p && !hf.alternate_icc.empty()) p = jpeg_primaries(hf.alternate_icc);
  return p == base ? std::nullopt : p;
}

namespace {

double headroom_of(const GainMapMetadata& m, const DecodeOptions& opt) {
  return opt.headroom ? *opt.headroom : std::max(m.alternate_headroom, m.base_headroom);
}

Result<std::optional<GainMapParts>> jpegr_parts(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(jr, read_jpegr(file));
  if (!jr.gain_map || !jr.metadata) return std::optional<GainMapParts>();
  const Primaries primaries = jpeg_primaries(jr.icc);
  if (jpegr_math_space(jr, primaries)) return std::optional<GainMapParts>();
  auto map = decode_jpeg(jr.gain_map_bytes, opt.limits, 0);
  if (!map) return tl::unexpected(with_context(map.error(), "gain-map image"));
  auto base = decode_jpeg(jr.primary_bytes, opt.limits, 3);
  if (!base) return tl::unexpected(with_context(base.error(), "primary image"));
  if (opt.apply_orientation && jr.orientation > 1) {
    // Centre-aligned bilinear upsampling commutes with flips and quarter turns, so turning
    // the map with the base renders the same pixels as turning the rendered HDR.
    *base = apply_orientation(*base, jr.orientation);
    *map = apply_orientation(*map, jr.orientation);
  }
  const double headroom = headroom_of(*jr.metadata, opt);
  REGAIN_TRY(applier, GainMapApplier::create(base->width(), base->height(), *map, *jr.metadata, headroom));
  return std::optional<GainMapParts>(GainMapParts{std::move(*base), std::move(applier), primaries, headroom, *jr.metadata});
}

Result<std::optional<GainMapParts>> heif_parts(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(hf, read_heif(file, opt.limits));
  if (!hf.gain_map || !hf.metadata) return std::optional<GainMapParts>();
  if (is_hdr_transfer(hf.primary.nclx)) return std::optional<GainMapParts>();
  auto base = decode_heif_item(hf, file, hf.primary, opt.limits, opt.threads, /*eight_bit=*/true);
  if (!base) return tl::unexpected(with_context(base.error(), "primary image"));
  const Primaries primaries = heif_primaries(*base);
  const Transfer transfer = heif_transfer(*base);
  if (base->bit_depth != 8 || base->pixels8.channels() != 3 ||
      (transfer != Transfer::SRGB && transfer != Transfer::BT709) || heif_math_space(hf, primaries))
    return std::optional<GainMapParts>();
  auto mapped = decode_heif_item(hf, file, *hf.gain_map, opt.limits, opt.threads);
  if (!mapped) return tl::unexpected(with_context(mapped.error(), "gain-map image"));
  Image8 sdr = take_8bit(std::move(*base));
  const double headroom = headroom_of(*hf.metadata, opt);
  REGAIN_TRY(applier, GainMapApplier::create(sdr.width(), sdr.height(), heif_to_8bit(*mapped), *hf.metadata, headroom,
                                             transfer));
  return std::optional<GainMapParts>(GainMapParts{std::move(sdr), std::move(applier), primaries, headroom, *hf.metadata});
}

}  // namespace

Result<std::optional<GainMapParts>> decode_gainmap_parts(std::span<const uint8_t> file, const DecodeOptions& opt) {
  const FileType t = sniff_file_type(file);
  if (t == FileType::Heif || t == FileType::Avif) return heif_parts(file, opt);
  if (t == FileType::Jpeg) return jpegr_parts(file, opt);
  return std::optional<GainMapParts>();
}

}  // namespace regain
