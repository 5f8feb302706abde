// Restore quality on simulated edits of real gain-map photos (the `regain eval` method).
// Guards what Reference mode achieves; the full table is in the closing notes / README.
#include <gtest/gtest.h>

#include <map>

#include "regain/evaluate.h"
#include "test_support.h"

using namespace regain;

TEST(Evaluate, Pu21ReferencePoints) {
  EXPECT_NEAR(pu21_encode(100.0), 256.0, 8.0);  // ~256 at 100 cd/m2 by design
  EXPECT_LT(pu21_encode(1.0), pu21_encode(10.0));
  EXPECT_DOUBLE_EQ(pu21_encode(1e9), pu21_encode(10000.0));  // clamped
}

TEST(Evaluate, ReferenceModeOnSimulatedEdits) {
  for (const char* file : {"jpeg/seine_sdr_gainmap_srgb.jpg", "jpeg/paris_exif_xmp_gainmap_littleendian.jpg"}) {
    auto rows = evaluate_file(file, test::corpus_bytes(file));
    ASSERT_TRUE(rows) << rows.error().message;
    std::map<std::string, std::map<std::string, EvalRow>> t;
    for (const auto& r : *rows) t[r.edit][r.method] = r;
    ASSERT_EQ(t.size(), 10u);
    ASSERT_EQ(t["identity"].size(), 4u);  // reference, reembed, predictive, oracle
    EXPECT_GE(t["identity"]["reference"].pu_psnr_unedited, 40.0) << file;
    // Geometric edits: the unchanged map (baseline a) collapses, ours follows the edit.
    for (const char* e : {"crop+resize", "reframe-4:5", "rotate90", "mirror"}) {
      EXPECT_GT(t[e]["reference"].pu_psnr_unedited, t[e]["reembed"].pu_psnr_unedited + 8.0) << file << " " << e;
      EXPECT_GT(t[e]["reference"].pu_psnr_unedited, 34.0) << file << " " << e;
      // Both files carry full-resolution maps: with the dense alignment and linear-gain
      // resampling, Reference mode reaches the truth's own map written the same way.
      EXPECT_GT(t[e]["reference"].pu_psnr_unedited, t[e]["oracle"].pu_psnr_unedited - 0.5) << file << " " << e;
    }
    // Tonal edits follow the edit.
    for (const char* e : {"exposure+0.5", "tone-curve"})
      EXPECT_GT(t[e]["reference"].pu_psnr_unedited, 40.0) << file << " " << e;
    // Edited regions: better than Predictive mode (baseline b); unedited pixels round them
    // keep the original's gain.
    for (const char* e : {"object-removal", "recolour"}) {
      EXPECT_GT(t[e]["reference"].pu_psnr_edited, t[e]["predictive"].pu_psnr_edited + 1.0) << file << " " << e;
      EXPECT_GT(t[e]["reference"].pu_psnr_unedited, t["identity"]["reference"].pu_psnr_unedited - 5.0) << file << " " << e;
      std::printf("%s %s: reference %.2f / %.2f, predictive %.2f\n", file, e, t[e]["reference"].pu_psnr_unedited, t[e]["reference"].pu_psnr_edited, t[e]["predictive"].pu_psnr_edited);
    }
    // The demo's edit (all three at once): edited regions as above, the rest as a reframe.
    const auto& c = t["removal+recolour+reframe"];
    EXPECT_GT(c.at("reference").pu_psnr_edited, c.at("predictive").pu_psnr_edited + 1.0) << file;
    EXPECT_GT(c.at("reference").pu_psnr_unedited, c.at("reembed").pu_psnr_unedited + 8.0) << file;
    EXPECT_GT(c.at("reference").pu_psnr_unedited, 34.0) << file;
  }
}
