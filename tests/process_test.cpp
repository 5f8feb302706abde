// process_image in Predictive mode on the real AI-edited photo and on generated scenes.
#include <gtest/gtest.h>

#include <fstream>

#include "container/jpeg_segments.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "regain/synthetic.h"
#include "test_support.h"

using namespace regain;

namespace {
std::vector<uint8_t> scan_data(std::span<const uint8_t> jpeg) {
  auto s = parse_jpeg_stream(jpeg);
  return {jpeg.begin() + s->first_sos, jpeg.begin() + s->end};
}
double mean_y(const ImageF& img, int x0, int y0, int x1, int y1) {
  double acc = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const float* p = &img.at(x, y);
      acc += 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
    }
  return acc / ((x1 - x0) * (y1 - y0));
}
}  // namespace

TEST(Process, PredictiveOnTheEditedPhoto) {
  auto edited = test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg");
  ProcessOptions o;
  o.want_hdr = true;
  o.want_previews = true;
  auto r = process_image(edited, std::nullopt, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["mode"], "predictive");
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr && jr->gain_map && jr->iso_metadata && jr->xmp_metadata);
  EXPECT_TRUE(jr->warnings.empty());
  EXPECT_EQ(jr->primary.width, 864);
  EXPECT_EQ(jr->primary.height, 1184);
  // The user's JPEG is the base, byte for byte in its image data.
  EXPECT_EQ(scan_data(jr->primary_bytes), scan_data(edited));
  // Metadata describes the map written: max = the largest predicted gain, <= boost.
  const double boost = r->meta["boost"];
  EXPECT_GT(boost, 1.0);
  EXPECT_LE(jr->metadata->channel[0].max, boost + 1e-4);
  EXPECT_DOUBLE_EQ(jr->metadata->alternate_headroom, jr->metadata->channel[0].max);
  // Sky (top) is lifted; the black shirt (bottom middle) is not.
  ASSERT_TRUE(r->hdr);
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  auto lift = [&](int x0, int y0, int x1, int y1) {
    ImageF s(sdr->width(), sdr->height(), 3);
    const auto& lut = srgb8_to_linear_lut();
    for (size_t i = 0; i < s.size(); ++i) s.data()[i] = lut[sdr->data()[i]];
    return mean_y(*r->hdr, x0, y0, x1, y1) / std::max(mean_y(s, x0, y0, x1, y1), 1e-4);
  };
  const double sky = lift(300, 20, 700, 150), shirt = lift(350, 900, 600, 1150);
  std::printf("predictive lift: sky %.3fx, black shirt %.3fx\n", sky, shirt);
  EXPECT_GT(sky, 1.4) << "sky lift";  // overcast sky with dark clouds
  // The learned model lifts the lit scene as a camera does, the black shirt least: less
  // than the original's own grade gives black fabric (1.80x, Reference mode test).
  EXPECT_GT(sky, 1.15 * shirt);
  EXPECT_LT(shirt, 1.5) << "shirt lift";
  // Side outputs.
  EXPECT_EQ(sniff_file_type(r->sdr_preview), FileType::Jpeg);
  auto prev = read_jpegr(r->sdr_preview);
  ASSERT_TRUE(prev);
  EXPECT_FALSE(prev->gain_map);
  EXPECT_EQ(prev->primary.width, 864);
  EXPECT_EQ(sniff_file_type(r->gainmap_png), FileType::Png);
}

TEST(Process, BoostSetsTheHeadroom) {
  ImageF hdr = synthetic_hdr_scene(320, 240, SceneKind::Night);
  auto jpeg = encode_jpeg(tone_map_to_sdr(hdr), {90, true});
  ASSERT_TRUE(jpeg);
  for (double boost : {1.0, 3.0}) {
    ProcessOptions o;
    o.boost = boost;
    auto r = process_image(*jpeg, std::nullopt, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->meta["boost"], boost);
    auto jr = read_jpegr(r->output);
    ASSERT_TRUE(jr && jr->metadata);
    EXPECT_LE(jr->metadata->alternate_headroom, boost + 1e-4);
    EXPECT_GT(jr->metadata->alternate_headroom, boost * 0.5);  // the street lights reach near it
  }
}

