// Bounds-checked big/little-endian reading and appending. Every parser in the containers
// layer reads through ByteReader so that no length or offset is trusted unchecked.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regain/error.h"

namespace regain {

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> data, bool big_endian = true)
      : data_(data), big_endian_(big_endian) {}

  size_t size() const { return data_.size(); }
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool big_endian() const { return big_endian_; }
  void set_big_endian(bool be) { big_endian_ = be; }
  std::span<const uint8_t> data() const { return data_; }

  bool seek(size_t p) {
    if (p > data_.size()) return false;
    pos_ = p;
    return true;
  }
  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (remaining() < 2) return false;
    const uint8_t* p = &data_[pos_];
    v = big_endian_ ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (remaining() < 4) return false;
    const uint8_t* p = &data_[pos_];
    v = big_endian_ ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
                    : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
    pos_ += 4;
    return true;
  }
  bool u64(uint64_t& v) {
    uint32_t a = 0, b = 0;
    if (remaining() < 8) return false;
    u32(a);
    u32(b);
    v = big_endian_ ? (uint64_t(a) << 32 | b) : (uint64_t(b) << 32 | a);
    return true;
  }
  bool s32(int32_t& v) {
    uint32_t u;
    if (!u32(u)) return false;
    v = int32_t(u);
    return true;
  }
  bool bytes(size_t n, std::span<const uint8_t>& out) {
    if (n > remaining()) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool big_endian_;
};

class ByteWriter {
 public:
  explicit ByteWriter(bool big_endian = true) : big_endian_(big_endian) {}
  std::vector<uint8_t>& bytes() { return out_; }
  std::vector<uint8_t> take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    if (big_endian_) { u8(uint8_t(v >> 8)); u8(uint8_t(v)); }
    else { u8(uint8_t(v)); u8(uint8_t(v >> 8)); }
  }
  void u32(uint32_t v) {
    if (big_endian_) { u16(uint16_t(v >> 16)); u16(uint16_t(v)); }
    else { u16(uint16_t(v)); u16(uint16_t(v >> 16)); }
  }
  void s32(int32_t v) { u32(uint32_t(v)); }
  void append(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void append(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  void put_u16_at(size_t pos, uint16_t v) {
    if (big_endian_) { out_[pos] = uint8_t(v >> 8); out_[pos + 1] = uint8_t(v); }
    else { out_[pos] = uint8_t(v); out_[pos + 1] = uint8_t(v >> 8); }
  }
  void put_u32_at(size_t pos, uint32_t v) {
    if (big_endian_) { put_u16_at(pos, uint16_t(v >> 16)); put_u16_at(pos + 2, uint16_t(v)); }
    else { put_u16_at(pos, uint16_t(v)); put_u16_at(pos + 2, uint16_t(v >> 16)); }
  }

 private:
  std::vector<uint8_t> out_;
  bool big_endian_;
};

inline bool starts_with(std::span<const uint8_t> data, std::string_view prefix) {
  return data.size() >= prefix.size() && std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace regain
