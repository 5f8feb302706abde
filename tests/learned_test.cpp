// The learned predictor: model file safety, the embedded default, determinism, orientation,
// training (skips, empty sets, checkpoint resume giving the same model), and its quality on
// the corpus against no gain and the heuristic.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "predict/learned_features.h"
#include "predict/zip_stored.h"
#include "regain/codec.h"
#include "regain/evaluate.h"
#include "regain/learned.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "regain/train.h"
#include "test_support.h"
#include "util/file_io.h"
#include "util/orientation.h"

namespace regain {
namespace {

using learned::Model;

Image8 gradient_scene(int w, int h) {
  Image8 img(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool lamp = (x - w / 4) * (x - w / 4) + (y - h / 3) * (y - h / 3) < (w / 12) * (w / 12);
      const uint8_t v = lamp ? 255 : uint8_t(40 + 150 * y / h);
      img.at(x, y, 0) = v;
      img.at(x, y, 1) = uint8_t(v * 0.9);
      img.at(x, y, 2) = uint8_t(lamp ? 250 : v * 0.7);
    }
  return img;
}

TEST(LearnedModel, RoundTripsExactly) {
  Model m = learned::new_model(7);
  m.info = {{"name", "t"}};
  const auto bytes = learned::serialize_model(m);
  auto back = learned::parse_model(bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(learned::serialize_model(*back), bytes);
  EXPECT_EQ(back->parameter_count(), m.parameter_count());
}

// An ensemble file holds every member; its output is the members' mean; a header whose member
// count disagrees with the weights is refused.
TEST(LearnedModel, EnsembleAveragesItsMembers) {
  Model a = learned::new_model(7, {16, 8}), b = learned::new_model(8, {16, 8}), c = learned::new_model(9, {16, 8});
  for (auto& l : b.layers) std::fill(l.b.begin(), l.b.end(), 0.25f);  // outputs that differ visibly
  Model e = a;
  e.members = {b.layers, c.layers};
  EXPECT_EQ(e.parameter_count(), 3 * a.parameter_count());
  const auto bytes = learned::serialize_model(e);
  auto back = learned::parse_model(bytes);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->members.size(), 2u);
  EXPECT_EQ(learned::serialize_model(*back), bytes);
  std::vector<float> x(3000 * learned::kFeatureCount);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 2.f);
  for (auto& v : x) v = nd(rng);
  const size_t n = x.size() / learned::kFeatureCount;
  std::vector<float> ya(n), yb(n), yc(n), ye(n), ye1(n);
  learned::forward(a, x.data(), n, ya.data());
  learned::forward(b, x.data(), n, yb.data());
  learned::forward(c, x.data(), n, yc.data());
  learned::forward(*back, x.data(), n, ye.data(), 2);
  learned::forward(*back, x.data(), n, ye1.data(), 1);
  // Blocks of rows and single rows (the per-row path) give the same bits, also for the
  // shipped shape (several 16-output slices per layer).
  for (size_t i = 0; i < 40; ++i) {
    float one = 0;
    learned::forward(a, x.data() + i * learned::kFeatureCount, 1, &one);
    ASSERT_EQ(one, ya[i]) << "row " << i;
  }
  {
    const Model wide = learned::new_model(10, {128, 64});
    std::vector<float> yw(n);
    learned::forward(wide, x.data(), n, yw.data(), 2);
    for (size_t i = 0; i < 40; ++i) {
      float one = 0;
      learned::forward(wide, x.data() + i * learned::kFeatureCount, 1, &one);
      ASSERT_EQ(one, yw[i]) << "row " << i;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(ye[i], (ya[i] + yb[i] + yc[i]) / 3.f, 1e-5f) << i;
    ASSERT_EQ(ye[i], ye1[i]) << "thread count changed the bits at " << i;
  }
  // A member count that does not match the weights, or out of range.
  uint32_t json_len = 0;
  std::memcpy(&json_len, bytes.data() + 8, 4);
  for (int members : {0, 2, 4, learned::kMaxMembers + 1}) {
    auto j = nlohmann::json::parse(std::string(bytes.begin() + 12, bytes.begin() + 12 + json_len));
    j["members"] = members;
    const std::string js = j.dump();
    std::vector<uint8_t> f(bytes.begin(), bytes.begin() + 8);
    const uint32_t len = uint32_t(js.size());
    f.insert(f.end(), reinterpret_cast<const uint8_t*>(&len), reinterpret_cast<const uint8_t*>(&len) + 4);
    f.insert(f.end(), js.begin(), js.end());
    f.insert(f.end(), bytes.begin() + 12 + json_len, bytes.end() - 4);
    const uint32_t crc = gmnet::crc32(f);
    f.insert(f.end(), reinterpret_cast<const uint8_t*>(&crc), reinterpret_cast<const uint8_t*>(&crc) + 4);
    EXPECT_FALSE(learned::parse_model(f)) << members << " members";
  }
}

TEST(LearnedModel, RefusesDamagedFiles) {
  const auto good = learned::serialize_model(learned::new_model(3, {8}));
  // Every truncation.
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = learned::parse_model(std::span<const uint8_t>(good.data(), n));
    EXPECT_FALSE(r) << "truncated to " << n;
  }
  // Every single-byte flip is caught (CRC or a field check).
  for (size_t i = 0; i < good.size(); ++i) {
    auto b = good;
    b[i] ^= 0x5a;
    EXPECT_FALSE(learned::parse_model(b)) << "flip at " << i;
  }
  // Non-finite weights with a valid CRC.
  Model nan = learned::new_model(1);
  nan.layers[0].w[5] = std::nanf("");
  auto r = learned::parse_model(learned::serialize_model(nan));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("non-finite"), std::string::npos);
  // Random mutations never crash and are refused or parse to a valid model.
  std::mt19937 rng(11);
  for (int it = 0; it < 3000; ++it) {
    auto b = good;
    const int flips = 1 + int(rng() % 8);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] = uint8_t(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    (void)learned::parse_model(b);
  }
  EXPECT_FALSE(learned::parse_model(std::vector<uint8_t>(5u << 20, 0)));  // over 4 MB
  // A deeply nested header (nlohmann copies and dumps recursively) and huge weights.
  Model deep = learned::new_model(2);
  nlohmann::json nest = 1;
  for (int i = 0; i < 200; ++i) nest = nlohmann::json::array({nest});
  deep.info = {{"name", nest}};
  auto d = learned::parse_model(learned::serialize_model(deep));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("nested"), std::string::npos);
  Model huge = learned::new_model(2);
  huge.layers[1].w[0] = 3e38f;
  EXPECT_FALSE(learned::parse_model(learned::serialize_model(huge)));
  Model named = learned::new_model(2);
  named.info = {{"name", 42}};  // not a string: a fallback name, never an exception
  auto nm = learned::parse_model(learned::serialize_model(named));
  ASSERT_TRUE(nm);
  EXPECT_EQ(learned::make_learned_predictor(std::make_shared<const Model>(*nm))->name(), "learned:model");
}

