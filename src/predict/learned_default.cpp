// The default model's bytes, embedded at build time (cmake/embed_model.cmake), parsed once.
#include <mutex>

#include "regain/learned.h"

namespace regain::learned {

namespace {
const unsigned char kDefaultModel[] = {
#include "default_model.inc"
    0};  // trailing 0 keeps the array non-empty; not part of the model
}  // namespace

std::shared_ptr<const Model> default_model() {
  static std::shared_ptr<const Model> model = [] {
    const size_t n = sizeof(kDefaultModel) - 1;
    if (n == 0) return std::shared_ptr<const Model>();
    auto m = parse_model({kDefaultModel, n});
    // A build whose embedded model does not parse is a build error; tests catch it.
    return m ? std::make_shared<const Model>(std::move(*m)) : std::shared_ptr<const Model>();
  }();
  return model;
}

}  // namespace regain::learned
