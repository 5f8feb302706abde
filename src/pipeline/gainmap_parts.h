// A gain-map file's SDR base and an applier that renders its HDR row by row, for callers
// that need the HDR only a band at a time: Reference mode reads a 24-MP original's
// luminances without a ~300 MB float RGB image and without decoding the base twice.
#pragma once
#include <optional>
#include <span>

#include "container/heif_gainmap.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"

namespace regain {

struct GainMapParts {
  Image8 sdr;  // 8-bit sRGB-encoded RGB, displayed orientation (when opt.apply_orientation)
  GainMapApplier hdr;  // renders rows of `sdr` (same orientation and size) at `headroom`
  Primaries primaries = Primaries::BT709;  // of both renditions
  double headroom = 0;
  GainMapMetadata meta;
};

// nullopt when the file is not the common case of an 8-bit SDR base whose map was made in the
// base's own primaries (an HDR or 10-bit base, a map in other primaries, no usable gain map):
// decode_gainmap_hdr/_sdr handle those (and report the errors).
Result<std::optional<GainMapParts>> decode_gainmap_parts(std::span<const uint8_t> file, const DecodeOptions& opt = {});

// The primaries the gain-map maths runs in when they differ from the base's (ISO 21496-1
// use_base_colour_space = 0 with the alternate's colour named), else nullopt.
std::optional<Primaries> jpegr_math_space(const JpegrFile& jr, Primaries base);
std::optional<Primaries> heif_math_space(const HeifFile& hf, Primaries base);

}  // namespace regain
