// The learned predictor's network: file format, forward pass, and the backward pass and
// optimiser the trainer uses. Plain loops ordered output-fastest so GCC vectorises them
// without fast-math; results are deterministic for a given build.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "predict/learned_features.h"
#include "predict/zip_stored.h"
#include "regain/learned.h"
#include "util/file_io.h"
#include "util/parallel.h"
#include "util/json_text.h"

namespace regain::learned {

namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kMaxJsonBytes = 1u << 20;

template <class T>
void put(std::vector<uint8_t>& o, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  o.insert(o.end(), b, b + sizeof(T));
}

// One dense layer on a row: out = act(b + in . W).
inline void dense(const Layer& l, const float* __restrict in, float* __restrict out, bool relu) {
  const int no = l.out;
  for (int j = 0; j < no; ++j) out[j] = l.b[size_t(j)];
  for (int i = 0; i < l.in; ++i) {
    const float xi = in[i];
    const float* __restrict w = &l.w[size_t(i) * no];
    for (int j = 0; j < no; ++j) out[j] += xi * w[j];
  }
  if (relu)
    for (int j = 0; j < no; ++j) out[j] = std::max(out[j], 0.f);
}

// Nesting depth of a JSON text (brackets outside strings): nlohmann copies and dumps
// recursively, so a hostile, deeply nested header is refused before it is parsed.
int json_depth(std::span<const uint8_t> t) {
  int depth = 0, worst = 0;
  bool in_string = false, escaped = false;
  for (uint8_t c : t) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      worst = std::max(worst, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return worst;
}

// An integer field within [lo, hi] (no narrowing of out-of-range numbers).
bool get_int(const nlohmann::json& j, const char* key, int lo, int hi, int& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  const auto v = it->get<int64_t>();
  if (v < lo || v > hi) return false;
  out = int(v);
  return true;
}

bool get_float(const nlohmann::json& j, const char* key, double lo, double hi, float& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return false;
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) return false;
  out = float(v);
  return true;
}

int max_width(const Model& m) {
  int w = m.feature_count();
  for (const auto& l : m.layers) w = std::max(w, l.out);
  for (const auto& net : m.members)
    for (const auto& l : net) w = std::max(w, l.out);
  return w;
}

}  // namespace

size_t Model::parameter_count() const {
  size_t n = 0;
  for (const auto& l : layers) n += l.w.size() + l.b.size();
  for (const auto& net : members)
    for (const auto& l : net) n += l.w.size() + l.b.size();
  return n;
}

Model new_model(uint64_t seed, std::vector<int> hidden) {
  Model m;
  std::mt19937_64 rng(seed);
  std::vector<int> widths{kFeatureCount};
  widths.insert(widths.end(), hidden.begin(), hidden.end());
  widths.push_back(1);
  for (size_t k = 0; k + 1 < widths.size(); ++k) {
    Layer l;
    l.in = widths[k];
    l.out = widths[k + 1];
    l.w.resize(size_t(l.in) * l.out);
    l.b.assign(size_t(l.out), 0.f);
    // He initialisation; the output layer starts small so early predictions are near 0.
    const double sd = std::sqrt(2.0 / l.in) * (k + 2 == widths.size() ? 0.1 : 1.0);
    std::normal_distribution<double> nd(0.0, sd);
    for (auto& v : l.w) v = float(nd(rng));
    m.layers.push_back(std::move(l));
  }
  m.mean.assign(kFeatureCount, 0.f);
  m.inv_std.assign(kFeatureCount, 1.f);
  return m;
}

