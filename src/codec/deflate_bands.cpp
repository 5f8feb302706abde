#include "codec/deflate_bands.h"

#include <zlib.h>

#include <optional>

#include "util/parallel.h"

namespace regain {

namespace {

struct Band {
  std::vector<uint8_t> bytes;
  uint32_t adler = 1;
  size_t raw_size = 0;
};

// raw: true = headerless deflate (a piece of one stream), ended by a sync flush unless last.
// `scratch`: the worst-case output buffer, reused across bands; the band keeps only its bytes
// (a 200-MP PNG has 600 bands: 600 worst-case buffers would be another 600 MB).
std::optional<std::string> deflate_band(const std::vector<uint8_t>& in, DeflateMode mode, bool raw, bool last, Band& out,
                                        std::vector<uint8_t>& scratch) {
  z_stream z{};
  if (deflateInit2(&z, mode.level, Z_DEFLATED, raw ? -15 : 15, 8, mode.rle ? Z_RLE : Z_DEFAULT_STRATEGY) != Z_OK)
    return "deflateInit2 failed";
  // deflateBound covers a finished stream; a sync flush adds an empty stored block (5 bytes).
  scratch.resize(deflateBound(&z, uLong(in.size())) + 16);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = uInt(in.size());
  z.next_out = scratch.data();
  z.avail_out = uInt(scratch.size());
  const int flush = raw && !last ? Z_SYNC_FLUSH : Z_FINISH;
  const int r = deflate(&z, flush);
  const bool ok = flush == Z_FINISH ? r == Z_STREAM_END : (r == Z_OK && z.avail_in == 0 && z.avail_out > 0);
  out.bytes.assign(scratch.begin(), scratch.begin() + long(z.total_out));
  deflateEnd(&z);
  if (!ok) return "deflate failed";
  out.adler = uint32_t(adler32(1, in.data(), uInt(in.size())));
  out.raw_size = in.size();
  return std::nullopt;
}

Result<std::vector<Band>> run(int bands, DeflateMode mode, bool one_stream, const BandSource& source, int threads) {
  if (bands <= 0) return fail(ErrorCode::InvalidInput, "deflate: nothing to compress");
  std::vector<Band> out(static_cast<size_t>(bands));
  std::vector<std::optional<std::string>> errors(static_cast<size_t>(bands));
  parallel_for(bands, threads, [&](int b0, int b1) {
    std::vector<uint8_t> raw, scratch;
    for (int b = b0; b < b1; ++b) {
      source(b, raw);
      if (raw.size() > 0x7fffffffu) errors[size_t(b)] = "band too large";
      else errors[size_t(b)] = deflate_band(raw, mode, one_stream, b == bands - 1, out[size_t(b)], scratch);
    }
  });
  for (auto& e : errors)
    if (e) return fail(ErrorCode::Internal, "deflate: " + *e);
  return out;
}

void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

}  // namespace

Result<std::vector<std::vector<uint8_t>>> deflate_one_stream(int bands, DeflateMode mode, const BandSource& source,
                                                             int threads) {
  REGAIN_TRY(parts, run(bands, mode, true, source, threads));
  uint32_t adler = parts[0].adler;
  for (size_t i = 1; i < parts.size(); ++i)
    adler = uint32_t(adler32_combine(adler, parts[i].adler, z_off_t(parts[i].raw_size)));
  // zlib header (RFC 1950): deflate with a 32 KB window, FLEVEL from the level, FCHECK.
  const uint8_t cmf = 0x78;
  const int level = mode.level;
  uint8_t flg = uint8_t((level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3) << 6);
  flg = uint8_t(flg + (31 - (cmf * 256 + flg) % 31) % 31);
  std::vector<std::vector<uint8_t>> out(parts.size());
  out[0] = {cmf, flg};
  for (size_t i = 0; i < parts.size(); ++i) {
    out[i].insert(out[i].end(), parts[i].bytes.begin(), parts[i].bytes.end());
    parts[i].bytes = {};
  }
  put_be32(out.back(), adler);
  return out;
}

Result<std::vector<std::vector<uint8_t>>> deflate_each(int bands, DeflateMode mode, const BandSource& source, int threads) {
  REGAIN_TRY(parts, run(bands, mode, false, source, threads));
  std::vector<std::vector<uint8_t>> out(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) out[i] = std::move(parts[i].bytes);
  return out;
}

}  // namespace regain
