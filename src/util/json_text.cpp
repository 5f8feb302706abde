#include "util/json_text.h"

namespace regain {

namespace {
// Length of the well-formed UTF-8 sequence at s[i] (Unicode 15, table 3-7), 0 if none.
size_t sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? uint8_t(s[i + k]) : 0; };
  const auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xBF) { return b(k) >= lo && b(k) <= hi; };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = sequence_length(s, i);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    }
  }
  return out;
}

void make_utf8(nlohmann::json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    std::string v = valid_utf8(s);
    if (v != s) s = std::move(v);
  } else if (j.is_array()) {
    for (auto& e : j) make_utf8(e);
  } else if (j.is_object()) {
    nlohmann::json fixed = nlohmann::json::object();
    bool keys_changed = false;
    for (auto& [k, v] : j.items()) {
      make_utf8(v);
      std::string key = valid_utf8(k);
      keys_changed |= key != k;
      fixed[key] = v;
    }
    if (keys_changed) j = std::move(fixed);
  }
}

}  // namespace regain