std::vector<uint8_t> serialize_model(const Model& m) {
  nlohmann::json j;
  j["arch"] = "pixel-mlp";
  j["feature_version"] = kFeatureVersion;
  std::vector<int> widths{m.feature_count()};
  for (const auto& l : m.layers) widths.push_back(l.out);
  j["layers"] = widths;
  j["work_side"] = m.work_side;
  j["guide"] = {{"radius", m.guide_radius}, {"eps", m.guide_eps}};
  j["spatial_gain"] = m.spatial_gain;
  if (!m.members.empty()) j["members"] = 1 + m.members.size();
  j["info"] = m.info;
  const std::string js = json_text(j);  // provenance holds file names
  std::vector<float> floats(m.mean.begin(), m.mean.end());
  floats.insert(floats.end(), m.inv_std.begin(), m.inv_std.end());
  auto put_net = [&](const std::vector<Layer>& net) {
    for (const auto& l : net) {
      floats.insert(floats.end(), l.w.begin(), l.w.end());
      floats.insert(floats.end(), l.b.begin(), l.b.end());
    }
  };
  put_net(m.layers);
  for (const auto& net : m.members) put_net(net);
  std::vector<uint8_t> out{'R', 'G', 'L', 'M'};
  put<uint32_t>(out, kFormatVersion);
  put<uint32_t>(out, uint32_t(js.size()));
  out.insert(out.end(), js.begin(), js.end());
  put<uint32_t>(out, uint32_t(floats.size()));
  const size_t at = out.size();
  out.resize(at + floats.size() * 4);
  if (!floats.empty()) std::memcpy(out.data() + at, floats.data(), floats.size() * 4);
  put<uint32_t>(out, gmnet::crc32(out));
  return out;
}

Result<Model> parse_model(std::span<const uint8_t> b) {
  auto bad = [](const std::string& why) { return fail(ErrorCode::InvalidInput, "model file: " + why); };
  if (b.size() > kMaxModelFileBytes) return fail(ErrorCode::TooLarge, "model file: larger than 4 MB");
  if (b.size() < 20 || std::memcmp(b.data(), "RGLM", 4) != 0) return bad("not a regain model (.rglm)");
  size_t p = 4;
  auto get32 = [&](uint32_t& v) {
    if (b.size() - p < 4) return false;
    std::memcpy(&v, b.data() + p, 4);
    p += 4;
    return true;
  };
  uint32_t version = 0, json_len = 0, count = 0, crc = 0;
  if (!get32(version)) return bad("truncated");
  if (version != kFormatVersion) return fail(ErrorCode::Unsupported, "model file: format version " + std::to_string(version));
  std::memcpy(&crc, b.data() + b.size() - 4, 4);
  if (gmnet::crc32(b.first(b.size() - 4)) != crc) return bad("CRC mismatch (damaged or truncated file)");
  const auto body = b.first(b.size() - 4);
  if (!get32(json_len) || json_len > kMaxJsonBytes || body.size() - p < json_len) return bad("bad header length");
  const auto header = body.subspan(p, json_len);
  if (json_depth(header) > 16) return bad("header nested too deeply");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header.begin(), header.end());
  } catch (const std::exception&) {
    return bad("header is not JSON");
  }
  p += json_len;
  if (body.size() - p < 4) return bad("truncated");
  std::memcpy(&count, body.data() + p, 4);
  p += 4;
  if (uint64_t(count) * 4 != body.size() - p) return bad("weight count does not match the file size");
  Model m;
  std::vector<int> widths;
  if (!j.is_object()) return bad("header is not a JSON object");
  if (!j.contains("arch") || !j["arch"].is_string() || j["arch"].get<std::string>() != "pixel-mlp")
    return fail(ErrorCode::Unsupported, "model file: unknown architecture");
  int fv = -1;
  if (!get_int(j, "feature_version", 0, 1 << 20, fv) || fv != kFeatureVersion)
    return fail(ErrorCode::Unsupported, "model file: feature set version " + std::to_string(fv) + " (this build has " +
                                            std::to_string(kFeatureVersion) + ")");
  if (!j.contains("layers") || !j["layers"].is_array() || j["layers"].size() < 2 || j["layers"].size() > 8)
    return bad("layer count out of range");
  for (const auto& w : j["layers"]) {
    if (!w.is_number_integer() || w.get<int64_t>() < 1 || w.get<int64_t>() > kMaxLayerWidth) return bad("layer width out of range");
    widths.push_back(int(w.get<int64_t>()));
  }
  const auto guide = j.find("guide");
  if (!get_int(j, "work_side", 32, 2048, m.work_side)) return bad("work size out of range");
  if (guide == j.end() || !guide->is_object() || !get_int(*guide, "radius", 0, 64, m.guide_radius) ||
      !get_float(*guide, "eps", 1e-6, 0.999, m.guide_eps))
    return bad("guide parameters out of range");
  if (j.contains("spatial_gain") && !get_float(j, "spatial_gain", 0.0, 2.0, m.spatial_gain)) return bad("spatial_gain out of range");
  int members = 1;
  if (j.contains("members") && !get_int(j, "members", 1, kMaxMembers, members)) return bad("member count out of range");
  if (j.contains("info") && j["info"].is_object()) m.info = j["info"];
  if (widths.front() != kFeatureCount) return bad("input width is not this build's feature count");
  if (widths.back() != 1) return bad("output width must be 1");
  uint64_t per_net = 0;
  for (size_t k = 0; k + 1 < widths.size(); ++k) per_net += uint64_t(widths[k]) * widths[k + 1] + widths[k + 1];
  const uint64_t need = 2ull * widths.front() + uint64_t(members) * per_net;
  if (need != count) return bad("weight count does not match the layers");
  std::vector<float> f(count);
  if (count) std::memcpy(f.data(), body.data() + p, size_t(count) * 4);
  // Weights and normalisation stay far from float overflow, so predictions stay finite.
  for (float v : f)
    if (!std::isfinite(v)) return bad("non-finite weight");
    else if (std::abs(v) > 1e4f) return bad("weight out of range (|w| > 1e4)");
  size_t q = 0;
  auto take = [&](size_t n) {
    std::vector<float> v(f.begin() + long(q), f.begin() + long(q + n));
    q += n;
    return v;
  };
  m.mean = take(size_t(widths.front()));
  m.inv_std = take(size_t(widths.front()));
  for (int n = 0; n < members; ++n) {
    std::vector<Layer> net;
    for (size_t k = 0; k + 1 < widths.size(); ++k) {
      Layer l;
      l.in = widths[k];
      l.out = widths[k + 1];
      l.w = take(size_t(l.in) * l.out);
      l.b = take(size_t(l.out));
      net.push_back(std::move(l));
    }
    if (n == 0) m.layers = std::move(net);
    else m.members.push_back(std::move(net));
  }
  return m;
}

