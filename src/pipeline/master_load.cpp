// Reading an HDR master for `regain master`: whatever the file is, the result is linear
// Display P3 with 1.0 = 203 cd/m2 (regain's extended-SDR convention, ITU-R BT.2408
// reference white), clamped to what PQ can carry.
//
// Where the colour space comes from, first match wins:
//  TIFF: --input-space; else an ICC `cicp` tag (our HDR_P3_D65_ST2084 profile has one);
//        else an ICC's colorants for the primaries with PQ assumed (P3_PQ-style profiles
//        carry no cicp; warned); else P3-D65 PQ, the colourist's default master.
//  PNG:  its cICP chunk; else --input-space (the reader refuses a PNG that says nothing).
//  EXR:  scene-linear, its chromaticities (BT.709 when absent). 1.0 in the file = SDR
//        white = 203 cd/m2; --exposure scales it (stops) before anything else.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "regain/icc.h"
#include "regain/master.h"
#include "util/parallel.h"

namespace regain {

namespace {

constexpr float kMaxRelative = kPqMaxNits / kSdrWhiteNits;  // PQ's 10000 cd/m2 in our units

// A master's transfer must be an HDR (or linear) one.
std::optional<Transfer> cicp_transfer(uint8_t code) {
  auto t = transfer_from_cicp(code);
  if (t == Transfer::PQ || t == Transfer::HLG || t == Transfer::Linear) return t;
  return std::nullopt;
}

// PNG chunk types are ASCII in the stream; cICP sits before the first IDAT.
bool png_has_cicp(std::span<const uint8_t> bytes) {
  static const char kTag[] = "cICP";
  static const char kIdat[] = "IDAT";
  auto it = std::search(bytes.begin(), bytes.end(), kTag, kTag + 4);
  auto idat = std::search(bytes.begin(), bytes.end(), kIdat, kIdat + 4);
  return it != bytes.end() && it < idat;
}

struct TiffSpace {
  InputSpace space;
  std::string from;
};

Result<TiffSpace> tiff_space(const std::vector<uint8_t>& icc, const MasterOptions& opt,
                             std::vector<std::string>& warnings) {
  if (opt.input_space) return TiffSpace{*opt.input_space, "--input-space"};
  if (icc.empty()) return TiffSpace{InputSpace{}, "default"};
  REGAIN_TRY(tags, read_icc_tags(icc));
  if (tags.cicp) {
    auto t = cicp_transfer(tags.cicp->transfer_characteristics);
    auto p = primaries_from_cicp(tags.cicp->colour_primaries);
    if (!t || !p)
      return fail(ErrorCode::Unsupported,
                  "TIFF ICC cicp " + std::to_string(tags.cicp->colour_primaries) + "/" +
                      std::to_string(tags.cicp->transfer_characteristics) +
                      " is not a master space regain reads (primaries 1/9/12, transfer 16/18/8); pass --input-space");
    return TiffSpace{InputSpace{*p, *t}, "ICC cicp"};
  }
  InputSpace s;
  auto info = inspect_icc(icc);
  if (info && info->primaries) {
    s.primaries = *info->primaries;
  } else {
    warnings.push_back("TIFF ICC '" + tags.description + "': primaries not recognised, Display P3 assumed");
  }
  warnings.push_back("TIFF ICC '" + tags.description +
                     "' has no cicp tag: PQ assumed (use --input-space for HLG or linear masters)");
  return TiffSpace{s, "ICC colorants"};
}

}  // namespace

std::optional<InputSpace> parse_input_space(std::string_view s) {
  const auto dash = s.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view p = s.substr(0, dash), t = s.substr(dash + 1);
  InputSpace out;
  if (p == "p3") out.primaries = Primaries::DisplayP3;
  else if (p == "bt2020") out.primaries = Primaries::BT2020;
  else if (p == "bt709" || p == "srgb") out.primaries = Primaries::BT709;
  else return std::nullopt;
  if (t == "pq") out.transfer = Transfer::PQ;
  else if (t == "hlg") out.transfer = Transfer::HLG;
  else if (t == "linear") out.transfer = Transfer::Linear;
  else return std::nullopt;
  return out;
}

Result<LoadedMaster> load_master(std::span<const uint8_t> input, const MasterOptions& opt) {
  LoadedMaster m;
  HdrImage hdr;
  const FileType type = sniff_file_type(input);
  try {
    if (type == FileType::Tiff) {
      REGAIN_TRY(tif, decode_tiff(input, opt.limits));
      REGAIN_TRY(space, tiff_space(tif.icc, opt, m.warnings));
      m.space_from = space.from;
      if (tif.is_float) {
        // Float TIFFs are rare as masters: the generic reader handles them (second decode).
        HdrReadOptions ro{space.space.transfer, space.space.primaries, opt.limits};
        REGAIN_TRY(h, read_hdr_image(input, ro));
        hdr = std::move(h);
      } else {
        if (tif.bit_depth != 16 && !opt.input_space)
          return fail(ErrorCode::Unsupported,
                      "master TIFF is " + std::to_string(tif.bit_depth) +
                          "-bit: a PQ master needs 16 bits (pass --input-space to read it anyway)");
        hdr.rgb = signal_to_relative_light(tif.pixels16, 16, space.space.transfer);
        hdr.primaries = space.space.primaries;
        hdr.source_transfer = space.space.transfer;
      }
    } else if (type == FileType::Png || type == FileType::Exr) {
      HdrReadOptions ro;
      ro.limits = opt.limits;
      if (opt.input_space) {
        ro.transfer = opt.input_space->transfer;
        ro.primaries = opt.input_space->primaries;
      }
      REGAIN_TRY(h, read_hdr_image(input, ro));
      hdr = std::move(h);
      if (type == FileType::Exr) m.space_from = "EXR";
      else m.space_from = png_has_cicp(input) ? "PNG cICP" : "--input-space";
    } else {
      return fail(ErrorCode::Unsupported, std::string("a master must be a 16-bit TIFF, a 16-bit PNG with cICP or "
                                                      "an OpenEXR file, not ") + file_type_name(type));
    }
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "master: out of memory");
  }
  m.source_transfer = hdr.source_transfer;
  m.source_primaries = hdr.primaries;

