// ISOBMFF/HEIF/AVIF structure as `inspect` reads it: box tree, items, properties, references,
// grids, gain-map flavours (tmap, Apple aux, Samsung), then `repair`, whose output must read.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "container/heif_gainmap.h"
#include "container/heif_json.h"
#include "container/isobmff.h"
#include "regain/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  regain::ByteView in(data, size);
  (void)regain::isobmff::read_box_tree(in, 20000);
  auto hf = regain::read_heif(in);
  if (!hf) return 0;
  (void)regain::heif_file_json(*hf).dump();
  if (auto fixed = regain::repair_heif(in); fixed && !fixed->bytes.empty()) {
    if (!regain::read_heif(fixed->bytes)) std::abort();
  }
  return 0;
}
