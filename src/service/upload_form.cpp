#include "service/upload_form.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "regain/codec.h"

namespace regain::service {

namespace {
// The parts POST /process understands; the part's filename and Content-Type are never used
// (types are sniffed from the bytes, names are the server's own).
bool is_file_part(const std::string& n) { return n == "img" || n == "ref"; }
bool is_field_part(const std::string& n) {
  return n == "boost" || n == "format" || n == "require_alignment" || n == "background";
}

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

std::optional<HttpError> parse_process_params(const UploadForm& form, ProcessParams& p) {
  if (auto b = form.field("boost"); b && !b->empty() && *b != "auto") {
    double v = 0;
    auto [end, ec] = std::from_chars(b->data(), b->data() + b->size(), v);
    if (ec != std::errc() || end != b->data() + b->size() || !std::isfinite(v) || v < 0.01 || v > 8)
      return bad_request("boost must be a number of stops between 0.01 and 8 (or empty / \"auto\")");
    p.boost = v;
  }
  if (auto f = form.field("format"); f && !f->empty()) {
    auto fmt = parse_output_format(*f);
    if (!fmt) return bad_request("format must be jpeg, heic or avif");
    p.format = *fmt;
  }
  if (auto b = form.field("background"); b && !b->empty()) {
    auto bg = parse_background(*b);
    if (!bg) return bad_request(bg.error().message);
    p.background = *bg;
  }
  if (auto r = form.field("require_alignment")) {
    if (*r == "1" || *r == "true" || *r == "on" || *r == "yes") p.require_alignment = true;
    else if (!(r->empty() || *r == "0" || *r == "false" || *r == "off" || *r == "no"))
      return bad_request("require_alignment must be true or false");
  }
  return std::nullopt;
}

std::optional<HttpError> check_upload_types(const std::vector<uint8_t>& img, const std::vector<uint8_t>* ref) {
  const FileType t = sniff_file_type(img);
  if (t != FileType::Jpeg && t != FileType::Png && t != FileType::Tiff && t != FileType::Heif && t != FileType::Avif &&
      t != FileType::Webp)
    return unsupported_type(std::string("the edited image must be a JPEG, PNG, TIFF, HEIC, AVIF or WebP; this file is ") +
                            (t == FileType::Unknown ? "not an image type regain reads" : file_type_name(t)));
  if (ref) {
    const FileType r = sniff_file_type(*ref);
    if (r != FileType::Jpeg && r != FileType::Heif && r != FileType::Avif && r != FileType::Png &&
        r != FileType::Tiff && r != FileType::Exr)
      return unsupported_type("the original must be a gain-map JPEG/HEIC/AVIF or an HDR EXR, PNG or TIFF; this file is not");
  }
  return std::nullopt;
}

}  // namespace regain::service
