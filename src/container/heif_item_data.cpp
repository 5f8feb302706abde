// Item data (iloc extents, ISO/IEC 14496-12 8.11.3) and 'grid' derived images
// (ISO/IEC 23008-12 6.6.2.3, with the MIAF tiling constraints).
#include <algorithm>

#include "container/heif_structure.h"
#include "container/heif_util.h"

namespace regain::heif {

namespace {

bool is_derived_type(uint32_t t) {
  return t == fourcc("grid") || t == fourcc("iovl") || t == fourcc("iden") || t == fourcc("tmap");
}

}  // namespace

Result<std::vector<FileRange>> item_ranges(const HeifStructure& s, uint32_t item_id) {
  const Item* it = s.item(item_id);
  const std::string where = detail::item_label(item_id);
  if (!it) return fail(ErrorCode::NotFound, where + " does not exist");
  if (!it->location) return fail(ErrorCode::InvalidInput, "iloc: " + where + " has no location (no data)");
  const ItemLocation& loc = *it->location;
  if (loc.data_reference_index != 0)
    return fail(ErrorCode::Unsupported, "iloc: " + where + " keeps its data in another file (data_reference_index " +
                                            std::to_string(loc.data_reference_index) + ")");
  FileRange container{0, s.file_size};
  const char* container_name = "file";
  switch (loc.construction_method) {
    case 0:
      break;
    case 1:
      if (!s.idat)
        return fail(ErrorCode::InvalidInput, "iloc: " + where + " lives in 'idat' but meta has no idat box");
      container = *s.idat;
      container_name = "idat";
      break;
    case 2:
      return fail(ErrorCode::Unsupported,
                  "iloc: " + where + " uses construction_method 2 (data taken from another item), not supported");
    default:
      return fail(ErrorCode::InvalidInput, "iloc: " + where + " has unknown construction_method " +
                                               std::to_string(loc.construction_method));
  }
  std::vector<FileRange> out;
  out.reserve(loc.extents.size());
  for (size_t k = 0; k < loc.extents.size(); ++k) {
    const Extent& e = loc.extents[k];
    const uint64_t start = loc.base_offset + e.offset;
    const bool overflow = start < loc.base_offset;
    if (overflow || start > container.size || (e.length == 0 && start == container.size) ||
        e.length > container.size - start)
      return fail(ErrorCode::InvalidInput,
                  "iloc: extent " + std::to_string(k) + " of " + where + " (offset " + std::to_string(start) +
                      ", length " + std::to_string(e.length) + ") past the end of the " + container_name + " (" +
                      std::to_string(container.size) + " bytes)");
    const uint64_t length = e.length ? e.length : container.size - start;
    out.push_back({container.offset + start, length});
  }
  return out;
}

Result<std::vector<uint8_t>> read_item_data(const HeifStructure& s, ByteView file, uint32_t item_id,
                                            uint64_t max_bytes) {
  if (file.size() != s.file_size)
    return fail(ErrorCode::InvalidInput, "read_item_data: buffer is not the file the structure was read from");
  REGAIN_TRY(ranges, item_ranges(s, item_id));
  uint64_t total = 0;
  for (const auto& r : ranges) {
    total += r.size;  // each r.size <= file size, so the sum cannot wrap for any sane count
    if (total > max_bytes)
      return fail(ErrorCode::TooLarge, detail::item_label(item_id) + ": data is larger than " +
                                           std::to_string(max_bytes) + " bytes");
  }
  std::vector<uint8_t> out;
  out.reserve(size_t(total));
  for (const auto& r : ranges) {
    auto part = file.subspan(size_t(r.offset), size_t(r.size));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

Result<ByteView> item_data_view(const HeifStructure& s, ByteView file, uint32_t item_id) {
  if (file.size() != s.file_size)
    return fail(ErrorCode::InvalidInput, "item_data_view: buffer is not the file the structure was read from");
  REGAIN_TRY(ranges, item_ranges(s, item_id));
  if (ranges.empty()) return ByteView{};
  uint64_t end = ranges[0].offset + ranges[0].size;
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].offset != end)
      return fail(ErrorCode::Unsupported, detail::item_label(item_id) + ": data is split into " +
                                              std::to_string(ranges.size()) + " separate extents");
    end += ranges[i].size;
  }
  return file.subspan(size_t(ranges[0].offset), size_t(end - ranges[0].offset));
}

