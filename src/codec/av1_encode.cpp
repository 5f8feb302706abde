// YuvImage -> one AV1 still picture with libaom (all-intra usage, reduced still picture
// header), packaged as an AVIF item: av1C derived from the sequence header the encoder wrote,
// item data = the temporal unit without its temporal delimiter. One encoder per call; libaom
// sets up its global function tables once, thread-safely, so calls may run concurrently.
#include <aom/aom_encoder.h>
#include <aom/aomcx.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "codec/av1_syntax.h"
#include "codec/video_quality.h"
#include "regain/video.h"
#include "util/bytes.h"

namespace regain {
namespace av1 {

Bytes build_av1c(const SequenceHeader& s, ByteView seq_header_obu) {
  ByteWriter w;
  w.u8(0x81);  // marker 1, version 1
  w.u8(uint8_t(s.profile << 5 | (s.level_idx0 & 0x1f)));
  w.u8(uint8_t(s.tier0 << 7 | s.high_bitdepth << 6 | s.twelve_bit << 5 | s.mono << 4 | s.ss_x << 3 |
               s.ss_y << 2 | (s.chroma_sample_position & 3)));
  w.u8(0);  // initial_presentation_delay_present = 0
  w.append(seq_header_obu);
  return w.take();
}

}  // namespace av1

namespace {

// effort 0..9 -> libaom cpu-used (all-intra speeds run 0 slowest .. 9 fastest). The default
// effort 5 gives speed 6, the usual still-image setting; 2 is already many times slower.
int cpu_used_for_effort(int effort) {
  static const int kSpeed[10] = {9, 9, 8, 8, 7, 6, 5, 4, 3, 2};
  return kSpeed[std::clamp(effort, 0, 9)];
}

struct CodecGuard {
  aom_codec_ctx_t ctx{};
  bool live = false;
  ~CodecGuard() {
    if (live) aom_codec_destroy(&ctx);
  }
};
struct ImageDeleter {
  void operator()(aom_image_t* img) const { aom_img_free(img); }
};

std::string aom_message(aom_codec_ctx_t* ctx, const char* what) {
  std::string m = std::string("libaom: ") + what + ": " + aom_codec_error(ctx);
  if (const char* d = aom_codec_error_detail(ctx)) m += std::string(" (") + d + ")";
  return m;
}

// Copies a plane into the aom image (bytes or uint16 per its format), clamping to the depth.
void fill_plane(aom_image_t* img, int c, const Image16& src, int w, int h, int bit_depth) {
  bool hbd = img->fmt & AOM_IMG_FMT_HIGHBITDEPTH;
  uint16_t maxv = uint16_t((1u << bit_depth) - 1);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = img->planes[c] + size_t(y) * img->stride[c];
    const uint16_t* s = src.row(y);
    if (hbd) {
      auto* d = reinterpret_cast<uint16_t*>(row);
      for (int x = 0; x < w; ++x) d[x] = std::min(s[x], maxv);
    } else {
      for (int x = 0; x < w; ++x) row[x] = uint8_t(std::min(s[x], maxv));
    }
  }
}

void fill_constant(aom_image_t* img, int c, int w, int h, uint16_t v) {
  bool hbd = img->fmt & AOM_IMG_FMT_HIGHBITDEPTH;
  for (int y = 0; y < h; ++y) {
    uint8_t* row = img->planes[c] + size_t(y) * img->stride[c];
    if (hbd) std::fill_n(reinterpret_cast<uint16_t*>(row), w, v);
    else std::memset(row, v, size_t(w));
  }
}

Result<CodedItem> encode(const YuvImage& img, const VideoEncodeOptions& opt) {
  REGAIN_CHECK(validate_yuv(img));
  if (img.bit_depth != 8 && img.bit_depth != 10 && img.bit_depth != 12)
    return fail(ErrorCode::Unsupported, "AV1 encode: bit depth " + std::to_string(img.bit_depth) + " (8, 10 or 12)");
  if (opt.nclx.full_range != img.full_range)
    return fail(ErrorCode::InvalidInput, "AV1 encode: nclx range flag disagrees with the image's sample range");
  if (opt.nclx.primaries > 255 || opt.nclx.transfer > 255 || opt.nclx.matrix > 255)
    return fail(ErrorCode::InvalidInput, "AV1 encode: nclx code points are 8-bit values");

  // Profiles: 0 = 8/10-bit 4:2:0 and mono, 1 = 8/10-bit 4:4:4, 2 = 4:2:2 or 12-bit.
  int profile = 0;
  aom_img_fmt_t fmt = AOM_IMG_FMT_I420;
  switch (img.chroma) {
    case Chroma::Mono:
    case Chroma::Yuv420: fmt = AOM_IMG_FMT_I420; profile = 0; break;
    case Chroma::Yuv422: fmt = AOM_IMG_FMT_I422; profile = 2; break;
    case Chroma::Yuv444: fmt = AOM_IMG_FMT_I444; profile = 1; break;
  }
  if (img.bit_depth == 12) profile = 2;
  bool hbd = img.bit_depth > 8;
  if (hbd) fmt = aom_img_fmt_t(fmt | AOM_IMG_FMT_HIGHBITDEPTH);

  aom_codec_iface_t* iface = aom_codec_av1_cx();
  aom_codec_enc_cfg_t cfg;
  if (aom_codec_enc_config_default(iface, &cfg, AOM_USAGE_ALL_INTRA) != AOM_CODEC_OK) {
    // Older libaom without all-intra usage: good quality, one key frame.
    if (aom_codec_enc_config_default(iface, &cfg, AOM_USAGE_GOOD_QUALITY) != AOM_CODEC_OK)
      return fail(ErrorCode::Internal, "libaom: no default encoder configuration");
    cfg.g_lag_in_frames = 0;
    cfg.kf_max_dist = 0;
  }
  int threads = opt.threads > 0 ? opt.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  int quantizer = video_quality::av1_quantizer(opt.quality);
  cfg.g_w = unsigned(img.width);
  cfg.g_h = unsigned(img.height);
  cfg.g_profile = unsigned(profile);
  cfg.g_bit_depth = aom_bit_depth_t(img.bit_depth);
  cfg.g_input_bit_depth = unsigned(img.bit_depth);
  cfg.g_limit = 1;  // still picture
  cfg.g_threads = unsigned(std::min(threads, 64));
  cfg.monochrome = img.chroma == Chroma::Mono ? 1 : 0;
  cfg.full_still_picture_hdr = 0;
  cfg.rc_end_usage = AOM_Q;
  cfg.rc_min_quantizer = unsigned(quantizer);
  cfg.rc_max_quantizer = unsigned(quantizer);

  CodecGuard codec;
  if (aom_codec_enc_init(&codec.ctx, iface, &cfg, hbd ? AOM_CODEC_USE_HIGHBITDEPTH : 0) != AOM_CODEC_OK) {
    std::string m = aom_message(&codec.ctx, "encoder init");
    return fail(ErrorCode::Internal, m);
  }
  codec.live = true;
  auto control = [&](int id, int value) -> Result<void> {
    if (aom_codec_control(&codec.ctx, id, value) != AOM_CODEC_OK)
      return fail(ErrorCode::Internal, aom_message(&codec.ctx, ("control " + std::to_string(id)).c_str()));
    return {};
  };
  REGAIN_CHECK(control(AOME_SET_CPUUSED, cpu_used_for_effort(opt.effort)));
  REGAIN_CHECK(control(AOME_SET_CQ_LEVEL, quantizer));
  REGAIN_CHECK(control(AV1E_SET_ROW_MT, 1));
  REGAIN_CHECK(control(AV1E_SET_COLOR_PRIMARIES, opt.nclx.primaries));
  REGAIN_CHECK(control(AV1E_SET_TRANSFER_CHARACTERISTICS, opt.nclx.transfer));
  REGAIN_CHECK(control(AV1E_SET_MATRIX_COEFFICIENTS, opt.nclx.matrix));
  REGAIN_CHECK(control(AV1E_SET_COLOR_RANGE, opt.nclx.full_range ? 1 : 0));
  // AV1 can say "left" or "top-left" but not "centre", where rgb_to_yuv puts chroma.
  REGAIN_CHECK(control(AV1E_SET_CHROMA_SAMPLE_POSITION, 0));
  if (quantizer == 0) REGAIN_CHECK(control(AV1E_SET_LOSSLESS, 1));

  std::unique_ptr<aom_image_t, ImageDeleter> frame(aom_img_alloc(nullptr, fmt, cfg.g_w, cfg.g_h, 16));
  if (!frame) return fail(ErrorCode::TooLarge, "libaom: cannot allocate the input image");
  frame->bit_depth = unsigned(img.bit_depth);
  frame->cp = aom_color_primaries_t(opt.nclx.primaries);
  frame->tc = aom_transfer_characteristics_t(opt.nclx.transfer);
  frame->mc = aom_matrix_coefficients_t(opt.nclx.matrix);
  frame->range = opt.nclx.full_range ? AOM_CR_FULL_RANGE : AOM_CR_STUDIO_RANGE;
  frame->monochrome = cfg.monochrome;
  fill_plane(frame.get(), 0, img.planes[0], img.width, img.height, img.bit_depth);
  int cw = (img.width + int(frame->x_chroma_shift)) >> frame->x_chroma_shift;
  int ch = (img.height + int(frame->y_chroma_shift)) >> frame->y_chroma_shift;
  if (img.chroma == Chroma::Mono) {
    // The encoder codes no chroma but may still read the planes: give them neutral grey.
    uint16_t mid = uint16_t(1u << (img.bit_depth - 1));
    fill_constant(frame.get(), 1, cw, ch, mid);
    fill_constant(frame.get(), 2, cw, ch, mid);
  } else {
    fill_plane(frame.get(), 1, img.planes[1], cw, ch, img.bit_depth);
    fill_plane(frame.get(), 2, img.planes[2], cw, ch, img.bit_depth);
  }

  Bytes tu;
  auto collect = [&]() {
    aom_codec_iter_t iter = nullptr;
    while (const aom_codec_cx_pkt_t* pkt = aom_codec_get_cx_data(&codec.ctx, &iter)) {
      if (pkt->kind != AOM_CODEC_CX_FRAME_PKT) continue;
      auto* b = static_cast<const uint8_t*>(pkt->data.frame.buf);
      tu.insert(tu.end(), b, b + pkt->data.frame.sz);
    }
  };
  if (aom_codec_encode(&codec.ctx, frame.get(), 0, 1, 0) != AOM_CODEC_OK)
    return fail(ErrorCode::Internal, aom_message(&codec.ctx, "encode"));
  collect();
  if (aom_codec_encode(&codec.ctx, nullptr, 0, 0, 0) != AOM_CODEC_OK)  // flush
    return fail(ErrorCode::Internal, aom_message(&codec.ctx, "flush"));
  collect();

  auto obus = av1::split_obus(tu);
  if (!obus) return fail(ErrorCode::Internal, "libaom output: " + obus.error().message);
  CodedItem item;
  ByteView seq_obu;
  for (const av1::Obu& o : *obus) {
    if (o.type == av1::kTemporalDelimiter || o.type == av1::kPadding) continue;
    if (o.type == av1::kSequenceHeader) {
      if (!seq_obu.empty()) return fail(ErrorCode::Internal, "libaom wrote two sequence headers");
      seq_obu = o.whole;
    }
    item.data.insert(item.data.end(), o.whole.begin(), o.whole.end());
  }
  if (seq_obu.empty()) return fail(ErrorCode::Internal, "libaom wrote no sequence header");
  auto seq = av1::parse_sequence_header(av1::split_obus(seq_obu)->front().payload);
  if (!seq) return fail(ErrorCode::Internal, "libaom wrote a sequence header we cannot read: " + seq.error().message);
  item.config = av1::build_av1c(*seq, seq_obu);
  item.width = img.width;
  item.height = img.height;
  return item;
}

}  // namespace

Result<CodedItem> encode_av1_item(const YuvImage& img, const VideoEncodeOptions& opt) {
  try {
    return encode(img, opt);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "AV1 encode: out of memory");
  }
}

}  // namespace regain
