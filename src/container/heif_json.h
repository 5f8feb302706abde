// JSON views of a HEIF file for `regain inspect --json` and the service: the whole item
// structure, and the product summary (same spirit and field names as jpegr_to_json).
#pragma once
#include <nlohmann/json.hpp>

#include "container/heif_gainmap.h"
#include "container/heif_structure.h"

namespace regain {

// Brands, top-level boxes, items (type, name, hidden, data size, properties with decoded
// values, references), entity groups and warnings.
nlohmann::json heif_structure_json(const heif::HeifStructure& s);
nlohmann::json heif_property_json(const heif::Property& p);
// Every box of the file as a tree (isobmff::read_box_tree): type, offset, size, children.
nlohmann::json box_tree_json(const std::vector<isobmff::BoxNode>& nodes);
// Summary: primary and gain-map images, metadata flavours, Apple headroom, orientation,
// warnings, damage; "structure" holds heif_structure_json.
nlohmann::json heif_file_json(const HeifFile& f);

}  // namespace regain