TEST(LearnedModel, DefaultIsEmbeddedWithProvenance) {
  auto m = learned::default_model();
  ASSERT_TRUE(m) << "the build has no embedded model (models/regain-default.rglm)";
  EXPECT_EQ(m->info.value("name", ""), "regain-default");
  EXPECT_GT(m->info.value("training_files", 0), 20);
  EXPECT_LE(learned::serialize_model(*m).size(), learned::kMaxModelFileBytes);
  auto p = make_default_predictor();
  EXPECT_EQ(p->name(), "learned:regain-default");
}

TEST(LearnedPredictor, DeterministicAndFollowsOrientation) {
  auto p = make_default_predictor();
  const Image8 shown = gradient_scene(640, 480);
  PredictOptions po;
  auto a = p->predict(shown, po);
  auto b = p->predict(shown, po);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->log2_gain.size(), b->log2_gain.size());
  EXPECT_EQ(0, std::memcmp(a->log2_gain.data(), b->log2_gain.data(), a->log2_gain.size() * 4));
  EXPECT_EQ(a->log2_gain.width(), 160);
  // The same picture stored rotated (EXIF 6): the map, turned for display, matches.
  const Image8 stored = apply_orientation(shown, inverse_orientation(6));
  po.orientation = 6;
  auto c = p->predict(stored, po);
  ASSERT_TRUE(c);
  const ImageF c_shown = apply_orientation(c->log2_gain, 6);
  ASSERT_EQ(c_shown.width(), a->log2_gain.width());
  double diff = 0;
  for (size_t i = 0; i < c_shown.size(); ++i) diff += std::abs(c_shown.data()[i] - a->log2_gain.data()[i]);
  EXPECT_LT(diff / double(c_shown.size()), 0.02);
  // The lamp is lifted more than the dark floor.
  EXPECT_GT(a->log2_gain.at(40, 40), a->log2_gain.at(150, 110));
  // Boost sets the headroom.
  po.orientation = 1;
  po.boost = 1.0;
  auto d = p->predict(shown, po);
  ASSERT_TRUE(d);
  float mx = 0;
  for (float v : d->log2_gain.span()) mx = std::max(mx, v);
  EXPECT_LE(mx, 1.0f + 1e-6f);
  EXPECT_EQ(d->boost, 1.0);
}

