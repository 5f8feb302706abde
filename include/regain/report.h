// JSON forms shared by the CLI (`inspect --json`, `extract`, `encode --meta`) and the service.
// These are a documented contract (README "JSON contract"): fields are only ever added.
#pragma once
#include "regain/export.h"
#include <nlohmann/json.hpp>

#include "regain/gainmap.h"
#include "regain/jpegr.h"

namespace regain {

REGAIN_API nlohmann::json metadata_to_json(const GainMapMetadata& m);
// Accepts what metadata_to_json writes; missing optional fields take ISO defaults.
REGAIN_API Result<GainMapMetadata> metadata_from_json(const nlohmann::json& j);
REGAIN_API nlohmann::json jpegr_to_json(const JpegrFile& f);
// What `regain inspect --json` prints for a file's bytes (without its "file" and "size_bytes"
// fields, which the caller knows): JPEG (any gain-map flavour or none), HEIC or AVIF.
// Unsupported for other types, InvalidInput for broken structure.
REGAIN_API Result<nlohmann::json> inspect_json(std::span<const uint8_t> file);

}  // namespace regain
