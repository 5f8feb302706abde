// HEVC items -> YuvImage with libde265, plus the header parsing the decoder relies on
// (hvcC, SPS). Every SPS is parsed and checked against Limits before libde265 sees it, so a
// hostile size never reaches the decoder's allocator.
#include <libde265/de265.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "codec/bitstream.h"
#include "codec/hevc_syntax.h"
#include "regain/video.h"
#include "util/bytes.h"

namespace regain {
namespace hevc {

namespace {

// profile_tier_level(1, max_sub_layers_minus1), H.265 7.3.3.
void read_ptl(bits::BitReader& r, int max_sub_layers_minus1, Sps& s) {
  for (auto& b : s.general_ptl) b = uint8_t(r.u(8));
  bool profile_present[8] = {}, level_present[8] = {};
  for (int i = 0; i < max_sub_layers_minus1; ++i) {
    profile_present[i] = r.flag();
    level_present[i] = r.flag();
  }
  if (max_sub_layers_minus1 > 0)
    for (int i = max_sub_layers_minus1; i < 8; ++i) r.skip(2);
  for (int i = 0; i < max_sub_layers_minus1; ++i) {
    if (profile_present[i]) r.skip(88);
    if (level_present[i]) r.skip(8);
  }
}

// scaling_list_data(), 7.3.4: only consumed.
bool skip_scaling_list(bits::BitReader& r) {
  for (int size_id = 0; size_id < 4; ++size_id)
    for (int matrix_id = 0; matrix_id < 6; matrix_id += size_id == 3 ? 3 : 1) {
      if (!r.flag()) {
        r.ue();  // scaling_list_pred_matrix_id_delta
      } else {
        int coefs = std::min(64, 1 << (4 + (size_id << 1)));
        if (size_id > 1) r.se();
        for (int i = 0; i < coefs; ++i) r.se();
      }
      if (r.overrun()) return false;
    }
  return true;
}

// st_ref_pic_set() in an SPS, 7.3.7 with the derivation of 7.4.8: the delta POCs of each
// set are needed because a later set may be predicted from it.
struct Rps {
  std::vector<int32_t> neg, pos;  // DeltaPocS0 (decreasing), DeltaPocS1 (increasing)
};
constexpr uint32_t kMaxPocDelta = 1u << 15;
constexpr size_t kMaxPicsPerRps = 16;

bool read_rps(bits::BitReader& r, std::vector<Rps>& sets) {
  size_t idx = sets.size();
  Rps rps;
  if (idx != 0 && r.flag()) {  // inter_ref_pic_set_prediction_flag
    bool sign = r.flag();
    uint32_t abs_minus1 = r.ue();
    if (abs_minus1 >= kMaxPocDelta) return false;
    int32_t delta = (sign ? -1 : 1) * int32_t(abs_minus1 + 1);
    const Rps& ref = sets[idx - 1];
    size_t n = ref.neg.size() + ref.pos.size();
    std::vector<bool> use(n + 1);
    for (size_t j = 0; j <= n; ++j) {
      bool used = r.flag();
      use[j] = used || r.flag();
    }
    size_t nn = ref.neg.size();
    for (size_t j = ref.pos.size(); j-- > 0;)
      if (ref.pos[j] + delta < 0 && use[nn + j]) rps.neg.push_back(ref.pos[j] + delta);
    if (delta < 0 && use[n]) rps.neg.push_back(delta);
    for (size_t j = 0; j < nn; ++j)
      if (ref.neg[j] + delta < 0 && use[j]) rps.neg.push_back(ref.neg[j] + delta);
    for (size_t j = nn; j-- > 0;)
      if (ref.neg[j] + delta > 0 && use[j]) rps.pos.push_back(ref.neg[j] + delta);
    if (delta > 0 && use[n]) rps.pos.push_back(delta);
    for (size_t j = 0; j < ref.pos.size(); ++j)
      if (ref.pos[j] + delta > 0 && use[nn + j]) rps.pos.push_back(ref.pos[j] + delta);
  } else {
    uint32_t num_neg = r.ue(), num_pos = r.ue();
    if (num_neg > kMaxPicsPerRps || num_pos > kMaxPicsPerRps) return false;
    int32_t poc = 0;
    for (uint32_t i = 0; i < num_neg; ++i) {
      uint32_t d = r.ue();
      if (d >= kMaxPocDelta) return false;
      poc -= int32_t(d + 1);
      rps.neg.push_back(poc);
      r.skip(1);  // used_by_curr_pic_s0_flag
    }
    poc = 0;
    for (uint32_t i = 0; i < num_pos; ++i) {
      uint32_t d = r.ue();
      if (d >= kMaxPocDelta) return false;
      poc += int32_t(d + 1);
      rps.pos.push_back(poc);
      r.skip(1);
    }
  }
  if (r.overrun() || rps.neg.size() > kMaxPicsPerRps || rps.pos.size() > kMaxPicsPerRps)
    return false;
  sets.push_back(std::move(rps));
  return true;
}

// vui_parameters(), E.2.1, as far as min_spatial_segmentation_idc (not past HRD parameters).
void read_vui(bits::BitReader& r, Sps& s) {
  if (r.flag()) {                  // aspect_ratio_info_present_flag
    if (r.u(8) == 255) r.skip(32);  // EXTENDED_SAR
  }
  if (r.flag()) r.skip(1);  // overscan
  s.signal_type_present = r.flag();
  if (s.signal_type_present) {
    r.skip(3);  // video_format
    s.full_range = r.flag();
    s.colour_description_present = r.flag();
    if (s.colour_description_present) {
      s.primaries = uint8_t(r.u(8));
      s.transfer = uint8_t(r.u(8));
      s.matrix = uint8_t(r.u(8));
    }
  }
  if (r.overrun()) return;
  s.vui_parsed = true;
  if (r.flag()) {  // chroma_loc_info_present_flag
    r.ue();
    r.ue();
  }
  r.skip(3);       // neutral_chroma_indication, field_seq, frame_field_info_present
  if (r.flag()) {  // default_display_window_flag
    for (int i = 0; i < 4; ++i) r.ue();
  }
  if (r.flag()) {  // vui_timing_info_present_flag
    r.skip(64);
    if (r.flag()) r.ue();  // num_ticks_poc_diff_one_minus1
    if (r.flag()) return;  // hrd_parameters(): not needed, stop here
  }
  if (r.flag()) {  // bitstream_restriction_flag
    r.skip(3);
    uint32_t v = r.ue();
    if (!r.overrun() && v < 4096) s.min_spatial_segmentation_idc = v;
  }
}

}  // namespace

Result<Sps> parse_sps(ByteView nal) {
  if (nal.size() < 3 || nal_type(nal) != kSps) return fail(ErrorCode::InvalidInput, "not an SPS NAL unit");
  std::vector<uint8_t> rbsp = bits::unescape_rbsp(nal.subspan(2));
  bits::BitReader r(rbsp);
  Sps s;
  r.skip(4);  // sps_video_parameter_set_id
  int max_sub_layers_minus1 = int(r.u(3));
  if (max_sub_layers_minus1 > 6) return fail(ErrorCode::InvalidInput, "SPS: sps_max_sub_layers_minus1 > 6");
  s.max_sub_layers = max_sub_layers_minus1 + 1;
  s.temporal_id_nesting = r.flag();
  read_ptl(r, max_sub_layers_minus1, s);
  if (r.ue() > 15) return fail(ErrorCode::InvalidInput, "SPS: sps_seq_parameter_set_id > 15");
  uint32_t chroma = r.ue();
  if (chroma > 3) return fail(ErrorCode::InvalidInput, "SPS: chroma_format_idc > 3");
  s.chroma_format_idc = int(chroma);
  if (chroma == 3) s.separate_colour_planes = r.flag();
  s.width = r.ue();
  s.height = r.ue();
  if (r.flag()) {  // conformance_window_flag
    for (int i = 0; i < 4; ++i) r.ue();
  }
  uint32_t luma_minus8 = r.ue(), chroma_minus8 = r.ue();
  if (r.overrun()) return fail(ErrorCode::InvalidInput, "SPS truncated");
  if (s.width == 0 || s.height == 0) return fail(ErrorCode::InvalidInput, "SPS: zero picture size");
  if (luma_minus8 > 8 || chroma_minus8 > 8) return fail(ErrorCode::InvalidInput, "SPS: bit depth > 16");
  s.bit_depth_luma = int(luma_minus8) + 8;
  s.bit_depth_chroma = int(chroma_minus8) + 8;

  // The rest only leads to the VUI; damage there is not fatal for the caller.
  uint32_t log2_poc_lsb = r.ue() + 4;
  if (log2_poc_lsb > 16) return s;
  bool ordering_all = r.flag();
  for (int i = ordering_all ? 0 : max_sub_layers_minus1; i <= max_sub_layers_minus1; ++i) {
    r.ue();
    r.ue();
    r.ue();
  }
  for (int i = 0; i < 6; ++i) r.ue();  // coding / transform block sizes and depths
  if (r.flag() && r.flag() && !skip_scaling_list(r)) return s;
  r.skip(2);       // amp_enabled_flag, sample_adaptive_offset_enabled_flag
  if (r.flag()) {  // pcm_enabled_flag
    r.skip(8);
    r.ue();
    r.ue();
    r.skip(1);
  }
  uint32_t num_rps = r.ue();
  if (num_rps > 64 || r.overrun()) return s;
  std::vector<Rps> sets;
  for (uint32_t i = 0; i < num_rps; ++i)
    if (!read_rps(r, sets)) return s;
  if (r.flag()) {  // long_term_ref_pics_present_flag
    uint32_t n = r.ue();
    if (n > 32) return s;
    for (uint32_t i = 0; i < n; ++i) r.skip(log2_poc_lsb + 1);
  }
  r.skip(2);  // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
  if (r.overrun()) return s;
  if (r.flag()) {
    read_vui(r, s);
  } else {
    s.vui_parsed = true;  // no VUI: nothing signalled
  }
  if (r.overrun() && !s.vui_parsed) s.signal_type_present = s.colour_description_present = false;
  return s;
}

Result<Hvcc> parse_hvcc(ByteView config) {
  ByteReader r(config);
  uint8_t version = 0, length_byte = 0, num_arrays = 0;
  if (!r.u8(version) || !r.skip(20) || !r.u8(length_byte) || !r.u8(num_arrays))
    return fail(ErrorCode::InvalidInput, "hvcC shorter than its 23-byte header");
  if (version > 1) return fail(ErrorCode::Unsupported, "hvcC configurationVersion " + std::to_string(version));
  Hvcc h;
  h.length_size = (length_byte & 3) + 1;
  if (h.length_size == 3) return fail(ErrorCode::InvalidInput, "hvcC lengthSizeMinusOne = 2 is not allowed");
  for (int a = 0; a < num_arrays; ++a) {
    uint8_t type = 0;
    uint16_t count = 0;
    if (!r.u8(type) || !r.u16(count)) return fail(ErrorCode::InvalidInput, "hvcC NAL array header past the end");
    for (int i = 0; i < count; ++i) {
      uint16_t len = 0;
      ByteView nal;
      if (!r.u16(len) || !r.bytes(len, nal))
        return fail(ErrorCode::InvalidInput, "hvcC NAL unit length past the end of the record");
      if (len > 0) h.nals.push_back(nal);
    }
  }
  return h;
}

}  // namespace hevc

namespace {

// libde265's global tables are set up by a reference-counted init whose first caller does the
// work while a concurrent second caller may return early; one init kept for the process
// lifetime makes every later de265_new_decoder a cheap, race-free count increment.
bool init_libde265() {
  static const bool ok = de265_init() == DE265_OK;
  return ok;
}

struct DecoderDeleter {
  void operator()(de265_decoder_context* d) const { de265_free_decoder(d); }
};
using DecoderPtr = std::unique_ptr<de265_decoder_context, DecoderDeleter>;

Result<void> check_size(const hevc::Sps& s, const Limits& limits) {
  if (s.width > limits.max_dimension || s.height > limits.max_dimension ||
      uint64_t(s.width) * s.height > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "HEVC: SPS picture size " + std::to_string(s.width) + "x" +
                                         std::to_string(s.height) + " exceeds the limits");
  return {};
}

std::string warnings_of(de265_decoder_context* dec) {
  std::string out;
  for (int i = 0; i < 8; ++i) {
    de265_error w = de265_get_warning(dec);
    if (w == DE265_OK) break;
    if (!out.empty()) out += "; ";
    out += de265_get_error_text(w);
  }
  return out;
}

Result<Chroma> chroma_of(de265_chroma c) {
  switch (c) {
    case de265_chroma_mono: return Chroma::Mono;
    case de265_chroma_420: return Chroma::Yuv420;
    case de265_chroma_422: return Chroma::Yuv422;
    case de265_chroma_444: return Chroma::Yuv444;
  }
  return fail(ErrorCode::Unsupported, "HEVC: unknown chroma format from libde265");
}

// Copies one decoded plane; libde265 gives 8-bit samples as bytes, deeper ones as uint16,
// with the stride in bytes for both.
Image16 copy_plane(const de265_image* img, int channel, int w, int h, int depth) {
  int stride = 0;
  const uint8_t* src = de265_get_image_plane(img, channel, &stride);
  Image16 out(w, h, 1);
  for (int y = 0; y < h; ++y) {
    uint16_t* d = out.row(y);
    if (depth <= 8) {
      const uint8_t* s = src + size_t(y) * stride;
      for (int x = 0; x < w; ++x) d[x] = s[x];
    } else {
      const uint16_t* s = reinterpret_cast<const uint16_t*>(src + size_t(y) * stride);
      std::memcpy(d, s, size_t(w) * 2);
    }
  }
  return out;
}

Result<YuvImage> decode(ByteView config, ByteView data, const Limits& limits) {
  auto hvcc = hevc::parse_hvcc(config);
  if (!hvcc) return tl::unexpected(with_context(hvcc.error(), "HEVC"));

  // Item data: NAL units behind big-endian lengths of the size hvcC declares.
  std::vector<ByteView> item_nals;
  for (size_t pos = 0; pos < data.size();) {
    size_t n = size_t(hvcc->length_size);
    if (data.size() - pos < n) return fail(ErrorCode::InvalidInput, "HEVC: item data ends inside a NAL length");
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) len = len << 8 | data[pos + i];
    pos += n;
    if (len > data.size() - pos) return fail(ErrorCode::InvalidInput, "HEVC: NAL length past the end of the item data");
    if (len > 0) item_nals.push_back(data.subspan(pos, len));
    pos += len;
  }