TEST(LearnedPredictor, TinyAndOddSizes) {
  auto p = make_default_predictor();
  for (auto [w, h] : {std::pair{1, 1}, {3, 2}, {7, 1000}, {1000, 5}}) {
    Image8 img(w, h, 3);
    img.fill(128);
    auto r = p->predict(img, {});
    ASSERT_TRUE(r) << w << "x" << h;
    EXPECT_EQ(r->log2_gain.width(), (w + 3) / 4);
    for (float v : r->log2_gain.span()) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(Train, SkipsWhatItCannotUseAndRefusesEmptySets) {
  // A plain JPEG has no gain map.
  auto plain = load_train_pair(test::corpus_bytes("jpeg/paris_exif_xmp_icc.jpg"), "plain");
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, ErrorCode::NotFound);
  auto trunc = load_train_pair(test::corpus_bytes("malformed/pixel6_truncated.jpg"), "trunc");
  EXPECT_FALSE(trunc);
  std::vector<uint8_t> junk(1000, 0xff);
  EXPECT_FALSE(load_train_pair(junk, "junk"));
  auto none = train_model({}, {}, {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("empty"), std::string::npos);
}

TEST(Train, ResumedRunEqualsUninterruptedRun) {
  std::vector<TrainPair> pairs;
  for (const char* f : {"jpeg/seine_sdr_gainmap_srgb.jpg", "jpeg/acr17_iso_xmp_3ch_small.jpg"}) {
    auto p = load_train_pair(test::corpus_bytes(f), f, 512);
    ASSERT_TRUE(p) << f << ": " << p.error().message;
    pairs.push_back(std::move(*p));
  }
  auto val = load_train_pair(test::corpus_bytes("edited-pair/original_iphone15promax.jpg"), "iphone", 512);
  ASSERT_TRUE(val);
  const auto dir = test::scratch_dir("train_resume");
  TrainOptions o;
  o.epochs = 3;
  o.views_per_file = 2;
  o.pixels_per_view = 400;
  o.jobs = 2;
  auto full = train_model(pairs, {*val}, o);
  ASSERT_TRUE(full) << full.error().message;
  ASSERT_EQ(full->history.size(), 3u);
  ASSERT_EQ(full->validation.size(), 1u);
  EXPECT_GT(full->validation[0].abs, 0.0);
  // Interrupted after the first epoch (the progress callback throws), then run again.
  o.checkpoint = (dir / "run.ckpt").string();
  TrainOptions first = o;
  first.progress = [](const EpochReport& r) {
    if (r.epoch == 1 && !r.resumed) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW((void)train_model(pairs, {*val}, first), std::runtime_error);
  ASSERT_TRUE(std::filesystem::exists(o.checkpoint));
  int resumed = 0;
  o.progress = [&](const EpochReport& r) { resumed += r.resumed; };
  o.jobs = 1;  // another thread count: same model
  auto again = train_model(pairs, {*val}, o);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(resumed, 1);
  EXPECT_EQ(learned::serialize_model(again->model), learned::serialize_model(full->model));
  // A damaged checkpoint is ignored (fresh start), never a crash.
  std::vector<uint8_t> junk(100, 7);
  ASSERT_TRUE(write_file_atomic(o.checkpoint, junk));
  o.epochs = 1;
  auto fresh = train_model(pairs, {}, o);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->history.size(), 1u);
  // A hostile checkpoint whose Adam moments have fewer layers than the model: ignored.
  auto part = [](const Model& m) {
    auto b = learned::serialize_model(m);
    std::vector<uint8_t> out(4);
    const uint32_t n = uint32_t(b.size());
    std::memcpy(out.data(), &n, 4);
    out.insert(out.end(), b.begin(), b.end());
    return out;
  };
  Model big = learned::new_model(1, {8, 8}), small = learned::new_model(1, {8});
  small.info = {{"epoch", 0}, {"step", 5}, {"fingerprint", "x"}, {"history", nlohmann::json::array()}};
  std::vector<uint8_t> ck{'R', 'G', 'C', 'K'};
  for (const Model* m : {&big, &small, &small}) {
    auto b = part(*m);
    ck.insert(ck.end(), b.begin(), b.end());
  }
  ASSERT_TRUE(write_file_atomic(o.checkpoint, ck));
  auto after = train_model(pairs, {}, o);
  ASSERT_TRUE(after) << after.error().message;
  // Bad options are errors, not crashes.
  TrainOptions wide = o;
  wide.hidden = {100000};
  EXPECT_FALSE(train_model(pairs, {}, wide));
  TrainOptions many = o;
  many.ensemble = learned::kMaxMembers + 1;
  EXPECT_FALSE(train_model(pairs, {}, many));
}

// An ensemble run interrupted in its second network resumes to the same model; member 1 is
// the one-network run with the same seed; fine-tuning keeps the member count.
TEST(Train, EnsembleResumesAcrossMembers) {
  std::vector<TrainPair> pairs;
  for (const char* f : {"jpeg/seine_sdr_gainmap_srgb.jpg", "jpeg/acr17_iso_xmp_3ch_small.jpg"}) {
    auto p = load_train_pair(test::corpus_bytes(f), f, 384);
    ASSERT_TRUE(p) << f << ": " << p.error().message;
    pairs.push_back(std::move(*p));
  }
  const auto dir = test::scratch_dir("train_ensemble");
  TrainOptions o;
  o.epochs = 2;
  o.views_per_file = 2;
  o.pixels_per_view = 400;
  o.hidden = {16, 8};
  auto single = train_model(pairs, {pairs[0]}, o);
  ASSERT_TRUE(single) << single.error().message;
  o.ensemble = 3;
  std::vector<std::pair<int, int>> seen;
  o.progress = [&](const EpochReport& r) { seen.emplace_back(r.member, r.epoch); };
  auto full = train_model(pairs, {pairs[0]}, o);
  ASSERT_TRUE(full) << full.error().message;
  ASSERT_EQ(full->model.members.size(), 2u);
  EXPECT_EQ(full->history.size(), 6u);
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 1}, {3, 2}}));
  Model first = full->model;
  first.members.clear();
  EXPECT_EQ(learned::serialize_model(first), learned::serialize_model(single->model));
  // Each network trains alone: the third is a single run with its member seed.
  TrainOptions o3 = o;
  o3.ensemble = 1;
  o3.seed = ensemble_member_seed(o.seed, 2);
  o3.progress = nullptr;
  auto third = train_model(pairs, {pairs[0]}, o3);
  ASSERT_TRUE(third) << third.error().message;
  Model m3 = full->model;
  m3.layers = m3.members[1];
  m3.members.clear();
  EXPECT_EQ(learned::serialize_model(m3), learned::serialize_model(third->model));
  // Interrupted in the second network's first epoch, then resumed: the same bytes.
  o.checkpoint = (dir / "run.ckpt").string();
  TrainOptions cut = o;
  cut.progress = [](const EpochReport& r) {
    if (r.member == 2 && r.epoch == 1 && !r.resumed) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW((void)train_model(pairs, {pairs[0]}, cut), std::runtime_error);
  int resumed = 0;
  o.progress = [&](const EpochReport& r) { resumed += r.resumed; };
  auto again = train_model(pairs, {pairs[0]}, o);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(resumed, 3);
  EXPECT_EQ(learned::serialize_model(again->model), learned::serialize_model(full->model));
  // Fine-tuning an ensemble tunes every member.
  TrainOptions tune;
  tune.epochs = 1;
  tune.views_per_file = 1;
  tune.pixels_per_view = 400;
  tune.init = full->model;
  auto tuned = train_model(pairs, {}, tune);
  ASSERT_TRUE(tuned) << tuned.error().message;
  EXPECT_EQ(tuned->model.members.size(), 2u);
  EXPECT_EQ(tuned->history.size(), 3u);
  // A model that could not be loaded again is refused before training.
  TrainOptions huge;
  huge.hidden = {256, 256, 256, 256, 256, 256};
  huge.ensemble = 4;
  auto too_big = train_model(pairs, {}, huge);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().message.find("4 MB"), std::string::npos) << too_big.error().message;
}

