// Parsing of the file-level boxes and the HEIF `meta` box into HeifStructure.
// Box layouts follow ISO/IEC 14496-12 (ftyp, meta, hdlr, pitm, iinf/infe, iloc, iref, idat,
// grpl) and ISO/IEC 23008-12 (iprp/ipco/ipma). Every count is bounded before anything is
// allocated for it, and every read goes through ByteReader.
#include "container/heif_structure.h"

#include <algorithm>

#include "container/heif_util.h"

namespace regain::heif {

namespace {

using isobmff::Box;
using isobmff::BoxList;
using isobmff::full_box;
using isobmff::FullBox;
using isobmff::read_boxes;
using isobmff::WalkOptions;

tl::unexpected<Error> bad(const std::string& box, const std::string& msg) {
  return fail(ErrorCode::InvalidInput, box + ": " + msg);
}
tl::unexpected<Error> too_many(const std::string& box, const std::string& what, uint64_t n, size_t limit) {
  return fail(ErrorCode::TooLarge,
              box + ": " + std::to_string(n) + " " + what + " (limit " + std::to_string(limit) + ")");
}

// Children of a box's payload after `skip` header bytes.
Result<BoxList> children(const Box& b, size_t skip, size_t max_boxes) {
  if (skip > b.payload.size()) return bad(fourcc_name(b.type), "too short for its header fields");
  WalkOptions opt;
  opt.max_boxes = max_boxes;
  auto list = read_boxes(b.payload.subspan(skip), b.offset + b.header_size + skip, opt);
  if (!list) return tl::unexpected(with_context(list.error(), "'" + fourcc_name(b.type) + "'"));
  return list;
}

Result<void> parse_ftyp(const Box& b, HeifStructure& s) {
  ByteReader r(b.payload);
  if (!r.u32(s.major_brand) || !r.u32(s.minor_version)) return bad("ftyp", "shorter than 8 bytes");
  const size_t n = r.remaining() / 4;
  if (n > 4096) return too_many("ftyp", "compatible brands", n, 4096);
  if (r.remaining() % 4) s.warn("ftyp: " + std::to_string(r.remaining() % 4) + " stray bytes after the brands");
  s.compatible_brands.resize(n);
  for (auto& brand : s.compatible_brands) r.u32(brand);
  s.has_ftyp = true;
  return {};
}

Result<void> parse_hdlr(const Box& b) {
  REGAIN_TRY(fb, full_box(b));
  ByteReader r(fb.body);
  uint32_t pre_defined = 0, handler = 0;
  if (!r.u32(pre_defined) || !r.u32(handler)) return bad("hdlr", "truncated");
  if (handler != fourcc("pict"))
    return fail(ErrorCode::Unsupported,
                "meta handler is '" + fourcc_name(handler) + "', not 'pict': not a HEIF/AVIF image");
  return {};
}

Result<void> parse_pitm(const Box& b, HeifStructure& s) {
  REGAIN_TRY(fb, full_box(b));
  ByteReader r(fb.body);
  uint32_t id = 0;
  if (fb.version == 0) {
    uint16_t id16 = 0;
    if (!r.u16(id16)) return bad("pitm", "truncated");
    id = id16;
  } else if (!r.u32(id)) {
    return bad("pitm", "truncated");
  }
  s.primary_item = id;
  return {};
}

Result<Item> parse_infe(const Box& b) {
  REGAIN_TRY(fb, full_box(b));
  ByteReader r(fb.body);
  Item it;
  it.infe_version = fb.version;
  it.hidden = fb.flags & 1;
  auto str = [&](std::string& out, const char* field) -> Result<void> {
    if (!detail::read_cstring(r, out)) return bad("infe", std::string(field) + " longer than 64 KiB");
    return {};
  };
  if (fb.version <= 1) {
    uint16_t id = 0;
    if (!r.u16(id) || !r.u16(it.protection_index)) return bad("infe", "truncated");
    it.id = id;
    REGAIN_CHECK(str(it.name, "item_name"));
    REGAIN_CHECK(str(it.content_type, "content_type"));
    if (r.remaining()) REGAIN_CHECK(str(it.content_encoding, "content_encoding"));
    return it;
  }
  if (fb.version > 3)
    return fail(ErrorCode::Unsupported, "infe version " + std::to_string(fb.version) + " is not understood");
  if (fb.version == 2) {
    uint16_t id = 0;
    if (!r.u16(id)) return bad("infe", "truncated item_ID");
    it.id = id;
  } else if (!r.u32(it.id)) {
    return bad("infe", "truncated item_ID");
  }
  if (!r.u16(it.protection_index) || !r.u32(it.type)) return bad("infe " + std::to_string(it.id), "truncated");
  REGAIN_CHECK(str(it.name, "item_name"));
  if (it.type == fourcc("mime")) {
    REGAIN_CHECK(str(it.content_type, "content_type"));
    if (r.remaining()) REGAIN_CHECK(str(it.content_encoding, "content_encoding"));
  } else if (it.type == fourcc("uri ")) {
    REGAIN_CHECK(str(it.uri_type, "item_uri_type"));
  }
  return it;
}

Result<void> parse_iinf(const Box& b, HeifStructure& s) {
  REGAIN_TRY(fb, full_box(b));
  ByteReader r(fb.body);
  uint32_t count = 0;
  if (fb.version == 0) {
    uint16_t c16 = 0;
    if (!r.u16(c16)) return bad("iinf", "truncated entry_count");
    count = c16;
  } else if (!r.u32(count)) {
    return bad("iinf", "truncated entry_count");
  }
  if (count > kMaxItems) return too_many("iinf", "items", count, kMaxItems);
  REGAIN_TRY(list, children(b, 4 + r.pos(), kMaxItems));
  for (const Box& c : list.boxes) {
    if (c.type != fourcc("infe")) {
      s.warn("iinf: unexpected '" + fourcc_name(c.type) + "' box ignored");
      continue;
    }
    auto it = parse_infe(c);
    if (!it) {
      if (it.error().code == ErrorCode::Unsupported) {
        s.warn("iinf: entry ignored: " + it.error().message);
        continue;
      }
      return tl::unexpected(with_context(it.error(), "iinf"));
    }
    if (s.item_index.count(it->id))
      return bad("iinf", "item ID " + std::to_string(it->id) + " is used twice");
    s.item_index[it->id] = s.items.size();
    s.items.push_back(std::move(*it));
  }
  if (list.boxes.size() != count)
    s.warn("iinf: entry_count says " + std::to_string(count) + " items, " +
                         std::to_string(list.boxes.size()) + " infe boxes follow");
  return {};
}

Result<void> parse_iloc(const Box& b, HeifStructure& s) {
  REGAIN_TRY(fb, full_box(b));
  if (fb.version > 2)
    return fail(ErrorCode::Unsupported, "iloc version " + std::to_string(fb.version) + " is not understood");
  ByteReader r(fb.body);
  uint8_t a = 0, c = 0;
  if (!r.u8(a) || !r.u8(c)) return bad("iloc", "truncated");
  const int offset_size = a >> 4, length_size = a & 15, base_offset_size = c >> 4;
  const int index_size = fb.version >= 1 ? (c & 15) : 0;
  for (int v : {offset_size, length_size, base_offset_size, index_size})
    if (v != 0 && v != 4 && v != 8) return bad("iloc", "field size " + std::to_string(v) + " (must be 0, 4 or 8)");
  uint32_t count = 0;
  if (fb.version < 2) {
    uint16_t c16 = 0;
    if (!r.u16(c16)) return bad("iloc", "truncated item_count");
    count = c16;
  } else if (!r.u32(count)) {
    return bad("iloc", "truncated item_count");
  }
  if (count > kMaxItems) return too_many("iloc", "items", count, kMaxItems);
  size_t total_extents = 0;
  const size_t extent_bytes = size_t(index_size) + offset_size + length_size;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    if (fb.version < 2) {
      uint16_t id16 = 0;
      if (!r.u16(id16)) return bad("iloc", "truncated at entry " + std::to_string(i));
      id = id16;
    } else if (!r.u32(id)) {
      return bad("iloc", "truncated at entry " + std::to_string(i));
    }
    const std::string where = "iloc: item " + std::to_string(id);
    ItemLocation loc;
    if (fb.version >= 1) {
      uint16_t cm = 0;
      if (!r.u16(cm)) return bad(where, "truncated");
      loc.construction_method = uint8_t(cm & 15);
    }
    uint16_t extent_count = 0;
    if (!r.u16(loc.data_reference_index) || !detail::read_sized(r, base_offset_size, loc.base_offset) ||
        !r.u16(extent_count))
      return bad(where, "truncated");
    if (extent_count == 0) s.warn(where + " has no extents");
    if (size_t(extent_count) * extent_bytes > r.remaining())
      return bad(where, std::to_string(extent_count) + " extents run past the end of the box");
    total_extents += extent_count;
    if (total_extents > kMaxExtentsTotal) return too_many("iloc", "extents", total_extents, kMaxExtentsTotal);
    loc.extents.resize(extent_count);
    for (auto& e : loc.extents) {
      if (!detail::read_sized(r, index_size, e.index) || !detail::read_sized(r, offset_size, e.offset) ||
          !detail::read_sized(r, length_size, e.length))
        return bad(where, "truncated extent");
    }
    auto idx = s.item_index.find(id);
    if (idx == s.item_index.end()) {
      s.warn(where + " is not declared in iinf: ignored");
      continue;
    }
    Item& it = s.items[idx->second];
    if (it.location) return bad(where, "located twice");
    it.location = std::move(loc);
  }
  return {};
}

Result<void> parse_ipma(const Box& b, HeifStructure& s, std::vector<bool>& seen) {
  REGAIN_TRY(fb, full_box(b));
  ByteReader r(fb.body);
  uint32_t count = 0;
  if (!r.u32(count)) return bad("ipma", "truncated entry_count");
  if (count > kMaxItems) return too_many("ipma", "entries", count, kMaxItems);
  const bool wide = fb.flags & 1;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    if (fb.version < 1) {
      uint16_t id16 = 0;
      if (!r.u16(id16)) return bad("ipma", "truncated at entry " + std::to_string(i));
      id = id16;
    } else if (!r.u32(id)) {
      return bad("ipma", "truncated at entry " + std::to_string(i));
    }
    const std::string where = "ipma: item " + std::to_string(id);
    uint8_t n = 0;
    if (!r.u8(n)) return bad(where, "truncated");
    std::vector<PropertyAssociation> assoc;
    assoc.reserve(n);
    for (uint8_t k = 0; k < n; ++k) {
      PropertyAssociation pa;
      uint32_t index = 0;
      if (wide) {
        uint16_t v = 0;
        if (!r.u16(v)) return bad(where, "truncated association list");
        pa.essential = v & 0x8000;
        index = v & 0x7FFF;
      } else {
        uint8_t v = 0;
        if (!r.u8(v)) return bad(where, "truncated association list");
        pa.essential = v & 0x80;
        index = v & 0x7F;
      }
      if (index == 0) continue;  // "no property"
      if (index > s.properties.size())
        return bad(where, "property index " + std::to_string(index) + " but ipco holds " +
                              std::to_string(s.properties.size()) + " properties");
      pa.index = uint16_t(index - 1);
      assoc.push_back(pa);
    }
    auto idx = s.item_index.find(id);
    if (idx == s.item_index.end()) {
      s.warn(where + " is not declared in iinf: associations ignored");
      continue;
    }
    if (seen[idx->second]) {
      s.warn(where + " is associated twice: second list ignored");
      continue;
    }
    seen[idx->second] = true;
    s.items[idx->second].properties = std::move(assoc);
  }
  return {};
}

