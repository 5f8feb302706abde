#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace regain::test {

std::filesystem::path corpus(const std::string& rel) {
  std::filesystem::path p = std::filesystem::path(REGAIN_CORPUS_DIR) / rel;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "corpus file missing: " << p << " (../shared/corpus must sit beside the repo)";
  }
  return p;
}

std::vector<uint8_t> corpus_bytes(const std::string& rel) {
  std::ifstream in(corpus(rel), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path scratch_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(REGAIN_TEST_TMP) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace regain::test
