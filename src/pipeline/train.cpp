// The training loop: augmented views of every pair each epoch (crops, flips, resizes, tonal
// edits, JPEG re-compression: what edited photos look like), pixels sampled from the lit
// area, Adam on the Huber loss, validation per epoch, a checkpoint after every epoch.
//
// Determinism: each view's randomness is seeded from (seed, epoch, pair, view), views are
// prepared in parallel into fixed slots, and the gradient of every batch is summed over two
// fixed halves in a fixed order, so a given build gives the same model for any --jobs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "predict/learned_features.h"
#include "regain/codec.h"
#include "regain/train.h"
#include "util/file_io.h"
#include "util/orientation.h"
#include "util/parallel.h"

namespace regain {

namespace {

using learned::FeatureImage;
using learned::Model;

struct View {
  FeatureImage f;
  std::vector<float> target;  // work resolution
  std::vector<float> ys;      // the (augmented) SDR's linear luminance, work resolution
};

// Maps are written with offset 1/64 (so a predicted gain g gives Y = (Y_sdr + 1/64) 2^g - 1/64),
// but what a viewer sees, and what `regain eval` scores, is the error in log2 Y. A gain error
// costs d log2(Y_hdr) / dg = (Y_hdr + 1/64) / Y_hdr times as much in log2 Y: ~1 in bright
// areas, several times more in dark ones. Each pixel's error is weighted by that factor,
// capped (near-black targets would otherwise dominate) at:
constexpr float kLogYOffset = 1.f / 64, kMaxWeight = 4.f;

float log_y_weight(float ys, float target) {
  const float a = (std::max(0.f, ys) + kLogYOffset) * std::exp2(target);
  return std::clamp(a / std::max(a - kLogYOffset, 1e-6f), 1.f, kMaxWeight);
}

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return x;
}

template <class T>
Image<T> crop(const Image<T>& src, int x0, int y0, int w, int h) {
  Image<T> out(w, h, src.channels());
  for (int y = 0; y < h; ++y)
    std::copy_n(src.row(y0 + y) + size_t(x0) * src.channels(), size_t(w) * src.channels(), out.row(y));
  return out;
}

Image8 encode_srgb8(const ImageF& rgbc) {
  Image8 out(rgbc.width(), rgbc.height(), 3);
  for (size_t i = 0; i < size_t(rgbc.width()) * rgbc.height(); ++i)
    for (int c = 0; c < 3; ++c)
      out.data()[3 * i + c] = uint8_t(std::lround(linear_to_srgb(std::clamp(rgbc.data()[4 * i + c], 0.f, 1.f)) * 255.f));
  return out;
}

// Tonal edit on the SDR (exposure and contrast in the encoded domain, saturation in linear
// light); the gain is kept, as Reference mode keeps it for tonal edits.
void tonal_edit(Image8& img, double exposure, double contrast, double saturation, Primaries p) {
  const auto& lut = srgb8_to_linear_lut();
  const Vec3 k = luminance_weights(p);
  const float ex = float(std::exp2(exposure));
  for (size_t i = 0; i < size_t(img.width()) * img.height(); ++i) {
    uint8_t* q = img.data() + 3 * i;
    float rgb[3] = {lut[q[0]] * ex, lut[q[1]] * ex, lut[q[2]] * ex};
    const float Y = k[0] * rgb[0] + k[1] * rgb[1] + k[2] * rgb[2];
    for (int c = 0; c < 3; ++c) {
      const float lin = std::max(0.f, Y + float(saturation) * (rgb[c] - Y));
      float v = linear_to_srgb(std::min(lin, 1.f));
      v = std::clamp(0.5f + (v - 0.5f) * float(contrast), 0.f, 1.f);
      q[c] = uint8_t(std::lround(v * 255.f));
    }
  }
}

View make_view(const TrainPair& p, const Model& m, uint64_t seed, bool augment) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  Image8 sdr;
  ImageF gain;
  if (!augment) {
    sdr = p.sdr;
    gain = p.log2_gain;
  } else {
    const int W = p.sdr.width(), H = p.sdr.height();
    const double area = 0.35 + 0.65 * U(rng), aspect = std::exp(std::log(0.75) + (std::log(1.333) - std::log(0.75)) * U(rng));
    const int cw = std::clamp(int(W * std::sqrt(area * aspect)), std::min(W, 32), W);
    const int ch = std::clamp(int(H * std::sqrt(area / aspect)), std::min(H, 32), H);
    const int x0 = int(U(rng) * (W - cw)), y0 = int(U(rng) * (H - ch));
    sdr = crop(p.sdr, x0, y0, cw, ch);
    gain = crop(p.log2_gain, x0, y0, cw, ch);
    // Resize 0.25-1x (never below the work size): JPEG artefacts and clipping at that scale.
    const double s = 0.25 + 0.75 * U(rng);
    const int side = std::max(cw, ch);
    const int target = std::max(m.work_side, int(side * s));
    if (target < side) {
      const auto [rw, rh] = learned::work_size(cw, ch, target);
      sdr = encode_srgb8(learned::average_rgbc(sdr, rw, rh, 1));
    }
    if (U(rng) < 0.5) {
      sdr = apply_orientation(sdr, 2);
      gain = apply_orientation(gain, 2);
    }
    const double exposure = U(rng) < 0.5 ? (U(rng) - 0.5) * 0.7 : 0.0;
    const double contrast = U(rng) < 0.5 ? 0.85 + 0.3 * U(rng) : 1.0;
    const double saturation = U(rng) < 0.5 ? 0.75 + 0.5 * U(rng) : 1.0;
    if (exposure != 0.0 || contrast != 1.0 || saturation != 1.0) tonal_edit(sdr, exposure, contrast, saturation, p.primaries);
    if (U(rng) < 0.6) {
      const int q = 70 + int(U(rng) * 26);
      if (auto enc = encode_jpeg(sdr, {q, true}))
        if (auto dec = decode_jpeg(*enc, {}, 3)) sdr = std::move(*dec);
    }
  }
  View v;
  const learned::WorkImage work = learned::downsample_to_work(sdr, m.work_side, 1, 1);
  v.f = learned::compute_features(work, p.primaries);
  const ImageF t = learned::average_float(gain, work.width, work.height);
  v.target.assign(t.data(), t.data() + t.size());
  const Vec3 k = luminance_weights(p.primaries);
  v.ys.resize(v.target.size());
  for (size_t i = 0; i < v.ys.size(); ++i) v.ys[i] = std::max(0.f, k[0] * work.r[i] + k[1] * work.g[i] + k[2] * work.b[i]);
  return v;
}