Result<void> parse_iprp(const Box& b, HeifStructure& s) {
  REGAIN_TRY(list, children(b, 0, 64));
  const Box* ipco = nullptr;
  std::vector<const Box*> ipmas;
  for (const Box& c : list.boxes) {
    if (c.type == fourcc("ipco")) {
      if (ipco) return bad("iprp", "more than one ipco");
      ipco = &c;
    } else if (c.type == fourcc("ipma")) {
      ipmas.push_back(&c);
    }
  }
  if (ipco) {
    WalkOptions opt;
    opt.max_boxes = kMaxProperties + 1;
    auto props = read_boxes(ipco->payload, ipco->offset + ipco->header_size, opt);
    if (!props) {
      if (props.error().code == ErrorCode::TooLarge)
        return too_many("ipco", "properties", kMaxProperties + 1, kMaxProperties);
      return tl::unexpected(with_context(props.error(), "ipco"));
    }
    if (props->boxes.size() > kMaxProperties)
      return too_many("ipco", "properties", props->boxes.size(), kMaxProperties);
    for (const Box& p : props->boxes) {
      s.properties.push_back(decode_property(p));
      if (auto* e = std::get_if<BadProperty>(&s.properties.back().value))
        s.warn("ipco: property " + std::to_string(s.properties.size()) + " ignored: " + e->error);
    }
  }
  std::vector<bool> seen(s.items.size(), false);
  for (const Box* m : ipmas) REGAIN_CHECK(parse_ipma(*m, s, seen));
  return {};
}

