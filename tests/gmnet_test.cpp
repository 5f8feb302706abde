// GMNet: parity of the oneDNN engine against the PyTorch reference in tests/gmnet (run
// with Debian's python3-torch; the tests fail when it is missing), tiling, the native
// format, and the torch.save loader on damaged and hostile archives.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "regain/codec.h"
#include "regain/gmnet.h"
#include "regain/jpegr.h"
#include "regain/process.h"
#include "test_support.h"
#include "util/file_io.h"

namespace fs = std::filesystem;
using namespace regain;
using namespace regain::gmnet;

namespace {

struct Case {
  fs::path dir;
  int w = 0, h = 0;
  ImageF input, thumb;
  std::vector<float> out;
  float qmax = 0;
};

std::vector<float> read_f32(const fs::path& p) {
  auto bytes = read_file(p);
  EXPECT_TRUE(bytes) << p;
  if (!bytes) return {};
  std::vector<float> v(bytes->size() / 4);
  std::memcpy(v.data(), bytes->data(), v.size() * 4);
  return v;
}

ImageF to_image(const std::vector<float>& v, int w, int h, int c) {
  ImageF im(w, h, c);
  EXPECT_EQ(v.size(), im.size());
  if (v.size() == im.size()) std::memcpy(im.data(), v.data(), v.size() * 4);
  return im;
}

// Generates weights, inputs and the PyTorch outputs (Debian's python3 with torch).
Case make_case(const std::string& name, int seed, int w, int h) {
  Case c;
  c.dir = test::scratch_dir(name);
  c.w = w;
  c.h = h;
  const std::string cmd = "/usr/bin/python3 " + std::string(REGAIN_TEST_SRC) + "/gmnet/make_case.py " + c.dir.string() +
                          " " + std::to_string(seed) + " " + std::to_string(w) + " " + std::to_string(h) + " > " +
                          (c.dir / "log.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << "the PyTorch reference failed (is python3-torch installed? see " << (c.dir / "log.txt") << ")";
  if (rc != 0) return c;
  c.input = to_image(read_f32(c.dir / "input.f32"), w, h, 3);
  c.thumb = to_image(read_f32(c.dir / "thumb.f32"), 256, 256, 3);
  c.out = read_f32(c.dir / "out.f32");
  auto q = read_f32(c.dir / "qmax.f32");
  c.qmax = q.empty() ? 0.f : q[0];
  return c;
}

struct Diff {
  double max = 0, mean = 0;
};
Diff diff(const ImageF& a, const std::vector<float>& b, float scale = 1.f) {
  Diff d;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const double e = std::abs(double(a.data()[i]) - b[i]) * scale;
    d.max = std::max(d.max, e);
    d.mean += e;
  }
  d.mean /= std::max<size_t>(1, a.size());
  return d;
}

RawOutput run(const TensorMap& w, Precision p, const Case& c, int tile = 0) {
  auto e = Engine::create(w, p);
  EXPECT_TRUE(e) << e.error().message;
  if (!e) return {};
  RunOptions ro;
  ro.precision = p;
  ro.tile = tile;
  auto r = (*e)->run(c.input, c.thumb, ro);
  EXPECT_TRUE(r) << r.error().message;
  return r ? std::move(*r) : RawOutput{};
}

}  // namespace

TEST(GmnetParity, Fp32MatchesPyTorch) {
  Case c = make_case("gmnet_fp32", 1, 65, 49);  // odd sizes: the stride-2 / shuffle edges
  ASSERT_FALSE(c.out.empty());
  auto w = load_weights(c.dir / "model.pth");
  ASSERT_TRUE(w) << w.error().message;
  RawOutput r = run(*w, Precision::FP32, c);
  const Diff d = diff(r.out, c.out);
  std::printf("fp32 vs PyTorch: max |diff| %.3g mean %.3g; qmax %.6f vs %.6f\n", d.max, d.mean, r.qmax, c.qmax);
  EXPECT_LE(d.max, 1e-4);
  EXPECT_NEAR(r.qmax, c.qmax, 1e-5);

  // DataParallel's "module." prefix is stripped.
  auto wm = load_weights(c.dir / "model_module.pth");
  ASSERT_TRUE(wm) << wm.error().message;
  EXPECT_EQ(wm->size(), w->size());

  // The native format round-trips bit-exactly and memory-maps.
  ASSERT_TRUE(save_rgm(*w, c.dir / "model.rgm"));
  auto wr = load_weights(c.dir / "model.rgm");
  ASSERT_TRUE(wr) << wr.error().message;
  for (const auto& [k, t] : *w) {
    ASSERT_TRUE(wr->count(k));
    ASSERT_EQ(0, std::memcmp(t.data.data(), wr->at(k).data.data(), t.data.size() * 4)) << k;
  }
}