Result<Model> load_model(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(ErrorCode::Io, "cannot open model " + path.string());
  if (size > kMaxModelFileBytes) return fail(ErrorCode::TooLarge, "model file: larger than 4 MB");
  REGAIN_TRY(bytes, read_file(path, kMaxModelFileBytes));
  return parse_model(bytes);
}

Result<void> save_model(const Model& m, const std::filesystem::path& path) {
  return write_file_atomic(path, serialize_model(m));
}

namespace {
// Rows [i0, i1) through the network. Cloned for AVX-512 and AVX2 (the dense loops vectorise
// across a layer's outputs); the default clone keeps the binary portable. The clones use
// no FMA contraction (-ffp-contract=off for this file), so every CPU gives the same bits.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void forward_rows(const Model& m, const std::vector<Layer>& net, const float* features, size_t i0, size_t i1, float* out,
                  float* a, float* bb) {
  const int F = m.feature_count();
  for (size_t i = i0; i < i1; ++i) {
    const float* x = features + i * F;
    for (int k = 0; k < F; ++k) a[k] = (x[k] - m.mean[size_t(k)]) * m.inv_std[size_t(k)];
    for (size_t l = 0; l < net.size(); ++l) {
      dense(net[l], a, bb, l + 1 < net.size());
      std::swap(a, bb);
    }
    out[i] = a[0];
  }
}

// kBlock rows at a time through layers whose width is a multiple of 16: each 16-output slice
// keeps the block's sums in registers (on AVX-512; narrower CPUs spill some) while the inputs
// stream past, so every weight is loaded once per block instead of once per row. Each output
// is still b + x0 w0 + x1 w1 + ... in input order without FMA: bit-identical to forward_rows
// (and to training's forward).
constexpr int kBlock = 8;

// 16 floats as one value (one AVX-512 register; GCC splits it on narrower CPUs).
typedef float V16 __attribute__((vector_size(64)));

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void dense_block(const Layer& l, const float* __restrict in, int in_stride, float* __restrict out, int out_stride,
                 bool relu) {
  const int no = l.out;
  for (int j0 = 0; j0 < no; j0 += 16) {
    V16 acc[kBlock];
    V16 bias;
    std::memcpy(&bias, &l.b[size_t(j0)], sizeof bias);
    for (int r = 0; r < kBlock; ++r) acc[r] = bias;
    for (int i = 0; i < l.in; ++i) {
      V16 w;
      std::memcpy(&w, &l.w[size_t(i) * no + size_t(j0)], sizeof w);
      for (int r = 0; r < kBlock; ++r) acc[r] += in[r * in_stride + i] * w;
    }
    const V16 zero = {};
    for (int r = 0; r < kBlock; ++r) {
      const V16 v = relu ? (acc[r] < zero ? zero : acc[r]) : acc[r];  // as std::max(x, 0.f)
      std::memcpy(out + r * out_stride + j0, &v, sizeof v);
    }
  }
}

