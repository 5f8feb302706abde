#include "container/jpeg_segments.h"

#include <cstring>
#include <map>

#include "util/bytes.h"

namespace regain {

namespace {
bool standalone(uint8_t m) { return m == 0xD8 || m == 0xD9 || m == 0x01 || (m >= 0xD0 && m <= 0xD7); }
}  // namespace

const JpegSegment* JpegStream::find_app(uint8_t marker, std::string_view sig) const {
  for (const auto& s : segments)
    if (s.marker == marker && starts_with(s.payload, sig)) return &s;
  return nullptr;
}

std::vector<const JpegSegment*> JpegStream::find_all_app(uint8_t marker, std::string_view sig) const {
  std::vector<const JpegSegment*> out;
  for (const auto& s : segments)
    if (s.marker == marker && starts_with(s.payload, sig)) out.push_back(&s);
  return out;
}

Result<JpegStream> parse_jpeg_stream(std::span<const uint8_t> f, size_t start) {
  if (start + 2 > f.size() || f[start] != 0xFF || f[start + 1] != 0xD8)
    return fail(ErrorCode::InvalidInput, "not a JPEG stream (no SOI at offset " + std::to_string(start) + ")");
  JpegStream s;
  s.begin = start;
  s.segments.push_back({0xD8, start, 2, {}});
  size_t p = start + 2;
  bool in_scan = false;  // after SOS: skip entropy-coded bytes until the next real marker
  constexpr size_t kMaxSegments = 100000;
  while (p < f.size()) {
    if (s.segments.size() > kMaxSegments)
      return fail(ErrorCode::InvalidInput, "JPEG has more than 100000 marker segments");
    if (in_scan) {
      // Find FF xx with xx not 00 (stuffing) and not RSTn.
      const uint8_t* base = f.data();
      size_t q = p;
      for (;;) {
        const void* hit = std::memchr(base + q, 0xFF, f.size() - q);
        if (!hit) { q = f.size(); break; }
        q = size_t(static_cast<const uint8_t*>(hit) - base);
        if (q + 1 >= f.size()) { q = f.size(); break; }
        uint8_t m = f[q + 1];
        if (m == 0x00 || (m >= 0xD0 && m <= 0xD7) || m == 0xFF) { q += 1 + (m != 0xFF); continue; }
        break;
      }
      if (q >= f.size()) break;
      p = q;
      in_scan = false;
    }
    if (f[p] != 0xFF) {
      // Stray bytes between segments: resynchronise on the next 0xFF like libjpeg does.
      const void* hit = std::memchr(f.data() + p, 0xFF, f.size() - p);
      if (!hit) break;
      s.stray_bytes += size_t(static_cast<const uint8_t*>(hit) - (f.data() + p));
      p = size_t(static_cast<const uint8_t*>(hit) - f.data());
    }
    while (p + 1 < f.size() && f[p + 1] == 0xFF) ++p;  // fill bytes
    if (p + 1 >= f.size()) break;
    uint8_t m = f[p + 1];
    if (m == 0xD9) {
      s.segments.push_back({m, p, 2, {}});
      s.end = p + 2;
      return s;
    }
    if (standalone(m)) {
      if (m == 0xD8) {
        // The next image begins before this one ended: this one lacks its EOI.
        if (!s.first_sos) return fail(ErrorCode::InvalidInput, "JPEG: unexpected SOI at offset " + std::to_string(p));
        s.end = p;
        s.truncated = true;
        return s;
      }
      s.segments.push_back({m, p, 2, {}});
      p += 2;
      continue;
    }
    if (p + 4 > f.size()) break;
    size_t len = size_t(f[p + 2]) << 8 | f[p + 3];
    if (len < 2) return fail(ErrorCode::InvalidInput, "JPEG: segment length < 2 at offset " + std::to_string(p));
    if (p + 2 + len > f.size()) break;
    s.segments.push_back({m, p, 2 + len, f.subspan(p + 4, len - 2)});
    if (m == 0xDA) {
      if (!s.first_sos) s.first_sos = p;
      in_scan = true;
    }
    p += 2 + len;
  }
  s.end = f.size();
  s.truncated = true;
  if (!s.first_sos) return fail(ErrorCode::InvalidInput, "JPEG is truncated before its image data");
  return s;
}

const char* jpeg_marker_name(uint8_t m) {
  if (m >= 0xE0 && m <= 0xEF) {
    static const char* app[] = {"APP0", "APP1", "APP2", "APP3", "APP4", "APP5", "APP6", "APP7",
                                "APP8", "APP9", "APP10", "APP11", "APP12", "APP13", "APP14", "APP15"};
    return app[m - 0xE0];
  }
  if (m >= 0xD0 && m <= 0xD7) return "RST";
  switch (m) {
    case 0xD8: return "SOI";
    case 0xD9: return "EOI";
    case 0xDA: return "SOS";
    case 0xDB: return "DQT";
    case 0xC4: return "DHT";
    case 0xDD: return "DRI";
    case 0xFE: return "COM";
    case 0xC0: return "SOF0";
    case 0xC1: return "SOF1";
    case 0xC2: return "SOF2";
    case 0xC3: return "SOF3";
    case 0xCC: return "DAC";
    default: return (m >= 0xC5 && m <= 0xCF) ? "SOFn" : "other";
  }
}

std::vector<uint8_t> collect_icc(std::span<const uint8_t>, const JpegStream& s) {
  std::map<int, std::span<const uint8_t>> chunks;
  int count = 0;
  for (const auto* seg : s.find_all_app(0xE2, kIccSig)) {
    if (seg->payload.size() < 14) continue;
    int seq = seg->payload[12], n = seg->payload[13];
    if (seq < 1 || n < 1 || seq > n) return {};
    if (count && n != count) return {};
    count = n;
    chunks[seq] = seg->payload.subspan(14);
  }
  if (!count || int(chunks.size()) != count) return {};
  std::vector<uint8_t> icc;
  for (auto& [k, v] : chunks) icc.insert(icc.end(), v.begin(), v.end());
  return icc;
}

}  // namespace regain