TEST(GmnetParity, Bf16WithinBounds) {
  if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU has no AVX-512 BF16 / AMX";
  Case c = make_case("gmnet_bf16", 2, 65, 49);
  ASSERT_FALSE(c.out.empty());
  auto w = load_weights(c.dir / "model.pth");
  ASSERT_TRUE(w) << w.error().message;
  RawOutput r = run(*w, Precision::BF16, c);
  const Diff d = diff(r.out, c.out, std::abs(c.qmax));  // error of Qmax*out, the map's scale
  std::printf("bf16 vs PyTorch (x Qmax): max %.4f mean %.4f\n", d.max, d.mean);
  EXPECT_LE(d.mean, 0.01);
  EXPECT_LE(d.max, 0.05);
}

TEST(GmnetParity, TiledMatchesUntiled) {
  Case c = make_case("gmnet_tiled", 3, 192, 96);
  ASSERT_FALSE(c.out.empty());
  auto w = load_weights(c.dir / "model.pth");
  ASSERT_TRUE(w) << w.error().message;
  RawOutput whole = run(*w, Precision::FP32, c, 0);
  RawOutput tiled = run(*w, Precision::FP32, c, 64);  // 3x2 tiles, halo 80
  std::vector<float> ref(whole.out.data(), whole.out.data() + whole.out.size());
  const Diff dt = diff(tiled.out, ref), dp = diff(tiled.out, c.out);
  std::printf("tiled vs untiled max %.3g; tiled vs PyTorch max %.3g\n", dt.max, dp.max);
  EXPECT_LE(dt.max, 1e-4);
  EXPECT_LE(dp.max, 1e-4);
  if (cpu_has_bf16()) {
    RawOutput wb = run(*w, Precision::BF16, c, 0), tb = run(*w, Precision::BF16, c, 64);
    std::vector<float> rb(wb.out.data(), wb.out.data() + wb.out.size());
    const Diff db = diff(tb.out, rb, std::abs(c.qmax));
    std::printf("bf16 tiled vs untiled (x Qmax): max %.3g mean %.3g\n", db.max, db.mean);
    EXPECT_LE(db.mean, 0.01);
    EXPECT_LE(db.max, 0.05);
  }
}

