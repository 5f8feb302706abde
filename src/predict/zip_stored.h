// A minimal, bounded reader for zip archives whose entries are stored (not compressed),
// which is what torch.save writes. Everything is checked against the buffer's bounds and
// each entry's CRC-32, so truncated or bit-flipped archives are rejected, never misread.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "regain/error.h"

namespace regain::gmnet {

struct ZipEntry {
  std::string name;
  uint64_t offset = 0;  // of the entry's data in the archive
  uint64_t size = 0;
  uint32_t crc = 0;
};

// CRC-32 (ISO-HDLC, as zip and PNG use).
uint32_t crc32(std::span<const uint8_t> d);

// Lists the entries (at most `max_entries`); fails on compressed entries (Unsupported).
Result<std::vector<ZipEntry>> zip_list(std::span<const uint8_t> zip, size_t max_entries = 4096);
// Checks an entry's CRC-32.
Result<void> zip_verify(std::span<const uint8_t> zip, const ZipEntry& e);

}  // namespace regain::gmnet