// A narrow layer (the 1-output head) for kBlock rows: the rows are the vector lanes, so the
// block's sums advance together instead of one dependent add chain per row (which made the
// 64 -> 1 head cost a third of the network). Same order, no FMA: the same bits as dense().
typedef float V8 __attribute__((vector_size(32)));
static_assert(kBlock == 8, "one V8 lane per row of a block");

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void dense_block_narrow(const Layer& l, const float* __restrict in, int in_stride, float* __restrict out,
                        int out_stride, bool relu) {
  const int no = l.out;
  for (int j = 0; j < no; ++j) {
    V8 acc;
    for (int r = 0; r < kBlock; ++r) acc[r] = l.b[size_t(j)];
    for (int i = 0; i < l.in; ++i) {
      V8 x;
      for (int r = 0; r < kBlock; ++r) x[r] = in[r * in_stride + i];
      acc += x * l.w[size_t(i) * no + size_t(j)];
    }
    for (int r = 0; r < kBlock; ++r) out[r * out_stride + j] = relu ? std::max(acc[r], 0.f) : acc[r];
  }
}

// Rows [i0, i1): whole blocks through dense_block (or dense_block_narrow), the rest per row.
// `a` and `bb` hold kBlock rows of the widest layer each.
void forward_blocked(const Model& m, const std::vector<Layer>& net, const float* features, size_t i0, size_t i1,
                     float* out, float* a, float* bb, int W) {
  const int F = m.feature_count();
  size_t i = i0;
  for (; i + kBlock <= i1; i += kBlock) {
    for (int r = 0; r < kBlock; ++r) {
      const float* x = features + (i + size_t(r)) * F;
      float* ar = a + size_t(r) * W;
      for (int k = 0; k < F; ++k) ar[k] = (x[k] - m.mean[size_t(k)]) * m.inv_std[size_t(k)];
    }
    float *cur = a, *nxt = bb;
    for (size_t l = 0; l < net.size(); ++l) {
      const bool relu = l + 1 < net.size();
      if (net[l].out % 16 == 0) {
        dense_block(net[l], cur, W, nxt, W, relu);
      } else {
        dense_block_narrow(net[l], cur, W, nxt, W, relu);
      }
      std::swap(cur, nxt);
    }
    for (int r = 0; r < kBlock; ++r) out[i + size_t(r)] = cur[size_t(r) * W];
  }
  forward_rows(m, net, features, i, i1, out, a, bb);
}

// Rows in chunks of 512 on all cores, each chunk through `first` and then through every
// network in `extra` (summed in a fixed order, then scaled by 1/K: a multiply, not a
// division; either is deterministic and the same for any thread count, and this is what the
// shipped figures were measured with). Chunk by chunk so the features stay in cache.
void forward_nets(const Model& m, const std::vector<Layer>& first, const std::vector<std::vector<Layer>>& extra,
                  const float* features, size_t n, float* out, int threads) {
  const int W = max_width(m);
  constexpr size_t kChunk = 512;
  const int chunks = int((n + kChunk - 1) / kChunk);
  parallel_for(chunks, threads, [&](int c0, int c1) {
    std::vector<float> a(size_t(W) * kBlock), bb(size_t(W) * kBlock);
    const size_t i0 = size_t(c0) * kChunk, i1 = std::min(n, size_t(c1) * kChunk);
    forward_blocked(m, first, features, i0, i1, out, a.data(), bb.data(), W);
    if (extra.empty()) return;
    std::vector<float> more(i1 - i0);
    for (const auto& net : extra) {
      forward_blocked(m, net, features + i0 * size_t(m.feature_count()), 0, i1 - i0, more.data(), a.data(), bb.data(), W);
      for (size_t i = i0; i < i1; ++i) out[i] += more[i - i0];
    }
    const float inv = 1.f / float(1 + extra.size());
    for (size_t i = i0; i < i1; ++i) out[i] *= inv;
  });
}
}  // namespace

void forward(const Model& m, const float* features, size_t n, float* out, int threads) {
  forward_nets(m, m.layers, m.members, features, n, out, threads);
}

void forward_network(const Model& m, const std::vector<Layer>& net, const float* features, size_t n, float* out,
                     int threads) {
  forward_nets(m, net, {}, features, n, out, threads);
}