TEST(GmnetLoader, RejectsDamagedAndHostileArchives) {
  Case c = make_case("gmnet_loader", 4, 16, 16);
  auto good = read_file(c.dir / "model.pth");
  ASSERT_TRUE(good);
  // Truncations anywhere: an error, never a crash.
  for (size_t cut : {size_t(0), size_t(10), size_t(100), good->size() / 3, good->size() / 2, good->size() - 23,
                     good->size() - 1}) {
    std::vector<uint8_t> b(good->begin(), good->begin() + cut);
    auto r = load_torch_state_dict(b);
    EXPECT_FALSE(r && check_weights(*r)) << "cut at " << cut;
  }
  // Bit flips: either refused, or (flip in a field nobody reads) the same tensors.
  auto ref = load_torch_state_dict(*good);
  ASSERT_TRUE(ref);
  int refused = 0;
  for (int k = 0; k < 100; ++k) {
    std::vector<uint8_t> b = *good;
    const size_t pos = (size_t(k) * 7919 * 104729) % b.size();
    b[pos] ^= uint8_t(1u << (k % 8));
    auto r = load_torch_state_dict(b);
    if (!r || !check_weights(*r)) { ++refused; continue; }
    for (const auto& [name, t] : *ref)
      ASSERT_EQ(0, std::memcmp(t.data.data(), r->at(name).data.data(), t.data.size() * 4)) << "flip at " << pos;
  }
  EXPECT_GT(refused, 75);
  auto hostile = load_weights(c.dir / "hostile.pth");
  ASSERT_FALSE(hostile);
  EXPECT_NE(hostile.error().message.find("not allowed"), std::string::npos) << hostile.error().message;
  auto laughs = load_weights(c.dir / "laughs.pth");
  ASSERT_FALSE(laughs);
  EXPECT_EQ(laughs.error().code, ErrorCode::TooLarge) << laughs.error().message;
  auto deflated = load_weights(c.dir / "deflated.pth");
  ASSERT_FALSE(deflated);
  EXPECT_EQ(deflated.error().code, ErrorCode::Unsupported) << deflated.error().message;
  auto dbl = load_weights(c.dir / "double.pth");
  ASSERT_FALSE(dbl);
  EXPECT_NE(dbl.error().message.find("float64"), std::string::npos) << dbl.error().message;
  // Right file, wrong network: shape and key checks.
  TensorMap w = *ref;
  w["upconv.weight"].shape = {128, 64, 3, 3};
  EXPECT_FALSE(check_weights(w));
  w = *ref;
  w.erase("HRconv.bias");
  EXPECT_FALSE(check_weights(w));
  // Truncated native files are refused too.
  ASSERT_TRUE(save_rgm(*ref, c.dir / "full.rgm"));
  auto rgm = read_file(c.dir / "full.rgm");
  ASSERT_TRUE(rgm);
  for (size_t cut : {size_t(3), size_t(20), size_t(2000), rgm->size() - 1}) {
    ASSERT_TRUE(write_file_atomic(c.dir / "cut.rgm", std::span<const uint8_t>(rgm->data(), cut)));
    EXPECT_FALSE(load_weights(c.dir / "cut.rgm")) << cut;
  }
  auto notzip = load_weights(c.dir / "input.f32");
  EXPECT_FALSE(notzip);
}

// `process --model`: the learned predictor end to end, through the Foundation math to an
// Ultra HDR JPEG that reads back with its gain map at the model's resolution (1/2).
// Found by fuzz_models: an archive shorter than a zip64 end record whose EOCD asks for zip64
// made the bounds check wrap and the reader run past the buffer. Exact-size copy, so ASan
// sees any overread.
TEST(GmnetLoader, TinyArchiveWithZip64LocatorIsRefused) {
  std::vector<uint8_t> b = {'P', 'K', 3, 4};                             // local header signature
  const uint8_t locator[20] = {'P', 'K', 6, 7, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};  // zip64 record at 5
  b.insert(b.end(), locator, locator + 20);
  const uint8_t eocd[22] = {'P', 'K', 5, 6, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  b.insert(b.end(), eocd, eocd + 22);
  ASSERT_LT(b.size(), 56u);
  auto r = load_torch_state_dict(std::vector<uint8_t>(b.begin(), b.end()));  // allocated at exactly its size
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidInput) << r.error().message;
}

TEST(GmnetProcess, PredictiveModeWritesUltraHdr) {
  Case c = make_case("gmnet_process", 5, 16, 16);
  auto w = load_weights(c.dir / "model.pth");
  ASSERT_TRUE(w) << w.error().message;
  auto e = Engine::create(*w, Precision::FP32);
  ASSERT_TRUE(e) << e.error().message;
  auto pred = make_predictor(std::shared_ptr<Engine>(std::move(*e)), ModelOptions{});
  Image8 sdr(96, 64, 3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 96; ++x)
      for (int k = 0; k < 3; ++k) sdr.at(x, y, k) = uint8_t((x * 2 + y * 3 + k * 40) % 256);
  auto jpg = encode_jpeg(sdr);
  ASSERT_TRUE(jpg);
  ProcessOptions po;
  po.predictor = pred.get();
  auto r = process_image(*jpg, std::nullopt, po);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["predictor"], "gmnet-fp32");
  auto f = read_jpegr(r->output);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(r->meta["gain_map"]["width"], 48);
  EXPECT_EQ(r->meta["gain_map"]["height"], 32);
}
