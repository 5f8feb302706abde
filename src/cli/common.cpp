#include "cli/common.h"

#include <iostream>

namespace regain::cli {

int exit_code_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::InvalidInput: return kInvalidInput;
    case ErrorCode::Unsupported: return kUnsupported;
    case ErrorCode::TooLarge: return kTooLarge;
    case ErrorCode::NotFound: return kNotFound;
    case ErrorCode::Io: return kIo;
    case ErrorCode::Internal: return kInternal;
  }
  return kFailure;
}

int report(const Error& e, const std::string& context) {
  std::cerr << "regain: " << (context.empty() ? "" : context + ": ") << e.message << "\n";
  return exit_code_for(e);
}

}  // namespace regain::cli
