// POST /process's form handling: the part sequence httplib's multipart reader hands over
// (names, chunked data, repeats, oversize parts and fields), then the field parsing and the
// type check the route runs. Input records: [part selector][length][bytes], each part's bytes
// delivered in two chunks.
#include <httplib.h>

#include <cstdint>
#include <string>

#include "service/upload_form.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kNames[] = {"img", "ref", "boost", "format", "require_alignment", "other", ""};
  regain::service::UploadForm::Limits limits;
  limits.max_file_bytes = 4096;
  limits.max_total_bytes = 16384;
  regain::service::UploadForm form(limits);
  size_t p = 0;
  while (p + 2 <= size) {
    httplib::MultipartFormData h;
    h.name = kNames[data[p] % 7];
    const size_t len = std::min<size_t>(data[p + 1] | (size_t(data[p] >> 4) << 8), size - p - 2);
    p += 2;
    if (!form.on_part(h)) break;
    const size_t half = len / 2;
    const char* d = reinterpret_cast<const char*>(data + p);
    if (!form.on_data(d, half) || !form.on_data(d + half, len - half)) break;
    p += len;
  }
  regain::service::ProcessParams params;
  (void)regain::service::parse_process_params(form, params);
  if (form.has_file("img")) {
    std::vector<uint8_t> img = form.take_file("img");
    std::vector<uint8_t> ref = form.take_file("ref");
    (void)regain::service::check_upload_types(img, ref.empty() ? nullptr : &ref);
  }
  return 0;
}
