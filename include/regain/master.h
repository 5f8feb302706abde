// `regain master`: an HDR master (16-bit PQ/HLG/linear TIFF, 16-bit PNG with cICP, or a
// scene-linear OpenEXR) -> the files a colourist delivers:
//   <stem>_HDR_P3_D65_ST2084.heic  10-bit HEVC 4:4:4, PQ, P3-D65, nclx 12/16/0 full range,
//                                  ICC "HDR_P3_D65_ST2084" (v4.3 + cicp tag)
//   <stem>_P3_PQ.heic              the same pixels, ICC "P3_PQ" (v2.4, no cicp) for readers
//                                  that ignore cicp (profile differences: regain/icc.h)
//   <stem>_HDR_gain_map.heic       8-bit SDR base + gain map (ISO tmap, Apple aux + XMP)
//   <stem>_HDR_gain_map.jpg/.avif  optional, the same base and map (Ultra HDR JPEG, AVIF)
//   <stem>_HDR_P3_D65_ST2084.tif   optional, the master itself as a 16-bit PQ P3 TIFF
//
// The master is brought to linear Display P3 (1.0 = HDR reference white, 203 cd/m2,
// ITU-R BT.2408), clamped to [0, 10000 cd/m2]. The SDR base comes from the built-in tone
// mapper (ITU-R BT.2446-1 Method A, regain/tonemap.h) or from a .cube LUT applied to the
// master's PQ signal; the gain map is HDR linear over SDR linear, so at full headroom the
// gain-map files reproduce the master.
//
// Labels: each export carries its profile name in a box (regain/label.h). The gain map is
// forced to exactly "no gain" under and around the box, so the label is the same light in
// the SDR and HDR renditions.
#pragma once
#include "regain/export.h"
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/codec.h"
#include "regain/color.h"
#include "regain/lut.h"

