#include "service/http_errors.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace regain::service {

HttpError http_error_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::InvalidInput: return {400, "invalid_image", e.message};
    case ErrorCode::TooLarge: return {413, "too_large", e.message};
    case ErrorCode::Unsupported: return {422, "unusable_image", e.message};
    case ErrorCode::NotFound: return {422, "unusable_image", e.message};
    case ErrorCode::Io:
    case ErrorCode::Internal: break;
  }
  return {500, "internal", e.message};
}

HttpError bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }
HttpError unsupported_type(std::string message) { return {400, "unsupported_type", std::move(message)}; }
HttpError too_large(std::string message) { return {413, "too_large", std::move(message)}; }
HttpError upload_too_slow() { return {408, "upload_timeout", "the upload did not arrive in time"}; }
HttpError unusable(std::string code, std::string message) { return {422, std::move(code), std::move(message)}; }
HttpError not_found(std::string message) { return {404, "not_found", std::move(message)}; }
HttpError busy(int retry_after_s) {
  return {503, "busy", "all workers are busy and the queue is full; retry in a moment", std::max(1, retry_after_s)};
}
HttpError shutting_down() { return {503, "shutting_down", "the server is stopping", 5}; }
HttpError deadline_passed(double seconds) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "processing took longer than %.3g s; the job was cancelled", seconds);
  return {504, "timeout", buf};
}
HttpError internal(std::string message) { return {500, "internal", std::move(message)}; }

std::string error_json(const std::string& code, const std::string& message) {
  // dump() with replacement: messages can quote bytes from a broken file.
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
             -1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string code_for_status(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "upload_timeout";
    case 413: return "too_large";
    case 414: return "uri_too_long";
    case 416: return "bad_range";
    case 503: return "busy";
    default: return status >= 500 ? "internal" : "http_" + std::to_string(status);
  }
}

void send_error(httplib::Response& res, const HttpError& e) {
  res.status = e.status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  res.set_header("Cache-Control", "no-store");
  res.set_content(error_json(e.code, e.message), "application/json");
}

HttpError store_error(const Error& e) {
  if (e.code == ErrorCode::TooLarge) return HttpError{503, "store_full", e.message, 5};
  if (e.code == ErrorCode::Unsupported) return HttpError{507, "result_too_large", e.message};  // retrying cannot help
  return HttpError{503, "store_unavailable", e.message, 2};
}

}  // namespace regain::service
