#include "cli/common.h"

#include <iostream>

#include "regain/codec.h"
#include "util/exit_code.h"

namespace regain::cli {

// The codes themselves live in util/exit_code.h (the Python module uses them too).
static_assert(exit_code_of(ErrorCode::InvalidInput) == kInvalidInput && exit_code_of(ErrorCode::Unsupported) == kUnsupported &&
              exit_code_of(ErrorCode::TooLarge) == kTooLarge && exit_code_of(ErrorCode::NotFound) == kNotFound &&
              exit_code_of(ErrorCode::Io) == kIo && exit_code_of(ErrorCode::Internal) == kInternal);

int exit_code_for(const Error& e) { return exit_code_of(e.code); }

int report(const Error& e, const std::string& context) {
  std::cerr << "regain: " << (context.empty() ? "" : context + ": ") << e.message << "\n";
  return exit_code_for(e);
}

std::optional<int> refuse_non_container(std::span<const uint8_t> bytes, const std::string& file, const char* command) {
  const FileType t = sniff_file_type(bytes);
  if (t == FileType::Unknown || may_carry_gain_map(t)) return std::nullopt;
  return report(Error{ErrorCode::Unsupported, std::string(command) + " handles JPEG, HEIC and AVIF files; this is " +
                                                  file_type_name(t)},
                file);
}

}  // namespace regain::cli