// Feature normalisation from unaugmented views of the training pairs.
void set_normalisation(Model& m, const std::vector<View>& views) {
  const int F = learned::kFeatureCount;
  std::vector<double> s(size_t(F), 0.0), s2(size_t(F), 0.0);
  double n = 0;
  for (const auto& v : views)
    for (size_t i = 0; i < v.target.size(); ++i) {
      const float* x = &v.f.x[i * F];
      for (int k = 0; k < F; ++k) {
        s[size_t(k)] += x[k];
        s2[size_t(k)] += double(x[k]) * x[k];
      }
      n += 1;
    }
  for (int k = 0; k < F; ++k) {
    const double mu = n > 0 ? s[size_t(k)] / n : 0.0;
    const double var = n > 0 ? std::max(0.0, s2[size_t(k)] / n - mu * mu) : 1.0;
    m.mean[size_t(k)] = float(mu);
    m.inv_std[size_t(k)] = float(1.0 / std::sqrt(var + 1e-6));
  }
}

PairScore score_view(const Model& m, const View& v, const std::string& name) {
  std::vector<float> pred(v.target.size());
  learned::forward(m, v.f.x.data(), pred.size(), pred.data(), 1);
  learned::pull_to_median(m, v.f.lit, pred);
  // In log2 Y, as `regain eval` scores (gains below 0 are clamped as process clamps them).
  std::vector<float> d;
  auto y_of = [](float ys, float g) { return std::max((ys + kLogYOffset) * std::exp2(g) - kLogYOffset, 1e-6f); };
  for (size_t i = 0; i < pred.size(); ++i)
    if (v.f.lit[i]) d.push_back(std::log2(y_of(v.ys[i], std::max(pred[i], 0.f))) - std::log2(y_of(v.ys[i], v.target[i])));
  PairScore s;
  s.name = name;
  if (d.empty()) return s;
  double a = 0;
  for (float e : d) a += std::abs(e);
  std::vector<float> sorted = d;
  std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
  const float med = sorted[sorted.size() / 2];
  double st = 0;
  for (float e : d) st += std::abs(e - med);
  s.abs = a / double(d.size());
  s.struc = st / double(d.size());
  return s;
}

