// Structural walk of a JPEG stream: marker segments with their offsets, the entropy-coded
// data skipped marker by marker (so EXIF thumbnails, which sit inside APP1 payloads, are
// never mistaken for images), and the position of EOI.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regain/error.h"

namespace regain {

struct JpegSegment {
  uint8_t marker = 0;       // second marker byte (E1 = APP1 ...)
  size_t offset = 0;        // of the 0xFF byte, relative to the file
  size_t total_size = 0;    // marker + length field + payload
  std::span<const uint8_t> payload;  // after the length field (empty for standalone markers)
};

struct JpegStream {
  size_t begin = 0;         // SOI offset in the file
  size_t end = 0;           // one past EOI (file size when truncated)
  bool truncated = false;   // no EOI found
  std::vector<JpegSegment> segments;  // every marker segment, SOI and EOI included
  size_t first_sos = 0;     // offset of the first SOS marker
  size_t stray_bytes = 0;   // bytes skipped between segments (resynchronised)

  // The first APPn segment whose payload starts with `signature` (nullptr if none).
  const JpegSegment* find_app(uint8_t marker, std::string_view signature) const;
  std::vector<const JpegSegment*> find_all_app(uint8_t marker, std::string_view signature) const;
};

// Parses the JPEG that starts at `start` in `file` (which must hold SOI there).
Result<JpegStream> parse_jpeg_stream(std::span<const uint8_t> file, size_t start = 0);

const char* jpeg_marker_name(uint8_t marker);

// Signatures of the APP segments we care about.
inline constexpr std::string_view kXmpSig{"http://ns.adobe.com/xap/1.0/\0", 29};
inline constexpr std::string_view kXmpExtSig{"http://ns.adobe.com/xmp/extension/\0", 35};
inline constexpr std::string_view kExifSig{"Exif\0\0", 6};
inline constexpr std::string_view kIccSig{"ICC_PROFILE\0", 12};
inline constexpr std::string_view kIsoSig{"urn:iso:std:iso:ts:21496:-1\0", 28};
inline constexpr std::string_view kMpfSig{"MPF\0", 4};
inline constexpr std::string_view kJfifSig{"JFIF\0", 5};

// ICC profile reassembled from its APP2 chunks (empty when absent or inconsistent).
std::vector<uint8_t> collect_icc(std::span<const uint8_t> file, const JpegStream& s);

}  // namespace regain