bool item_exists(const HeifStructure& s, uint32_t id) { return s.item_index.count(id) != 0; }

Result<void> parse_iref(const Box& b, HeifStructure& s) {
  REGAIN_TRY(fb, full_box(b));
  if (fb.version > 1)
    return fail(ErrorCode::Unsupported, "iref version " + std::to_string(fb.version) + " is not understood");
  REGAIN_TRY(list, children(b, 4, kMaxReferencesTotal));
  size_t total = 0;
  for (const Box& c : list.boxes) {
    ByteReader r(c.payload);
    Reference ref;
    ref.type = c.type;
    const std::string tname = "iref '" + fourcc_name(c.type) + "'";
    uint16_t n = 0;
    if (fb.version == 0) {
      uint16_t f = 0;
      if (!r.u16(f) || !r.u16(n)) return bad(tname, "truncated");
      ref.from = f;
    } else if (!r.u32(ref.from) || !r.u16(n)) {
      return bad(tname, "truncated");
    }
    const std::string where = tname + " from item " + std::to_string(ref.from);
    const size_t id_bytes = fb.version == 0 ? 2 : 4;
    if (size_t(n) * id_bytes > r.remaining()) return bad(where, std::to_string(n) + " references run past the box");
    total += n;
    if (n > kMaxReferencesPerBox || total > kMaxReferencesTotal)
      return too_many("iref", "references", total, kMaxReferencesTotal);
    ref.to.reserve(n);
    const bool dimg = c.type == fourcc("dimg");
    for (uint16_t k = 0; k < n; ++k) {
      uint32_t id = 0;
      if (fb.version == 0) {
        uint16_t v = 0;
        r.u16(v);
        id = v;
      } else {
        r.u32(id);
      }
      if (id == ref.from) {
        if (dimg) return bad(where, "an item cannot be derived from itself");
        s.warn(where + ": reference to itself ignored");
        continue;
      }
      if (!item_exists(s, id)) {
        // A derived image with a missing input is broken, but only matters if someone uses
        // it: keep the id so that the user (grid / tmap reader) reports it.
        s.warn(where + ": referenced item " + std::to_string(id) + " does not exist" +
                             (dimg ? "" : " (ignored)"));
        if (!dimg) continue;
      }
      ref.to.push_back(id);
    }
    if (!item_exists(s, ref.from)) {
      s.warn(where + ": the item does not exist (reference ignored)");
      continue;
    }
    const uint64_t key = uint64_t(ref.from) << 32 | ref.type;
    if (s.reference_index.count(key))
      s.warn(where + ": second reference box of this type (the first one is used)");
    else
      s.reference_index[key] = s.references.size();
    s.references.push_back(std::move(ref));
  }
  return {};
}

