// JSON from files: strings read out of users' files (XMP values, ICC descriptions, HEIF
// handler names, file names) can hold any bytes, and nlohmann::json refuses to write invalid
// UTF-8 (it throws). Documents built from file content are made valid where they are built
// (make_utf8), and every JSON text we write goes through json_text, which replaces what is
// left instead of throwing.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace regain {

// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);
// The same for every string and object key in `j`, recursively.
void make_utf8(nlohmann::json& j);
// j.dump(indent) that never throws on strings.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace regain