// Checkpoint: the model, Adam's moments (stored as models of the same shape), the state.
struct Checkpoint {
  Model model;
  learned::Adam adam;
  int epoch = 0;
  std::vector<EpochReport> history;
  std::string fingerprint;
};

Result<void> save_checkpoint(const Checkpoint& c, const std::string& path) {
  Model mm = c.model, vv = c.model;
  mm.layers = c.adam.m;
  vv.layers = c.adam.v;
  mm.members.clear();  // the moments are the network in training's only
  vv.members.clear();
  nlohmann::json st = {{"epoch", c.epoch}, {"step", c.adam.step}, {"fingerprint", c.fingerprint}};
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& h : c.history)
    hist.push_back({{"epoch", h.epoch}, {"member", h.member}, {"train_abs", h.train_abs}, {"val_abs", h.val_abs}, {"val_struc", h.val_struc},
                    {"seconds", h.seconds}});
  st["history"] = hist;
  mm.info = st;
  std::vector<uint8_t> out{'R', 'G', 'C', 'K'};
  for (const Model* part : {&c.model, static_cast<const Model*>(&mm), static_cast<const Model*>(&vv)}) {
    const auto b = learned::serialize_model(*part);
    const uint32_t n = uint32_t(b.size());
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 4);
    out.insert(out.end(), b.begin(), b.end());
  }
  return write_file_atomic(path, out);
}

