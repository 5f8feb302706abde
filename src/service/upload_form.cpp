#include "service/upload_form.h"

#include <httplib.h>

#include <algorithm>

namespace regain::service {

namespace {
// The parts POST /process understands; the part's filename and Content-Type are never used
// (types are sniffed from the bytes, names are the server's own).
bool is_file_part(const std::string& n) { return n == "img" || n == "ref"; }
bool is_field_part(const std::string& n) { return n == "boost" || n == "format" || n == "require_alignment"; }

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MB"; }
}  // namespace

bool UploadForm::on_part(const httplib::MultipartFormData& header) {
  current_ = header.name;
  if (is_file_part(current_)) {
    kind_ = Kind::File;
    if (files_.count(current_)) {
      note(bad_request("the form has more than one '" + current_ + "' part"));
      kind_ = Kind::Ignored;
    } else {
      files_[current_];
    }
  } else if (is_field_part(current_)) {
    kind_ = Kind::Field;
    if (fields_.count(current_)) {
      note(bad_request("the form has more than one '" + current_ + "' field"));
      kind_ = Kind::Ignored;
    } else {
      fields_[current_];
    }
  } else {
    kind_ = Kind::Ignored;  // unknown parts are read past, not kept
  }
  return true;
}

bool UploadForm::on_data(const char* data, size_t n) {
  if (std::chrono::steady_clock::now() > limits_.deadline) {
    over_total_ = true;
    note(upload_too_slow());
    return false;
  }
  total_ += n;
  if (total_ > limits_.max_total_bytes) {
    over_total_ = true;
    note(too_large("the upload is larger than " + mib(limits_.max_total_bytes)));
    return false;
  }
  if (kind_ == Kind::File) {
    auto& buf = files_[current_];
    if (buf.size() + n > limits_.max_file_bytes) {
      note(too_large("'" + current_ + "' is larger than the " + mib(limits_.max_file_bytes) + " limit"));
      std::vector<uint8_t>().swap(buf);  // the rest of this part is discarded
      kind_ = Kind::Ignored;
      return true;
    }
    buf.insert(buf.end(), reinterpret_cast<const uint8_t*>(data), reinterpret_cast<const uint8_t*>(data) + n);
  } else if (kind_ == Kind::Field) {
    auto& s = fields_[current_];
    if (s.size() + n > limits_.max_field_bytes) {
      note(bad_request("the '" + current_ + "' field is too long"));
      kind_ = Kind::Ignored;
      return true;
    }
    s.append(data, n);
  }
  return true;
}

std::vector<uint8_t> UploadForm::take_file(const std::string& name) {
  auto it = files_.find(name);
  if (it == files_.end()) return {};
  std::vector<uint8_t> v = std::move(it->second);
  files_.erase(it);
  return v;
}

std::optional<std::string> UploadForm::field(const std::string& name) const {
  auto it = fields_.find(name);
  if (it == fields_.end()) return std::nullopt;
  return it->second;
}

}  // namespace regain::service
