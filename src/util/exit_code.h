// The process exit code for a library error (README "Exit codes"): the CLI exits with it and
// the Python module's regain.Error carries it as .exit_code, so scripts map both the same way.
#pragma once
#include "regain/error.h"

namespace regain {

constexpr int exit_code_of(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidInput: return 3;
    case ErrorCode::Unsupported: return 4;
    case ErrorCode::TooLarge: return 5;
    case ErrorCode::NotFound: return 6;
    case ErrorCode::Io: return 7;
    case ErrorCode::Internal: return 8;
  }
  return 1;
}

}  // namespace regain
