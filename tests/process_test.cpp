// process_image in Predictive mode on the real AI-edited photo and on generated scenes.
#include <gtest/gtest.h>

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
  EXPECT_GT(sky, 1.4) << "sky lift";  // overcast sky with dark clouds: ~1.6x measured
  EXPECT_LT(shirt, 1.15) << "shirt lift";
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
  o = {};
  o.format = OutputFormat::Heic;
  EXPECT_FALSE(process_image(edited, std::nullopt, o));
}
