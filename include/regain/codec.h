// Pixel codecs: bytes <-> pixels for JPEG (libjpeg-turbo), PNG (libpng), TIFF (libtiff),
// OpenEXR, and WebP (libwebp, read only). Containers (JPEG_R, HEIF) are a layer above and call these.
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/error.h"
#include "regain/image.h"

namespace regain {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

enum class FileType { Unknown, Jpeg, Png, Tiff, Exr, Heif, Avif, Webp };
REGAIN_API FileType sniff_file_type(ByteView bytes);  // from magic bytes, never from a name
REGAIN_API const char* file_type_name(FileType t);
// JPEG, HEIF and AVIF can carry a gain map; PNG, TIFF, EXR and WebP cannot.
REGAIN_API bool may_carry_gain_map(FileType t);

// How hard the lossless writers (PNG, TIFF, EXR) compress. Fast, the default: zlib level 2
// (PNG: Sub/Paeth filters) on all cores. Small: level 9 (PNG: every filter tried), for when
// the smallest file matters more than seconds (`--small`).
enum class Effort { Fast, Small };

// ---- JPEG (TurboJPEG) ----------------------------------------------------------------
struct JpegInfo {
  int width = 0, height = 0, components = 0;  // components: 1 (gray) or 3
};
REGAIN_API Result<JpegInfo> jpeg_info(ByteView jpeg);
// Decodes to 1 channel (gray) or 3 channels (RGB, BT.601 full-range YCbCr conversion).
// want_channels 0 = as stored.
REGAIN_API Result<Image8> decode_jpeg(ByteView jpeg, const Limits& limits = {}, int want_channels = 0);
// Streaming decode to 8-bit RGB: `out` is (re)allocated from the header unless it already
// has the right size, then filled top to
// bottom; `on_rows(rows_done)` runs on the decoding thread every few rows so another thread
// can work on finished rows while the rest decodes.
REGAIN_API Result<void> decode_jpeg_rows(ByteView jpeg, const Limits& limits, Image8& out,
                              const std::function<void(int rows_done)>& on_rows);
struct JpegEncodeOptions {
  int quality = 95;
  bool subsample_420 = false;  // chroma subsampling (4:2:0 if true, else 4:4:4)
};
// Plain JFIF stream (no ICC/EXIF); containers splice metadata segments in afterwards.
REGAIN_API Result<Bytes> encode_jpeg(const Image8& img, const JpegEncodeOptions& opt = {});
// A grayscale JPEG as a 3-component YCbCr JPEG with the same luma coefficients (lossless:
// decodes to R = G = B = the gray decode) and all-zero chroma; a plain JFIF stream, like
// encode_jpeg's. Fails on anything but a one-component JPEG.
REGAIN_API Result<Bytes> gray_jpeg_to_ycc(ByteView jpeg, const Limits& limits = {});

// ---- PNG ------------------------------------------------------------------------------
// cICP chunk (ITU-T H.273 code points).
struct Cicp {
  uint8_t primaries = 1, transfer = 13, matrix = 0, full_range = 1;
};
struct PngImage {
  Image16 pixels;          // 8-bit files are widened to 16 bits (v * 257)
  int bit_depth = 8;       // as stored
  std::optional<Cicp> cicp;
  std::vector<uint8_t> icc;
  std::optional<double> gamma;  // gAMA
  std::vector<uint8_t> exif;    // eXIf (before IDAT) as a TIFF stream
};
REGAIN_API Result<PngImage> decode_png(ByteView png, const Limits& limits = {});
// The first `channels` (1 or 3) samples of each pixel, rounded to 8 bits.
REGAIN_API Image8 png_to_8bit(const PngImage& png, int channels);
// decode_png + png_to_8bit with the same pixels, but an 8-bit file is read straight into
// 8-bit rows (no 16-bit copy of the image).
struct PngImage8 {
  Image8 pixels;            // `channels` channels
  int bit_depth = 8;        // as stored
  int source_channels = 0;  // as decoded (palette expanded, tRNS as alpha: 1-4), before the channel selection
  std::optional<Cicp> cicp;
  std::vector<uint8_t> icc;
  std::optional<double> gamma;
  // eXIf as a TIFF stream: the one before IDAT, else one after it (exif_after_idat: browsers
  // read eXIf only before IDAT, so a later one's Orientation is not what they show).
  std::vector<uint8_t> exif;
  bool exif_after_idat = false;
  // 8-bit alpha (an alpha channel or tRNS) when some pixel is not opaque; empty otherwise.
  Image8 alpha;
};
REGAIN_API Result<PngImage8> decode_png8(ByteView png, int channels, const Limits& limits = {});
// 1 or 3 (or 4) channel, 8- or 16-bit source data. Filtered and deflated on all cores.
REGAIN_API Result<Bytes> encode_png16(const Image16& img, const std::optional<Cicp>& cicp = {},
                           std::span<const uint8_t> icc = {}, Effort effort = Effort::Fast);
REGAIN_API Result<Bytes> encode_png8(const Image8& img, std::span<const uint8_t> icc = {}, Effort effort = Effort::Fast);

// ---- WebP (libwebp; read only: edits downloaded from the web or exported by AI tools) ----
struct WebpImage {
  Image8 pixels;               // RGB, as stored (EXIF orientation not applied)
  bool had_alpha = false;      // the header says the file has alpha
  Image8 alpha;                // 8-bit alpha when some pixel is not opaque; empty otherwise
  bool lossless = false;
  std::vector<uint8_t> icc;    // the ICCP chunk
  std::vector<uint8_t> exif;   // the EXIF chunk as a TIFF stream ("Exif\0\0" prefix removed)
};
// Still images only: an animated WebP is Unsupported. Size limits are checked from the
// header before any pixel is decoded.
REGAIN_API Result<WebpImage> decode_webp(ByteView webp, const Limits& limits = {});

// ---- TIFF -----------------------------------------------------------------------------
struct TiffImage {
  // Exactly one of these is filled: integer (8/16-bit) or float samples.
  Image16 pixels16;     // 8-bit widened to 16 bits
  ImageF pixelsf;
  int bit_depth = 16;
  bool is_float = false;
  std::vector<uint8_t> icc;
  int orientation = 1;  // the Orientation tag (1..8, EXIF's meaning); pixels are as stored
  // A 4th sample is alpha only when ExtraSamples says so (associated = premultiplied).
  enum class Extra { None, Alpha, PremultipliedAlpha, Unspecified } extra = Extra::None;
};
REGAIN_API Result<TiffImage> decode_tiff(ByteView tiff, const Limits& limits = {});
// Deflate with a differencing predictor; 16-bit strips are predicted and deflated on all cores.
REGAIN_API Result<Bytes> encode_tiff16(const Image16& img, std::span<const uint8_t> icc = {}, Effort effort = Effort::Fast);
REGAIN_API Result<Bytes> encode_tiff_float(const ImageF& img, std::span<const uint8_t> icc = {}, Effort effort = Effort::Fast);

// ---- OpenEXR --------------------------------------------------------------------------
struct ExrImage {
  ImageF rgb;                     // 3 channels, linear
  std::optional<Primaries> primaries;             // from the chromaticities attribute
  std::optional<std::array<float, 8>> chromaticities;
};
REGAIN_API Result<ExrImage> decode_exr(ByteView exr, const Limits& limits = {});
// Half-float RGB with a chromaticities attribute for `primaries`; ZIP blocks compressed on
// all cores (OpenEXR's thread pool).
REGAIN_API Result<Bytes> encode_exr(const ImageF& rgb, Primaries primaries, Effort effort = Effort::Fast);

// ---- HDR image files (EXR, 16-bit PQ/HLG PNG, TIFF) -----------------------------------
// Linear "extended SDR" light: 1.0 = SDR reference white (203 cd/m2).
struct HdrImage {
  ImageF rgb;  // 3 channels
  Primaries primaries = Primaries::BT709;
  Transfer source_transfer = Transfer::Linear;  // how the file was encoded
};
struct HdrReadOptions {
  // For files that do not say (TIFF without ICC, PNG without cICP): how to interpret them.
  std::optional<Transfer> transfer;
  std::optional<Primaries> primaries;
  Limits limits;
};
REGAIN_API Result<HdrImage> read_hdr_image(ByteView bytes, const HdrReadOptions& opt = {});
// Full-range signal samples at `bit_depth` (1 or 3 channels) -> 3-channel relative light,
// 1.0 = SDR white (PQ absolute, HLG through its OOTF on a 1000 cd/m2 display).
REGAIN_API ImageF signal_to_relative_light(const Image16& px, int bit_depth, Transfer t);

}  // namespace regain
