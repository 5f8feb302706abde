// Export labels: fixed pixels for a fixed string, geometry that follows the image height,
// the 128/255 grey where text is solid, pixels outside the box left alone, the linear
// version equal to the decoded 8-bit one, and a clear error without the font.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "regain/label.h"

using namespace regain;

namespace {

uint64_t fnv1a(const std::vector<uint8_t>& v) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : v) h = (h ^ b) * 1099511628211ull;
  return h;
}

// Sets REGAIN_FONT for one scope and restores the previous value.
struct FontEnv {
  std::string old;
  bool had;
  explicit FontEnv(const char* value) {
    const char* o = std::getenv("REGAIN_FONT");
    had = o != nullptr;
    if (had) old = o;
    setenv("REGAIN_FONT", value, 1);
  }
  ~FontEnv() {
    if (had) setenv("REGAIN_FONT", old.c_str(), 1);
    else unsetenv("REGAIN_FONT");
  }
};

}  // namespace

TEST(Label, DeterministicPixelsForAFixedString) {
  auto a = render_label("PQ HEIC 1000 nits", 1500, 1000);
  ASSERT_TRUE(a) << a.error().message;
  auto b = render_label("PQ HEIC 1000 nits", 1500, 1000);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->coverage, b->coverage);
  // 15 px text: box 15 px in from the left and bottom edges.
  EXPECT_EQ(a->box.x, 15);
  EXPECT_EQ(a->box.y + a->box.height, 1000 - 15);
  // Pinned output of FreeType 2.12 + Liberation Sans 2 (Debian 12). A change here means the
  // label pixels changed: check the new rendering by eye before updating the numbers.
  EXPECT_EQ(a->box.width, 137);
  EXPECT_EQ(a->box.height, 30);
  EXPECT_EQ(fnv1a(a->coverage), 14749843913371108985ull) << "coverage hash " << fnv1a(a->coverage);
}

TEST(Label, BoxScalesWithImageHeight) {
  auto r1 = label_rect("Gain map", 4000, 1000);
  auto r2 = label_rect("Gain map", 4000, 2000);
  auto r4 = label_rect("Gain map", 4000, 4000);
  ASSERT_TRUE(r1 && r2 && r4);
  EXPECT_NEAR(r2->height, 2 * r1->height, 3);
  EXPECT_NEAR(r4->height, 4 * r1->height, 5);
  EXPECT_NEAR(r2->width, 2 * r1->width, 4);
  EXPECT_NEAR(r4->width, 4 * r1->width, 8);
  EXPECT_EQ(r4->x, 60);
  EXPECT_EQ(r4->y + r4->height, 4000 - 60);
  // Small images bottom out at 8 px text.
  auto tiny = label_rect("Gain map", 4000, 300), tinier = label_rect("Gain map", 4000, 200);
  ASSERT_TRUE(tiny && tinier);
  EXPECT_EQ(tiny->height, tinier->height);
  EXPECT_EQ(tiny->x, 8);
}

TEST(Label, TextIsGrey128OnBlackAndOutsideIsUntouched) {
  Image8 img(800, 1000, 3);  // 15 px text: hinted horizontal strokes are solid
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      for (int c = 0; c < 3; ++c) img.at(x, y, c) = uint8_t((x * 7 + y * 3 + c * 50) & 0xFF);
  Image8 before = img;
  auto mask = render_label("SDR base", 800, 1000);
  ASSERT_TRUE(mask);
  auto rect = draw_label(img, "SDR base");
  ASSERT_TRUE(rect) << rect.error().message;
  EXPECT_EQ(rect->x, mask->box.x);
  EXPECT_EQ(rect->width, mask->box.width);
  int full = 0, empty = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      for (int c = 0; c < 3; ++c) {
        if (!rect->contains(x, y)) {
          ASSERT_EQ(img.at(x, y, c), before.at(x, y, c)) << x << "," << y;
          continue;
        }
        uint8_t cov = mask->at(x, y);
        if (cov == 255) { EXPECT_EQ(img.at(x, y, c), kLabelGrey); ++full; }
        if (cov == 0) { EXPECT_EQ(img.at(x, y, c), 0); ++empty; }
        EXPECT_LE(img.at(x, y, c), kLabelGrey);
      }
  EXPECT_GT(full, 30);
  EXPECT_GT(empty, full);  // mostly box
}

TEST(Label, LinearVersionIsTheDecodedSdrLabel) {
  Image8 sdr(640, 1000, 4);
  sdr.fill(200);
  ImageF hdr(640, 1000, 3);
  hdr.fill(5.f);
  ASSERT_TRUE(draw_label(sdr, "HDR 203"));
  auto rect = draw_label(hdr, "HDR 203", 1.f);
  ASSERT_TRUE(rect);
  const auto& lut = srgb8_to_linear_lut();
  bool saw_text = false;
  for (int y = rect->y; y < rect->y + rect->height; ++y)
    for (int x = rect->x; x < rect->x + rect->width; ++x) {
      ASSERT_EQ(hdr.at(x, y, 0), lut[sdr.at(x, y, 0)]);
      EXPECT_EQ(sdr.at(x, y, 3), 255);
      saw_text |= sdr.at(x, y, 0) == kLabelGrey;
    }
  EXPECT_TRUE(saw_text);
  EXPECT_NEAR(lut[kLabelGrey], 0.2158f, 1e-4);
  EXPECT_EQ(hdr.at(0, 0, 0), 5.f);
  // Another white level scales the grey.
  ImageF hdr2(640, 1000, 3);
  hdr2.fill(0.f);
  ASSERT_TRUE(draw_label(hdr2, "HDR 203", 2.f));
  EXPECT_EQ(hdr2.at(rect->x, rect->y, 0), 0.f);  // padding corner is black
}

TEST(Label, ClipsToSmallImagesAndRejectsBadInput) {
  auto r = label_rect("a very long label that cannot fit in a small picture", 120, 40);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LE(r->x + r->width, 120);
  EXPECT_GE(r->y, 0);
  EXPECT_FALSE(render_label("", 100, 100));
  EXPECT_FALSE(render_label("x", 0, 100));
  Image8 gray(10, 10, 1);
  EXPECT_FALSE(draw_label(gray, "x"));
  EXPECT_TRUE(render_label("caf\xC3\xA9 \xFF bad utf8\n", 500, 500));
}

TEST(Label, MissingFontIsAnError) {
  FontEnv env("/nonexistent/NoSuchFont.ttf");
  auto r = render_label("x", 100, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("/nonexistent/NoSuchFont.ttf"), std::string::npos);
  Image8 img(100, 100, 3);
  EXPECT_FALSE(draw_label(img, "x"));
}

TEST(Label, UnreadableFontIsAnError) {
  FontEnv env("/etc/hostname");  // a file, but not a font
  auto r = render_label("x", 100, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidInput);
}
