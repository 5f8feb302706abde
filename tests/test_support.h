// Shared helpers for tests: corpus access (fails loudly when the corpus is missing) and a
// scratch directory.
#pragma once
#include <filesystem>
#include <string>
#include <vector>
#include <cstdint>

namespace regain::test {

// Absolute path of ../shared/corpus/<rel>; the calling test fails if the file is absent.
std::filesystem::path corpus(const std::string& rel);
// Reads a corpus file (fails the test if missing).
std::vector<uint8_t> corpus_bytes(const std::string& rel);
// A fresh, empty per-test directory under the build tree.
std::filesystem::path scratch_dir(const std::string& name);

}  // namespace regain::test
