// `regain extract FILE --out DIR`: base JPEG bytes, gain-map JPEG bytes and PNG, metadata JSON.
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "container/heif_decode.h"
#include "container/heif_json.h"
#include "regain/report.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

// A decoded HEIF picture as PNG: 8-bit as is, deeper samples widened to 16 bits, with its
// ICC or (nclx only) a cICP chunk.
Result<std::vector<uint8_t>> picture_png(const HeifPicture& p) {
  if (p.bit_depth <= 8) return encode_png8(heif_to_8bit(p), p.icc);
  Image16 wide(p.pixels.width(), p.pixels.height(), p.pixels.channels());
  const uint32_t max = (1u << p.bit_depth) - 1;
  for (size_t i = 0; i < wide.size(); ++i)
    wide.data()[i] = uint16_t((uint32_t(std::min<uint32_t>(p.pixels.data()[i], max)) * 65535 + max / 2) / max);
  std::optional<Cicp> cicp;
  if (p.nclx && p.icc.empty())
    cicp = Cicp{uint8_t(p.nclx->primaries), uint8_t(p.nclx->transfer), 0, 1};
  return encode_png16(wide, cicp, p.icc);
}

// HEIC / AVIF: the primary and the gain map decoded to PNG (displayed orientation), and the
// inspect JSON. Coded HEVC/AV1 bytes alone would not open anywhere.
int extract_heif(const std::vector<uint8_t>& bytes, const std::string& file, const std::filesystem::path& dir) {
  auto hf = read_heif(bytes);
  if (!hf) return report(hf.error(), file);
  const std::string stem = std::filesystem::path(file).stem().string();
  auto base = decode_heif_item(*hf, bytes, hf->primary);
  if (!base) return report(base.error(), file);
  auto png = picture_png(*base);
  if (!png) return report(png.error());
  if (auto r = write_output(dir / (stem + "_base.png"), *png); !r) return report(r.error());
  std::cout << (dir / (stem + "_base.png")).string() << "\n";
  if (hf->gain_map) {
    auto map = decode_heif_item(*hf, bytes, *hf->gain_map);
    if (!map) return report(map.error(), "gain map");
    auto mpng = encode_png8(heif_to_8bit(*map));
    if (!mpng) return report(mpng.error());
    if (auto r = write_output(dir / (stem + "_gainmap.png"), *mpng); !r) return report(r.error());
    std::cout << (dir / (stem + "_gainmap.png")).string() << "\n";
  }
  if (auto r = write_output(dir / (stem + "_meta.json"), json_text(heif_file_json(*hf), 2) + "\n"); !r) return report(r.error());
  std::cout << (dir / (stem + "_meta.json")).string() << "\n";
  if (!hf->gain_map) {
    std::cerr << "regain: " << file << ": no gain map (base and metadata written)\n";
    return kNotFound;
  }
  return kOk;
}

}  // namespace

Runner add_extract(CLI::App& app) {
  auto* cmd = app.add_subcommand("extract", "Write the base image, the gain map (as stored and PNG) and metadata JSON");
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("file", *file, "Gain-map JPEG, HEIC or AVIF")->required();
  cmd->add_option("--out", *out, "Output directory")->required();
  return [=]() -> int {
    auto bytes = read_input(*file);
    if (!bytes) return report(bytes.error());
    if (auto rc = refuse_non_container(*bytes, *file, "extract")) return *rc;
    std::filesystem::path dir(*out);
    const FileType type = sniff_file_type(*bytes);
    if (type == FileType::Heif || type == FileType::Avif) return extract_heif(*bytes, *file, dir);
    auto jr = read_jpegr(*bytes);
    if (!jr) return report(jr.error(), *file);
    const std::string stem = std::filesystem::path(*file).stem().string();
    auto base = strip_gain_map_signalling(jr->primary_bytes);
    if (!base) return report(base.error(), *file);
    if (auto r = write_output(dir / (stem + "_base.jpg"), *base); !r) return report(r.error());
    std::cout << (dir / (stem + "_base.jpg")).string() << "\n";
    nlohmann::json meta = jpegr_to_json(*jr);
    if (jr->gain_map) {
      if (auto r = write_output(dir / (stem + "_gainmap.jpg"), jr->gain_map_bytes); !r) return report(r.error());
      auto map = decode_jpeg(jr->gain_map_bytes);
      if (!map) return report(map.error(), "gain map");
      auto png = encode_png8(*map);
      if (!png) return report(png.error());
      if (auto r = write_output(dir / (stem + "_gainmap.png"), *png); !r) return report(r.error());
      std::cout << (dir / (stem + "_gainmap.jpg")).string() << "\n" << (dir / (stem + "_gainmap.png")).string() << "\n";
    }
    if (auto r = write_output(dir / (stem + "_meta.json"), json_text(meta, 2) + "\n"); !r) return report(r.error());
    std::cout << (dir / (stem + "_meta.json")).string() << "\n";
    if (!jr->gain_map) {
      std::cerr << "regain: " << *file << ": no gain map (base and metadata written)\n";
      return kNotFound;
    }
    return kOk;
  };
}

}  // namespace regain::cli