// The anchor: the peer pipeline (GMNet with its published weights) on the corpus edited
// pair, scored against the original's HDR carried through the edit (Reference mode's output,
// 0.017 stops from it), in log2 luminance at 512 px over every pixel above 0.5 % SDR white.
TEST(LearnedPredictor, AgainstThePeerPipelineOnTheEditedPair) {
  const auto edited = test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg");
  const auto original = test::corpus_bytes("edited-pair/original_iphone15promax.jpg");
  ProcessOptions o;
  o.want_hdr = true;
  auto ref = process_image(edited, std::span<const uint8_t>(original), o);
  ASSERT_TRUE(ref) << ref.error().message;
  ASSERT_EQ(ref->meta["mode"], "reference");
  auto ours = process_image(edited, std::nullopt, o);
  ASSERT_TRUE(ours) << ours.error().message;
  EXPECT_EQ(ours->meta["predictor"], "learned:regain-default");
  ProcessOptions h = o;
  auto heuristic_predictor = make_builtin_predictor();
  h.predictor = heuristic_predictor.get();
  auto heur = process_image(edited, std::nullopt, h);
  ASSERT_TRUE(heur);
  auto repaired = repair_jpegr(test::corpus_bytes("edited-pair/peer_pipeline_output.jpg"));
  ASSERT_TRUE(repaired) << repaired.error().message;
  auto peer = decode_gainmap_hdr(repaired->bytes);
  ASSERT_TRUE(peer) << peer.error().message;
  auto sdr = decode_jpeg(edited, {}, 3);
  ASSERT_TRUE(sdr);
  ImageF none(sdr->width(), sdr->height(), 3);
  for (size_t i = 0; i < none.size(); ++i) none.data()[i] = srgb8_to_linear_lut()[sdr->data()[i]];
  const ImageF& truth = *ref->hdr;
  ASSERT_EQ(ours->hdr->width(), truth.width());
  ASSERT_EQ(peer->rgb.width(), truth.width());
  const Primaries p = ref->hdr_primaries;
  const HdrError e_none = compare_hdr(none, truth, *sdr, p), e_ours = compare_hdr(*ours->hdr, truth, *sdr, p),
                 e_heur = compare_hdr(*heur->hdr, truth, *sdr, p), e_peer = compare_hdr(peer->rgb, truth, *sdr, p);
  std::printf("edited pair abs/struc: none %.3f/%.3f heuristic %.3f/%.3f peer (GMNet) %.3f/%.3f learned %.3f/%.3f\n",
              e_none.abs, e_none.struc, e_heur.abs, e_heur.struc, e_peer.abs, e_peer.struc, e_ours.abs, e_ours.struc);
  // Measured with the shipped model: none 1.275/0.344, heuristic 1.072/0.208, peer (GMNet)
  // 0.690/0.155, learned 0.897/0.202. The learned model beats no gain and the heuristic here;
  // GMNet (trained on thousands of photos) is still ahead on this edit (see the README).
  EXPECT_LT(e_ours.abs, e_heur.abs - 0.1);
  EXPECT_LT(e_ours.struc, e_heur.struc);
  EXPECT_LT(e_ours.abs, e_none.abs - 0.3);
  EXPECT_LT(e_ours.struc, e_none.struc - 0.1);
}

}  // namespace
}  // namespace regain