Result<GridLayout> read_grid(const HeifStructure& s, ByteView file, uint32_t grid_item_id, const Limits& limits,
                             std::vector<std::string>* warnings) {
  const std::string where = "grid " + detail::item_label(grid_item_id);
  const Item* it = s.item(grid_item_id);
  if (!it) return fail(ErrorCode::NotFound, where + " does not exist");
  if (it->type != fourcc("grid"))
    return fail(ErrorCode::InvalidInput, where + " has type '" + fourcc_name(it->type) + "'");
  auto data = read_item_data(s, file, grid_item_id, 64);
  if (!data) return tl::unexpected(with_context(data.error(), where));
  ByteReader r(*data);
  uint8_t version = 0, flags = 0, rows1 = 0, cols1 = 0;
  if (!r.u8(version) || !r.u8(flags)) return fail(ErrorCode::InvalidInput, where + ": data truncated");
  if (version != 0)
    return fail(ErrorCode::Unsupported, where + ": version " + std::to_string(version) + " is not understood");
  GridLayout g;
  bool ok = r.u8(rows1) && r.u8(cols1);
  if (flags & 1) {
    ok = ok && r.u32(g.output_width) && r.u32(g.output_height);
  } else {
    uint16_t w = 0, h = 0;
    ok = ok && r.u16(w) && r.u16(h);
    g.output_width = w;
    g.output_height = h;
  }
  if (!ok) return fail(ErrorCode::InvalidInput, where + ": data truncated");
  g.rows = rows1 + 1u;
  g.columns = cols1 + 1u;
  if (g.output_width == 0 || g.output_height == 0)
    return fail(ErrorCode::InvalidInput, where + ": output size is zero");
  if (g.output_width > limits.max_dimension || g.output_height > limits.max_dimension ||
      uint64_t(g.output_width) * g.output_height > limits.max_pixels)
    return fail(ErrorCode::TooLarge, where + ": output " + std::to_string(g.output_width) + "x" +
                                         std::to_string(g.output_height) + " is over the pixel limits");
  g.tiles = s.references_from(grid_item_id, fourcc("dimg"));
  if (g.tiles.size() != size_t(g.rows) * g.columns)
    return fail(ErrorCode::InvalidInput, where + ": " + std::to_string(g.rows) + "x" + std::to_string(g.columns) +
                                             " tiles declared, " + std::to_string(g.tiles.size()) +
                                             " 'dimg' inputs present");
  for (size_t i = 0; i < g.tiles.size(); ++i) {
    const uint32_t id = g.tiles[i];
    const std::string tile = where + ": tile " + std::to_string(i) + " (" + detail::item_label(id) + ")";
    const Item* t = s.item(id);
    if (!t) return fail(ErrorCode::InvalidInput, tile + " does not exist");
    if (is_derived_type(t->type))
      return fail(ErrorCode::Unsupported, tile + " is itself a derived '" + fourcc_name(t->type) + "' image");
    const Ispe* ispe = s.property<Ispe>(id);
    if (!ispe) return fail(ErrorCode::InvalidInput, tile + " has no 'ispe'");
    if (i == 0) {
      g.tile_type = t->type;
      g.tile_width = ispe->width;
      g.tile_height = ispe->height;
    } else if (t->type != g.tile_type) {
      return fail(ErrorCode::InvalidInput, tile + " is '" + fourcc_name(t->type) + "', tile 0 is '" +
                                               fourcc_name(g.tile_type) + "'");
    } else if (ispe->width != g.tile_width || ispe->height != g.tile_height) {
      return fail(ErrorCode::InvalidInput, tile + " is " + std::to_string(ispe->width) + "x" +
                                               std::to_string(ispe->height) + ", tile 0 is " +
                                               std::to_string(g.tile_width) + "x" + std::to_string(g.tile_height));
    }
  }
  const uint64_t mosaic_w = uint64_t(g.tile_width) * g.columns, mosaic_h = uint64_t(g.tile_height) * g.rows;
  if (g.output_width > mosaic_w || g.output_height > mosaic_h)
    return fail(ErrorCode::InvalidInput, where + ": " + std::to_string(g.columns) + "x" + std::to_string(g.rows) +
                                             " tiles of " + std::to_string(g.tile_width) + "x" +
                                             std::to_string(g.tile_height) + " do not cover the output " +
                                             std::to_string(g.output_width) + "x" +
                                             std::to_string(g.output_height));
  if (warnings && (uint64_t(g.tile_width) * (g.columns - 1) >= g.output_width ||
                   uint64_t(g.tile_height) * (g.rows - 1) >= g.output_height))
    warnings->push_back(where + ": the last tile column or row lies wholly outside the output (MIAF forbids this)");
  if (const Ispe* own = s.property<Ispe>(grid_item_id);
      warnings && own && (own->width != g.output_width || own->height != g.output_height))
    warnings->push_back(where + ": ispe " + std::to_string(own->width) + "x" + std::to_string(own->height) +
                        " differs from the grid output " + std::to_string(g.output_width) + "x" +
                        std::to_string(g.output_height));
  return g;
}

}  // namespace regain::heif