Result<Checkpoint> load_checkpoint(const std::string& path) {
  REGAIN_TRY(b, read_file(path, 3 * learned::kMaxModelFileBytes + 64));
  if (b.size() < 4 || std::string(b.begin(), b.begin() + 4) != "RGCK") return fail(ErrorCode::InvalidInput, "not a checkpoint");
  size_t p = 4;
  std::vector<Model> parts;
  for (int k = 0; k < 3; ++k) {
    uint32_t n = 0;
    if (b.size() - p < 4) return fail(ErrorCode::InvalidInput, "checkpoint truncated");
    std::memcpy(&n, b.data() + p, 4);
    p += 4;
    if (b.size() - p < n) return fail(ErrorCode::InvalidInput, "checkpoint truncated");
    REGAIN_TRY(m, learned::parse_model(std::span<const uint8_t>(b).subspan(p, n)));
    p += n;
    parts.push_back(std::move(m));
  }
  // Every part must have the model's exact layer shapes (a hostile file must not make Adam
  // index past its moments).
  for (int k = 1; k < 3; ++k) {
    if (parts[size_t(k)].layers.size() != parts[0].layers.size()) return fail(ErrorCode::InvalidInput, "checkpoint shapes disagree");
    for (size_t l = 0; l < parts[0].layers.size(); ++l)
      if (parts[size_t(k)].layers[l].in != parts[0].layers[l].in || parts[size_t(k)].layers[l].out != parts[0].layers[l].out)
        return fail(ErrorCode::InvalidInput, "checkpoint shapes disagree");
  }
  Checkpoint c;
  c.model = std::move(parts[0]);
  c.adam.init(c.model);
  c.adam.m = parts[1].layers;
  c.adam.v = parts[2].layers;
  try {
    const auto& st = parts[1].info;
    if (!st.at("epoch").is_number_integer() || !st.at("step").is_number_integer())
      return fail(ErrorCode::InvalidInput, "checkpoint state unreadable");
    const int64_t epoch = st.at("epoch").get<int64_t>(), step = st.at("step").get<int64_t>();
    if (epoch < 0 || epoch > 100000 || step < 0 || step > (int64_t(1) << 40))
      return fail(ErrorCode::InvalidInput, "checkpoint state out of range");
    c.epoch = int(epoch);
    c.adam.step = step;
    c.fingerprint = st.at("fingerprint").get<std::string>();
    for (const auto& h : st.at("history")) {
      EpochReport r;
      r.epoch = int(std::clamp<int64_t>(h.at("epoch").get<int64_t>(), 0, 100000));
      r.member = int(std::clamp<int64_t>(h.at("member").get<int64_t>(), 0, learned::kMaxMembers));
      r.train_abs = h.at("train_abs").get<double>();
      r.val_abs = h.at("val_abs").get<double>();
      r.val_struc = h.at("val_struc").get<double>();
      r.seconds = h.at("seconds").get<double>();
      r.resumed = true;
      c.history.push_back(r);
    }
  } catch (const std::exception&) {
    return fail(ErrorCode::InvalidInput, "checkpoint state unreadable");
  }
  if (c.history.size() < size_t(c.epoch)) return fail(ErrorCode::InvalidInput, "checkpoint history does not match its epoch");
  return c;
}

}  // namespace

// Member 0 keeps the run's seed (a one-network run is what it always was).
uint64_t ensemble_member_seed(uint64_t seed, int member) {
  return member == 0 ? seed : mix(seed, 0xE45E0000ull + uint64_t(member));
}

Result<void> dump_features(const std::vector<TrainPair>& pairs, const std::string& path, int views) {
  std::string out;
  const Model m = learned::new_model(0);
  for (size_t k = 0; k < pairs.size() * size_t(std::max(1, views)); ++k) {
    const TrainPair& p = pairs[k / size_t(std::max(1, views))];
    const View v = make_view(p, m, mix(1, k), views > 0);
    out += p.name + "\n" + std::to_string(v.f.width) + " " + std::to_string(v.f.height) + "\n";
    std::vector<float> rows;
    for (size_t i = 0; i < v.target.size(); ++i) {
      rows.insert(rows.end(), v.f.x.begin() + long(i * learned::kFeatureCount), v.f.x.begin() + long((i + 1) * learned::kFeatureCount));
      rows.push_back(v.target[i]);
      rows.push_back(v.f.lit[i]);
    }
    out.append(reinterpret_cast<const char*>(rows.data()), rows.size() * 4);
  }
  return write_file_atomic(path, out);
}

PairScore score_pair(const Model& m, const TrainPair& p) { return score_view(m, make_view(p, m, 0, false), p.name); }