TEST(Process, BadInputsAreClearErrors) {
  std::vector<uint8_t> junk = {1, 2, 3, 4};
  auto r = process_image(junk, std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  auto truncated = test::corpus_bytes("malformed/pixel6_truncated.jpg");
  r = process_image(truncated, std::nullopt);
  ASSERT_FALSE(r);
  ProcessOptions o;
  o.boost = 100;
  auto edited = test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg");
  EXPECT_FALSE(process_image(edited, std::nullopt, o));
}

TEST(Process, HeicAndAvifOutputs) {
  auto edited = test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg");
  for (auto f : {OutputFormat::Heic, OutputFormat::Avif}) {
    ProcessOptions o;
    o.format = f;
    auto r = process_image(edited, test::corpus_bytes("edited-pair/original_iphone15promax.jpg"), o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->meta["mode"], "reference");
    EXPECT_EQ(r->meta["output"]["format"], f == OutputFormat::Heic ? "heic" : "avif");
    auto hdr = decode_gainmap_hdr(r->output);
    ASSERT_TRUE(hdr) << hdr.error().message;
    EXPECT_EQ(hdr->source, MetadataSource::Iso);
  }
}

namespace {
// Mean |log2| luminance ratio between our HDR (edited frame) and the original's HDR over a
// rectangle of the edited frame, mapped through the alignment found.
double region_error(const ImageF& ours, const ImageF& orig, const nlohmann::json& al, int x0, int y0, int x1, int y1) {
  const auto m = al["edited_to_reference"];
  double acc = 0;
  int n = 0;
  for (int y = y0; y < y1; y += 2)
    for (int x = x0; x < x1; x += 2) {
      const double w = m[6].get<double>() * x + m[7].get<double>() * y + m[8].get<double>();
      const int rx = int((m[0].get<double>() * x + m[1].get<double>() * y + m[2].get<double>()) / w + 0.5);
      const int ry = int((m[3].get<double>() * x + m[4].get<double>() * y + m[5].get<double>()) / w + 0.5);
      if (rx < 0 || ry < 0 || rx >= orig.width() || ry >= orig.height()) continue;
      auto Y = [](const float* p) { return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]; };
      acc += std::fabs(std::log2((Y(&ours.at(x, y)) + 0.01) / (Y(&orig.at(rx, ry)) + 0.01)));
      ++n;
    }
  return acc / std::max(n, 1);
}
}  // namespace

