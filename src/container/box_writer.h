// Writing ISOBMFF boxes: a box is opened, filled, and closed, which patches its 32-bit size.
// Nested boxes close in reverse order (a stack), so callers never compute sizes by hand.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "util/bytes.h"

namespace regain {

class BoxWriter {
 public:
  ByteWriter& out() { return w_; }
  size_t size() const { return w_.size(); }
  std::vector<uint8_t> take() { return w_.take(); }

  void open(std::string_view type) {
    open_.push_back(w_.size());
    w_.u32(0);  // patched by close()
    w_.append(type.substr(0, 4));
  }
  void open_full(std::string_view type, uint8_t version, uint32_t flags) {
    open(type);
    w_.u32(uint32_t(version) << 24 | (flags & 0xFFFFFF));
  }
  void close() {
    size_t start = open_.back();
    open_.pop_back();
    w_.put_u32_at(start, uint32_t(w_.size() - start));
  }
  // A null-terminated UTF-8 string, as infe names, hdlr names and auxC types are stored.
  void cstring(std::string_view s) {
    w_.append(s);
    w_.u8(0);
  }

 private:
  ByteWriter w_;
  std::vector<size_t> open_;
};

}  // namespace regain
