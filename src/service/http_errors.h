// Every error the service sends is JSON {"error":{"code","message"}}; the HTTP status of
// each kind of failure is decided here and nowhere else.
#pragma once
#include <string>

#include "regain/error.h"

namespace httplib {
struct Response;
}

namespace regain::service {

struct HttpError {
  int status = 500;
  std::string code;        // stable word for programs: "too_large", "busy", ...
  std::string message;     // for people
  int retry_after_s = 0;   // > 0: a Retry-After header (503)
};

// A pipeline failure (process_image) as an HTTP error. The edited image's and the original's
// types were already sniffed as supported, so "Unsupported" / "NotFound" here mean a valid
// file the pipeline cannot use (grey PNG, original without a gain map): 422. Unreadable
// bytes are 400, decompression-bomb / pixel limits 413.
HttpError http_error_for(const Error& e);

HttpError bad_request(std::string message);        // 400 malformed request or form field
HttpError unsupported_type(std::string message);   // 400 bytes are no image type we take
HttpError too_large(std::string message);          // 413
HttpError upload_too_slow();                       // 408 the body did not arrive in time
HttpError unusable(std::string code, std::string message);  // 422
HttpError not_found(std::string message);          // 404
HttpError busy(int retry_after_s);                 // 503 workers busy and queue full
HttpError shutting_down();                         // 503 the server is stopping
HttpError deadline_passed(double seconds);         // 504 the job was abandoned
HttpError internal(std::string message);           // 500
// The result store could not take or give a result: 503 "store_full" (Redis at maxmemory) or
// "store_unavailable" (cannot be reached), so a client retries and a balancer drains; 507
// "result_too_large" for a result over the store's per-result cap (retrying cannot help).
HttpError store_error(const Error& e);

std::string error_json(const std::string& code, const std::string& message);
// For statuses httplib produced itself (bad request line, 404 route, 413 Content-Length).
std::string code_for_status(int status);

void send_error(httplib::Response& res, const HttpError& e);

}  // namespace regain::service
