// Test helper for tests/interop/master_test.sh and scripts/master_bench.sh (not installed):
//   master_check make-master IN OUT.tif WIDTH HEIGHT [OUT.png]
//       any HDR file regain reads -> 16-bit PQ P3-D65 TIFF with the HDR_P3_D65_ST2084 ICC,
//       resampled (bilinear) to WIDTH x HEIGHT (0 0 = keep); optionally the same codes as a
//       16-bit PNG with cICP 12/16/0/1 (what heif-enc gets in the speed comparison).
//   master_check pq-codes MASTER.tif DECODED.png LABEL
//       10-bit PQ code error of a decoded PQ HEIC (e.g. heif-convert output, any bit depth)
//       against the master's codes, outside the label box; prints one line of figures.
//   master_check log2-error MASTER GAINMAP_FILE
//       mean |log2 luminance| error of the gain-map file's full-headroom rendition (regain's
//       decoder) against the master, outside the HDR_gain_map label box.
//   master_check map-alignment HEIF_FILE...
//       for each file: the Pearson correlation of gradient magnitudes between the gain map as
//       regain orients it and the displayed SDR (at map size), and the same with the map
//       turned 180 degrees; a map that lines up with the picture scores clearly higher.
//   master_check make-edit GAINMAP_FILE OUT.png WIDTH HEIGHT [gray|cutout]
//       an "edited photo" for scripts/bench-e2e.sh: the file's SDR base as displayed, 2.5 %
//       cropped off each side, resampled (bilinear) to WIDTH x HEIGHT, a block recoloured;
//       with `gray`, a black-and-white edit instead: a one-component JPEG (OUT.jpg); an
//       OUT ending in .webp is written as a lossy WebP (quality 85), as downloads come.
#include <webp/encode.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "container/heif_decode.h"
#include "container/heif_gainmap.h"
#include "regain/gainmap.h"
#include "regain/icc.h"
#include "regain/label.h"
#include "regain/master.h"
#include "regain/pipeline.h"
#include "util/file_io.h"

using namespace regain;

