#include "util/file_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace regain {

Result<std::vector<uint8_t>> read_file(const std::filesystem::path& path, uint64_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(ErrorCode::Io, "cannot open " + path.string() + ": " + std::strerror(errno));
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (data.size() + n > max_bytes) {
      std::fclose(f);
      return fail(ErrorCode::TooLarge, path.string() + " is larger than " +
                                           std::to_string(max_bytes >> 20) + " MiB");
    }
    data.insert(data.end(), buf, buf + n);
  }
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) return fail(ErrorCode::Io, "read error on " + path.string());
  return data;
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> data) {
  // Temp file in the same directory so rename() is atomic; random suffix avoids clashes
  // between concurrent jobs writing neighbouring outputs.
  std::random_device rd;
  auto tmp = path;
  tmp += ".tmp" + std::to_string(rd()) + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return fail(ErrorCode::Io, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  bool ok = data.empty() || std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;  // data on disk before the rename makes it visible
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return fail(ErrorCode::Io, "write failed for " + path.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return fail(ErrorCode::Io, "cannot rename to " + path.string() + ": " + ec.message());
  }
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  return write_file_atomic(path, std::span<const uint8_t>(
                                     reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace regain
