// Error type shared by every layer. All fallible calls return Result<T>; the CLI and the
// service turn an Error into a message and an exit code / HTTP status at their edge.
#pragma once
#include "regain/export.h"
#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace regain {

enum class ErrorCode {
  InvalidInput,   // bytes are not what they claim to be (truncated, bad offsets, bad values)
  Unsupported,    // well-formed but a feature we do not handle
  TooLarge,       // over a size / pixel limit (decompression-bomb guard)
  NotFound,       // a requested part is absent (e.g. no gain map)
  Io,             // file system
  Internal,       // a library we call failed unexpectedly
};

REGAIN_API const char* error_code_name(ErrorCode c);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// Prefixes context to an error as it travels up: "gain map: MPF: entry 1 offset past end".
inline Error with_context(Error e, const std::string& context) {
  e.message = context + ": " + e.message;
  return e;
}

}  // namespace regain

// Propagate an error from an expression returning Result<...>; yields the value otherwise.
#define REGAIN_TRY(var, expr)                                  \
  auto var##_result_ = (expr);                                 \
  if (!var##_result_) return tl::unexpected(var##_result_.error()); \
  auto var = std::move(*var##_result_)

#define REGAIN_CHECK(expr)                                    \
  do {                                                        \
    auto check_result_ = (expr);                              \
    if (!check_result_) return tl::unexpected(check_result_.error()); \
  } while (0)