// Derived images are resolved by following 'dimg' inputs, so a cycle there would recurse
// forever in any consumer: refuse it once, here.
Result<void> check_dimg_cycles(const HeifStructure& s) {
  std::unordered_map<uint32_t, const std::vector<uint32_t>*> inputs;
  for (const auto& r : s.references)
    if (r.type == fourcc("dimg") && !inputs.count(r.from)) inputs[r.from] = &r.to;  // the first box counts
  enum : uint8_t { White, Grey, Black };
  std::unordered_map<uint32_t, uint8_t> colour;
  for (const auto& [start, unused] : inputs) {
    if (colour[start] != White) continue;
    // Iterative DFS: (node, next input position).
    std::vector<std::pair<uint32_t, size_t>> stack{{start, 0}};
    colour[start] = Grey;
    while (!stack.empty()) {
      auto& [node, pos] = stack.back();
      auto in = inputs.find(node);
      if (in == inputs.end() || pos >= in->second->size()) {
        colour[node] = Black;
        stack.pop_back();
        continue;
      }
      const uint32_t next = (*in->second)[pos++];
      uint8_t& c = colour[next];
      if (c == Grey)
        return bad("iref", "item " + std::to_string(next) + " is derived from itself through 'dimg' references");
      if (c == White) {
        c = Grey;
        stack.emplace_back(next, 0);
      }
    }
  }
  return {};
}