namespace regain {

enum class MasterExport { Pq, PqCompat, GainMapHeic, GainMapJpeg, GainMapAvif, PqTiff };

// CLI names: pq, pq-compat, gainmap, jpeg, avif, tiff.
REGAIN_API std::optional<MasterExport> parse_master_export(std::string_view s);
REGAIN_API std::string_view master_export_key(MasterExport e);
// Profile part of the file name, also the label text: "HDR_P3_D65_ST2084", "P3_PQ",
// "HDR_gain_map".
REGAIN_API std::string_view master_export_profile(MasterExport e);
// "heic", "jpg", "avif", "tif".
REGAIN_API std::string_view master_export_extension(MasterExport e);
// "<stem>_<profile>.<ext>"
REGAIN_API std::string master_file_name(std::string_view stem, MasterExport e);

// How to read a master whose file does not say (or to override a TIFF's ICC):
// "PRIMARIES-TRANSFER" with primaries p3 | bt2020 | bt709 and transfer pq | hlg | linear,
// e.g. "p3-pq" (the default for TIFF), "bt2020-pq", "bt2020-hlg", "bt709-linear".
struct InputSpace {
  Primaries primaries = Primaries::DisplayP3;
  Transfer transfer = Transfer::PQ;
};
REGAIN_API std::optional<InputSpace> parse_input_space(std::string_view s);

struct MasterOptions {
  std::vector<MasterExport> exports{MasterExport::Pq, MasterExport::PqCompat, MasterExport::GainMapHeic};
  // SDR base from this LUT instead of the built-in tone mapper. Its input is the master's
  // PQ signal in P3-D65 (what the PQ HEIC holds, before labels); its output an SDR display
  // signal in `lut_output` primaries, stored unchanged as the 8-bit base.
  std::shared_ptr<const CubeLut> lut;
  Primaries lut_output = Primaries::BT709;
  // Built-in tone mapper: base primaries and an optional brightening of its output
  // (stops at black, rolling off to none at SDR peak; 0 = BT.2446-1 Method A as published).
  Primaries sdr_primaries = Primaries::DisplayP3;
  double sdr_exposure = 0;
  std::optional<InputSpace> input_space;  // TIFF: overrides its ICC; PNG without cICP: fills in
  double exposure = 0;                    // stops, applied to scene-linear inputs only (EXR)
  bool label = true;
  bool previews = false;                  // also make the gallery's SDR preview PNGs
  int preview_size = 1024;                // long side of previews, pixels
  // Gain map at full resolution by default: the map carries HDR/SDR, and a tone-mapped base
  // makes that ratio vary with local luminance, so fine texture (film grain in the corpus
  // scans) needs every pixel: a half-size map missed the master by 0.12-0.14 stop mean on
  // Desk.exr, a full-size one by 0.04.
  int map_scale = 1;                      // gain map is 1/scale of the image (1, 2, 4, 8)
  // The PQ HEICs are delivered masters: quality 100 is HEVC's lowest QP at 10 bits, near
  // lossless (mean error ~1 10-bit code on the corpus scans; 92 gave ~7).
  int pq_quality = 100;
  int quality = 92;                       // HEVC/AV1 quality of the SDR base
  int gain_map_quality = 90;
  int jpeg_quality = 95;
  int threads = 0;
  Limits limits;
};

struct MasterFile {
  MasterExport kind = MasterExport::Pq;
  std::string name;          // "<stem>_<profile>.<ext>"
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> preview_png;  // sRGB/P3 8-bit preview when opt.previews
};

struct MasterResult {
  std::vector<MasterFile> files;       // in opt.exports order
  std::vector<uint8_t> gain_map_png;   // visualisation (0 = lowest gain .. 255 = highest), with previews
  std::vector<uint8_t> where_hdr_jpeg; // "where HDR is added" heat overlay (regain/overlay.h), with previews
  nlohmann::json meta;                 // input space, tone mapper, gain-map metadata, timings
};

// `stem` names the outputs. Errors: unreadable/unsupported input, bad options; nothing is
// returned partially.
REGAIN_API Result<MasterResult> master_image(std::span<const uint8_t> input, std::string_view stem,
                                  const MasterOptions& opt = {});

// ---- building blocks (exposed for tests) -------------------------------------------------
struct LoadedMaster {
  ImageF rgb;                  // linear Display P3, 1.0 = 203 cd/m2, in [0, 10000/203]
  Transfer source_transfer = Transfer::PQ;
  Primaries source_primaries = Primaries::DisplayP3;
  std::string space_from;      // "ICC cicp", "ICC colorants", "PNG cICP", "EXR", "--input-space", "default"
  std::vector<std::string> warnings;
};
REGAIN_API Result<LoadedMaster> load_master(std::span<const uint8_t> input, const MasterOptions& opt = {});

// Linear P3 (1.0 = 203 cd/m2) -> PQ code values at `bits` (10 or 16), rounded.
REGAIN_API Image16 encode_pq(const ImageF& linear, int bits, int threads = 0);

// The built-in SDR base: BT.2446-1 Method A into `primaries`, plus the optional lift,
// sRGB-encoded to 8 bits.
REGAIN_API Image8 tone_map_base(const ImageF& master_p3, Primaries primaries, double sdr_exposure, int threads = 0);

// ---- gallery (src/pipeline/master_gallery.cpp) --------------------------------------------
struct GalleryEntry {
  std::string profile;   // "HDR_gain_map"
  std::string file;      // relative to the gallery: "IMG_HDR_gain_map.jpg"
  std::string preview;   // relative: "previews/IMG_HDR_gain_map.png"
  bool show_hdr = false; // a format browsers render in HDR (JPEG_R, AVIF): shown as <img>
};
struct GalleryRow {
  std::string stem;
  std::string source;           // input file name as given
  std::vector<GalleryEntry> entries;
  std::string gain_map_preview; // relative path, may be empty
  std::string error;            // set when the input failed
  std::string where_hdr_preview; // relative path of the heat overlay, may be empty
};
// index.html: one row per input; HDR-capable exports as <img> outside any element that
// creates a stacking context or clips (iOS Safari renders gain maps only there).
REGAIN_API std::string gallery_html(const std::vector<GalleryRow>& rows);
REGAIN_API std::string gallery_readme(const std::vector<GalleryRow>& rows);

}  // namespace regain
