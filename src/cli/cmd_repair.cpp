// `regain repair FILE --out O.jpg|O.heic`: re-pack so every reader finds the gain map (JPEG:
// MPF and both metadata flavours; HEIC/AVIF: an ISO tmap item added to aux-only files).
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/pipeline.h"

namespace regain::cli {

Runner add_repair(CLI::App& app) {
  auto* cmd = app.add_subcommand("repair", "Rewrite MPF and metadata so Chrome, Android and Apple show the gain map");
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("file", *file, "Gain-map JPEG, HEIC or AVIF")->required();
  cmd->add_option("--out", *out, "Output file (same format as the input)")->required();
  return [=]() -> int {
    auto bytes = read_input(*file);
    if (!bytes) return report(bytes.error());
    if (auto rc = refuse_non_container(*bytes, *file, "repair")) return *rc;
    const FileType t = sniff_file_type(*bytes);
    auto r = (t == FileType::Heif || t == FileType::Avif) ? repair_heif(*bytes) : repair_jpegr(*bytes);
    if (!r) return report(r.error(), *file);
    if (auto w = write_output(*out, r->bytes); !w) return report(w.error());
    for (const auto& f : r->fixes) std::cout << f << "\n";
    std::cout << "wrote " << *out << " (" << r->bytes.size() << " bytes)\n";
    return kOk;
  };
}

}  // namespace regain::cli