Result<void> parse_grpl(const Box& b, HeifStructure& s) {
  REGAIN_TRY(list, children(b, 0, kMaxGroups + 1));
  if (list.boxes.size() > kMaxGroups) return too_many("grpl", "groups", list.boxes.size(), kMaxGroups);
  for (const Box& c : list.boxes) {
    const std::string where = "grpl '" + fourcc_name(c.type) + "'";
    REGAIN_TRY(fb, full_box(c));
    ByteReader r(fb.body);
    EntityGroup g;
    g.type = c.type;
    g.version = fb.version;
    g.flags = fb.flags;
    uint32_t n = 0;
    if (!r.u32(g.group_id) || !r.u32(n)) return bad(where, "truncated");
    if (n > kMaxEntitiesPerGroup) return too_many(where, "entities", n, kMaxEntitiesPerGroup);
    if (uint64_t(n) * 4 > r.remaining()) return bad(where, std::to_string(n) + " entity IDs run past the box");
    g.entity_ids.resize(n);
    for (auto& id : g.entity_ids) r.u32(id);
    if (item_exists(s, g.group_id))
      s.warn(where + ": group_id " + std::to_string(g.group_id) + " collides with an item ID");
    for (uint32_t id : g.entity_ids)
      if (!item_exists(s, id))
        s.warn(where + " " + std::to_string(g.group_id) + ": entity " + std::to_string(id) +
                             " is not an item (tracks are not modelled)");
    s.groups.push_back(std::move(g));
  }
  return {};
}

Result<void> parse_meta(const Box& meta, HeifStructure& s) {
  REGAIN_TRY(fb, full_box(meta));
  if (fb.version != 0)
    return fail(ErrorCode::Unsupported, "meta version " + std::to_string(fb.version) + " is not understood");
  REGAIN_TRY(list, children(meta, 4, 4096));
  // The order of boxes inside meta is free (Samsung puts iloc after iinf and iref last):
  // collect first, then parse in dependency order.
  const Box *hdlr = nullptr, *pitm = nullptr, *iinf = nullptr, *iloc = nullptr, *iprp = nullptr,
            *iref = nullptr, *grpl = nullptr, *idat = nullptr;
  for (const Box& c : list.boxes) {
    const Box** slot = nullptr;
    switch (c.type) {
      case fourcc("hdlr"): slot = &hdlr; break;
      case fourcc("pitm"): slot = &pitm; break;
      case fourcc("iinf"): slot = &iinf; break;
      case fourcc("iloc"): slot = &iloc; break;
      case fourcc("iprp"): slot = &iprp; break;
      case fourcc("iref"): slot = &iref; break;
      case fourcc("grpl"): slot = &grpl; break;
      case fourcc("idat"): slot = &idat; break;
      default: continue;  // dinf, ipro, fiin, ... carry nothing we use
    }
    if (*slot) return bad("meta", "more than one '" + fourcc_name(c.type) + "' box");
    *slot = &c;
  }
  if (!hdlr) return bad("meta", "no 'hdlr' box");
  REGAIN_CHECK(parse_hdlr(*hdlr));
  if (pitm) REGAIN_CHECK(parse_pitm(*pitm, s));
  if (iinf) REGAIN_CHECK(parse_iinf(*iinf, s));
  if (iloc) REGAIN_CHECK(parse_iloc(*iloc, s));
  if (iprp) REGAIN_CHECK(parse_iprp(*iprp, s));
  if (iref) {
    REGAIN_CHECK(parse_iref(*iref, s));
    REGAIN_CHECK(check_dimg_cycles(s));
  }
  if (grpl) REGAIN_CHECK(parse_grpl(*grpl, s));
  if (idat) s.idat = FileRange{idat->offset + idat->header_size, idat->payload.size()};
  if (s.primary_item && !item_exists(s, *s.primary_item))
    s.warn("pitm: primary item " + std::to_string(*s.primary_item) + " does not exist");
  return {};
}

}  // namespace

