// The multipart form of POST /process, collected in memory while httplib streams the body:
// each image goes straight into its own buffer (one copy, capped), short text fields into
// strings, anything else is discarded. Nothing touches the disk. Problems are recorded
// rather than aborting the read, so the rest of the body is still consumed and the client
// gets a clean response on a reusable connection; only a body past the overall cap stops
// the read (the connection is then closed).
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "regain/process.h"
#include "service/http_errors.h"

namespace httplib {
struct MultipartFormData;
}

namespace regain::service {

class UploadForm {
 public:
  struct Limits {
    uint64_t max_file_bytes = 40ull << 20;   // per image part
    uint64_t max_total_bytes = 81ull << 20;  // the whole body as received (after any decoding)
    size_t max_field_bytes = 64;             // text fields
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  };
  explicit UploadForm(Limits limits) : limits_(limits) {}

  // httplib callbacks; false stops reading (only past max_total_bytes or the deadline).
  bool on_part(const httplib::MultipartFormData& header);
  bool on_data(const char* data, size_t n);

  // The first problem found: 413 for a part over its cap, 408 past the deadline, 400 for a
  // malformed form.
  const std::optional<HttpError>& problem() const { return problem_; }
  bool over_total() const { return over_total_; }

  bool has_file(const std::string& name) const { return files_.count(name) > 0; }
  std::vector<uint8_t> take_file(const std::string& name);  // empty when absent
  std::optional<std::string> field(const std::string& name) const;

 private:
  enum class Kind { File, Field, Ignored };
  void note(HttpError e) {
    if (!problem_) problem_ = std::move(e);
  }

  Limits limits_;
  uint64_t total_ = 0;
  bool over_total_ = false;
  Kind kind_ = Kind::Ignored;
  std::string current_;  // name of the part being read
  std::map<std::string, std::vector<uint8_t>> files_;
  std::map<std::string, std::string> fields_;
  std::optional<HttpError> problem_;
};

// The form's text fields as POST /process understands them.
struct ProcessParams {
  std::optional<double> boost;
  OutputFormat format = OutputFormat::Jpeg;
  bool require_alignment = false;
  std::array<uint8_t, 3> background{255, 255, 255};  // for transparent edits
};
// 400 for a field out of range or not understood; fills `p` otherwise.
std::optional<HttpError> parse_process_params(const UploadForm& form, ProcessParams& p);

// Types come from the bytes only; the part's filename and Content-Type are ignored. 415 for
// an edited image that is not JPEG/PNG or an original regain cannot read.
std::optional<HttpError> check_upload_types(const std::vector<uint8_t>& img, const std::vector<uint8_t>* ref);

}  // namespace regain::service
