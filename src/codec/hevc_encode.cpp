// YuvImage -> one intra-coded HEVC picture with x265, packaged as a HEIF item: parameter sets
// in an hvcC record, slices as 4-byte length-prefixed NAL units.
//
// x265 keeps process-wide state: primitive tables set up on first open and a CTU size that
// every live encoder must share. Opening and closing are therefore serialised and every
// encoder uses 64x64 CTUs with 8x8 minimum CUs whatever the preset; encoding itself runs
// concurrently, one encoder object per call.
#include <x265.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "codec/hevc_syntax.h"
#include "codec/video_quality.h"
#include "regain/video.h"
#include "util/bytes.h"

namespace regain {
namespace hevc {

Bytes build_hvcc(const Sps& sps, const std::vector<Bytes>& vps, const std::vector<Bytes>& sps_nals,
                 const std::vector<Bytes>& pps) {
  ByteWriter w;
  w.u8(1);  // configurationVersion
  // general_profile_space/tier/profile_idc, compatibility flags, constraint flags, level:
  // the SPS's 12 bytes are the record's 12 bytes.
  w.append(sps.general_ptl);
  w.u16(uint16_t(0xF000 | (sps.min_spatial_segmentation_idc & 0x0FFF)));
  w.u8(0xFC);  // parallelismType 0: unknown
  w.u8(uint8_t(0xFC | sps.chroma_format_idc));
  w.u8(uint8_t(0xF8 | (sps.bit_depth_luma - 8)));
  w.u8(uint8_t(0xF8 | (sps.bit_depth_chroma - 8)));
  w.u16(0);  // avgFrameRate: unspecified
  // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
  w.u8(uint8_t((sps.max_sub_layers & 7) << 3 | (sps.temporal_id_nesting ? 4 : 0) | 3));
  const std::vector<Bytes>* arrays[] = {&vps, &sps_nals, &pps};
  const uint8_t types[] = {kVps, kSps, kPps};
  w.u8(3);
  for (int a = 0; a < 3; ++a) {
    w.u8(uint8_t(0x80 | types[a]));  // array_completeness = 1: no parameter sets in the data
    w.u16(uint16_t(arrays[a]->size()));
    for (const Bytes& nal : *arrays[a]) {
      w.u16(uint16_t(nal.size()));
      w.append(nal);
    }
  }
  return w.take();
}

}  // namespace hevc

namespace {

constexpr int kCtu = 64;

std::mutex& x265_global_mutex() {
  static std::mutex m;
  return m;
}

// effort 0..9 -> x265 preset. veryslow/placebo cost several times `slower` for a fraction of
// a percent on stills, so the top efforts stop at `slower`.
const char* preset_for_effort(int effort) {
  static const char* const kPresets[10] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                           "medium",    "slow",      "slower",   "slower", "slower"};
  return kPresets[std::clamp(effort, 0, 9)];
}

struct Padded {
  int width = 0, height = 0;                 // luma
  std::array<int, 3> w{}, h{};               // per plane
  std::array<std::vector<uint8_t>, 3> buf;   // samples as x265 wants them (bytes or uint16)
  std::array<int, 3> stride_bytes{};
};

// Copies the planes into contiguous buffers of the coded size, repeating the last column and
// row into the padding, clamping samples to the bit depth.
Padded pad_planes(const YuvImage& img, int coded_w, int coded_h) {
  Padded p;
  p.width = coded_w;
  p.height = coded_h;
  int planes = img.chroma == Chroma::Mono ? 1 : 3;
  int sx = img.chroma == Chroma::Yuv420 || img.chroma == Chroma::Yuv422 ? 1 : 0;
  int sy = img.chroma == Chroma::Yuv420 ? 1 : 0;
  int bytes = img.bit_depth > 8 ? 2 : 1;
  uint16_t maxv = uint16_t((1u << img.bit_depth) - 1);
  for (int c = 0; c < planes; ++c) {
    const Image16& src = img.planes[c];
    int w = c == 0 ? coded_w : coded_w >> sx, h = c == 0 ? coded_h : coded_h >> sy;
    p.w[c] = w;
    p.h[c] = h;
    p.stride_bytes[c] = w * bytes;
    p.buf[c].resize(size_t(w) * h * bytes);
    for (int y = 0; y < h; ++y) {
      const uint16_t* s = src.row(std::min(y, src.height() - 1));
      uint8_t* d8 = p.buf[c].data() + size_t(y) * p.stride_bytes[c];
      for (int x = 0; x < w; ++x) {
        uint16_t v = std::min(s[std::min(x, src.width() - 1)], maxv);
        if (bytes == 1) {
          d8[x] = uint8_t(v);
        } else {
          std::memcpy(d8 + 2 * x, &v, 2);
        }
      }
    }
  }
  return p;
}

struct ParamDeleter {
  const x265_api* api;
  void operator()(x265_param* p) const { api->param_free(p); }
};
struct PictureDeleter {
  const x265_api* api;
  void operator()(x265_picture* p) const { api->picture_free(p); }
};
struct EncoderDeleter {
  const x265_api* api;
  void operator()(x265_encoder* e) const {
    std::lock_guard lock(x265_global_mutex());
    api->encoder_close(e);
  }
};

// x265 NAL payloads start with a 4-byte big-endian length when bAnnexB is off.
Result<Bytes> nal_body(const x265_nal& n) {
  if (n.sizeBytes < 6) return fail(ErrorCode::Internal, "x265: NAL unit too short");
  uint32_t len = uint32_t(n.payload[0]) << 24 | uint32_t(n.payload[1]) << 16 |
                 uint32_t(n.payload[2]) << 8 | n.payload[3];
  if (len != n.sizeBytes - 4) return fail(ErrorCode::Internal, "x265: unexpected NAL framing");
  return Bytes(n.payload + 4, n.payload + n.sizeBytes);
}

Result<CodedItem> encode(const YuvImage& img, const VideoEncodeOptions& opt) {
  REGAIN_CHECK(validate_yuv(img));
  if (img.bit_depth != 8 && img.bit_depth != 10 && img.bit_depth != 12)
    return fail(ErrorCode::Unsupported, "HEVC encode: bit depth " + std::to_string(img.bit_depth) + " (8, 10 or 12)");
  if (opt.nclx.full_range != img.full_range)
    return fail(ErrorCode::InvalidInput, "HEVC encode: nclx range flag disagrees with the image's sample range");
  if (opt.nclx.primaries > 255 || opt.nclx.transfer > 255 || opt.nclx.matrix > 255)
    return fail(ErrorCode::InvalidInput, "HEVC encode: nclx code points are 8-bit values");
  const x265_api* api = x265_api_get(img.bit_depth);
  if (!api || api->bit_depth != img.bit_depth)
    return fail(ErrorCode::Unsupported, "x265: this build has no " + std::to_string(img.bit_depth) + "-bit encoder");

  int csp = X265_CSP_I420;
  switch (img.chroma) {
    case Chroma::Mono: csp = X265_CSP_I400; break;
    case Chroma::Yuv420: csp = X265_CSP_I420; break;
    case Chroma::Yuv422: csp = X265_CSP_I422; break;
    case Chroma::Yuv444: csp = X265_CSP_I444; break;
  }
  // The conformance window crops in chroma units: subsampled directions need even sizes.
  // x265 also wants at least one CTU (64x64 here) of picture.
  bool even_w = img.chroma == Chroma::Yuv420 || img.chroma == Chroma::Yuv422;
  bool even_h = img.chroma == Chroma::Yuv420;
  int coded_w = std::max(kCtu, img.width + (even_w ? img.width & 1 : 0));
  int coded_h = std::max(kCtu, img.height + (even_h ? img.height & 1 : 0));

  std::unique_ptr<x265_param, ParamDeleter> param(api->param_alloc(), ParamDeleter{api});
  if (!param) return fail(ErrorCode::Internal, "x265: cannot allocate parameters");
  if (api->param_default_preset(param.get(), preset_for_effort(opt.effort), nullptr) < 0)
    return fail(ErrorCode::Internal, "x265: preset rejected");
  x265_param* p = param.get();
  p->logLevel = X265_LOG_NONE;
  p->internalCsp = csp;
  p->sourceWidth = coded_w;
  p->sourceHeight = coded_h;
  p->fpsNum = 1;
  p->fpsDenom = 1;
  // totalFrames stays 0 (unknown) and keyint at the preset's: declaring one intra-only
  // picture makes x265 signal Main Still Picture / RExt "Intra" profiles (10-bit 4:2:0
  // becomes RExt instead of Main 10), which fewer decoders accept. One frame is an IDR anyway.
  p->bframes = 0;
  p->lookaheadDepth = 0;
  p->frameNumThreads = 1;
  p->bRepeatHeaders = 0;
  p->bAnnexB = 0;
  p->bEnableAccessUnitDelimiters = 0;
  p->bEmitInfoSEI = 0;
  p->bEmitHRDSEI = 0;
  p->decodedPictureHashSEI = 0;
  p->bEmitVUITimingInfo = 0;
  p->bEmitVUIHRDInfo = 0;
  p->maxCUSize = kCtu;
  p->minCUSize = 8;
  // Constant QP (see video_quality.h); ipFactor 1 stops x265 lowering the QP of I frames.
  p->rc.rateControlMode = X265_RC_CQP;
  p->rc.qp = video_quality::hevc_qp(opt.quality, img.bit_depth);
  p->rc.ipFactor = 1.0;
  if (opt.threads > 0 && api->param_parse(p, "pools", std::to_string(opt.threads).c_str()) != 0)
    return fail(ErrorCode::Internal, "x265: thread count rejected");

  p->vui.bEnableVideoSignalTypePresentFlag = 1;
  p->vui.videoFormat = 5;  // unspecified
  p->vui.bEnableVideoFullRangeFlag = opt.nclx.full_range ? 1 : 0;
  p->vui.bEnableColorDescriptionPresentFlag = 1;
  p->vui.colorPrimaries = opt.nclx.primaries;
  p->vui.transferCharacteristics = opt.nclx.transfer;
  p->vui.matrixCoeffs = opt.nclx.matrix;
  if (img.chroma == Chroma::Yuv420) {
    // rgb_to_yuv averages 2x2 blocks: chroma sits at the block centre (H.273 location 1).
    p->vui.bEnableChromaLocInfoPresentFlag = 1;
    p->vui.chromaSampleLocTypeTopField = 1;
    p->vui.chromaSampleLocTypeBottomField = 1;
  }

  Padded planes = pad_planes(img, coded_w, coded_h);
  std::unique_ptr<x265_picture, PictureDeleter> pic(api->picture_alloc(), PictureDeleter{api});
  if (!pic) return fail(ErrorCode::Internal, "x265: cannot allocate a picture");
  api->picture_init(p, pic.get());
  pic->bitDepth = img.bit_depth;
  pic->colorSpace = csp;
  for (int c = 0; c < (img.chroma == Chroma::Mono ? 1 : 3); ++c) {
    pic->planes[c] = planes.buf[c].data();
    pic->stride[c] = planes.stride_bytes[c];
  }

  std::unique_ptr<x265_encoder, EncoderDeleter> enc(nullptr, EncoderDeleter{api});
  {
    std::lock_guard lock(x265_global_mutex());
    enc.reset(api->encoder_open(p));
  }
  if (!enc)
    return fail(ErrorCode::InvalidInput,
                "x265: encoder_open rejected the parameters (picture size or nclx code points x265 does not know)");

  std::vector<Bytes> vps, sps_nals, pps;
  x265_nal* nals = nullptr;
  uint32_t count = 0;
  if (api->encoder_headers(enc.get(), &nals, &count) < 0)
    return fail(ErrorCode::Internal, "x265: encoder_headers failed");
  Bytes data;
  auto take = [&](const x265_nal* list, uint32_t n) -> Result<void> {
    for (uint32_t i = 0; i < n; ++i) {
      REGAIN_TRY(body, nal_body(list[i]));
      // x265 hands out the parameter sets from encoder_headers and again with the first
      // frame; identical repeats are dropped.
      auto keep = [&](std::vector<Bytes>& v) {
        if (std::find(v.begin(), v.end(), body) == v.end()) v.push_back(std::move(body));
      };
      switch (list[i].type) {
        case hevc::kVps: keep(vps); break;
        case hevc::kSps: keep(sps_nals); break;
        case hevc::kPps: keep(pps); break;
        default:
          // Slices go to the item; SEI and AUD carry nothing a still image needs.
          if (list[i].type < 32) {
            ByteWriter w;
            w.u32(uint32_t(body.size()));
            data.insert(data.end(), w.bytes().begin(), w.bytes().end());
            data.insert(data.end(), body.begin(), body.end());
          }
      }
    }
    return {};
  };
  REGAIN_CHECK(take(nals, count));

  int r = api->encoder_encode(enc.get(), &nals, &count, pic.get(), nullptr);
  if (r < 0) return fail(ErrorCode::Internal, "x265: encode failed");
  REGAIN_CHECK(take(nals, r > 0 ? count : 0));
  for (int guard = 0; guard < 8; ++guard) {  // flush: the frame may still be in the lookahead
    r = api->encoder_encode(enc.get(), &nals, &count, nullptr, nullptr);
    if (r < 0) return fail(ErrorCode::Internal, "x265: flush failed");
    if (r == 0) break;
    REGAIN_CHECK(take(nals, count));
  }
  if (data.empty()) return fail(ErrorCode::Internal, "x265: produced no slice");
  // hvcC carries one of each; the decoder side accepts more, x265 writes exactly one.
  if (vps.size() != 1 || sps_nals.size() != 1 || pps.size() != 1)
    return fail(ErrorCode::Internal, "x265: expected one VPS, SPS and PPS");

  auto sps = hevc::parse_sps(sps_nals[0]);
  if (!sps) return fail(ErrorCode::Internal, "x265 wrote an SPS we cannot read: " + sps.error().message);
  CodedItem item;
  item.config = hevc::build_hvcc(*sps, vps, sps_nals, pps);
  item.data = std::move(data);
  item.width = coded_w;
  item.height = coded_h;
  return item;
}

}  // namespace

// x265 3.5 (Debian 12) leaks a little on every encoder: the zoneParam copy encoder_open makes,
// strings param_parse / copy_params strdup, some SAO buffers. Nothing reachable from here
// frees them, so under LeakSanitizer (the project's ASan runs use detect_leaks=1) allocations
// made inside libx265 are suppressed; leaks of our own still show. Inert without LSan.
extern "C" __attribute__((visibility("default"), used)) const char* __lsan_default_suppressions() {
  return "leak:libx265.so\n";
}

Result<CodedItem> encode_hevc_item(const YuvImage& img, const VideoEncodeOptions& opt) {
  try {
    return encode(img, opt);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "HEVC encode: out of memory");
  }
}

}  // namespace regain