Result<TrainOutcome> train_model(const std::vector<TrainPair>& train, const std::vector<TrainPair>& val,
                                 const TrainOptions& opt) {
  if (train.empty()) return fail(ErrorCode::InvalidInput, "no training photos (an empty set trains no model)");
  if (opt.epochs < 1 || opt.epochs > 1000) return fail(ErrorCode::InvalidInput, "epochs must be 1..1000");
  if (opt.views_per_file < 1 || opt.views_per_file > 64 || opt.pixels_per_view < 16 || opt.pixels_per_view > 65536)
    return fail(ErrorCode::InvalidInput, "views must be 1..64 and pixels per view 16..65536");
  if (opt.hidden.empty() || opt.hidden.size() > 6) return fail(ErrorCode::InvalidInput, "1..6 hidden layers");
  for (int w : opt.hidden)
    if (w < 1 || w > learned::kMaxLayerWidth) return fail(ErrorCode::InvalidInput, "hidden widths must be 1..256");
  if (!(opt.lr > 0 && opt.lr < 1) || !(opt.spatial_gain >= 0 && opt.spatial_gain <= 2))
    return fail(ErrorCode::InvalidInput, "learning rate or spatial gain out of range");
  if (opt.ensemble < 1 || opt.ensemble > learned::kMaxMembers)
    return fail(ErrorCode::InvalidInput, "ensemble must be 1.." + std::to_string(learned::kMaxMembers) + " networks");
  if (opt.init && opt.ensemble != 1 && size_t(opt.ensemble) != 1 + opt.init->members.size())
    return fail(ErrorCode::InvalidInput, "fine-tuning keeps the initial model's " +
                                             std::to_string(1 + opt.init->members.size()) +
                                             " network(s); leave the ensemble size at its default");
  {
    // The result must load again: all networks' float32 weights within the model file budget,
    // with room for the provenance header (checked before hours of training, not after).
    const size_t params = opt.init ? opt.init->parameter_count()
                                   : size_t(opt.ensemble) * learned::new_model(opt.seed, opt.hidden).parameter_count();
    if (params * sizeof(float) + (256u << 10) > learned::kMaxModelFileBytes)
      return fail(ErrorCode::InvalidInput, "the model would exceed the " +
                                               std::to_string(learned::kMaxModelFileBytes >> 20) +
                                               " MB model file limit: use fewer or narrower networks");
  }
  const int threads = resolve_threads(opt.jobs);
  // Fine-tuning keeps the initial model's ensemble: each member is tuned from its own weights.
  const int members = opt.init ? 1 + int(opt.init->members.size()) : opt.ensemble;
  auto member_start = [&](int k) -> std::vector<learned::Layer> {
    if (opt.init) return k == 0 ? opt.init->layers : opt.init->members[size_t(k - 1)];
    return learned::new_model(ensemble_member_seed(opt.seed, k), opt.hidden).layers;
  };

  // Fingerprint of what is being trained: a checkpoint resumes only the same run.
  uint64_t fp = mix(opt.seed, uint64_t(opt.epochs));
  fp = mix(fp, uint64_t(opt.views_per_file) * 131 + uint64_t(opt.pixels_per_view));
  fp = mix(fp, uint64_t(std::llround(opt.lr * 1e9)));
  fp = mix(fp, uint64_t(std::llround(opt.spatial_gain * 1000)) * 2 + (opt.augment ? 1 : 0));
  for (int w : opt.hidden) fp = mix(fp, uint64_t(w));
  fp = mix(fp, uint64_t(members));
  // Training scheme 2: each member trained alone (scheme 1 trained later members on the
  // ensemble's error so far); a scheme-1 checkpoint must not be resumed by this code.
  fp = mix(fp, 2);
  if (opt.init) fp = mix(fp, fnv1a64(learned::serialize_model(*opt.init)));
  for (const auto& p : train) fp = mix(fp, p.file_hash);
  char fps[17];
  std::snprintf(fps, sizeof fps, "%016llx", static_cast<unsigned long long>(fp));

  Checkpoint ck;
  ck.fingerprint = fps;
  bool resumed = false;
  if (!opt.checkpoint.empty() && std::filesystem::exists(opt.checkpoint)) {
    auto c = load_checkpoint(opt.checkpoint);
    // The finished members ride in the checkpoint's model.members, the one in training in
    // its layers; every epoch of every member so far is in the history.
    if (c && c->fingerprint == ck.fingerprint && c->epoch <= opt.epochs && int(c->model.members.size()) < members &&
        c->history.size() == c->model.members.size() * size_t(opt.epochs) + size_t(c->epoch)) {
      ck = std::move(*c);
      resumed = true;
      for (auto& h : ck.history) {
        h.epochs = opt.epochs;
        h.members = members;
        if (opt.progress) opt.progress(h);
      }
    }
  }
  if (!resumed) {
    ck.model = opt.init ? *opt.init : learned::new_model(opt.seed, opt.hidden);
    ck.model.members.clear();
    if (!opt.init) {
      ck.model.spatial_gain = float(opt.spatial_gain);
      std::vector<View> plain(train.size());
      parallel_for(int(train.size()), threads, [&](int a, int b) {
        for (int i = a; i < b; ++i) plain[size_t(i)] = make_view(train[size_t(i)], ck.model, 0, false);
      });
      set_normalisation(ck.model, plain);
    }
    ck.adam.init(ck.model);
    ck.epoch = 0;
  }
  // Validation views at the model's own work size.
  std::vector<View> val_views(val.size());
  parallel_for(int(val.size()), threads, [&](int a, int b) {
    for (int i = a; i < b; ++i) val_views[size_t(i)] = make_view(val[size_t(i)], ck.model, 0, false);
  });
  const int F = learned::kFeatureCount;
  // Each view's rows come in chunks of kChunk pixels; a step takes kChunksPerStep chunks.
  // The loss per chunk is Huber on the error after removing the chunk's median error (the
  // structure: which regions get more gain) plus kLevel x Huber on the error itself (the
  // level: how much HDR the scene gets). Both matter to a viewer; the structure is what
  // transfers between cameras, so it is weighted first. The level is a per-photo decision a
  // few dozen photos cannot teach: weighting it 0.25 rather than 0.5 fits it less to the
  // training photos and scores better on unseen ones (3-network runs on the 35 eval photos,
  // seeds 1 and 2: abs 0.437 / 0.441 -> 0.428 / 0.428, struc 0.209 / 0.208 -> 0.208 / 0.208).
  constexpr int kChunk = 256, kChunksPerStep = 8;
  constexpr float kDelta = 0.1f, kLevel = 0.25f;
  const size_t nviews = train.size() * size_t(opt.views_per_file);
  const int chunks_per_view = std::max(1, opt.pixels_per_view / kChunk);
  const size_t rows_per_view = size_t(chunks_per_view) * kChunk;
  for (;;) {
    if (ck.epoch == opt.epochs) {  // this member is done: start the next, if any
      if (ck.model.members.size() + 1 >= size_t(members)) break;
      ck.model.members.push_back(std::move(ck.model.layers));
      ck.model.layers = member_start(int(ck.model.members.size()));
      ck.adam.init(ck.model);
      ck.epoch = 0;
    }
    const int member = int(ck.model.members.size());
    const uint64_t seed = ensemble_member_seed(opt.seed, member);
    // The member alone (its validation figures per epoch).
    auto alone = [&] {
      Model one = ck.model;
      one.members.clear();
      return one;
    };
    for (int epoch = ck.epoch; epoch < opt.epochs; ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      // Each view is made and its rows sampled (seeded per view) into its own slot, so only the
      // sampled rows stay in memory and the result does not depend on the thread count.
      std::vector<float> X(nviews * rows_per_view * F), T(nviews * rows_per_view), Wt(nviews * rows_per_view);
      std::vector<uint8_t> has_rows(nviews, 0);
      parallel_for(int(nviews), threads, [&](int a, int b) {
        for (int i = a; i < b; ++i) {
          const size_t pi = size_t(i) / size_t(opt.views_per_file);
          const uint64_t vseed = mix(mix(seed, uint64_t(epoch) + 1), uint64_t(i));
          const View v = make_view(train[pi], ck.model, vseed, opt.augment);
          std::vector<uint32_t> lit;
          for (size_t k = 0; k < v.target.size(); ++k)
            if (v.f.lit[k]) lit.push_back(uint32_t(k));
          if (lit.empty()) continue;
          std::mt19937_64 vr(mix(vseed, 0x5eed));
          std::uniform_int_distribution<size_t> pick(0, lit.size() - 1);
          for (size_t k = 0; k < rows_per_view; ++k) {
            const uint32_t src = lit[pick(vr)];
            std::copy_n(&v.f.x[size_t(src) * F], F, &X[(size_t(i) * rows_per_view + k) * F]);
            T[size_t(i) * rows_per_view + k] = v.target[src];
            Wt[size_t(i) * rows_per_view + k] = log_y_weight(v.ys[src], v.target[src]);
          }
          has_rows[size_t(i)] = 1;
        }
      });
      std::mt19937_64 rng(mix(seed ^ 0x5eed, uint64_t(epoch)));
      std::vector<uint32_t> order;
      for (size_t i = 0; i < nviews; ++i)
        if (has_rows[i])
          for (int c = 0; c < chunks_per_view; ++c) order.push_back(uint32_t(i * size_t(chunks_per_view) + size_t(c)));
      const size_t nchunks = order.size();
      std::shuffle(order.begin(), order.end(), rng);
      constexpr size_t kRows = size_t(kChunk) * kChunksPerStep;
      std::vector<float> bx(kRows * F), bt(kRows), bw(kRows), bp(kRows), dout(kRows);
      // Cosine learning-rate decay over the whole run (lr -> lr/20).
      const double progress = double(epoch) / double(std::max(1, opt.epochs - 1));
      ck.adam.lr = opt.lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * progress)));
      learned::Gradients g0 = learned::make_gradients(ck.model), g1 = learned::make_gradients(ck.model);
      double abs_sum = 0, wsum = 0;
      std::vector<float> e(kChunk), sorted(kChunk);
      for (size_t s = 0; s + kChunksPerStep <= nchunks; s += kChunksPerStep) {
        for (int c = 0; c < kChunksPerStep; ++c) {
          const size_t src = size_t(order[s + size_t(c)]) * kChunk;
          std::copy_n(&X[src * F], size_t(kChunk) * F, &bx[size_t(c) * kChunk * F]);
          std::copy_n(&T[src], size_t(kChunk), &bt[size_t(c) * kChunk]);
          std::copy_n(&Wt[src], size_t(kChunk), &bw[size_t(c) * kChunk]);
        }
        // The network in training alone: each member learns the task by itself (the
        // finished ones in ck.model.members take no part), so the ensemble averages
        // independent runs.
        learned::forward_network(ck.model, ck.model.layers, bx.data(), kRows, bp.data(), 1);
        for (int c = 0; c < kChunksPerStep; ++c) {
          const size_t o = size_t(c) * kChunk;
          for (int k = 0; k < kChunk; ++k) e[size_t(k)] = (bp[o + size_t(k)] - bt[o + size_t(k)]) * bw[o + size_t(k)];
          sorted = e;
          std::nth_element(sorted.begin(), sorted.begin() + kChunk / 2, sorted.end());
          const float med = sorted[kChunk / 2];
          for (int k = 0; k < kChunk; ++k) {
            const float ek = e[size_t(k)];
            dout[o + size_t(k)] = (std::clamp((ek - med) / kDelta, -1.f, 1.f) + kLevel * std::clamp(ek / kDelta, -1.f, 1.f)) *
                                  bw[o + size_t(k)] / float(kRows);
            abs_sum += std::abs(ek);
          }
        }
        wsum += double(kRows);
        g0.zero();
        g1.zero();
        const size_t half = kRows / 2;
        auto second = [&] { learned::accumulate_gradients(ck.model, bx.data() + half * F, dout.data() + half, kRows - half, g1); };
        if (threads > 1) {
          std::thread t(second);
          learned::accumulate_gradients(ck.model, bx.data(), dout.data(), half, g0);
          t.join();
        } else {
          learned::accumulate_gradients(ck.model, bx.data(), dout.data(), half, g0);
          second();
        }
        for (size_t l = 0; l < g0.layers.size(); ++l) {
          for (size_t i = 0; i < g0.layers[l].w.size(); ++i) g0.layers[l].w[i] += g1.layers[l].w[i];
          for (size_t i = 0; i < g0.layers[l].b.size(); ++i) g0.layers[l].b[i] += g1.layers[l].b[i];
        }
        ck.adam.apply(ck.model, g0);
      }
      if (!std::isfinite(abs_sum)) return fail(ErrorCode::Internal, "training diverged (non-finite loss)");
      EpochReport rep;
      rep.epoch = epoch + 1;
      rep.epochs = opt.epochs;
      rep.member = member + 1;
      rep.members = members;
      rep.train_abs = wsum > 0 ? abs_sum / wsum : 0;
      if (!val_views.empty()) {
        double a = 0, s = 0;
        const Model one = alone();
        for (size_t i = 0; i < val_views.size(); ++i) {
          const auto sc = score_view(one, val_views[i], val[i].name);
          a += sc.abs;
          s += sc.struc;
        }
        rep.val_abs = a / double(val_views.size());
        rep.val_struc = s / double(val_views.size());
      }
      rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ck.history.push_back(rep);
      ck.epoch = epoch + 1;
      if (!opt.checkpoint.empty()) REGAIN_CHECK(save_checkpoint(ck, opt.checkpoint));
      if (opt.progress) opt.progress(rep);
    }
  }
  TrainOutcome out;
  out.model = ck.model;
  if (!out.model.members.empty()) {  // finished members first: member 1 in layers
    out.model.members.push_back(std::move(out.model.layers));
    out.model.layers = std::move(out.model.members.front());
    out.model.members.erase(out.model.members.begin());
  }
  out.history = ck.history;
  for (size_t i = 0; i < val_views.size(); ++i) out.validation.push_back(score_view(out.model, val_views[i], val[i].name));
  return out;
}

