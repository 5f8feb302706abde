#include "cli/io.h"

#include <algorithm>
#include <cmath>

#include "util/file_io.h"
#include "util/parallel.h"

namespace regain::cli {

Result<std::vector<uint8_t>> read_input(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec))
    return fail(ErrorCode::Io, p.string() + ": no such file");
  return read_file(p, Limits{}.max_file_bytes);
}

Result<void> write_output(const std::filesystem::path& p, std::span<const uint8_t> data) {
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  return write_file_atomic(p, data);
}

Result<void> write_output(const std::filesystem::path& p, const std::string& text) {
  return write_output(p, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string extension_of(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  if (!e.empty() && e[0] == '.') e.erase(0, 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

Result<std::vector<uint8_t>> encode_hdr_file(const ImageF& rgb, Primaries primaries, const std::string& ext,
                                             Effort effort) {
  if (ext == "exr") return encode_exr(rgb, primaries, effort);
  if (ext != "png" && ext != "tif" && ext != "tiff")
    return fail(ErrorCode::Unsupported, "HDR output must be .exr, .png or .tif (got ." + ext + ")");
  // PQ code values: 1.0 (SDR white) = 203 cd/m2 of 10000.
  Image16 pq(rgb.width(), rgb.height(), 3);
  constexpr int kTable = 1 << 14;
  constexpr float kMaxRel = 10000.f / 203.f;
  std::vector<uint16_t> table(kTable + 1);
  // PQ is steep near black: index the table by the PQ-friendly sqrt of the input.
  for (int i = 0; i <= kTable; ++i) {
    float s = float(i) / kTable;
    table[i] = uint16_t(linear_to_pq(s * s) * 65535.f + 0.5f);
  }
  parallel_for(rgb.height(), 0, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = rgb.row(y);
      uint16_t* d = pq.row(y);
      for (int i = 0; i < rgb.width() * 3; ++i) {
        const float v = s[i];
        float rel = !(v > 0.f) ? 0.f : std::min(v, kMaxRel) / kMaxRel;  // NaN -> 0
        d[i] = table[int(std::sqrt(rel) * kTable + 0.5f)];
      }
    }
  });
  if (ext == "png") return encode_png16(pq, Cicp{uint8_t(cicp_code(primaries)), 16, 0, 1}, {}, effort);
  return encode_tiff16(pq, {}, effort);
}

std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& inputs,
                                                 const std::vector<std::string>& extensions,
                                                 std::vector<std::string>& errors) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(in, ec)) {
        if (!entry.is_regular_file()) continue;
        const std::string ext = extension_of(entry.path());
        if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(in, ec)) {
      files.emplace_back(in);
    } else {
      errors.push_back(in + ": no such file or directory");
    }
  }
  return files;
}

}  // namespace regain::cli
