#include "pipeline/cv_view.h"
#include "pipeline/reference.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "pipeline/align.h"
#include "pipeline/colour_gain_table.h"
#include "pipeline/copied_content.h"
#include "regain/codec.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"
#include "container/heif_gainmap.h"
#include "pipeline/gainmap_parts.h"
#include "util/area_average.h"
#include "util/bilinear_taps.h"
#include "util/parallel.h"
#include "util/orientation.h"

namespace regain {

namespace {

constexpr float kOffset = 1.0f / 64;  // keeps log ratios finite near black
// Largest grid the change detection and masks run on: maps up to 16 MP (a full-resolution
// 12-MP edit, a 13.7-MP ACR original) keep the exact path. Coarser grids were measured on
// the corpus: at 4 MP (k = 2) the 13.7-MP ACR object removal lost 2.3 dB PU21 in the edited
// region (2.0 dB even with copied content taken at map resolution), so only larger maps
// (200-MP edits) trade that for memory.
constexpr double kAnalysisPixels = 16.0e6;

ImageF luminance(const ImageF& rgb, Primaries p) {
  const Vec3 w = luminance_weights(p);
  ImageF out(rgb.width(), rgb.height(), 1);
  for (size_t i = 0, n = out.size(); i < n; ++i)
    out.data()[i] = std::max(0.f, w[0] * rgb.data()[3 * i] + w[1] * rgb.data()[3 * i + 1] + w[2] * rgb.data()[3 * i + 2]);
  return out;
}

ImageF luminance8(const Image8& rgb, Primaries p) {
  const Vec3 w = luminance_weights(p);
  const auto& lut = srgb8_to_linear_lut();
  ImageF out(rgb.width(), rgb.height(), 1);
  for (size_t i = 0, n = out.size(); i < n; ++i)
    out.data()[i] = w[0] * lut[rgb.data()[3 * i]] + w[1] * lut[rgb.data()[3 * i + 1]] + w[2] * lut[rgb.data()[3 * i + 2]];
  return out;
}

}  // namespace

Result<RefRenditions> load_reference(std::span<const uint8_t> bytes, const Limits& limits) {
  RefRenditions r;
  const FileType t = sniff_file_type(bytes);
  if (t == FileType::Jpeg || t == FileType::Heif || t == FileType::Avif) {
    // The original's map density, so the new map is as dense (in its own pixels).
    if (t == FileType::Jpeg) {
      REGAIN_TRY(jr, read_jpegr(bytes));
      if (jr.gain_map && jr.gain_map->width > 0) r.pixels_per_map_pixel = double(jr.primary.width) / jr.gain_map->width;
    } else {
      REGAIN_TRY(hf, read_heif(bytes, limits));
      if (hf.gain_map && hf.gain_map->display_width > 0)
        r.pixels_per_map_pixel = double(hf.primary.display_width) / hf.gain_map->display_width;
    }
    DecodeOptions d;
    d.limits = limits;
    REGAIN_TRY(parts, decode_gainmap_parts(bytes, d));
    if (parts) {
      // The common case: the HDR a row at a time, straight into the two luminance planes.
      const int W = parts->sdr.width(), H = parts->sdr.height();
      r.sdr_lin = ImageF(W, H, 1);
      r.gain = ImageF(W, H, 1);
      const Vec3 w = luminance_weights(parts->primaries);
      const auto& lut = srgb8_to_linear_lut();
      parallel_for(H, 0, [&](int y0, int y1) {
        std::vector<float> hdr(size_t(3) * W);
        for (int y = y0; y < y1; ++y) {
          parts->hdr.apply_row(parts->sdr, y, hdr);
          const uint8_t* s8 = parts->sdr.row(y);
          float* sl = r.sdr_lin.row(y);
          float* g = r.gain.row(y);
          for (int x = 0; x < W; ++x) {
            const float* h = hdr.data() + 3 * x;
            const float yh = std::max(0.f, w[0] * h[0] + w[1] * h[1] + w[2] * h[2]);
            sl[x] = w[0] * lut[s8[3 * x]] + w[1] * lut[s8[3 * x + 1]] + w[2] * lut[s8[3 * x + 2]];
            g[x] = (yh + kOffset) / (std::max(sl[x], 0.f) + kOffset);
          }
        }
      });
      r.sdr8 = std::move(parts->sdr);
      r.headroom = parts->headroom;
      return r;
    }
    // Anything else (an HDR or 10-bit base, a map in other primaries): the full renditions.
    auto hdr = decode_gainmap_hdr(bytes, d);
    if (!hdr) return tl::unexpected(with_context(hdr.error(), "reference"));
    REGAIN_TRY(sdr, decode_gainmap_sdr(bytes, d));
    {
      const ImageF hdr_lum = luminance(hdr->rgb, hdr->primaries);
      r.sdr_lin = luminance8(sdr, hdr->primaries);
      r.gain = ImageF(hdr_lum.width(), hdr_lum.height(), 1);
      for (size_t i = 0, n = r.gain.size(); i < n; ++i)
        r.gain.data()[i] = (hdr_lum.data()[i] + kOffset) / (std::max(r.sdr_lin.data()[i], 0.f) + kOffset);
    }
    r.sdr8 = std::move(sdr);
    r.headroom = hdr->headroom;
    return r;
  }
  if (t == FileType::Exr || t == FileType::Png || t == FileType::Tiff) {
    HdrReadOptions ho;
    ho.limits = limits;
    auto hdr = read_hdr_image(bytes, ho);
    if (!hdr) return tl::unexpected(with_context(hdr.error(), "reference"));
    r.hdr_lum = luminance(hdr->rgb, hdr->primaries);
    // An SDR look of the master only to find features on.
    r.sdr8 = tone_map_to_sdr(hdr->rgb);
    r.hdr_only = true;
    float peak = 0;
    for (float v : r.hdr_lum.span()) peak = std::max(peak, v);
    r.headroom = std::log2(std::max(peak, 1.f));
    return r;
  }
  return fail(ErrorCode::Unsupported, std::string("reference must be a gain-map JPEG/HEIC/AVIF or an HDR image, not ") + file_type_name(t));
}

namespace {

// Samples `src` (reference pixels) at each map pixel of the edited frame (edges replicated;
// what lies outside the original is decided geometrically by outside_mask).
ImageF warp_to_map(ImageF src, const Alignment& a, int mw, int mh, double map_to_edited) {
  cv::Mat b = cv_view(src);  // blurred in place: callers hand over planes they are done with
  // Pre-filter: a map pixel covers ~(scale * map_to_edited) reference pixels.
  const double sigma = 0.5 * a.scale * map_to_edited;
  if (sigma > 0.6) cv::GaussianBlur(b, b, cv::Size(), sigma, sigma, cv::BORDER_REFLECT);
  // Map pixel centre -> edited pixel centre -> reference pixel.
  cv::Mat s = (cv::Mat_<double>(3, 3) << map_to_edited, 0, 0.5 * map_to_edited - 0.5, 0, map_to_edited,
               0.5 * map_to_edited - 0.5, 0, 0, 1);
  cv::Mat h(3, 3, CV_64F, const_cast<double*>(a.edited_to_ref.data()));
  cv::Mat m = h * s;
  ImageF out(mw, mh, 1);
  cv::Mat o = cv_view(out);
  cv::warpPerspective(b, o, m, o.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
  return out;
}

// 1 where a map pixel's centre falls outside the original (one reference pixel of slack, so
// the frame's own edge rows are inside).
bool outside_at(const Alignment& a, int mx, int my, double map_to_edited, int ref_w, int ref_h) {
  const auto& h = a.edited_to_ref;
  const double ex = (mx + 0.5) * map_to_edited - 0.5, ey = (my + 0.5) * map_to_edited - 0.5;
  const double w = h[6] * ex + h[7] * ey + h[8];
  const double rx = (h[0] * ex + h[1] * ey + h[2]) / w, ry = (h[3] * ex + h[4] * ey + h[5]) / w;
  return w <= 0 || rx < -1 || ry < -1 || rx > ref_w || ry > ref_h;
}

ImageF outside_mask(const Alignment& a, int mw, int mh, double map_to_edited, int ref_w, int ref_h) {
  ImageF out(mw, mh, 1);
  for (int my = 0; my < mh; ++my)
    for (int mx = 0; mx < mw; ++mx) out.at(mx, my) = outside_at(a, mx, my, map_to_edited, ref_w, ref_h) ? 1.f : 0.f;
  return out;
}

// sRGB-encoded colour in [0,1] per map pixel (area average of the codes). When the map is an
// exact integer fraction of the image (the usual 1/2 or 1/4), each map pixel averages its own
// block, so the float copy is made a band of map rows at a time: the same values, without a
// full-size float RGB image (146 MB at 12 MP).
ImageF rgb_to_map(const Image8& rgb, int mw, int mh) {
  ImageF out(mw, mh, 3);
  const int s = rgb.width() / mw;
  if (s >= 1 && rgb.width() == mw * s && rgb.height() == mh * s) {
    const int band = std::max(1, 64 / s);  // map rows per band
    cv::Mat f;
    for (int my = 0; my < mh; my += band) {
      const int rows = std::min(band, mh - my);
      cv_view(rgb).rowRange(my * s, (my + rows) * s).convertTo(f, CV_32FC3, 1.0 / 255);
      cv::Mat dst = cv_view(out).rowRange(my, my + rows);
      cv::resize(f, dst, dst.size(), 0, 0, cv::INTER_AREA);
    }
    return out;
  }
  cv::Mat f;
  cv_view(rgb).convertTo(f, CV_32FC3, 1.0 / 255);
  cv::Mat dst = cv_view(out);
  cv::resize(f, dst, dst.size(), 0, 0, cv::INTER_AREA);
  return out;
}

ImageF box_to_map(const ImageF& full, int mw, int mh) {
  ImageF out(mw, mh, 1);
  cv::Mat dst = cv_view(out);
  cv::resize(cv_view(full), dst, dst.size(), 0, 0, cv::INTER_AREA);
  return out;
}

// Monotone curve y = f(x) fitted through binned medians (x, y in [0,1] perceptual units);
// absorbs global tonal edits (exposure, curves, grades) so only content changes stand out.
struct ToneCurve {
  std::array<float, 33> y{};
  float operator()(float x) const {
    float f = std::clamp(x, 0.f, 1.f) * 32.f;
    int i = std::min(int(f), 31);
    return y[i] + (y[i + 1] - y[i]) * (f - i);
  }
};

ToneCurve fit_curve(const std::vector<float>& xs, const std::vector<float>& ys) {
  std::array<std::vector<float>, 33> bins;
  for (size_t i = 0; i < xs.size(); ++i) bins[size_t(std::clamp(xs[i], 0.f, 1.f) * 32.f + 0.5f)].push_back(ys[i]);
  ToneCurve c;
  std::array<bool, 33> have{};
  for (int i = 0; i <= 32; ++i) {
    if (bins[i].size() < 8) continue;
    auto mid = bins[i].begin() + bins[i].size() / 2;
    std::nth_element(bins[i].begin(), mid, bins[i].end());
    c.y[i] = *mid;
    have[i] = true;
  }
  // Bins without data: linear between known neighbours; towards 0 below the first and
  // towards 1 above the last (identity when nothing is known at all).
  std::vector<int> known;
  for (int i = 0; i <= 32; ++i)
    if (have[i]) known.push_back(i);
  for (int i = 0; i <= 32; ++i) {
    if (have[i]) continue;
    auto hi = std::lower_bound(known.begin(), known.end(), i);
    const int a = hi == known.begin() ? -1 : *(hi - 1), b = hi == known.end() ? 33 : *hi;
    const float ya = a < 0 ? 0.f : c.y[a], yb = b > 32 ? 1.f : c.y[b];
    const float xa = a < 0 ? 0.f : float(a), xb = b > 32 ? 32.f : float(b);
    c.y[i] = xb > xa ? ya + (yb - ya) * (float(i) - xa) / (xb - xa) : ya;
  }
  for (int i = 1; i <= 32; ++i) c.y[i] = std::max(c.y[i], c.y[i - 1]);
  return c;
}

// Push-pull fill (Gortler et al. 1996): values where `known` > 0, smoothly continued into the
// gaps from all sides, at whatever scale the gap needs (one image pyramid, no parameters).
ImageF push_pull(const ImageF& v, const ImageF& known) {
  std::vector<cv::Mat> wv{cv::Mat()}, w{cv::Mat()};
  const cv::Mat v0 = cv_view(v), k0 = cv_view(known);
  wv[0] = v0.mul(k0);
  w[0] = k0.clone();
  // Pull: weighted sums down to a single pixel.
  while (wv.back().cols > 1 || wv.back().rows > 1) {
    cv::Mat a, b;
    const cv::Size half((wv.back().cols + 1) / 2, (wv.back().rows + 1) / 2);
    cv::resize(wv.back(), a, half, 0, 0, cv::INTER_AREA);
    cv::resize(w.back(), b, half, 0, 0, cv::INTER_AREA);
    wv.push_back(a);
    w.push_back(b);
  }
  // Push: each level keeps its own average where it has enough support and takes the
  // coarser level's where it has none.
  cv::Mat filled;
  for (int l = int(wv.size()) - 1; l >= 0; --l) {
    cv::Mat cur(wv[l].size(), CV_32FC1);
    cv::Mat up;
    if (!filled.empty()) cv::resize(filled, up, wv[l].size(), 0, 0, cv::INTER_LINEAR);
    for (int r = 0; r < cur.rows; ++r)
      for (int c = 0; c < cur.cols; ++c) {
        const float ww = w[l].at<float>(r, c);
        const float own = ww > 1e-6f ? wv[l].at<float>(r, c) / ww : 0.f;
        const float a = std::min(1.f, ww * 4.f);  // a quarter of a pixel's support is enough
        cur.at<float>(r, c) = up.empty() ? own : a * own + (1 - a) * up.at<float>(r, c);
      }
    filled = cur;
  }
  ImageF out(v.width(), v.height(), 1);
  std::memcpy(out.data(), filled.ptr<float>(), out.size() * sizeof(float));
  return out;
}

}  // namespace

Result<ReferenceOutcome> reference_gain(const Image8& edited, int orientation, Primaries primaries,
                                        RefRenditions ref, const Predictor& predictor, const PredictOptions& popt,
                                        const std::atomic<bool>* cancel) {
  auto cancelled = [cancel] { return cancel && cancel->load(std::memory_order_relaxed); };
  ReferenceOutcome out;
  if (cancelled()) return fail(ErrorCode::Internal, "cancelled");
  out.reference_headroom = ref.headroom;
  // Displayed orientation; no copy when the edit is stored upright (the usual case: 38 MB at 12 MP).
  Image8 turned;
  if (orientation != 1) turned = apply_orientation(edited, orientation);
  const Image8& shown = orientation != 1 ? turned : edited;
  REGAIN_TRY(al, align_images(shown, ref.sdr8));
  if (cancelled()) return fail(ErrorCode::Internal, "cancelled");
  out.alignment = {{"trusted", al.trusted}, {"model", al.model}, {"mirrored", al.mirrored},
                   {"matches", al.matches}, {"inliers", al.inliers}, {"scale", al.scale},
                   {"rotation_deg", al.rotation_deg}, {"reprojection_px", al.reprojection_px},
                   {"edited_to_reference", al.edited_to_ref}, {"reason", al.reason}};
  if (!al.trusted) {
    out.warnings.push_back("no trustworthy alignment with the reference (" + al.reason + "): used Predictive mode");
    return out;
  }

  const int W = shown.width(), H = shown.height();
  // As dense as the original's map, in edited pixels (a full-resolution original keeps a
  // full-resolution map; an Android 1/4 map stays 1/4), between 1 and 4.
  const int scale = std::clamp(int(std::lround(ref.pixels_per_map_pixel / std::max(al.scale, 1e-3))), 1, 4);
  const int map_w = (W + scale - 1) / scale, map_h = (H + scale - 1) / scale;
  const double map_to_edited = double(W) / map_w;
  // Change detection, masks, fill and seams are all smooth at the scale of several edited
  // pixels, so on a large map they run on an analysis grid k times coarser (k = 1, the map
  // itself, up to kAnalysisPixels); only the original's gain and the final blend are
  // computed at map resolution.
  const int k = std::max(1, int(std::ceil(std::sqrt(double(map_w) * map_h / kAnalysisPixels))));
  const int mw = (map_w + k - 1) / k, mh = (map_h + k - 1) / k;
  const double grid_to_edited = double(W) / mw;
  ImageF lum_full = luminance8(shown, primaries);
  ImageF e_lum = box_to_map(lum_full, mw, mh);
  // Reference quantities warped into the edited frame.
  const int ref_w = ref.sdr8.width(), ref_h = ref.sdr8.height();
  ref.sdr8 = Image8();  // aligned: no longer needed
  ImageF r_hdr, r_sdr, r_gain, map_gain;  // analysis grid; map_gain: log2 gain at map resolution
  if (ref.hdr_only) {
    r_hdr = warp_to_map(std::move(ref.hdr_lum), al, map_w, map_h, map_to_edited);
    if (k > 1) {
      const ImageF e_map = box_to_map(lum_full, map_w, map_h);
      map_gain = ImageF(map_w, map_h, 1);
      for (size_t i = 0; i < map_gain.size(); ++i)
        map_gain.data()[i] = std::log2((r_hdr.data()[i] + kOffset) / (std::max(e_map.data()[i], 0.f) + kOffset));
      r_hdr = box_to_map(r_hdr, mw, mh);
    }
  } else {
    r_sdr = warp_to_map(std::move(ref.sdr_lin), al, mw, mh, grid_to_edited);
    r_gain = warp_to_map(std::move(ref.gain), al, map_w, map_h, map_to_edited);
    if (k > 1) {
      map_gain = ImageF(map_w, map_h, 1);
      for (size_t i = 0; i < map_gain.size(); ++i) map_gain.data()[i] = std::log2(std::max(r_gain.data()[i], 1e-6f));
      r_gain = box_to_map(r_gain, mw, mh);
    }
  }

  lum_full = ImageF();
  ImageF outside = outside_mask(al, mw, mh, grid_to_edited, ref_w, ref_h);
  // A transparent edit's background (flattened onto a plain colour) is no evidence about the
  // original: left out of the tone-curve fit and the change detection, like pixels outside
  // the original (the caller zeroes its gain). Without this a 79 % white backdrop fitted a
  // curve that maps everything to white and the subject itself was judged "edited".
  size_t n_transparent = 0;
  if (popt.opacity && !popt.opacity->empty()) {
    const bool swap = orientation_swaps_axes(orientation);
    const ImageF a = apply_orientation(area_average(*popt.opacity, swap ? mh : mw, swap ? mw : mh, popt.threads),
                                       orientation);
    if (a.width() == mw && a.height() == mh)
      for (size_t i = 0; i < a.size(); ++i)
        if (a.data()[i] < 0.5f && outside.data()[i] == 0) {
          outside.data()[i] = 1.f;
          ++n_transparent;
        }
  }
  // Content-change detection against a tone curve fitted on all covered pixels.
  const size_t n = size_t(mw) * mh;
  auto perceptual = [](float lin) { return linear_to_srgb(std::clamp(lin, 0.f, 1.f)); };
  const ImageF& r_cmp = ref.hdr_only ? r_hdr : r_sdr;
  ImageF diff(mw, mh, 1), pe_img(mw, mh, 1);
  // Perceptual values once per pixel, on all cores: the edit's in pe_img, the reference's in
  // diff (replaced by its tone-curve value below).
  parallel_for(mh, popt.threads, [&](int y0, int y1) {
    for (size_t i = size_t(y0) * mw, end = size_t(y1) * mw; i < end; ++i) {
      const float r = r_cmp.data()[i];
      pe_img.data()[i] = perceptual(e_lum.data()[i]);
      diff.data()[i] = std::isnan(r) ? 0.f : perceptual(ref.hdr_only ? r / std::max(1.f, r) : r);
    }
  });
  std::vector<float> xs, ys;
  xs.reserve(n);
  ys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(r_cmp.data()[i]) || outside.data()[i] > 0) continue;
    xs.push_back(diff.data()[i]);
    ys.push_back(pe_img.data()[i]);
  }
  const ToneCurve curve = fit_curve(xs, ys);
  xs = {};
  ys = {};
  ImageF changed(mw, mh, 1), g_ref(mw, mh, 1);
  std::atomic<size_t> outside_count{0};
  parallel_for(mh, popt.threads, [&](int y0, int y1) {
    size_t local = 0;
    for (size_t i = size_t(y0) * mw, end = size_t(y1) * mw; i < end; ++i) {
      const float r = r_cmp.data()[i];
      const bool out_of_ref = outside.data()[i] > 0 || std::isnan(r) || (ref.hdr_only && std::isnan(r_hdr.data()[i]));
      local += out_of_ref;
      if (out_of_ref) {
        changed.data()[i] = 0;
        g_ref.data()[i] = 0;
        diff.data()[i] = pe_img.data()[i];  // no evidence either way
        continue;
      }
      diff.data()[i] = curve(diff.data()[i]);  // the reference as the edit's tone curve would show it
      // The original's gain; for an HDR-only reference, HDR over the edited SDR itself.
      g_ref.data()[i] = ref.hdr_only
                            ? std::log2((r_hdr.data()[i] + kOffset) / (std::max(e_lum.data()[i], 0.f) + kOffset))
                            : std::log2(std::max(r_gain.data()[i], 1e-6f));
    }
    outside_count += local;
  });
  size_t n_changed = 0;
  const size_t n_outside = outside_count.load() - n_transparent;
  // The warped planes are spent: free them before the masks (a 12-MP map holds ~25 planes).
  r_sdr = ImageF();
  r_gain = ImageF();
  r_hdr = ImageF();
  e_lum = ImageF();
  // Differences are judged over ~6 edited pixels whatever the map density: re-encoding noise
  // and sub-pixel misalignment at edges are not edits.
  const double px = 1.0 / (scale * k);  // analysis pixels per edited pixel
  // Both sides are low-passed before they are compared: the edited image and the warped
  // reference went through different resamplers, which disagree on fine texture (foliage
  // against sky) by far more than the threshold even where nothing was edited.
  const ImageF pe_raw = pe_img, ref_raw = diff;  // unblurred, for copy detection
  cv::Mat dm = cv_view(diff), pm = cv_view(pe_img);
  cv::GaussianBlur(dm, dm, cv::Size(), 6.0 * px, 6.0 * px, cv::BORDER_REPLICATE);
  cv::GaussianBlur(pm, pm, cv::Size(), 6.0 * px, 6.0 * px, cv::BORDER_REPLICATE);
  for (size_t i = 0; i < n; ++i) diff.data()[i] = std::fabs(pe_img.data()[i] - diff.data()[i]);
  for (size_t i = 0; i < n; ++i) {
    const bool c = !outside.data()[i] && diff.data()[i] > 0.10f;
    changed.data()[i] = c ? 1.f : 0.f;
    n_changed += c;
  }
  // Shares of the picture: a transparent edit's background counts as neither.
  const double n_picture = double(std::max<size_t>(1, n - n_transparent));
  out.edited_share = double(n_changed) / n_picture;
  out.outside_share = double(n_outside) / n_picture;
  // Clean the change mask (isolated pixels are noise), grow it a little, and feather both
  // masks so the seams between original and predicted gain are soft.
  // On an 8-bit copy of the 0/1 mask (the same result as on floats, several times faster).
  cv::Mat cm = cv_view(changed), cm8;
  cm.convertTo(cm8, CV_8U);
  const int k_open = std::max(3, int(12 * px) | 1), k_grow = std::max(5, int(20 * px) | 1);
  cv::morphologyEx(cm8, cm8, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k_open, k_open}));
  cm8.convertTo(cm, CV_32F);
  const ImageF changed_core = changed;  // before growing: what copy detection looks for
  cv::dilate(cm8, cm8, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k_grow, k_grow}));
  cm8.convertTo(cm, CV_32F);
  ImageF weight(mw, mh, 1);  // 1 = original's gain, 0 = predicted
  for (size_t i = 0; i < n; ++i) weight.data()[i] = 1.f - std::max(changed.data()[i], outside.data()[i]);
  cv::Mat wm = cv_view(weight);
  cv::GaussianBlur(wm, wm, cv::Size(), 8.0 * px, 8.0 * px, cv::BORDER_REPLICATE);
  for (size_t i = 0; i < n; ++i)
    if (outside.data()[i] > 0) weight.data()[i] = 0;  // no gain where the original has none

  if (cancelled()) return fail(ErrorCode::Internal, "cancelled");
  // Predicted gain for the rest, at the original's headroom so both halves agree.
  PredictOptions po = popt;
  po.scale = std::min(16, scale * k);
  if (!po.boost) {
    po.boost = std::clamp(ref.headroom, 0.5, 8.0);
    po.boost_caps_only = true;
  }
  REGAIN_TRY(pred, predictor.predict(edited, po));
  ImageF pred_shown = apply_orientation(pred.log2_gain, orientation);
  ImageF pred_map = pred_shown.width() == mw && pred_shown.height() == mh ? std::move(pred_shown)
                                                                            : box_to_map(pred_shown, mw, mh);
  // New content takes the gain this photo's grade gives its colour (the predictor where the
  // colour was never seen); the fill's offset from the kept gain around each gap is then
  // carried into the gap, so it meets the kept gain without a step and the feathered seam
  // does not pull foreign gain into unchanged pixels.
  ImageF known(mw, mh, 1), fill(mw, mh, 1), offset(mw, mh, 1);
  for (size_t i = 0; i < n; ++i) known.data()[i] = (changed.data()[i] > 0 || outside.data()[i] > 0) ? 0.f : 1.f;
  // The predictor gives the structure; the original's grade gives the level: shift the
  // prediction by its median difference from the kept gain (a learned model's own level
  // can sit stops away from how this photo was graded).
  {
    std::vector<float> d;
    for (size_t i = 0; i < n; ++i)
      if (known.data()[i] > 0) d.push_back(g_ref.data()[i] - pred_map.data()[i]);
    if (!d.empty()) {
      std::nth_element(d.begin(), d.begin() + long(d.size() / 2), d.end());
      const float shift = d[d.size() / 2];
      for (size_t i = 0; i < n; ++i) pred_map.data()[i] = std::min(pred_map.data()[i] + shift, float(ref.headroom));
    }
  }
  const ImageF e_rgb = rgb_to_map(shown, mw, mh);
  const ColourGainTable table(e_rgb, g_ref, known);
  for (size_t i = 0; i < n; ++i) {
    fill.data()[i] = table.lookup(e_rgb.data() + 3 * i).value_or(pred_map.data()[i]);
    offset.data()[i] = g_ref.data()[i] - fill.data()[i];
  }
  ImageF carried = push_pull(offset, known);
  // Content copied from elsewhere in the photo takes the gain of its source.
  ImageF copied(mw, mh, 1), source;  // source offsets: only a coarser grid needs them
  copied.fill(0.f);  // find_copied_content marks only what it finds (Image storage is not cleared)
  if (k > 1) {
    source = ImageF(mw, mh, 2);
    source.fill(0.f);
  }
  out.copied_regions = find_copied_content(pe_raw, ref_raw, changed_core, g_ref, fill, copied, k > 1 ? &source : nullptr);
  // The carried offset belongs to the band the change mask was grown by (unchanged content
  // given up for a soft seam); deeper in, the new content's own fill stands (a copied tree
  // in the sky must not inherit the sky's gain). Full strength half a grow width from the
  // kept pixels, none a whole width in (smoothstep).
  cv::Mat k8, dist;
  cv_view(known).convertTo(k8, CV_8U, 255);
  cv::distanceTransform(255 - k8, dist, cv::DIST_L2, 3);
  for (size_t i = 0; i < n; ++i) {
    const float t = std::clamp(2.f * dist.ptr<float>()[i] / float(k_grow) - 1.f, 0.f, 1.f);
    carried.data()[i] = copied.data()[i] > 0 ? 0.f : carried.data()[i] * (1 - t * t * (3 - 2 * t));
  }
  ImageF g(mw, mh, 1);
  if (k == 1) {
    for (size_t i = 0; i < n; ++i) {
      const float w = weight.data()[i];
      g.data()[i] = w * g_ref.data()[i] + (1 - w) * (fill.data()[i] + carried.data()[i]);
    }
  } else {
    // The weight and the replacement gain sampled bilinearly from the analysis grid, the
    // original's own gain at full density, nothing outside the original (decided again at
    // map resolution); one pass, in place, no full-size intermediate planes.
    ImageF repl(mw, mh, 1);
    for (size_t i = 0; i < n; ++i) repl.data()[i] = fill.data()[i] + carried.data()[i];
    const BilinearTaps tx(map_w, mw), ty(map_h, mh);
    const ImageF src_gain = out.copied_regions > 0 ? map_gain : ImageF();  // read while map_gain is written
    parallel_for(map_h, popt.threads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const float* w0 = weight.row(ty.i0[size_t(y)]);
        const float* w1 = weight.row(ty.i1[size_t(y)]);
        const float* r0 = repl.row(ty.i0[size_t(y)]);
        const float* r1 = repl.row(ty.i1[size_t(y)]);
        const float vy = ty.t[size_t(y)];
        float* gm = map_gain.row(y);
        for (int x = 0; x < map_w; ++x) {
          const int a = tx.i0[size_t(x)], b = tx.i1[size_t(x)];
          const float vx = tx.t[size_t(x)];
          auto lerp2 = [&](const float* p, const float* q) {
            const float top = p[a] + (p[b] - p[a]) * vx, bot = q[a] + (q[b] - q[a]) * vx;
            return top + (bot - top) * vy;
          };
          const float w = outside_at(al, x, y, map_to_edited, ref_w, ref_h) ? 0.f : lerp2(w0, w1);
          float r = lerp2(r0, r1);
          // Copied content: the source's gain at map resolution (the analysis grid would blur
          // a copied tree's gain), taken from the original's gain at the same offset.
          const int ax = std::min(mw - 1, x / k), ay = std::min(mh - 1, y / k);
          if (copied.at(ax, ay) > 0) {
            const int sx = x + int(std::lround(source.at(ax, ay, 0))) * k;
            const int sy = y + int(std::lround(source.at(ax, ay, 1))) * k;
            if (sx >= 0 && sy >= 0 && sx < map_w && sy < map_h) r = src_gain.at(sx, sy);
          }
          gm[x] = w * gm[x] + (1 - w) * r;
        }
      }
    });
    g = std::move(map_gain);
  }
  out.log2_gain = apply_orientation(g, inverse_orientation(orientation));
  out.map_scale = scale;
  out.used = true;
  return out;
}

}  // namespace regain
