#include "regain/error.h"

namespace regain {

const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidInput: return "invalid_input";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::TooLarge: return "too_large";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::Io: return "io";
    case ErrorCode::Internal: return "internal";
  }
  return "internal";
}

}  // namespace regain
