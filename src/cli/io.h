// CLI-side helpers for reading inputs and writing outputs.
#pragma once
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "regain/codec.h"
#include "regain/error.h"

namespace regain::cli {

Result<std::vector<uint8_t>> read_input(const std::filesystem::path& p);
// Writes atomically; creates the parent directory.
Result<void> write_output(const std::filesystem::path& p, std::span<const uint8_t> data);
Result<void> write_output(const std::filesystem::path& p, const std::string& text);
// Files named by `inputs`: regular files as given, directories as their files (not recursive)
// whose extension is in `extensions`, sorted; a name that is neither goes to `errors`.
std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& inputs,
                                                 const std::vector<std::string>& extensions,
                                                 std::vector<std::string>& errors);
// Lower-case extension without the dot ("exr", "png", ...).
std::string extension_of(const std::filesystem::path& p);

// Encodes linear HDR (1.0 = SDR white) for a file: half-float EXR with chromaticities,
// 16-bit PQ PNG with cICP, or 16-bit PQ TIFF. Chosen by the extension.
Result<std::vector<uint8_t>> encode_hdr_file(const ImageF& rgb, Primaries primaries, const std::string& ext,
                                             Effort effort = Effort::Fast);

}  // namespace regain::cli
