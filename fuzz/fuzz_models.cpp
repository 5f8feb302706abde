// Model files a user can pass with --model / --init: the learned predictor's .rglm, the GMNet
// .rgm and PyTorch .pth (zip + restricted pickle). The first input byte picks the loader.
// Checksums (the .rglm's trailing CRC-32, each zip entry's CRC-32 in the central directory)
// are recomputed here so mutations reach the parsers behind them.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "regain/gmnet.h"
#include "regain/learned.h"
#include "predict/zip_stored.h"

namespace {

void rglm(std::span<const uint8_t> in) {
  std::vector<uint8_t> b(in.begin(), in.end());
  if (b.size() >= 8) {
    const uint32_t crc = regain::gmnet::crc32(std::span<const uint8_t>(b).first(b.size() - 4));
    std::memcpy(b.data() + b.size() - 4, &crc, 4);
  }
  auto m = regain::learned::parse_model(b);
  if (!m || m->feature_count() <= 0 || m->feature_count() > 4096) return;
  // A model that parses must run: 4 rows of zero features.
  std::vector<float> features(size_t(m->feature_count()) * 4, 0.f), out(4);
  regain::learned::forward(*m, features.data(), 4, out.data(), 1);
}

void rgm(std::span<const uint8_t> in) {
  // load_rgm maps a path: an anonymous memory file stands in for it.
  const int fd = memfd_create("fuzz.rgm", MFD_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, in.data(), in.size()) == ssize_t(in.size())) {
    if (auto w = regain::gmnet::load_rgm("/proc/self/fd/" + std::to_string(fd))) (void)regain::gmnet::check_weights(*w);
  }
  close(fd);
}

void pth(std::span<const uint8_t> in) {
  std::vector<uint8_t> b(in.begin(), in.end());
  if (auto entries = regain::gmnet::zip_list(b)) {
    // Central directory records, in the order zip_list returns their entries.
    size_t k = 0;
    for (size_t p = 0; p + 20 <= b.size() && k < entries->size(); ++p) {
      if (b[p] != 'P' || b[p + 1] != 'K' || b[p + 2] != 1 || b[p + 3] != 2) continue;
      const auto& e = (*entries)[k++];
      if (e.offset > b.size() || e.size > b.size() - e.offset) continue;
      const uint32_t crc = regain::gmnet::crc32(std::span<const uint8_t>(b).subspan(e.offset, e.size));
      for (int i = 0; i < 4; ++i) b[p + 16 + i] = uint8_t(crc >> (8 * i));
    }
  }
  if (auto w = regain::gmnet::load_torch_state_dict(std::move(b)))
    (void)regain::gmnet::check_weights(*w);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: rglm(in); break;
    case 1: rgm(in); break;
    default: pth(in); break;
  }
  return 0;
}
