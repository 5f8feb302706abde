// JPEG pixels through TurboJPEG (libjpeg-turbo). Containers handle all APP segments.
#include <turbojpeg.h>

#include <algorithm>
#include <memory>
#include <string>

#include "regain/codec.h"

namespace regain {

namespace {
struct TjHandle {
  tjhandle h;
  explicit TjHandle(tjhandle x) : h(x) {}
  ~TjHandle() { if (h) tjDestroy(h); }
  TjHandle(const TjHandle&) = delete;
  TjHandle& operator=(const TjHandle&) = delete;
};
std::string tj_message(tjhandle h) { return tjGetErrorStr2(h); }
}  // namespace

Result<JpegInfo> jpeg_info(ByteView jpeg) {
  TjHandle tj(tjInitDecompress());
  if (!tj.h) return fail(ErrorCode::Internal, "TurboJPEG init failed");
  int w = 0, h = 0, subsamp = 0, cs = 0;
  if (tjDecompressHeader3(tj.h, jpeg.data(), (unsigned long)jpeg.size(), &w, &h, &subsamp, &cs) != 0)
    return fail(ErrorCode::InvalidInput, "JPEG header: " + tj_message(tj.h));
  JpegInfo info;
  info.width = w;
  info.height = h;
  info.components = cs == TJCS_GRAY ? 1 : (cs == TJCS_CMYK || cs == TJCS_YCCK) ? 4 : 3;
  return info;
}

Result<Image8> decode_jpeg(ByteView jpeg, const Limits& limits, int want_channels) {
  TjHandle tj(tjInitDecompress());
  if (!tj.h) return fail(ErrorCode::Internal, "TurboJPEG init failed");
  int w = 0, h = 0, subsamp = 0, cs = 0;
  if (tjDecompressHeader3(tj.h, jpeg.data(), (unsigned long)jpeg.size(), &w, &h, &subsamp, &cs) != 0)
    return fail(ErrorCode::InvalidInput, "JPEG header: " + tj_message(tj.h));
  if (w <= 0 || h <= 0) return fail(ErrorCode::InvalidInput, "JPEG has zero size");
  if (uint32_t(w) > limits.max_dimension || uint32_t(h) > limits.max_dimension ||
      uint64_t(w) * h > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "JPEG is " + std::to_string(w) + "x" + std::to_string(h) +
                                         ", over the pixel limit");
  if (cs == TJCS_CMYK || cs == TJCS_YCCK)
    return fail(ErrorCode::Unsupported, "CMYK JPEGs are not supported");
  int channels = want_channels ? want_channels : (cs == TJCS_GRAY ? 1 : 3);
  if (channels != 1 && channels != 3)
    return fail(ErrorCode::InvalidInput, "JPEG decode: 1 or 3 channels only");
  Image8 img(w, h, channels);
  if (tjDecompress2(tj.h, jpeg.data(), (unsigned long)jpeg.size(), img.data(), w, 0, h,
                    channels == 1 ? TJPF_GRAY : TJPF_RGB, 0) != 0) {
    // Benign warnings (extraneous bytes) pass, as in every viewer; running out of data does
    // not: the missing part would be silently grey.
    const std::string msg = tj_message(tj.h);
    if (tjGetErrorCode(tj.h) != TJERR_WARNING || msg.find("Premature end") != std::string::npos)
      return fail(ErrorCode::InvalidInput, "JPEG data: " + msg);
  }
  return img;
}

Result<Bytes> encode_jpeg(const Image8& img, const JpegEncodeOptions& opt) {
  if (img.empty()) return fail(ErrorCode::InvalidInput, "JPEG encode: empty image");
  if (img.channels() != 1 && img.channels() != 3)
    return fail(ErrorCode::InvalidInput, "JPEG encode: 1 or 3 channels only");
  if (img.width() > 65535 || img.height() > 65535)
    return fail(ErrorCode::TooLarge, "JPEG encode: dimensions over 65535");
  TjHandle tj(tjInitCompress());
  if (!tj.h) return fail(ErrorCode::Internal, "TurboJPEG init failed");
  const bool gray = img.channels() == 1;
  const int samp = gray ? TJSAMP_GRAY : (opt.subsample_420 ? TJSAMP_420 : TJSAMP_444);
  unsigned long size = tjBufSize(img.width(), img.height(), samp);
  // TurboJPEG writes into our buffer (no realloc) since tjBufSize is the worst case.
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> buf(tjAlloc(int(size)), tjFree);
  if (!buf) return fail(ErrorCode::Internal, "TurboJPEG allocation failed");
  unsigned char* p = buf.get();
  if (tjCompress2(tj.h, img.data(), img.width(), 0, img.height(), gray ? TJPF_GRAY : TJPF_RGB, &p,
                  &size, samp, std::clamp(opt.quality, 1, 100), TJFLAG_NOREALLOC) != 0)
    return fail(ErrorCode::Internal, "JPEG encode: " + tj_message(tj.h));
  return Bytes(p, p + size);
}

}  // namespace regain
