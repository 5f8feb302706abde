// Whole-file reading with a size cap, and atomic writes (temp file + rename) so that a
// failure never leaves a partial output behind.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "regain/error.h"

namespace regain {

Result<std::vector<uint8_t>> read_file(const std::filesystem::path& path,
                                       uint64_t max_bytes = 512ull << 20);
Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> data);
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view text);

}  // namespace regain
