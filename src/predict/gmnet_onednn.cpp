// GMNet inference on oneDNN. Activations stay in NHWC (channels-last) from layer to layer,
// the layout oneDNN's AVX-512/AMX convolutions prefer and the one our few hand-written ops
// (pixel shuffle, global pooling) can read directly. Convolutions fuse bias, ReLU/sigmoid,
// the residual add (sum post-op) and the channel attention (binary post-op); weights are
// reordered into each primitive's preferred layout once and cached.
//
// The global branch (256x256 thumbnail) always runs in FP32: it is ~1% of the work and
// it sets the per-image kernel, attention and Qmax. The local branch runs in the chosen
// precision and, for large inputs, in tiles with overlapping halos: every output pixel
// depends on at most 76 input pixels around it (36 half-resolution 3x3 convs after the
// stride-2 one, plus two full-resolution convs), so with a halo >= 76 a tiled result equals
// the untiled one up to float summation order; tile origins are even so the stride-2 grid
// matches the whole image's.
#include <dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "regain/gmnet.h"
#include "util/parallel.h"

namespace regain::gmnet {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int kPad = 16;

enum Post : int { kRelu = 1, kSum = 2, kSigmoid = 4, kAttMul = 8 };

struct Buffer {
  void* p = nullptr;
  size_t bytes = 0;
  ~Buffer() { std::free(p); }
  void ensure(size_t n) {
    if (n <= bytes) return;
    std::free(p);
    p = std::aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    bytes = n;
  }
};

struct ConvWeights {
  int oc = 0, ic = 0, k = 0, stride = 1;
  std::vector<float> w, b;  // OIHW, as in the state_dict
  std::vector<std::pair<memory::desc, memory>> reordered;
};

struct Cached {
  dnnl::convolution_forward prim;
  memory weights;
  memory bias;
};

class OneDnnEngine final : public Engine {
 public:
  OneDnnEngine(const TensorMap& w, Precision p) : prec_(p) {
    for (const auto& spec : tensor_specs()) {
      if (!spec.name.ends_with(".weight")) continue;
      const std::string base = spec.name.substr(0, spec.name.size() - 7);
      ConvWeights c;
      c.oc = int(spec.shape[0]);
      c.ic = int(spec.shape[1]);
      c.k = int(spec.shape[2]);
      // The first conv of each Down block has stride 2 (".conv.0" of down1/down2/down_x).
      c.stride = (base.starts_with("down") && base.ends_with(".conv.0")) ? 2 : 1;
      const auto& tw = w.at(spec.name), &tb = w.at(base + ".bias");
      c.w.assign(tw.data.begin(), tw.data.end());
      c.b.assign(tb.data.begin(), tb.data.end());
      // One-output convs (mask_est.2, conv_last) run badly (or on the reference path) in
      // oneDNN; padded to 16 outputs with zero weights they take the JIT kernels, and we
      // read channel 0.
      if (c.oc == 1 && c.k == 3) {
        c.oc = kPad;
        c.w.resize(size_t(kPad) * c.ic * 9, 0.f);
        c.b.resize(kPad, 0.f);
      }
      convs_[base] = std::move(c);
    }
  }

  Precision precision() const override { return prec_; }