  // Guard before decoding: every SPS must be sane and within the limits.
  // Over all SPSs (the PPS decides which one the picture uses; libde265 knows which).
  uint32_t max_w = 0, max_h = 0;
  bool any_sps = false, any_signal_type = false;
  for (const auto* list : {&hvcc->nals, &item_nals})
    for (ByteView nal : *list) {
      if (hevc::nal_type(nal) != hevc::kSps) continue;
      auto s = hevc::parse_sps(nal);
      if (!s) return tl::unexpected(with_context(s.error(), "HEVC"));
      REGAIN_CHECK(check_size(*s, limits));
      if (s->chroma_format_idc != 0 && s->bit_depth_luma != s->bit_depth_chroma)
        return fail(ErrorCode::Unsupported, "HEVC: luma and chroma bit depths differ");
      if (s->separate_colour_planes)
        return fail(ErrorCode::Unsupported, "HEVC: separate colour planes");
      any_sps = true;
      any_signal_type |= s->signal_type_present;
      max_w = std::max(max_w, s->width);
      max_h = std::max(max_h, s->height);
    }
  if (!any_sps) return fail(ErrorCode::InvalidInput, "HEVC: no SPS in hvcC or item data");
  bool has_vcl = std::any_of(item_nals.begin(), item_nals.end(),
                             [](ByteView n) { return hevc::nal_type(n) < 32; });
  if (!has_vcl) return fail(ErrorCode::InvalidInput, "HEVC: item data holds no slice");