namespace {
// SOURCE_DATE_EPOCH (the reproducible-builds convention) fixes the recorded date, so the
// same command gives a byte-identical model file.
std::string utc_now() {
  std::time_t t = std::time(nullptr);
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) t = std::time_t(std::strtoll(e, nullptr, 10));
  char buf[32] = "unknown";
  std::tm tm{};
  if (gmtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

nlohmann::json training_provenance(const std::string& name, const std::vector<TrainPair>& train,
                                   const std::vector<TrainPair>& val, const TrainOutcome& outcome,
                                   const TrainOptions& opt, double seconds) {
  std::vector<uint64_t> hashes;
  for (const auto& p : train) hashes.push_back(p.file_hash);
  std::sort(hashes.begin(), hashes.end());
  const uint64_t set_hash = fnv1a64({reinterpret_cast<const uint8_t*>(hashes.data()), hashes.size() * 8});
  char hs[17];
  std::snprintf(hs, sizeof hs, "%016llx", static_cast<unsigned long long>(set_hash));
  nlohmann::json vj = nlohmann::json::array();
  double va = 0, vs = 0;
  for (const auto& s : outcome.validation) {
    vj.push_back({{"file", s.name}, {"abs", s.abs}, {"struc", s.struc}});
    va += s.abs;
    vs += s.struc;
  }
  return {{"name", name},
          {"created", utc_now()},
          {"trainer", "regain train 0.1.0"},
          {"training_files", train.size()},
          {"training_set_fnv64", hs},
          {"epochs", opt.epochs},
          {"ensemble", 1 + outcome.model.members.size()},
          {"seed", opt.seed},
          {"augment", opt.augment},
          {"init", opt.init ? opt.init->name("?") : std::string()},
          {"train_seconds", std::getenv("SOURCE_DATE_EPOCH") ? nlohmann::json(nullptr) : nlohmann::json(std::round(seconds))},
          {"validation",
           {{"files", val.size()},
            {"abs", val.empty() ? nlohmann::json(nullptr) : nlohmann::json(va / double(val.size()))},
            {"struc", val.empty() ? nlohmann::json(nullptr) : nlohmann::json(vs / double(val.size()))},
            {"per_file", vj}}}};
}

}  // namespace regain