  Result<RawOutput> run(const ImageF& input, const ImageF& thumb, const RunOptions& opt) override {
    if (input.channels() != 3 || input.empty() || thumb.channels() != 3 || thumb.width() != 256 || thumb.height() != 256)
      return fail(ErrorCode::InvalidInput, "gmnet: input must be RGB and the thumbnail 256x256 RGB");
    if (opt.tile != 0 && (opt.tile < 64 || opt.tile % 2 || opt.halo < 0 || opt.halo % 2))
      return fail(ErrorCode::InvalidInput, "gmnet: tile must be even and >= 64, halo even");
    try {
      RawOutput out;
      Global g = global_branch(thumb);
      out.qmax = g.qmax;
      out.out = ImageF(input.width(), input.height(), 1);
      const int W = input.width(), H = input.height();
      // Equal tiles no larger than opt.tile (even sizes keep the stride-2 grid aligned).
      const int T = opt.tile == 0 ? std::max(W, H) : opt.tile;
      const int nx = (W + T - 1) / T, ny = (H + T - 1) / T;
      const int tw = ((W + nx - 1) / nx + 1) / 2 * 2, th = ((H + ny - 1) / ny + 1) / 2 * 2;
      for (int y0 = 0; y0 < H; y0 += th)
        for (int x0 = 0; x0 < W; x0 += tw) {
          const int x1 = std::min(W, x0 + tw), y1 = std::min(H, y0 + th);
          const int cx0 = std::max(0, x0 - opt.halo), cy0 = std::max(0, y0 - opt.halo);
          const int cx1 = std::min(W, x1 + opt.halo), cy1 = std::min(H, y1 + opt.halo);
          local_branch(input, cx0, cy0, cx1 - cx0, cy1 - cy0, g);
          // tile_out_ is (2*ceil(h/2)) x (2*ceil(w/2)); copy the core.
          const int ow = 2 * ((cx1 - cx0 + 1) / 2);
          const float* src = static_cast<const float*>(out_buf_.p);
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) out.out.row(y)[x] = src[(size_t(y - cy0) * ow + (x - cx0)) * kPad];
        }
      return out;
    } catch (const dnnl::error& e) {
      return fail(ErrorCode::Internal, std::string("oneDNN: ") + e.what());
    }
  }

 private:
  struct Global {
    std::vector<float> kernel;  // 64 x 3 x 3
    std::vector<float> att;     // 64, after the sigmoid
    float qmax = 0;
  };

  dt act() const { return prec_ == Precision::BF16 ? dt::bf16 : dt::f32; }
  static size_t dt_size(dt t) { return t == dt::f32 ? 4 : 2; }

  static memory::desc nhwc(int c, int h, int w, dt t) { return memory::desc({1, c, h, w}, t, tag::nhwc); }