namespace {

int die(const std::string& m) {
  std::fprintf(stderr, "master_check: %s\n", m.c_str());
  return 2;
}

ImageF resample(const ImageF& src, int w, int h) {
  ImageF out(w, h, 3);
  for (int y = 0; y < h; ++y) {
    const float fy = std::clamp((y + 0.5f) * src.height() / h - 0.5f, 0.f, float(src.height() - 1));
    const int y0 = int(fy), y1 = std::min(y0 + 1, src.height() - 1);
    const float wy = fy - y0;
    for (int x = 0; x < w; ++x) {
      const float fx = std::clamp((x + 0.5f) * src.width() / w - 0.5f, 0.f, float(src.width() - 1));
      const int x0 = int(fx), x1 = std::min(x0 + 1, src.width() - 1);
      const float wx = fx - x0;
      for (int c = 0; c < 3; ++c)
        out.at(x, y, c) = (1 - wy) * ((1 - wx) * src.at(x0, y0, c) + wx * src.at(x1, y0, c)) +
                          wy * ((1 - wx) * src.at(x0, y1, c) + wx * src.at(x1, y1, c));
    }
  }
  return out;
}

int make_master(int argc, char** argv) {
  if (argc < 6) return die("make-master IN OUT.tif WIDTH HEIGHT [OUT.png]");
  auto in = read_file(argv[2]);
  if (!in) return die(in.error().message);
  auto m = load_master(*in);
  if (!m) return die(m.error().message);
  const int w = std::atoi(argv[4]), h = std::atoi(argv[5]);
  const ImageF img = (w > 0 && h > 0) ? resample(m->rgb, w, h) : m->rgb;
  const Image16 pq = encode_pq(img, 16);
  auto tif = encode_tiff16(pq, make_hdr_icc(HdrIccProfile::HdrP3D65St2084));
  if (!tif) return die(tif.error().message);
  if (auto r = write_file_atomic(argv[3], *tif); !r) return die(r.error().message);
  if (argc > 6) {
    auto png = encode_png16(pq, Cicp{12, 16, 0, 1});
    if (!png) return die(png.error().message);
    if (auto r = write_file_atomic(argv[6], *png); !r) return die(r.error().message);
  }
  return 0;
}

int pq_codes(int argc, char** argv) {
  if (argc < 5) return die("pq-codes MASTER.tif DECODED.png LABEL");
  auto a = read_file(argv[2]);
  auto b = read_file(argv[3]);
  if (!a || !b) return die("cannot read inputs");
  auto m = load_master(*a);
  if (!m) return die(m.error().message);
  const Image16 want = encode_pq(m->rgb, 10);
  auto png = decode_png(*b);
  if (!png) return die(png.error().message);
  const Image16& got = png->pixels;
  if (got.width() != want.width() || got.height() != want.height() || got.channels() < 3)
    return die("decoded size differs from the master");
  auto box = label_rect(argv[4], want.width(), want.height());
  if (!box) return die(box.error().message);
  const double to10 = 1023.0 / 65535.0;
  std::vector<uint32_t> hist(1024, 0);
  double sum = 0;
  size_t n = 0;
  for (int y = 0; y < want.height(); ++y)
    for (int x = 0; x < want.width(); ++x) {
      if (box->contains(x, y)) continue;
      for (int c = 0; c < 3; ++c) {
        // decode_png widens 8-bit files to 16 bits, so every depth is on the 16-bit scale.
        const double g = got.at(x, y, c) * to10;
        const int d = int(std::lround(std::abs(g - want.at(x, y, c))));
        sum += d;
        hist[size_t(std::min(d, 1023))]++;
        ++n;
      }
    }
  size_t acc = 0;
  int p99 = 0, mx = 0;
  for (int i = 0; i < 1024; ++i) {
    if (hist[size_t(i)]) mx = i;
    acc += hist[size_t(i)];
    if (acc < size_t(0.99 * double(n))) p99 = i + 1;
  }
  std::printf("mean_abs_code_error=%.3f p99=%d max=%d decoded_bit_depth=%d samples=%zu\n", sum / double(n), p99, mx,
              png->bit_depth, n);
  return sum / double(n) < 1.5 ? 0 : 1;
}

int log2_error(int argc, char** argv) {
  if (argc < 4) return die("log2-error MASTER GAINMAP_FILE");
  auto a = read_file(argv[2]);
  auto b = read_file(argv[3]);
  if (!a || !b) return die("cannot read inputs");
  auto m = load_master(*a);
  if (!m) return die(m.error().message);
  auto hdr = decode_gainmap_hdr(*b);
  if (!hdr) return die(hdr.error().message);
  if (hdr->rgb.width() != m->rgb.width() || hdr->rgb.height() != m->rgb.height()) return die("size differs");
  ImageF got = std::move(hdr->rgb);
  if (hdr->primaries != Primaries::DisplayP3) {
    const Mat3 mtx = gamut_matrix(hdr->primaries, Primaries::DisplayP3);
    for (size_t i = 0; i < got.size(); i += 3) {
      const Vec3 v = mul(mtx, Vec3{got.data()[i], got.data()[i + 1], got.data()[i + 2]});
      got.data()[i] = v[0], got.data()[i + 1] = v[1], got.data()[i + 2] = v[2];
    }
  }
  auto box = label_rect("HDR_gain_map", got.width(), got.height());
  if (!box) return die(box.error().message);
  const Vec3 w = luminance_weights(Primaries::DisplayP3);
  double sum = 0;
  size_t n = 0;
  for (int y = 0; y < got.height(); ++y)
    for (int x = 0; x < got.width(); ++x) {
      if (box->contains(x, y)) continue;
      const float* p = &got.at(x, y);
      const float* q = &m->rgb.at(x, y);
      const double yg = w[0] * p[0] + w[1] * p[1] + w[2] * p[2];
      const double ym = w[0] * q[0] + w[1] * q[1] + w[2] * q[2];
      sum += std::abs(std::log2((yg + 1.0 / 64) / (ym + 1.0 / 64)));
      ++n;
    }
  std::printf("mean_abs_log2_error=%.4f headroom=%.3f\n", sum / double(n), hdr->headroom);
  return sum / double(n) < 0.1 ? 0 : 1;
}

// |dx| + |dy| of a one-channel float plane.
std::vector<double> gradient(const std::vector<double>& v, int w, int h) {
  std::vector<double> g(v.size(), 0.0);
  for (int y = 1; y + 1 < h; ++y)
    for (int x = 1; x + 1 < w; ++x) {
      const size_t i = size_t(y) * w + x;
      g[i] = std::fabs(v[i + 1] - v[i - 1]) + std::fabs(v[i + w] - v[i - w]);
    }
  return g;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= double(a.size()), mb /= double(b.size());
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(std::max(saa * sbb, 1e-30));
}

int map_alignment(int argc, char** argv) {
  int rc = 0;
  for (int k = 2; k < argc; ++k) {
    auto bytes = read_file(argv[k]);
    if (!bytes) return die(bytes.error().message);
    auto hf = read_heif(*bytes);
    if (!hf || !hf->gain_map) {
      std::printf("%s: no gain map\n", argv[k]);
      continue;
    }
    auto sdr = decode_gainmap_sdr(*bytes);
    auto map = decode_heif_item(*hf, *bytes, *hf->gain_map);
    if (!sdr || !map) return die(std::string(argv[k]) + ": decode failed");
    const Image8 m8 = heif_to_8bit(*map);
    const int w = m8.width(), h = m8.height();
    if ((sdr->width() > sdr->height()) != (w > h)) {
      std::printf("%s: map %dx%d and picture %dx%d differ in aspect: misoriented\n", argv[k], w, h, sdr->width(),
                  sdr->height());
      rc = 1;
      continue;
    }
    std::vector<double> pic(size_t(w) * h), mv(size_t(w) * h), turned(size_t(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double acc = 0;
        int n = 0;
        const int x0 = x * sdr->width() / w, x1 = std::max(x0 + 1, (x + 1) * sdr->width() / w);
        const int y0 = y * sdr->height() / h, y1 = std::max(y0 + 1, (y + 1) * sdr->height() / h);
        for (int yy = y0; yy < y1; ++yy)
          for (int xx = x0; xx < x1; ++xx, ++n) acc += sdr->at(xx, yy, 1);
        pic[size_t(y) * w + x] = acc / n;
        mv[size_t(y) * w + x] = m8.at(x, y, 0);
        turned[size_t(y) * w + x] = m8.at(w - 1 - x, h - 1 - y, 0);
      }
    const auto gp = gradient(pic, w, h);
    const double as_read = pearson(gradient(mv, w, h), gp), rotated = pearson(gradient(turned, w, h), gp);
    std::printf("%s: orientation %d%s, edge correlation as read %.3f, turned 180 %.3f: %s\n", argv[k],
                hf->gain_map->exif_orientation, hf->gain_map_orientation_inherited ? " (inherited)" : "", as_read,
                rotated, as_read > rotated ? "aligned" : "MISALIGNED");
    if (!(as_read > rotated)) rc = 1;
  }
  return rc;
}

int make_edit(int argc, char** argv) {
  if (argc < 6) return die("make-edit GAINMAP_FILE OUT.png WIDTH HEIGHT [gray|cutout]");
  const bool gray = argc > 6 && std::string(argv[6]) == "gray";
  // cutout: an RGBA PNG whose only opaque part is a centred disc (radius 0.3 x the short
  // side; black, fully transparent pixels around it), as a background remover leaves it.
  const bool cutout = argc > 6 && std::string(argv[6]) == "cutout";
  if (cutout && !std::string_view(argv[3]).ends_with(".png")) return die("make-edit: cutout edits are PNGs");
  if (gray && std::string_view(argv[3]).ends_with(".webp")) return die("make-edit: gray edits are JPEGs, not WebP");
  auto in = read_file(argv[2]);
  if (!in) return die(in.error().message);
  auto sdr = decode_gainmap_sdr(*in);
  if (!sdr) return die(sdr.error().message);
  const int w = std::atoi(argv[4]), h = std::atoi(argv[5]);
  if (w < 16 || h < 16) return die("size too small");
  const float cx = 0.025f * sdr->width(), cy = 0.025f * sdr->height();
  const float sx = (sdr->width() - 2 * cx) / w, sy = (sdr->height() - 2 * cy) / h;
  Image8 out(w, h, 3);
  for (int y = 0; y < h; ++y) {
    const float fy = cy + (y + 0.5f) * sy - 0.5f;
    const int y0 = std::clamp(int(fy), 0, sdr->height() - 1), y1 = std::min(y0 + 1, sdr->height() - 1);
    const float ty = fy - float(int(fy));
    for (int x = 0; x < w; ++x) {
      const float fx = cx + (x + 0.5f) * sx - 0.5f;
      const int x0 = std::clamp(int(fx), 0, sdr->width() - 1), x1 = std::min(x0 + 1, sdr->width() - 1);
      const float tx = fx - float(int(fx));
      for (int c = 0; c < 3; ++c) {
        const float top = sdr->at(x0, y0, c) + (sdr->at(x1, y0, c) - sdr->at(x0, y0, c)) * tx;
        const float bot = sdr->at(x0, y1, c) + (sdr->at(x1, y1, c) - sdr->at(x0, y1, c)) * tx;
        float v = top + (bot - top) * ty;
        const bool block = x > w / 8 && x < w / 4 && y > h / 2 && y < h / 2 + h / 6;
        if (block) v = c == 0 ? v * 0.6f : c == 2 ? std::min(255.f, v * 1.3f) : v;  // recoloured
        out.at(x, y, c) = uint8_t(std::clamp(v + 0.5f, 0.f, 255.f));
      }
    }
  }
  if (gray) {
    Image8 g(w, h, 1);
    for (size_t i = 0; i < g.size(); ++i) {
      const uint8_t* p = out.data() + 3 * i;
      g.data()[i] = uint8_t((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
    auto jpeg = encode_jpeg(g, {90, false});
    if (!jpeg) return die(jpeg.error().message);
    if (auto r = write_file_atomic(argv[3], *jpeg); !r) return die(r.error().message);
    return 0;
  }
  if (std::string_view(argv[3]).ends_with(".webp")) {
    uint8_t* enc = nullptr;
    const size_t n = WebPEncodeRGB(out.data(), w, h, w * 3, 85.f, &enc);
    if (!n) return die("WebP encoding failed");
    const std::vector<uint8_t> webp(enc, enc + n);
    WebPFree(enc);
    if (auto r = write_file_atomic(argv[3], webp); !r) return die(r.error().message);
    return 0;
  }
  if (cutout) {
    Image8 rgba(w, h, 4);
    const float r = 0.3f * float(std::min(w, h));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float dx = x + 0.5f - 0.5f * w, dy = y + 0.5f - 0.5f * h;
        const bool in = dx * dx + dy * dy < r * r;
        for (int c = 0; c < 3; ++c) rgba.at(x, y, c) = in ? out.at(x, y, c) : 0;
        rgba.at(x, y, 3) = in ? 255 : 0;
      }
    out = std::move(rgba);
  }
  auto png = encode_png8(out);
  if (!png) return die(png.error().message);
  if (auto r = write_file_atomic(argv[3], *png); !r) return die(r.error().message);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return die("usage: master_check make-master|pq-codes|log2-error|make-edit ...");
  const std::string cmd = argv[1];
  if (cmd == "make-master") return make_master(argc, argv);
  if (cmd == "pq-codes") return pq_codes(argc, argv);
  if (cmd == "log2-error") return log2_error(argc, argv);
  if (cmd == "make-edit") return make_edit(argc, argv);
  if (cmd == "map-alignment") return map_alignment(argc, argv);
  return die("unknown command " + cmd);
}
