// MSB-first bit reading for codec headers (HEVC parameter sets, AV1 sequence headers).
// Reads past the end never fault: they yield zeros and set a sticky flag the parser checks
// once at the points where a wrong value would matter (sizes, loop counts).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace regain::bits {

class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}

  bool overrun() const { return overrun_; }
  size_t bits_left() const { return pos_ >= data_.size() * 8 ? 0 : data_.size() * 8 - pos_; }
  size_t bit_pos() const { return pos_; }

  // n <= 32.
  uint32_t u(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  bool flag() { return bit() != 0; }
  void skip(size_t n) {
    if (n > bits_left()) overrun_ = true;
    pos_ += n;
  }

  // Exp-Golomb ue(v). Codes longer than 32 bits are invalid in every syntax element we
  // read; they set the overrun flag rather than produce a wrapped value.
  uint32_t ue() {
    int zeros = 0;
    while (bit() == 0) {
      if (++zeros > 31 || overrun_) {
        overrun_ = true;
        return 0;
      }
    }
    if (zeros == 0) return 0;
    return uint32_t((uint64_t(1) << zeros) - 1 + u(zeros));
  }
  int32_t se() {
    uint32_t k = ue();
    return (k & 1) ? int32_t((k + 1) / 2) : -int32_t(k / 2);
  }

  // AV1 leb128 (byte aligned use only): at most 8 bytes, value must fit 32 bits.
  uint64_t leb128() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      uint32_t b = u(8);
      v |= uint64_t(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) return v;
    }
    overrun_ = true;
    return 0;
  }

  // AV1 uvlc().
  uint32_t uvlc() {
    int zeros = 0;
    while (bit() == 0) {
      if (++zeros >= 32 || overrun_) {
        overrun_ = true;
        return 0;
      }
    }
    return uint32_t((uint64_t(1) << zeros) - 1 + u(zeros));
  }

 private:
  uint32_t bit() {
    if (pos_ >= data_.size() * 8) {
      overrun_ = true;
      return 0;
    }
    uint32_t b = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
    ++pos_;
    return b;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

// HEVC NAL payload -> RBSP: drops the emulation-prevention 0x03 in every 00 00 03 sequence.
inline std::vector<uint8_t> unescape_rbsp(std::span<const uint8_t> nal) {
  std::vector<uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (uint8_t b : nal) {
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

}  // namespace regain::bits
