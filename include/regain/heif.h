// HEIC and AVIF files: our own ISOBMFF layer over the HEVC/AV1 codecs (video.h). Reading
// covers iPhone (Apple aux gain map + ISO `tmap`), Samsung and libavif files; writing puts
// the gain map where current Apple, Android and Chrome readers look (see heif_writer.h).
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/gainmap.h"
#include "regain/video.h"

namespace regain {

struct HeifEncodeOptions {
  bool avif = false;           // AVIF (AV1) instead of HEIC (HEVC)
  int quality = 92;            // base image, 0..100
  int gain_map_quality = 90;
  int effort = 4;              // 0 fastest .. 9 slowest
  int threads = 0;
  // Images wider or taller than this are stored as a grid of tiles of this size, as phones
  // do (hardware decoders and parallel coding); 0 = always one item.
  uint32_t tile_size = 512;
  std::vector<uint8_t> exif;   // TIFF stream, written as an Exif item
  std::string xmp;             // primary XMP packet
  bool apple_aux = true;       // HEIC: also declare the map as an Apple aux image
  // Layouts other writers produce (test fixtures and interop checks). `rotation_ccw`: the
  // pixels are stored turned back by this many degrees (90/180/270) with an irot on the base,
  // and on the map unless `map_without_irot` (Samsung's layout: the map in the base's coded
  // orientation, no transform of its own). `samsung_layout`: no tmap item, the map declared
  // as a Samsung aux image with an hdrgm XMP item describing it.
  int rotation_ccw = 0;
  bool map_without_irot = false;
  bool samsung_layout = false;
};

// SDR base: 8-bit RGB, sRGB transfer, `primaries` (its ICC `icc`, generated when empty),
// displayed orientation; gain map: 8-bit, 1 or 3 channels, same orientation.
REGAIN_API Result<Bytes> encode_heif_gainmap(const Image8& sdr, Primaries primaries, std::span<const uint8_t> icc,
                                  const Image8& gain_map, const GainMapMetadata& meta,
                                  const HeifEncodeOptions& opt = {});

// A plain HDR image: RGB signal samples (e.g. PQ- or HLG-encoded) at `bit_depth` (10 or 12),
// described by `nclx`, optional ICC.
REGAIN_API Result<Bytes> encode_heif_image(const Image16& rgb, int bit_depth, const Nclx& nclx, std::span<const uint8_t> icc,
                                const HeifEncodeOptions& opt = {});

// Several plain images of one size that differ only in a few places (e.g. a burned-in label)
// and in their ICC: the first is coded whole, the others reuse every grid tile whose samples
// are identical to the first's (coded once, copied). One file per variant.
struct HeifImageVariant {
  const Image16* rgb = nullptr;
  std::span<const uint8_t> icc;
};
REGAIN_API Result<std::vector<Bytes>> encode_heif_image_set(std::span<const HeifImageVariant> variants, int bit_depth,
                                                 const Nclx& nclx, const HeifEncodeOptions& opt = {});

}  // namespace regain
