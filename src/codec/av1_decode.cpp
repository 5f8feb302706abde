// AV1 items -> YuvImage with dav1d, plus the OBU / sequence header parsing the decoder
// relies on. Every sequence header is checked against Limits before dav1d sees it, and
// dav1d's own frame_size_limit backs that up for the frame headers.
#include <dav1d/dav1d.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>

#include "codec/av1_syntax.h"
#include "codec/bitstream.h"
#include "regain/video.h"

namespace regain {
namespace av1 {

Result<std::vector<Obu>> split_obus(ByteView data) {
  std::vector<Obu> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t start = pos;
    uint8_t h = data[pos++];
    if (h & 0x80) return fail(ErrorCode::InvalidInput, "AV1: OBU forbidden bit set");
    Obu obu;
    obu.type = (h >> 3) & 0xf;
    bool extension = h & 4, has_size = h & 2;
    if (extension) {
      if (pos >= data.size()) return fail(ErrorCode::InvalidInput, "AV1: OBU extension header past the end");
      ++pos;
    }
    size_t size = data.size() - pos;
    if (has_size) {
      uint64_t v = 0;
      int i = 0;
      for (;; ++i) {
        if (i == 8 || pos >= data.size()) return fail(ErrorCode::InvalidInput, "AV1: bad OBU size field");
        uint8_t b = data[pos++];
        v |= uint64_t(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) break;
      }
      if (v > data.size() - pos) return fail(ErrorCode::InvalidInput, "AV1: OBU size past the end of the data");
      size = size_t(v);
    }
    obu.payload = data.subspan(pos, size);
    pos += size;
    obu.whole = data.subspan(start, pos - start);
    out.push_back(obu);
  }
  return out;
}

Result<SequenceHeader> parse_sequence_header(ByteView payload) {
  bits::BitReader r(payload);
  SequenceHeader s;
  s.profile = int(r.u(3));
  if (s.profile > 2) return fail(ErrorCode::Unsupported, "AV1: seq_profile " + std::to_string(s.profile));
  s.still_picture = r.flag();
  s.reduced_still_picture_header = r.flag();
  if (s.reduced_still_picture_header) {
    s.level_idx0 = int(r.u(5));
  } else {
    bool decoder_model_info = false;
    int buffer_delay_length = 0;
    if (r.flag()) {  // timing_info_present_flag
      r.skip(64);
      if (r.flag()) r.uvlc();  // equal_picture_interval -> num_ticks_per_picture_minus_1
      decoder_model_info = r.flag();
      if (decoder_model_info) {
        buffer_delay_length = int(r.u(5)) + 1;
        r.skip(32 + 5 + 5);
      }
    }
    bool initial_display_delay = r.flag();
    int op_count = int(r.u(5)) + 1;
    for (int i = 0; i < op_count; ++i) {
      r.skip(12);  // operating_point_idc
      int level = int(r.u(5));
      int tier = level > 7 ? int(r.u(1)) : 0;
      if (i == 0) s.level_idx0 = level, s.tier0 = tier;
      if (decoder_model_info && r.flag()) r.skip(2 * size_t(buffer_delay_length) + 1);
      if (initial_display_delay && r.flag()) r.skip(4);
    }
  }
  int w_bits = int(r.u(4)) + 1, h_bits = int(r.u(4)) + 1;
  s.max_width = r.u(w_bits) + 1;
  s.max_height = r.u(h_bits) + 1;
  if (!s.reduced_still_picture_header && r.flag()) r.skip(4 + 3);  // frame ids
  r.skip(3);  // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
  if (!s.reduced_still_picture_header) {
    r.skip(4);  // interintra, masked compound, warped motion, dual filter
    bool order_hint = r.flag();
    if (order_hint) r.skip(2);
    int force_screen_content = r.flag() ? 2 : int(r.u(1));
    if (force_screen_content > 0 && !r.flag()) r.skip(1);  // seq_force_integer_mv
    if (order_hint) r.skip(3);
  }
  r.skip(3);  // superres, cdef, restoration

  // color_config()
  s.high_bitdepth = r.flag();
  if (s.profile == 2 && s.high_bitdepth) s.twelve_bit = r.flag();
  s.bit_depth = s.twelve_bit ? 12 : s.high_bitdepth ? 10 : 8;
  s.mono = s.profile == 1 ? false : r.flag();
  if (r.flag()) {  // color_description_present_flag
    s.primaries = uint8_t(r.u(8));
    s.transfer = uint8_t(r.u(8));
    s.matrix = uint8_t(r.u(8));
  }
  if (s.mono) {
    s.full_range = r.flag();
    s.ss_x = s.ss_y = 1;
  } else if (s.primaries == 1 && s.transfer == 13 && s.matrix == 0) {
    s.full_range = true;  // sRGB: 4:4:4 implied
    s.ss_x = s.ss_y = 0;
  } else {
    s.full_range = r.flag();
    if (s.profile == 0) {
      s.ss_x = s.ss_y = 1;
    } else if (s.profile == 1) {
      s.ss_x = s.ss_y = 0;
    } else if (s.bit_depth == 12) {
      s.ss_x = int(r.u(1));
      s.ss_y = s.ss_x ? int(r.u(1)) : 0;
    } else {
      s.ss_x = 1, s.ss_y = 0;
    }
    if (s.ss_x && s.ss_y) s.chroma_sample_position = int(r.u(2));
  }
  if (r.overrun()) return fail(ErrorCode::InvalidInput, "AV1: sequence header truncated");
  return s;
}

}  // namespace av1

