// Repair of gain-map HEIC/AVIF files that only some readers understand: a file whose gain map
// is found through Apple's or Samsung's auxiliary image (metadata from hdrgm XMP or Apple's
// headroom) gets the ISO 21496-1 `tmap` item that Chrome, Android 15+ and current Apple
// software look for. Every coded tile, property and reference is carried over as it is.
#include "container/heif_gainmap.h"
#include "container/heif_writer.h"
#include "regain/pipeline.h"

namespace regain {

Result<RepairResult> repair_heif(std::span<const uint8_t> file) {
  REGAIN_TRY(hf, read_heif(file));
  if (!hf.gain_map) return fail(ErrorCode::NotFound, "no gain map could be located: nothing to repair");
  if (!hf.metadata) return fail(ErrorCode::InvalidInput, "the gain map has no usable metadata: cannot repair");
  if (hf.tmap_item && hf.iso_metadata)
    return fail(ErrorCode::Unsupported, "the file already carries ISO 21496-1 (tmap) metadata: nothing to repair");
  if (hf.metadata->curve == GainCurve::AppleLinear)
    return fail(ErrorCode::Unsupported,
                "an Apple-curve gain map would have to be re-encoded to carry ISO metadata: not done for HEIF");
  if (!hf.gain_map_orientation_inherited && hf.gain_map->exif_orientation != hf.primary.exif_orientation)
    return fail(ErrorCode::Unsupported, "the gain map and the primary are oriented differently");
  RepairResult r;
  for (const auto& w : hf.warnings) r.fixes.push_back("was: " + w);
  TmapAddition t;
  t.gain_map_item = hf.gain_map->item_id;
  t.metadata = *hf.metadata;
  // The HDR rendition: the base's primaries, PQ (as our own HEIF writer describes it).
  const Primaries p = hf.primary.nclx ? primaries_from_cicp(hf.primary.nclx->primaries).value_or(Primaries::BT709)
                                      : Primaries::BT709;
  t.alternate = Nclx{cicp_code(p), 16, uint16_t(p == Primaries::BT2020 ? 9 : 1), true};
  t.width = hf.primary.width;
  t.height = hf.primary.height;
  t.gain_map_takes_primary_transforms = hf.gain_map_orientation_inherited;
  REGAIN_TRY(bytes, add_tmap_item(hf.structure, file, t));
  // What the output really carries, read back.
  REGAIN_TRY(check, read_heif(bytes));
  if (!check.tmap_item || !check.iso_metadata || !check.gain_map)
    return fail(ErrorCode::Internal, "repair produced a file whose tmap cannot be read back");
  r.fixes.push_back("added an ISO 21496-1 tmap item (" + std::string(metadata_source_name(hf.source)) +
                    " metadata) with an altr group and brand 'tmap'; tiles, properties and references kept");
  if (hf.gain_map_orientation_inherited)
    r.fixes.push_back("gave the gain map the primary's irot/imir (it is stored in the primary's orientation)");
  r.bytes = std::move(bytes);
  return r;
}

}  // namespace regain