  float scale = 1.f;
  if (opt.exposure != 0) {
    if (hdr.source_transfer == Transfer::Linear) scale = float(std::exp2(opt.exposure));
    else m.warnings.push_back("--exposure ignored: the master is display-referred (PQ/HLG), not scene-linear");
  }
  const Mat3 to_p3 = gamut_matrix(hdr.primaries, Primaries::DisplayP3);
  const bool convert = !is_identity(to_p3);
  ImageF& img = hdr.rgb;
  std::vector<uint64_t> outside(size_t(img.height()), 0);
  parallel_for(img.height(), opt.threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* p = img.row(y);
      uint64_t n = 0;
      for (int x = 0; x < img.width(); ++x, p += 3) {
        Vec3 v{p[0] * scale, p[1] * scale, p[2] * scale};
        if (convert) v = mul(to_p3, v);
        bool out = false;
        for (int c = 0; c < 3; ++c) {
          float f = v[c];
          if (!(f >= 0.f)) {  // negative (outside P3) or NaN
            out |= f < -1e-4f;
            f = 0.f;
          }
          p[c] = std::min(f, kMaxRelative);
        }
        n += out;
      }
      outside[size_t(y)] = n;
    }
  });
  uint64_t total_outside = 0;
  for (auto n : outside) total_outside += n;
  const double share = img.empty() ? 0.0 : double(total_outside) / (double(img.width()) * img.height());
  if (share > 0.001) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.1f%% of pixels lie outside Display P3 and were clipped to it", share * 100);
    m.warnings.push_back(buf);
  }
  m.rgb = std::move(img);
  return m;
}

Image16 encode_pq(const ImageF& linear, int bits, int threads) {
  // PQ is steep near black: a table indexed by sqrt(relative light) with linear
  // interpolation stays well inside half a 16-bit code everywhere.
  constexpr int kTable = 1 << 16;
  static const std::vector<float> table = [] {
    std::vector<float> t(kTable + 2);
    for (int i = 0; i <= kTable; ++i) {
      const double s = double(i) / kTable;
      t[size_t(i)] = linear_to_pq(float(s * s));
    }
    t[kTable + 1] = t[kTable];
    return t;
  }();
  const float max_code = float((1 << bits) - 1);
  Image16 out(linear.width(), linear.height(), 3);
  parallel_for(linear.height(), threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = linear.row(y);
      uint16_t* d = out.row(y);
      for (int i = 0; i < linear.width() * 3; ++i) {
        const float rel = std::clamp(s[i] / kMaxRelative, 0.f, 1.f);
        const float u = std::sqrt(rel) * kTable;
        const int k = int(u);
        const float f = u - float(k);
        const float pq = table[size_t(k)] + f * (table[size_t(k) + 1] - table[size_t(k)]);
        d[i] = uint16_t(pq * max_code + 0.5f);
      }
    }
  });
  return out;
}

}  // namespace regain
