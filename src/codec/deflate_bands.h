// zlib compression of an image in fixed bands on all cores. PNG (one zlib stream in its IDAT
// chunks) and TIFF (one zlib stream per strip) both spend most of their encoding time in
// deflate, which is single-threaded; bands compressed independently and joined the way pigz
// does it (raw deflate ended by a sync flush, the Adler-32s combined) make one valid stream.
// Band boundaries are chosen by the caller from the image alone, so the output bytes do not
// depend on the number of threads.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "regain/error.h"

namespace regain {

// zlib level and strategy. `rle`: matches of distance 1 only (Z_RLE): several times faster
// than level 1-2 on filtered 16-bit PNG rows, whose redundancy is mostly runs of equal high
// bytes, for a file ~2 % larger; on TIFF strips it costs ~13 %.
struct DeflateMode {
  int level = 2;
  bool rle = false;
};

// Writes band i's uncompressed bytes into `raw` (resized by the callee).
using BandSource = std::function<void(int band, std::vector<uint8_t>& raw)>;

// One zlib stream cut into `bands` pieces, in order: the first starts with the zlib header,
// the last ends with the Adler-32 of everything.
Result<std::vector<std::vector<uint8_t>>> deflate_one_stream(int bands, DeflateMode mode, const BandSource& source,
                                                             int threads = 0);
// A complete zlib stream (header, deflate, Adler-32) per band.
Result<std::vector<std::vector<uint8_t>>> deflate_each(int bands, DeflateMode mode, const BandSource& source,
                                                       int threads = 0);

}  // namespace regain