bool HeifStructure::has_brand(uint32_t brand) const {
  return major_brand == brand ||
         std::find(compatible_brands.begin(), compatible_brands.end(), brand) != compatible_brands.end();
}

const Item* HeifStructure::item(uint32_t id) const {
  auto it = item_index.find(id);
  return it == item_index.end() ? nullptr : &items[it->second];
}

std::vector<uint32_t> HeifStructure::references_from(uint32_t from, uint32_t type) const {
  auto it = reference_index.find(uint64_t(from) << 32 | type);
  return it == reference_index.end() ? std::vector<uint32_t>{} : references[it->second].to;
}

void HeifStructure::warn(std::string w) {
  if (warnings.size() < kMaxWarnings) warnings.push_back(std::move(w));
  else if (warnings.size() == kMaxWarnings) warnings.push_back("(more warnings not shown)");
}

std::vector<uint32_t> HeifStructure::referencing(uint32_t to, uint32_t type) const {
  std::vector<uint32_t> out;
  for (const auto& r : references)
    if (r.type == type && std::find(r.to.begin(), r.to.end(), to) != r.to.end() &&
        std::find(out.begin(), out.end(), r.from) == out.end())
      out.push_back(r.from);
  return out;
}

Result<HeifStructure> parse_heif_structure(ByteView file) {
  HeifStructure s;
  s.file_size = file.size();
  WalkOptions opt;
  opt.allow_truncated = true;
  REGAIN_TRY(top, read_boxes(file, 0, opt));
  s.truncated = top.truncated;
  const Box* meta = nullptr;
  const Box* ftyp = nullptr;
  for (const Box& b : top.boxes) {
    s.boxes.push_back({b.type, b.offset, b.size, b.truncated});
    if (b.truncated)
      s.warn("'" + fourcc_name(b.type) + "' box at offset " + std::to_string(b.offset) + " claims " +
                           std::to_string(b.declared_size) + " bytes, the file ends after " +
                           std::to_string(b.size) + " (truncated file?)");
    switch (b.type) {
      case fourcc("ftyp"):
        if (!ftyp) ftyp = &b;
        else s.warn("second 'ftyp' box ignored");
        break;
      case fourcc("meta"):
        if (meta) return bad("file", "more than one top-level 'meta' box");
        meta = &b;
        break;
      case fourcc("moov"):
        s.has_moov = true;
        break;
      default:
        break;
    }
  }
  if (top.trailing_bytes)
    s.warn(std::to_string(top.trailing_bytes) + " stray bytes at the end of the file");
  if (!ftyp) return fail(ErrorCode::InvalidInput, "no 'ftyp' box: not an ISOBMFF (HEIF/AVIF) file");
  if (&top.boxes.front() != ftyp) s.warn("'ftyp' is not the first box");
  REGAIN_CHECK(parse_ftyp(*ftyp, s));
  if (!meta) {
    if (s.has_moov) return fail(ErrorCode::Unsupported, "no top-level 'meta' box: image sequences (moov tracks) are not supported");
    return fail(ErrorCode::InvalidInput, "no top-level 'meta' box");
  }
  if (meta->truncated)
    return fail(ErrorCode::InvalidInput, "'meta' box cut off: it claims " + std::to_string(meta->declared_size) +
                                             " bytes, the file ends after " + std::to_string(meta->size));
  auto m = parse_meta(*meta, s);
  if (!m) return tl::unexpected(with_context(m.error(), "meta"));
  return s;
}

}  // namespace regain::heif