TEST(Process, ReferenceModeOnTheEditedPair) {
  auto edited = test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg");
  auto original = test::corpus_bytes("edited-pair/original_iphone15promax.jpg");
  ProcessOptions o;
  o.want_hdr = true;
  auto r = process_image(edited, std::span<const uint8_t>(original), o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->meta["mode"], "reference") << r->meta.dump();
  const auto& al = r->meta["alignment"];
  EXPECT_TRUE(al["trusted"].get<bool>());
  EXPECT_NEAR(al["scale"].get<double>(), 0.865, 0.01);  // 864 px wide edit of a 768 px original
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr && jr->metadata);
  EXPECT_EQ(jr->primary.width, 864);
  EXPECT_EQ(jr->primary.height, 1184);
  // Metadata describes the map written: the reframed original's gain peaks just under the
  // original's 2.68 stops.
  EXPECT_GT(jr->metadata->alternate_headroom, 2.3);
  EXPECT_LE(jr->metadata->alternate_headroom, 2.69);
  auto orig = decode_jpegr_hdr(original);
  ASSERT_TRUE(orig && r->hdr);
  const double sky = region_error(*r->hdr, orig->rgb, al, 250, 10, 750, 150);
  const double building = region_error(*r->hdr, orig->rgb, al, 50, 200, 450, 400);
  std::printf("reference mode: |log2 Y| vs original HDR: sky %.3f, building %.3f stops; edited share %.3f\n", sky,
              building, r->meta["edited_share"].get<double>());
  EXPECT_LT(sky, 0.25);
  EXPECT_LT(building, 0.25);
  // The shirt (white in the original, black now) is not boosted.
  auto sdr = decode_jpegr_sdr(r->output);
  ImageF s(sdr->width(), sdr->height(), 3);
  for (size_t i = 0; i < s.size(); ++i) s.data()[i] = srgb8_to_linear_lut()[sdr->data()[i]];
  const double shirt = mean_y(*r->hdr, 350, 900, 600, 1150) / mean_y(s, 350, 900, 600, 1150);
  const double bag = mean_y(*r->hdr, 210, 880, 300, 1080) / mean_y(s, 210, 880, 300, 1080);
  // What the original's grade gives the same place (its white shirt) and black fabric.
  auto osdr = decode_jpegr_sdr(original);
  ASSERT_TRUE(osdr);
  ImageF os(osdr->width(), osdr->height(), 3);
  for (size_t i = 0; i < os.size(); ++i) os.data()[i] = srgb8_to_linear_lut()[osdr->data()[i]];
  const double k = 0.8649;  // edited -> original pixels (the alignment found above)
  auto orig_lift = [&](int x0, int y0, int x1, int y1) {
    return mean_y(orig->rgb, int(x0 * k + 10), int(y0 * k), int(x1 * k + 10), int(y1 * k)) /
           mean_y(os, int(x0 * k + 10), int(y0 * k), int(x1 * k + 10), int(y1 * k));
  };
  const double white_shirt = orig_lift(350, 900, 600, 1150), orig_bag = orig_lift(210, 880, 300, 1080);
  std::printf("reference mode: lift shirt %.3fx (original's white shirt %.3fx), bag %.3fx (original %.3fx)\n", shirt,
              white_shirt, bag, orig_bag);
  // The black shirt gets what this photo's grade gives black fabric, not the white shirt's.
  EXPECT_LT(shirt, 1.15 * orig_bag);
  EXPECT_LT(shirt, 0.6 * white_shirt);
  EXPECT_NEAR(bag, orig_bag, 0.15 * orig_bag);  // unedited: the original's own lift
  // Side by side for people (not checked): edited SDR | original HDR | ours, both HDR
  // renditions through the same global tone map, at the edit's height.
  auto view = [](const ImageF& hdr) {
    ImageF scaled = hdr;
    for (auto& v : scaled.span()) v *= 1.5f;  // SDR white at ~0.6, headroom visible above it
    return tone_map_to_sdr(scaled);
  };
  auto resized = [](const Image8& img, int h) {
    const int w = int(std::lround(double(img.width()) * h / img.height()));
    Image8 out(w, h, 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          out.row(y)[3 * x + c] = img.row(std::min(img.height() - 1, y * img.height() / h))[3 * std::min(img.width() - 1, x * img.width() / w) + c];
    return out;
  };
  const Image8 panels[3] = {*sdr, resized(view(orig->rgb), sdr->height()), view(*r->hdr)};
  int total = 0;
  for (const auto& p : panels) total += p.width() + 16;
  Image8 side(total - 16, sdr->height(), 3);
  std::fill(side.data(), side.data() + side.size(), uint8_t(255));
  for (int x0 = 0, i = 0; i < 3; x0 += panels[i].width() + 16, ++i)
    for (int y = 0; y < side.height(); ++y)
      std::copy(panels[i].row(y), panels[i].row(y) + 3 * panels[i].width(), side.row(y) + 3 * x0);
  auto png = encode_png8(side);
  ASSERT_TRUE(png);
  const auto out_path = test::scratch_dir("edited_pair") / "side_by_side.png";
  std::ofstream(out_path, std::ios::binary).write(reinterpret_cast<const char*>(png->data()), std::streamsize(png->size()));
  std::printf("reference mode: side-by-side picture: %s\n", out_path.c_str());
}

TEST(Process, UnrelatedReferenceFallsBackToPredictive) {
  auto edited = test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg");
  auto other = test::corpus_bytes("jpeg/pixel6pro_ultrahdr_01.jpg");
  auto r = process_image(edited, std::span<const uint8_t>(other));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["mode"], "predictive");
  EXPECT_FALSE(r->meta["alignment"]["trusted"].get<bool>());
  EXPECT_FALSE(r->meta["warnings"].empty());
}