void pull_to_median(const Model& m, const std::vector<uint8_t>& lit, std::vector<float>& pred) {
  if (m.spatial_gain == 1.f || pred.empty()) return;
  std::vector<float> v;
  for (size_t i = 0; i < pred.size(); ++i)
    if (i < lit.size() && lit[i]) v.push_back(pred[i]);
  if (v.empty()) v = pred;
  std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
  const float med = v[v.size() / 2];
  for (auto& p : pred) p = med + m.spatial_gain * (p - med);
}

// ---- training core ------------------------------------------------------------------------

void Gradients::zero() {
  for (auto& l : layers) {
    std::fill(l.w.begin(), l.w.end(), 0.f);
    std::fill(l.b.begin(), l.b.end(), 0.f);
  }
}

Gradients make_gradients(const Model& m) {
  Gradients g;
  g.layers = m.layers;
  g.zero();
  return g;
}

void Adam::init(const Model& model) {
  m = model.layers;
  v = model.layers;
  for (auto* s : {&m, &v})
    for (auto& l : *s) {
      std::fill(l.w.begin(), l.w.end(), 0.f);
      std::fill(l.b.begin(), l.b.end(), 0.f);
    }
  step = 0;
}

void Adam::apply(Model& model, const Gradients& g) {
  ++step;
  const double c1 = 1.0 - std::pow(beta1, double(step)), c2 = 1.0 - std::pow(beta2, double(step));
  auto update = [&](std::vector<float>& p, const std::vector<float>& gr, std::vector<float>& mm,
                    std::vector<float>& vv, bool decay) {
    for (size_t i = 0; i < p.size(); ++i) {
      const double gi = gr[i];
      mm[i] = float(beta1 * mm[i] + (1 - beta1) * gi);
      vv[i] = float(beta2 * vv[i] + (1 - beta2) * gi * gi);
      const double mh = mm[i] / c1, vh = vv[i] / c2;
      double upd = mh / (std::sqrt(vh) + eps);
      if (decay) upd += weight_decay * p[i];
      p[i] = float(p[i] - lr * upd);
    }
  };
  for (size_t k = 0; k < model.layers.size(); ++k) {
    update(model.layers[k].w, g.layers[k].w, m[k].w, v[k].w, true);
    update(model.layers[k].b, g.layers[k].b, m[k].b, v[k].b, false);
  }
}

void accumulate_gradients(const Model& m, const float* features, const float* dout, size_t n, Gradients& g) {
  const int F = m.feature_count();
  const size_t L = m.layers.size();
  std::vector<std::vector<float>> act(L + 1);  // act[0] = normalised input, act[k] = layer k-1 output
  act[0].resize(size_t(F));
  for (size_t k = 0; k < L; ++k) act[k + 1].resize(size_t(m.layers[k].out));
  std::vector<float> delta, prev;
  for (size_t i = 0; i < n; ++i) {
    if (dout[i] == 0.f) continue;
    const float* x = features + i * size_t(F);
    for (int k = 0; k < F; ++k) act[0][size_t(k)] = (x[k] - m.mean[size_t(k)]) * m.inv_std[size_t(k)];
    for (size_t k = 0; k < L; ++k) dense(m.layers[k], act[k].data(), act[k + 1].data(), k + 1 < L);
    delta.assign(1, dout[i]);
    for (size_t k = L; k-- > 0;) {
      const Layer& l = m.layers[k];
      Layer& gl = g.layers[k];
      const float* in = act[k].data();
      for (int j = 0; j < l.out; ++j) gl.b[size_t(j)] += delta[size_t(j)];
      for (int ii = 0; ii < l.in; ++ii) {
        const float xi = in[ii];
        float* gw = &gl.w[size_t(ii) * l.out];
        for (int j = 0; j < l.out; ++j) gw[j] += xi * delta[size_t(j)];
      }
      if (k == 0) break;
      prev.assign(size_t(l.in), 0.f);
      for (int ii = 0; ii < l.in; ++ii) {
        if (in[ii] <= 0.f) continue;  // ReLU'
        const float* w = &l.w[size_t(ii) * l.out];
        float s = 0;
        for (int j = 0; j < l.out; ++j) s += w[j] * delta[size_t(j)];
        prev[size_t(ii)] = s;
      }
      delta.swap(prev);
    }
  }
}

}  // namespace regain::learned
