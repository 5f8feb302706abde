// The decoders `decode` and `process` reach from a user's file, chosen by magic bytes: gain-map
// JPEG/HEIF/AVIF renditions, plain JPEG (and a gray one re-packed as YCbCr), PNG (8/16-bit,
// cICP, iCCP), TIFF, WebP (ICC/EXIF chunks), OpenEXR, and the HDR-master reader. Limits are small so a hostile size
// is a refusal, not an allocation.
#include <cstdint>
#include <span>

#include "regain/codec.h"
#include "regain/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  regain::ByteView in(data, size);
  regain::Limits limits;
  limits.max_pixels = 4'000'000;
  limits.max_dimension = 8192;
  switch (regain::sniff_file_type(in)) {
    case regain::FileType::Jpeg: {
      regain::DecodeOptions opt;
      opt.limits = limits;
      opt.threads = 1;
      (void)regain::decode_jpegr_hdr(in, opt);
      (void)regain::decode_jpeg(in, limits);
      (void)regain::gray_jpeg_to_ycc(in, limits);  // a black-and-white edit's base
      break;
    }
    case regain::FileType::Png:
      (void)regain::decode_png(in, limits);
      (void)regain::decode_png8(in, 3, limits);  // the edit path: alpha, tRNS, a late eXIf
      break;
    case regain::FileType::Tiff:
      (void)regain::decode_tiff(in, limits);
      break;
    case regain::FileType::Exr:
      (void)regain::decode_exr(in, limits);
      break;
    case regain::FileType::Webp:
      (void)regain::decode_webp(in, limits);
      break;
    default:
      break;
  }
  regain::HdrReadOptions ho;
  ho.limits = limits;
  (void)regain::read_hdr_image(in, ho);
  return 0;
}
