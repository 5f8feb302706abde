// JSON forms shared by the CLI (`inspect --json`, `extract`, `encode --meta`) and the service.
// These are a documented contract (README "JSON contract"): fields are only ever added.
#pragma once
#include <nlohmann/json.hpp>

#include "regain/gainmap.h"
#include "regain/jpegr.h"

namespace regain {

nlohmann::json metadata_to_json(const GainMapMetadata& m);
// Accepts what metadata_to_json writes; missing optional fields take ISO defaults.
Result<GainMapMetadata> metadata_from_json(const nlohmann::json& j);
nlohmann::json jpegr_to_json(const JpegrFile& f);

}  // namespace regain