  // Runs convolution `name` from src to dst (NHWC descs), creating and caching the primitive.
  void conv(const std::string& name, const memory& src, const memory& dst, int post, const memory* att = nullptr,
            ConvWeights* dyn = nullptr) {
    ConvWeights& c = dyn ? *dyn : convs_.at(name);
    const auto sd = src.get_desc(), dd = dst.get_desc();
    const auto sdims = sd.dims(), ddims = dd.dims();
    const std::string key = name + "/" + std::to_string(sdims[2]) + "x" + std::to_string(sdims[3]) + "/" +
                            std::to_string(int(sd.data_type())) + std::to_string(int(dd.data_type())) + "/" +
                            std::to_string(post);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      const bool grouped = dyn != nullptr;
      memory::dims wdims = grouped ? memory::dims{c.oc, 1, 1, c.k, c.k} : memory::dims{c.oc, c.ic, c.k, c.k};
      const dt wt = sd.data_type();
      memory::desc wany(wdims, wt, tag::any);
      memory::desc bmd({c.oc}, dt::f32, tag::x);
      const int pad = c.k / 2;
      dnnl::post_ops po;
      if (post & kSum) po.append_sum(1.f);
      if (post & kRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      if (post & kSigmoid) po.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
      if (post & kAttMul) po.append_binary(dnnl::algorithm::binary_mul, memory::desc({1, c.oc, 1, 1}, dt::f32, tag::nchw));
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      auto desc = grouped
                      ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                                        sd, wany, dd, {c.stride, c.stride}, {pad, pad}, {pad, pad})
                      : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                                        sd, wany, bmd, dd, {c.stride, c.stride}, {pad, pad}, {pad, pad});
      dnnl::convolution_forward::primitive_desc pd(desc, attr, eng_);
      Cached cc;
      cc.prim = dnnl::convolution_forward(pd);
      if (!grouped) {
        const auto wd = pd.weights_desc();
        memory wm;
        for (auto& [d, m] : c.reordered)
          if (d == wd) wm = m;
        if (!wm) {
          memory user({wdims, dt::f32, tag::oihw}, eng_, c.w.data());
          wm = memory(wd, eng_);
          dnnl::reorder(user, wm).execute(strm_, user, wm);
          c.reordered.emplace_back(wd, wm);
        }
        cc.weights = wm;
        cc.bias = memory(bmd, eng_, c.b.data());
      } else {
        cc.weights = memory(pd.weights_desc(), eng_);
      }
      it = cache_.emplace(key, std::move(cc)).first;
    }
    Cached& cc = it->second;
    if (dyn) {  // per-image weights: reorder every run
      memory user({{c.oc, 1, 1, c.k, c.k}, dt::f32, tag::goihw}, eng_, c.w.data());
      dnnl::reorder(user, cc.weights).execute(strm_, user, cc.weights);
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, cc.weights}, {DNNL_ARG_DST, dst}};
    if (!dyn) args[DNNL_ARG_BIAS] = cc.bias;
    if (att) args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(((post & kSum) ? 1 : 0) + ((post & kRelu) ? 1 : 0)) | DNNL_ARG_SRC_1] = *att;
    cc.prim.execute(strm_, args);
  }

  // x (in place) = x + conv2(relu(conv1(x))) for the five blocks of `name`. With `xb`, x is
  // the FP32 residual stream and xb its bf16 copy that the convolutions read: the stream
  // then accumulates 15 blocks without bf16 rounding (mean error halves, max error too).
  void res_blocks(const std::string& name, const memory& x, const memory& t, const memory* att_last = nullptr,
                  const memory* xb = nullptr) {
    for (int b = 0; b < 5; ++b) {
      const std::string p = name + "." + std::to_string(b);
      if (xb) to_bf16(x, *xb);
      conv(p + ".conv1", xb ? *xb : x, t, kRelu);
      const bool last = b == 4 && att_last;
      conv(p + ".conv2", t, x, kSum | (last ? kAttMul : 0), last ? att_last : nullptr);
    }
  }

  void to_bf16(const memory& f, const memory& b) {
    const auto d = f.get_desc().dims();
    const std::string key = std::to_string(d[1]) + "/" + std::to_string(d[2]) + "x" + std::to_string(d[3]);
    auto it = reorder_cache_.find(key);
    if (it == reorder_cache_.end()) it = reorder_cache_.emplace(key, dnnl::reorder(f, b)).first;
    it->second.execute(strm_, const_cast<memory&>(f), const_cast<memory&>(b));
  }

  Global global_branch(const ImageF& thumb) {
    Buffer a, b;
    a.ensure(size_t(64) * 64 * 64 * 4 * 4);
    b.ensure(size_t(64) * 64 * 64 * 4 * 4);
    memory in(nhwc(3, 256, 256, dt::f32), eng_, const_cast<float*>(thumb.data()));
    memory d1a(nhwc(16, 128, 128, dt::f32), eng_, a.p), d1b(nhwc(16, 128, 128, dt::f32), eng_, b.p);
    conv("down1.conv.0", in, d1a, kRelu);
    conv("down1.conv.2", d1a, d1b, kRelu);
    conv("down1.conv.4", d1b, d1a, kRelu);
    memory y(nhwc(64, 64, 64, dt::f32), eng_, b.p), t(nhwc(64, 64, 64, dt::f32), eng_, a.p);
    memory d2(nhwc(64, 64, 64, dt::f32), eng_, static_cast<char*>(a.p) + size_t(64) * 64 * 64 * 4);
    conv("down2.conv.0", d1a, y, kRelu);
    conv("down2.conv.2", y, d2, kRelu);
    conv("down2.conv.4", d2, y, kRelu);
    res_blocks("res_y", y, t);
    strm_.wait();
    const float* yp = static_cast<const float*>(b.p);

    // Adaptive average pooling (PyTorch bins: [floor(i*n/o), ceil((i+1)*n/o))), then the
    // squeeze MLPs (1x1 convs) on each pooled position.
    auto pool = [&](int o, int oy, int ox) {
      std::vector<float> v(64, 0.f);
      const int y0 = oy * 64 / o, y1 = ((oy + 1) * 64 + o - 1) / o, x0 = ox * 64 / o, x1 = ((ox + 1) * 64 + o - 1) / o;
      for (int yy = y0; yy < y1; ++yy)
        for (int xx = x0; xx < x1; ++xx)
          for (int c = 0; c < 64; ++c) v[c] += yp[(size_t(yy) * 64 + xx) * 64 + c];
      for (auto& x : v) x /= float((y1 - y0) * (x1 - x0));
      return v;
    };
    auto dense = [&](const std::string& name, const std::vector<float>& v, bool relu) {
      const ConvWeights& c = convs_.at(name);
      std::vector<float> r(c.oc);
      for (int o = 0; o < c.oc; ++o) {
        double s = c.b[o];
        for (int i = 0; i < c.ic; ++i) s += double(c.w[size_t(o) * c.ic + i]) * v[i];
        r[o] = relu ? std::max(0.f, float(s)) : float(s);
      }
      return r;
    };
    auto squeeze = [&](const std::string& name, const std::vector<float>& v) {
      return dense(name + ".conv.4", dense(name + ".conv.2", dense(name + ".conv.0", v, true), true), false);
    };
    Global g;
    g.kernel.resize(64 * 9);
    for (int oy = 0; oy < 3; ++oy)
      for (int ox = 0; ox < 3; ++ox) {
        auto k = squeeze("sq_ker", pool(3, oy, ox));
        for (int c = 0; c < 64; ++c) g.kernel[c * 9 + oy * 3 + ox] = k[c];
      }
    const auto p1 = pool(1, 0, 0);
    g.att = squeeze("sq_chn", p1);
    for (auto& x : g.att) x = 1.f / (1.f + std::exp(-x));
    g.qmax = squeeze("sq_qmax", p1)[0];
    return g;
  }

  // Runs the local branch on input[x0..x0+w, y0..y0+h] into out_buf_ (2*ceil(h/2) x 2*ceil(w/2) floats).
  void local_branch(const ImageF& input, int x0, int y0, int w, int h, const Global& g) {
    const int hh = (h + 1) / 2, wh = (w + 1) / 2;
    const dt a = act();
    const size_t es = dt_size(a), unit = size_t(64) * hh * wh * es;
    const bool mixed = a != dt::f32;  // bf16 convolutions around an FP32 residual stream
    pool_a_.ensure((mixed ? 5 : 4) * unit);
    pool_b_.ensure(4 * unit);
    mask_buf_.ensure(size_t(hh) * wh * 4 * kPad);
    out_buf_.ensure(size_t(4) * hh * wh * 4 * kPad);
    char* A = static_cast<char*>(pool_a_.p);
    char* B = static_cast<char*>(pool_b_.p);

    // The crop, contiguous, FP32 in both modes.
    in_buf_.ensure(size_t(w) * h * 3 * 4);
    memory in(nhwc(3, h, w, dt::f32), eng_, in_buf_.p);
    float* ip = static_cast<float*>(in_buf_.p);
    for (int y = 0; y < h; ++y) std::memcpy(ip + size_t(y) * w * 3, input.row(y0 + y) + size_t(x0) * 3, size_t(w) * 12);
    // Pool A: t, m, then x (FP32 in mixed mode) and its bf16 copy xb.
    memory t(nhwc(64, hh, wh, a), eng_, A), m(nhwc(64, hh, wh, a), eng_, A + unit);
    memory x(nhwc(64, hh, wh, dt::f32), eng_, A + 2 * unit);
    memory xb = mixed ? memory(nhwc(64, hh, wh, a), eng_, A + 4 * unit) : x;
    const memory* xbp = mixed ? &xb : nullptr;
    if (mixed) {  // the first conv reads the image in FP32 (~1% of the work; mean error -17%)
      conv("down_x.conv.0", in, x, kRelu);
      to_bf16(x, t);
    } else {
      conv("down_x.conv.0", in, t, kRelu);
    }
    conv("down_x.conv.2", t, m, kRelu);
    conv("down_x.conv.4", m, x, kRelu);
    res_blocks("res1", x, t, nullptr, xbp);

    // Spatial mask from the per-image depthwise kernel.
    dyn_.oc = dyn_.ic = 64;
    dyn_.k = 3;
    dyn_.stride = 1;
    dyn_.w = g.kernel;
    if (mixed) to_bf16(x, xb);
    conv("dynamic_dw", xb, m, 0, nullptr, &dyn_);
    conv("mask_est.0", m, t, kRelu);
    memory mask(nhwc(kPad, hh, wh, dt::f32), eng_, mask_buf_.p);
    conv("mask_est.2", t, mask, kSigmoid);
    strm_.wait();
    mask_multiply(x, hh * wh);

    memory att({{1, 64, 1, 1}, dt::f32, tag::nchw}, eng_, const_cast<float*>(g.att.data()));
    res_blocks("res2", x, t, &att, xbp);
    res_blocks("res3", x, t, nullptr, xbp);
    if (mixed) to_bf16(x, xb);

    // Tail: upconv (ReLU commutes with the shuffle, so it is fused), pixel shuffle, HR convs.
    memory u(nhwc(256, hh, wh, a), eng_, B);
    conv("upconv", xb, u, kRelu);
    strm_.wait();
    pixel_shuffle(B, A, hh, wh, es);
    memory s(nhwc(64, 2 * hh, 2 * wh, a), eng_, A), hr(nhwc(64, 2 * hh, 2 * wh, a), eng_, B);
    conv("HRconv", s, hr, kRelu);
    memory o(nhwc(kPad, 2 * hh, 2 * wh, dt::f32), eng_, out_buf_.p);
    conv("conv_last", hr, o, 0);
    strm_.wait();
  }

  // x (FP32, NHWC, 64 ch) *= mask channel 0 (16-channel padded conv output).
  void mask_multiply(const memory& x, int pixels) {
    float* xp = static_cast<float*>(x.get_data_handle());
    const float* mp = static_cast<const float*>(mask_buf_.p);
    parallel_for(pixels, 0, [&](int p0, int p1) {
      for (int p = p0; p < p1; ++p) {
        const float m = mp[size_t(p) * kPad];
        float* q = xp + size_t(p) * 64;
        for (int c = 0; c < 64; ++c) q[c] *= m;
      }
    });
  }

  // PixelShuffle(2) in NHWC: out[2h+i][2w+j][c] = in[h][w][4c + 2i + j].
  static void pixel_shuffle(const char* in, char* out, int hh, int wh, size_t es) {
    const size_t row_out = size_t(2 * wh) * 64 * es;
    parallel_for(hh, 0, [&](int h0, int h1) {
    for (int h = h0; h < h1; ++h)
      for (int i = 0; i < 2; ++i) {
        char* o = out + size_t(2 * h + i) * row_out;
        for (int w = 0; w < wh; ++w) {
          const char* p = in + (size_t(h) * wh + w) * 256 * es;
          for (int j = 0; j < 2; ++j) {
            char* q = o + size_t(2 * w + j) * 64 * es;
            if (es == 4)
              for (int c = 0; c < 64; ++c) std::memcpy(q + c * 4, p + (4 * c + 2 * i + j) * 4, 4);
            else
              for (int c = 0; c < 64; ++c) std::memcpy(q + c * 2, p + (4 * c + 2 * i + j) * 2, 2);
          }
        }
      }
    });
  }

  Precision prec_;
  dnnl::engine eng_{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm_{eng_};
  std::map<std::string, ConvWeights> convs_;
  ConvWeights dyn_;
  std::map<std::string, Cached> cache_;
  std::map<std::string, dnnl::reorder> reorder_cache_;
  Buffer pool_a_, pool_b_, in_buf_, mask_buf_, out_buf_;
};

}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(const TensorMap& w, Precision precision) {
  REGAIN_CHECK(check_weights(w));
  if (precision == Precision::Auto) precision = cpu_has_amx() ? Precision::BF16 : Precision::FP32;
  if (precision == Precision::BF16 && !cpu_has_bf16())
    return fail(ErrorCode::Unsupported, "bf16 needs a CPU with AVX-512 BF16 or AMX; use --precision fp32");
  try {
    return std::unique_ptr<Engine>(new OneDnnEngine(w, precision));
  } catch (const dnnl::error& e) {
    return fail(ErrorCode::Internal, std::string("oneDNN: ") + e.what());
  }
}

}  // namespace regain::gmnet