namespace {

struct ContextDeleter {
  void operator()(Dav1dContext* c) const { dav1d_close(&c); }
};
using ContextPtr = std::unique_ptr<Dav1dContext, ContextDeleter>;

struct PictureGuard {
  Dav1dPicture pic{};
  bool held = false;
  ~PictureGuard() {
    if (held) dav1d_picture_unref(&pic);
  }
};

void quiet_log(void*, const char*, va_list) {}

Result<void> check_size(const av1::SequenceHeader& s, const Limits& limits) {
  if (s.max_width > limits.max_dimension || s.max_height > limits.max_dimension ||
      uint64_t(s.max_width) * s.max_height > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "AV1: sequence header frame size " + std::to_string(s.max_width) + "x" +
                                         std::to_string(s.max_height) + " exceeds the limits");
  return {};
}

std::string dav1d_error(const char* what, int res) {
  return std::string("dav1d: ") + what + " failed (" + std::strerror(-res) + ")";
}

template <class T>
Image16 copy_plane(const void* base, ptrdiff_t stride, int w, int h) {
  Image16 out(w, h, 1);
  for (int y = 0; y < h; ++y) {
    const T* s = reinterpret_cast<const T*>(static_cast<const uint8_t*>(base) + stride * y);
    uint16_t* d = out.row(y);
    for (int x = 0; x < w; ++x) d[x] = s[x];
  }
  return out;
}

Result<YuvImage> decode(ByteView config, ByteView data, const Limits& limits) {
  // av1C: marker/version byte, three bytes of fields, then optional configOBUs.
  if (config.size() < 4) return fail(ErrorCode::InvalidInput, "AV1: av1C shorter than 4 bytes");
  if (config[0] != 0x81) return fail(ErrorCode::Unsupported, "AV1: av1C marker/version is not 1/1");
  auto config_obus = av1::split_obus(config.subspan(4));
  if (!config_obus) return tl::unexpected(with_context(config_obus.error(), "av1C configOBUs"));
  auto item_obus = av1::split_obus(data);
  if (!item_obus) return tl::unexpected(item_obus.error());

  std::optional<av1::SequenceHeader> seq;
  ByteView config_seq_obu;
  bool item_has_seq = false, item_has_frame = false;
  for (const auto* list : {&*config_obus, &*item_obus})
    for (const av1::Obu& obu : *list) {
      if (list == &*item_obus && (obu.type == av1::kFrame || obu.type == av1::kTileGroup)) item_has_frame = true;
      if (obu.type != av1::kSequenceHeader) continue;
      auto s = av1::parse_sequence_header(obu.payload);
      if (!s) return tl::unexpected(s.error());
      REGAIN_CHECK(check_size(*s, limits));
      if (list == &*item_obus) item_has_seq = true;
      else if (config_seq_obu.empty()) config_seq_obu = obu.whole;
      seq = *s;
    }
  if (!seq) return fail(ErrorCode::InvalidInput, "AV1: no sequence header in av1C or item data");
  if (!item_has_frame) return fail(ErrorCode::InvalidInput, "AV1: item data holds no frame");

  Dav1dSettings settings;
  dav1d_default_settings(&settings);
  // A tile (the common case: grids of 512x512) decodes on the caller's thread, which is one
  // of many decoding tiles in parallel; a large single image uses the cores.
  bool large = uint64_t(seq->max_width) * seq->max_height > (1u << 20);
  settings.n_threads = large ? int(std::min(8u, std::max(1u, std::thread::hardware_concurrency()))) : 1;
  settings.max_frame_delay = 1;
  settings.all_layers = 0;
  settings.operating_point = 0;
  settings.frame_size_limit = unsigned(std::min<uint64_t>(limits.max_pixels, UINT_MAX));
  settings.logger.cookie = nullptr;
  settings.logger.callback = quiet_log;

  Dav1dContext* raw = nullptr;
  int res = dav1d_open(&raw, &settings);
  if (res < 0 || !raw) return fail(ErrorCode::Internal, dav1d_error("open", res));
  ContextPtr ctx(raw);

  // The item normally repeats the sequence header; if not, the av1C copy goes first.
  Dav1dData in{};
  size_t prefix = item_has_seq ? 0 : config_seq_obu.size();
  uint8_t* buf = dav1d_data_create(&in, prefix + data.size());
  if (!buf) return fail(ErrorCode::TooLarge, "dav1d: cannot allocate input data");
  if (prefix) std::memcpy(buf, config_seq_obu.data(), prefix);
  std::memcpy(buf + prefix, data.data(), data.size());

  PictureGuard out_pic;
  // Each round either consumes input or yields a picture; the bound guards a library loop.
  // Once the input is used up, get_picture switches dav1d into draining on the next call,
  // hence a few rounds after it.
  int drain_rounds = 0;
  for (int round = 0; round < 64 && !out_pic.held; ++round) {
    if (in.sz > 0) {
      res = dav1d_send_data(ctx.get(), &in);
      if (res < 0 && res != DAV1D_ERR(EAGAIN)) {
        dav1d_data_unref(&in);
        return fail(ErrorCode::InvalidInput, dav1d_error("decoding the AV1 item", res));
      }
    }
    res = dav1d_get_picture(ctx.get(), &out_pic.pic);
    if (res == 0) {
      out_pic.held = true;
    } else if (res != DAV1D_ERR(EAGAIN)) {
      dav1d_data_unref(&in);
      return fail(ErrorCode::InvalidInput, dav1d_error("decoding the AV1 item", res));
    } else if (in.sz == 0 && ++drain_rounds > 2) {
      break;  // all data sent and drained
    }
  }
  dav1d_data_unref(&in);
  if (!out_pic.held) return fail(ErrorCode::InvalidInput, "AV1: no picture decoded (corrupt or truncated item)");

  const Dav1dPicture& p = out_pic.pic;
  YuvImage out;
  out.width = p.p.w;
  out.height = p.p.h;
  out.bit_depth = p.p.bpc;
  if (out.width <= 0 || out.height <= 0 || uint64_t(out.width) * out.height > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "AV1: decoded frame size exceeds the limits");
  if (out.bit_depth != 8 && out.bit_depth != 10 && out.bit_depth != 12)
    return fail(ErrorCode::Unsupported, "AV1: bit depth " + std::to_string(out.bit_depth));
  int sx = 0, sy = 0;
  switch (p.p.layout) {
    case DAV1D_PIXEL_LAYOUT_I400: out.chroma = Chroma::Mono; break;
    case DAV1D_PIXEL_LAYOUT_I420: out.chroma = Chroma::Yuv420, sx = sy = 1; break;
    case DAV1D_PIXEL_LAYOUT_I422: out.chroma = Chroma::Yuv422, sx = 1; break;
    case DAV1D_PIXEL_LAYOUT_I444: out.chroma = Chroma::Yuv444; break;
  }
  out.full_range = p.seq_hdr ? p.seq_hdr->color_range != 0 : seq->full_range;

  bool hbd = out.bit_depth > 8;
  auto plane = [&](int c, int w, int h) {
    ptrdiff_t stride = p.stride[c == 0 ? 0 : 1];
    return hbd ? copy_plane<uint16_t>(p.data[c], stride, w, h) : copy_plane<uint8_t>(p.data[c], stride, w, h);
  };
  out.planes[0] = plane(0, out.width, out.height);
  if (out.chroma != Chroma::Mono) {
    int cw = (out.width + sx) >> sx, ch = (out.height + sy) >> sy;
    out.planes[1] = plane(1, cw, ch);
    out.planes[2] = plane(2, cw, ch);
  }
  return out;
}

}  // namespace

Result<YuvImage> decode_av1_item(ByteView config, ByteView data, const Limits& limits) {
  try {
    return decode(config, data, limits);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "AV1: out of memory");
  }
}

}  // namespace regain
