// WebP through libwebp: pixels from the decoder, ICC and EXIF from the demuxer. Read only:
// WebP reaches regain as an edit (downloads, AI tools, messengers), never as an output.
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "regain/codec.h"

namespace regain {

namespace {

constexpr size_t kMaxIccBytes = 4u << 20;

struct DemuxDeleter {
  void operator()(WebPDemuxer* d) const { WebPDemuxDelete(d); }
};

// One metadata chunk ("ICCP" / "EXIF") as bytes; empty when absent.
std::vector<uint8_t> chunk_bytes(const WebPDemuxer* d, const char fourcc[4]) {
  std::vector<uint8_t> out;
  WebPChunkIterator it;
  if (WebPDemuxGetChunk(d, fourcc, 1, &it)) {
    out.assign(it.chunk.bytes, it.chunk.bytes + it.chunk.size);
    WebPDemuxReleaseChunkIterator(&it);
  }
  return out;
}

const char* status_text(VP8StatusCode s) {
  switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "damaged bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "file cut short";
    default: return "error";
  }
}

}  // namespace

Result<WebpImage> decode_webp(ByteView webp, const Limits& limits) {
  if (webp.size() > limits.max_file_bytes) return fail(ErrorCode::TooLarge, "WebP file over the size limit");
  WebPBitstreamFeatures f;
  if (const VP8StatusCode s = WebPGetFeatures(webp.data(), webp.size(), &f); s != VP8_STATUS_OK)
    return fail(ErrorCode::InvalidInput, std::string("WebP header: ") + status_text(s));
  if (f.has_animation) return fail(ErrorCode::Unsupported, "animated WebP is not supported (a still image is)");
  if (f.width <= 0 || f.height <= 0) return fail(ErrorCode::InvalidInput, "WebP has zero size");
  if (uint32_t(f.width) > limits.max_dimension || uint32_t(f.height) > limits.max_dimension ||
      uint64_t(f.width) * uint64_t(f.height) > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "WebP is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                                         ", over the pixel limit");

  // The demuxer validates the RIFF chunk layout (sizes inside the file) before we read any
  // metadata from it; a simple lossy/lossless file without VP8X has no metadata chunks.
  const WebPData data{webp.data(), webp.size()};
  std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemux(&data));
  if (!demux) return fail(ErrorCode::InvalidInput, "WebP file is cut short or its chunk sizes are damaged");

  WebpImage out;
  out.had_alpha = f.has_alpha != 0;
  out.lossless = f.format == 2;
  try {
    out.icc = chunk_bytes(demux.get(), "ICCP");
    // Real profiles are kilobytes (a LUT-based one a few hundred); a JPEG carries at most 16.7 MB.
    if (out.icc.size() > kMaxIccBytes)
      return fail(ErrorCode::InvalidInput, "WebP ICC profile of " + std::to_string(out.icc.size()) + " bytes is implausibly large");
    out.exif = chunk_bytes(demux.get(), "EXIF");
    // Some writers keep JPEG's APP1 prefix in the chunk; the spec'd content is the TIFF stream.
    if (out.exif.size() >= 6 && std::memcmp(out.exif.data(), "Exif\0\0", 6) == 0)
      out.exif.erase(out.exif.begin(), out.exif.begin() + 6);
    out.pixels = Image8(f.width, f.height, f.has_alpha ? 4 : 3);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "WebP: out of memory");
  }
  // Decoded straight into our buffer (no copy), with libwebp's status kept for the message.
  WebPDecoderConfig cfg;
  if (!WebPInitDecoderConfig(&cfg)) return fail(ErrorCode::Internal, "libwebp version mismatch");
  const int nc = out.pixels.channels();
  cfg.output.colorspace = nc == 4 ? MODE_RGBA : MODE_RGB;  // straight (not premultiplied) alpha
  cfg.output.is_external_memory = 1;
  cfg.output.u.RGBA.rgba = out.pixels.data();
  cfg.output.u.RGBA.stride = f.width * nc;
  cfg.output.u.RGBA.size = size_t(f.width) * nc * size_t(f.height);
  const VP8StatusCode s = WebPDecode(webp.data(), webp.size(), &cfg);
  WebPFreeDecBuffer(&cfg.output);  // external memory: frees nothing of ours
  if (s == VP8_STATUS_OUT_OF_MEMORY) return fail(ErrorCode::TooLarge, "WebP: out of memory");
  if (s != VP8_STATUS_OK) return fail(ErrorCode::InvalidInput, std::string("WebP data: ") + status_text(s));
  if (nc == 4) {
    // RGB and an alpha plane; the plane is kept only when some pixel is not opaque.
    try {
      const size_t n = size_t(f.width) * size_t(f.height);
      Image8 rgb(f.width, f.height, 3), a(f.width, f.height, 1);
      const uint8_t* p = out.pixels.data();
      bool any = false;
      for (size_t i = 0; i < n; ++i) {
        rgb.data()[3 * i] = p[4 * i];
        rgb.data()[3 * i + 1] = p[4 * i + 1];
        rgb.data()[3 * i + 2] = p[4 * i + 2];
        a.data()[i] = p[4 * i + 3];
        any |= p[4 * i + 3] != 255;
      }
      out.pixels = std::move(rgb);
      if (any) out.alpha = std::move(a);
    } catch (const std::bad_alloc&) {
      return fail(ErrorCode::TooLarge, "WebP: out of memory");
    }
  }
  return out;
}

}  // namespace regain
