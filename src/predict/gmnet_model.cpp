// GMNet's state_dict table (names and shapes from the published architecture, see
// include/regain/gmnet.h), weight validation, and format sniffing.
#include <cstring>

#include "regain/gmnet.h"
#include "util/file_io.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace regain::gmnet {

namespace {

void conv(std::vector<TensorSpec>& v, const std::string& name, int64_t oc, int64_t ic, int64_t k) {
  v.push_back({name + ".weight", {oc, ic, k, k}});
  v.push_back({name + ".bias", {oc}});
}
void down(std::vector<TensorSpec>& v, const std::string& name, int64_t ic, int64_t oc) {
  conv(v, name + ".conv.0", oc, ic, 3);
  conv(v, name + ".conv.2", oc, oc, 3);
  conv(v, name + ".conv.4", oc, oc, 3);
}
void res(std::vector<TensorSpec>& v, const std::string& name, int64_t nf) {
  for (int b = 0; b < 5; ++b) {
    conv(v, name + "." + std::to_string(b) + ".conv1", nf, nf, 3);
    conv(v, name + "." + std::to_string(b) + ".conv2", nf, nf, 3);
  }
}
void squeeze(std::vector<TensorSpec>& v, const std::string& name, int64_t nf, int64_t out) {
  conv(v, name + ".conv.0", 2 * nf, nf, 1);
  conv(v, name + ".conv.2", nf, 2 * nf, 1);
  conv(v, name + ".conv.4", out, nf, 1);
}

}  // namespace

const std::vector<TensorSpec>& tensor_specs() {
  static const std::vector<TensorSpec> specs = [] {
    const int64_t nf = 64;
    std::vector<TensorSpec> v;
    down(v, "down1", 3, nf / 4);
    down(v, "down2", nf / 4, nf);
    res(v, "res_y", nf);
    squeeze(v, "sq_ker", nf, nf);
    squeeze(v, "sq_chn", nf, nf);
    squeeze(v, "sq_qmax", nf, 1);
    conv(v, "mask_est.0", nf, nf, 3);
    conv(v, "mask_est.2", 1, nf, 3);
    down(v, "down_x", 3, nf);
    res(v, "res1", nf);
    res(v, "res2", nf);
    res(v, "res3", nf);
    conv(v, "upconv", 4 * nf, nf, 3);
    conv(v, "HRconv", nf, nf, 3);
    conv(v, "conv_last", 1, nf, 3);
    return v;
  }();
  return specs;
}

static std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

Result<void> check_weights(const TensorMap& w) {
  size_t found = 0;
  for (const auto& spec : tensor_specs()) {
    auto it = w.find(spec.name);
    if (it == w.end()) return fail(ErrorCode::InvalidInput, "weights: missing '" + spec.name + "' (not GMNet weights?)");
    if (it->second.shape != spec.shape)
      return fail(ErrorCode::InvalidInput, "weights: '" + spec.name + "' has shape " + shape_str(it->second.shape) +
                                               ", GMNet expects " + shape_str(spec.shape));
    if (int64_t(it->second.data.size()) != it->second.numel()) return fail(ErrorCode::Internal, "weights: size mismatch");
    ++found;
  }
  if (found != w.size())
    for (const auto& [name, t] : w) {
      bool known = false;
      for (const auto& spec : tensor_specs()) known |= spec.name == name;
      if (!known) return fail(ErrorCode::InvalidInput, "weights: unexpected key '" + name + "' (a different network?)");
    }
  return {};
}

Result<TensorMap> load_weights(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(ErrorCode::Io, "cannot read model " + path.string() + ": " + ec.message());
  if (size > kMaxModelBytes) return fail(ErrorCode::TooLarge, "model file is larger than 256 MiB");
  TensorMap w;
  char magic[4] = {};
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return fail(ErrorCode::Io, "cannot open model " + path.string());
    size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    if (got != 4) return fail(ErrorCode::InvalidInput, "model file is too short");
  }
  if (std::memcmp(magic, "RGM1", 4) == 0) {
    REGAIN_TRY(r, load_rgm(path));
    w = std::move(r);
  } else if (std::memcmp(magic, "PK\x03\x04", 4) == 0) {
    REGAIN_TRY(bytes, read_file(path, kMaxModelBytes));
    REGAIN_TRY(r, load_torch_state_dict(std::move(bytes)));
    w = std::move(r);
  } else {
    return fail(ErrorCode::InvalidInput, "model file is neither a torch.save archive nor .rgm (legacy pickled .pth files are not supported; re-save with torch >= 1.6)");
  }
  REGAIN_CHECK(check_weights(w));
  return w;
}

Result<Precision> parse_precision(const std::string& s) {
  if (s == "auto") return Precision::Auto;
  if (s == "fp32") return Precision::FP32;
  if (s == "bf16") return Precision::BF16;
  return fail(ErrorCode::InvalidInput, "precision must be auto, fp32 or bf16");
}

const char* precision_name(Precision p) {
  return p == Precision::FP32 ? "fp32" : p == Precision::BF16 ? "bf16" : "auto";
}

bool cpu_has_amx() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) return (d & (1u << 22)) && (d & (1u << 24));  // AMX-BF16, AMX-TILE
#endif
  return false;
}

bool cpu_has_bf16() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  // CPUID.(EAX=7,ECX=1):EAX[5] = AVX512_BF16; CPUID.(EAX=7,ECX=0):EDX[22] = AMX-BF16.
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) return true;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22))) return true;
#endif
  return false;
}

}  // namespace regain::gmnet
