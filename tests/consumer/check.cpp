// More of the public API than the README example, from outside the project: read an Ultra HDR
// JPEG's structure and metadata, decode its HDR rendition, and print what a script would
// compare with `regain inspect --json`. Usage: check ULTRAHDR.jpg
#include <regain/jpegr.h>
#include <regain/pipeline.h>
#include <regain/report.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream f(argv[1], std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), {}};
  auto jr = regain::read_jpegr(bytes);
  if (!jr || !jr->metadata) return 3;
  auto hdr = regain::decode_gainmap_hdr(bytes);
  if (!hdr) {
    std::fprintf(stderr, "%s\n", hdr.error().message.c_str());
    return 4;
  }
  auto j = regain::inspect_json(bytes);
  if (!j) return 5;
  std::printf("%dx%d headroom %.6f source %s inspect_headroom %.6f\n", hdr->rgb.width(), hdr->rgb.height(),
              jr->metadata->alternate_headroom, regain::metadata_source_name(jr->source),
              (*j)["gain_map"]["metadata"]["alternate_hdr_headroom"].get<double>());
  return 0;
}