  if (!init_libde265()) return fail(ErrorCode::Internal, "libde265: library initialisation failed");
  DecoderPtr dec(de265_new_decoder());
  if (!dec) return fail(ErrorCode::Internal, "libde265: cannot create a decoder");
  // A tile (HEIF grids: 512x512) decodes on the caller's thread, which is one of many
  // decoding tiles in parallel; a large single picture uses worker threads (effective when
  // the stream has WPP rows or tiles, as x265 writes by default). Either way de265_decode
  // returns only when the picture is done.
  if (uint64_t(max_w) * max_h > (1u << 20)) {
    int threads = int(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
    if (threads > 1 && !de265_isOK(de265_start_worker_threads(dec.get(), threads)))
      return fail(ErrorCode::Internal, "libde265: cannot start worker threads");
  }
  // Damaged pictures are dropped rather than returned with concealment.
  de265_set_parameter_bool(dec.get(), DE265_DECODER_PARAM_SUPPRESS_FAULTY_PICTURES, 1);

  for (const auto* list : {&hvcc->nals, &item_nals})
    for (ByteView nal : *list) {
      de265_error e = de265_push_NAL(dec.get(), nal.data(), int(nal.size()), 0, nullptr);
      if (!de265_isOK(e)) return fail(ErrorCode::Internal, std::string("libde265: push_NAL: ") + de265_get_error_text(e));
    }
  de265_error e = de265_flush_data(dec.get());
  if (!de265_isOK(e)) return fail(ErrorCode::Internal, std::string("libde265: flush: ") + de265_get_error_text(e));

  // Each de265_decode call consumes one NAL; the bound only guards against a library loop.
  size_t budget = hvcc->nals.size() + item_nals.size() + 16;
  int more = 1;
  std::string decode_error;
  while (more && budget-- > 0) {
    more = 0;
    e = de265_decode(dec.get(), &more);
    if (e == DE265_ERROR_IMAGE_BUFFER_FULL && de265_peek_next_picture(dec.get())) break;
    if (!de265_isOK(e) && e != DE265_ERROR_WAITING_FOR_INPUT_DATA) {
      decode_error = de265_get_error_text(e);
      break;
    }
  }

  const de265_image* img = de265_get_next_picture(dec.get());
  if (!img) {
    std::string why = decode_error;
    std::string warn = warnings_of(dec.get());
    if (!warn.empty()) why += (why.empty() ? "" : "; ") + warn;
    return fail(ErrorCode::InvalidInput,
                "HEVC: no picture decoded (corrupt or truncated stream" + (why.empty() ? "" : ": " + why) + ")");
  }

  YuvImage out;
  REGAIN_TRY(chroma, chroma_of(de265_get_chroma_format(img)));
  out.chroma = chroma;
  out.width = de265_get_image_width(img, 0);
  out.height = de265_get_image_height(img, 0);
  out.bit_depth = de265_get_bits_per_pixel(img, 0);
  if (out.width <= 0 || out.height <= 0 || uint32_t(out.width) > max_w || uint32_t(out.height) > max_h)
    return fail(ErrorCode::InvalidInput, "HEVC: decoded picture size disagrees with the SPS");
  if (out.bit_depth < 8 || out.bit_depth > 16)
    return fail(ErrorCode::Unsupported, "HEVC: bit depth " + std::to_string(out.bit_depth));
  if (chroma != Chroma::Mono && de265_get_bits_per_pixel(img, 1) != out.bit_depth)
    return fail(ErrorCode::Unsupported, "HEVC: luma and chroma bit depths differ");
  // The container's nclx overrides this. The SPS's VUI flag when signalled (libde265 reads
  // the one the picture used); without a VUI signal type, whose default would be video
  // range, the HEIF default (full range) is the better guess.
  out.full_range = any_signal_type ? de265_get_image_full_range_flag(img) != 0 : true;

  out.planes[0] = copy_plane(img, 0, out.width, out.height, out.bit_depth);
  if (chroma != Chroma::Mono) {
    int cw = de265_get_image_width(img, 1), ch = de265_get_image_height(img, 1);
    int want_w = chroma == Chroma::Yuv444 ? out.width : (out.width + 1) / 2;
    int want_h = chroma == Chroma::Yuv420 ? (out.height + 1) / 2 : out.height;
    if (cw != want_w || ch != want_h) return fail(ErrorCode::InvalidInput, "HEVC: chroma plane size inconsistent");
    out.planes[1] = copy_plane(img, 1, cw, ch, out.bit_depth);
    out.planes[2] = copy_plane(img, 2, cw, ch, out.bit_depth);
  }
  return out;
}

}  // namespace

Result<YuvImage> decode_hevc_item(ByteView config, ByteView data, const Limits& limits) {
  try {
    return decode(config, data, limits);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "HEVC: out of memory");
  }
}

}  // namespace regain
