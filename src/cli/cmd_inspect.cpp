// `regain inspect FILE [--json]`: structure, metadata flavours, values and interop warnings.
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "container/xmp.h"
#include "regain/codec.h"
#include "regain/report.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

void print_part(const char* title, const nlohmann::json& p) {
  std::cout << title << ": " << p["width"] << "x" << p["height"] << ", " << p["components"]
            << " component(s), bytes " << p["offset"] << ".." << (p["offset"].get<size_t>() + p["size"].get<size_t>())
            << "\n";
  for (const auto& s : p["segments"])
    std::cout << "  " << s["marker"].get<std::string>() << " @" << s["offset"] << " (" << s["size"] << " B)"
              << (s["kind"].get<std::string>().empty() ? "" : "  " + s["kind"].get<std::string>()) << "\n";
}

// The winning metadata of a gain map (JPEG or HEIF summary JSON), one line per channel.
void print_metadata(const nlohmann::json& g) {
  if (!g["metadata"].is_null()) {
    const auto& m = g["metadata"];
    std::cout << "  headroom base " << format_double(m["base_hdr_headroom"]) << ", alternate "
              << format_double(m["alternate_hdr_headroom"]) << " stops; "
              << (m["multichannel"].get<bool>() ? "3 channels" : "1 channel") << "; curve "
              << m["curve"].get<std::string>() << "\n";
    const char* names[3] = {"R", "G", "B"};
    for (int c = 0; c < (m["multichannel"].get<bool>() ? 3 : 1); ++c) {
      const auto& ch = m["channels"][c];
      std::cout << "  " << (m["multichannel"].get<bool>() ? names[c] : "all") << ": min "
                << format_double(ch["gain_map_min"]) << " max " << format_double(ch["gain_map_max"]) << " gamma "
                << format_double(ch["gamma"]) << " offsets " << format_double(ch["base_offset"]) << "/"
                << format_double(ch["alternate_offset"]) << "\n";
    }
  }
}

void print_text(const nlohmann::json& j) {
  std::cout << "primary " << j["width"] << "x" << j["height"] << " (orientation " << j["orientation"]
            << ", displayed " << j["display_width"] << "x" << j["display_height"] << ")\n";
  print_part("primary image", j["primary"]);
  for (const auto& e : j["mpf"])
    std::cout << "MPF entry: offset " << e["offset"] << " -> file " << e["file_offset"] << ", size " << e["size"]
              << (e["valid"].get<bool>() ? "" : "  (does not point at a JPEG)") << "\n";
  if (j["gain_map"].is_null()) {
    std::cout << "gain map: none\n";
  } else {
    const auto& g = j["gain_map"];
    print_part("gain-map image", g);
    std::cout << "metadata source: " << g["metadata_source"].get<std::string>() << "\n";
    print_metadata(g);
    if (!g["apple"].is_null() && !g["apple"]["headroom"].is_null())
      std::cout << "  Apple headroom " << format_double(g["apple"]["headroom"]) << " (linear)\n";
  }
  for (const auto& w : j["warnings"]) std::cout << "warning: " << w.get<std::string>() << "\n";
  if (j["repair_would_help"].get<bool>()) std::cout << "hint: `regain repair` would make more readers show the HDR rendition\n";
}

// HEIF/AVIF: the product summary, then one line per item of the structure.
void print_heif_text(const nlohmann::json& j) {
  std::cout << j["format"].get<std::string>() << " (brand " << j["major_brand"].get<std::string>() << ") primary "
            << j["width"] << "x" << j["height"] << ", displayed " << j["display_width"] << "x" << j["display_height"]
            << " (EXIF orientation " << j["orientation"] << ", informational in HEIF)\n";
  if (j["gain_map"].is_null()) {
    std::cout << "gain map: none\n";
  } else {
    const auto& g = j["gain_map"];
    std::cout << "gain map: item " << g["item_id"] << ", " << g["width"] << "x" << g["height"] << ", "
              << g["channels"] << " channel(s), metadata " << g["metadata_source"].get<std::string>() << "\n";
    print_metadata(g);
    if (!g["apple"].is_null() && !g["apple"]["headroom"].is_null())
      std::cout << "  Apple headroom " << format_double(g["apple"]["headroom"]) << " (linear)\n";
  }
  if (!j["tmap"].is_null())
    std::cout << "tmap item " << j["tmap"]["item_id"] << " (brand " << (j["tmap"]["brand"].get<bool>() ? "yes" : "no")
              << ", altr group " << (j["tmap"]["altr_group"].get<bool>() ? "yes" : "no") << ")\n";
  for (const auto& it : j["structure"]["items"]) {
    std::cout << "  item " << it["id"] << " " << it["type"].get<std::string>() << (it["hidden"].get<bool>() ? " hidden" : "");
    for (const auto& p : it["properties"]) std::cout << " " << p["type"].get<std::string>();
    for (const auto& r : it["references"]) std::cout << " ->" << r["type"].get<std::string>() << r["to"].dump();
    std::cout << "\n";
  }
  for (const auto& w : j["warnings"]) std::cout << "warning: " << w.get<std::string>() << "\n";
  if (j["damaged"].get<bool>()) std::cout << "damaged: " << j["damage"].get<std::string>() << "\n";
}

}  // namespace

Runner add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show segments, MPF, metadata flavours and values, interop warnings");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("file", *file, "Image file")->required();
  cmd->add_flag("--json", *json, "Machine-readable output (see README: JSON contract)");
  return [=]() -> int {
    auto bytes = read_input(*file);
    if (!bytes) return report(bytes.error());
    auto j = inspect_json(*bytes);
    if (!j) return report(j.error(), *file);
    (*j)["file"] = *file;
    (*j)["size_bytes"] = bytes->size();
    const FileType t = sniff_file_type(*bytes);
    if (*json) std::cout << json_text(*j, 2) << "\n";
    else if (t == FileType::Heif || t == FileType::Avif) print_heif_text(*j);
    else print_text(*j);
    return kOk;
  };
}

}  // namespace regain::cli
