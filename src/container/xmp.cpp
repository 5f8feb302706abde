#include "container/xmp.h"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>

namespace regain {

namespace {

using NsMap = std::map<std::string, std::string>;  // prefix -> URI

struct QName {
  std::string ns, local;
};

QName resolve(const char* qname, const NsMap& ns) {
  std::string_view q(qname);
  auto colon = q.find(':');
  if (colon == std::string_view::npos) return {"", std::string(q)};
  auto it = ns.find(std::string(q.substr(0, colon)));
  return {it == ns.end() ? std::string() : it->second, std::string(q.substr(colon + 1))};
}

void add_declarations(pugi::xml_node n, NsMap& ns, std::vector<std::string>& all) {
  for (auto a : n.attributes()) {
    std::string_view name(a.name());
    if (name.rfind("xmlns:", 0) == 0) {
      ns[std::string(name.substr(6))] = a.value();
      if (std::find(all.begin(), all.end(), a.value()) == all.end()) all.push_back(a.value());
    }
  }
}

// Values of an rdf:Seq/Bag/Alt child, if the element holds one.
std::optional<std::vector<std::string>> list_values(pugi::xml_node el, NsMap ns) {
  for (auto c : el.children()) {
    if (c.type() != pugi::node_element) continue;
    NsMap inner = ns;
    std::vector<std::string> ignored;
    add_declarations(c, inner, ignored);
    QName q = resolve(c.name(), inner);
    if (q.ns == kNsRdf && (q.local == "Seq" || q.local == "Bag" || q.local == "Alt")) {
      std::vector<std::string> out;
      for (auto li : c.children())
        if (li.type() == pugi::node_element && resolve(li.name(), inner).local == "li")
          out.emplace_back(li.child_value());
      return out;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

void read_container_item(pugi::xml_node item, const NsMap& ns, ContainerItem& out) {
  auto set = [&](const std::string& local, const std::string& v) {
    if (local == "Semantic") out.semantic = v;
    else if (local == "Mime") out.mime = v;
    else if (local == "Length") out.length = parse_u64(v);
    else if (local == "Padding") out.padding = parse_u64(v);
  };
  for (auto a : item.attributes()) {
    QName q = resolve(a.name(), ns);
    if (q.ns == kNsItem) set(q.local, a.value());
  }
  for (auto c : item.children()) {
    if (c.type() != pugi::node_element) continue;
    QName q = resolve(c.name(), ns);
    if (q.ns == kNsItem) set(q.local, c.child_value());
  }
}

struct Walker {
  Xmp& xmp;
  int depth = 0;

  void directory(pugi::xml_node dir, const NsMap& ns) {
    for (auto seq : dir.children()) {
      for (auto li : seq.children()) {
        if (li.type() != pugi::node_element) continue;
        NsMap lns = ns;
        add_declarations(li, lns, xmp.namespaces);
        ContainerItem item;
        bool found = false;
        for (auto c : li.children()) {
          if (c.type() != pugi::node_element) continue;
          NsMap cns = lns;
          add_declarations(c, cns, xmp.namespaces);
          if (resolve(c.name(), cns).local == "Item") {
            read_container_item(c, cns, item);
            found = true;
          }
        }
        if (!found) read_container_item(li, lns, item);  // Item:* directly on rdf:li
        xmp.directory.push_back(item);
      }
    }
  }

  void description(pugi::xml_node d, const NsMap& ns) {
    for (auto a : d.attributes()) {
      std::string_view name(a.name());
      if (name.rfind("xmlns", 0) == 0) continue;
      QName q = resolve(a.name(), ns);
      if (q.ns == kNsRdf) continue;
      xmp.properties.push_back({q.ns, q.local, {a.value()}});
    }
    for (auto c : d.children()) {
      if (c.type() != pugi::node_element) continue;
      NsMap cns = ns;
      add_declarations(c, cns, xmp.namespaces);
      QName q = resolve(c.name(), cns);
      if (q.ns == kNsContainer && q.local == "Directory") {
        directory(c, cns);
        continue;
      }
      if (auto list = list_values(c, cns)) {
        xmp.properties.push_back({q.ns, q.local, *list});
      } else {
        xmp.properties.push_back({q.ns, q.local, {c.child_value()}});
      }
    }
  }

  void walk(pugi::xml_node n, NsMap ns) {
    if (++depth > 64) return;  // hostile nesting
    add_declarations(n, ns, xmp.namespaces);
    QName q = resolve(n.name(), ns);
    if (q.ns == kNsRdf && q.local == "Description") description(n, ns);
    else
      for (auto c : n.children())
        if (c.type() == pugi::node_element) walk(c, ns);
    --depth;
  }
};

std::optional<double> parse_double(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '+')) s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

const XmpProperty* Xmp::find(std::string_view ns, std::string_view name) const {
  for (const auto& p : properties)
    if (p.ns == ns && p.name == name) return &p;
  return nullptr;
}

std::optional<std::string> Xmp::value(std::string_view ns, std::string_view name) const {
  const XmpProperty* p = find(ns, name);
  if (!p || p->values.empty()) return std::nullopt;
  return p->values[0];
}

bool Xmp::declares(std::string_view ns) const {
  return std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

Result<Xmp> parse_xmp(std::string_view packet) {
  // Trailing NULs / padding and the xpacket wrapper are tolerated; pugixml handles PIs.
  while (!packet.empty() && (packet.back() == '\0' || std::isspace(uint8_t(packet.back()))))
    packet.remove_suffix(1);
  if (packet.size() > (16u << 20)) return fail(ErrorCode::TooLarge, "XMP packet over 16 MiB");
  pugi::xml_document doc;
  auto res = doc.load_buffer(packet.data(), packet.size(), pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!res) return fail(ErrorCode::InvalidInput, std::string("XMP is not well-formed XML: ") + res.description());
  Xmp xmp;
  Walker w{xmp};
  for (auto c : doc.children())
    if (c.type() == pugi::node_element) w.walk(c, {});
  return xmp;
}

Result<GainMapMetadata> hdrgm_from_xmp(const Xmp& x) {
  auto bad = [](const std::string& m) { return fail(ErrorCode::InvalidInput, "XMP hdrgm: " + m); };
  auto version = x.value(kNsHdrgm, "Version");
  if (!version) return bad("hdrgm:Version is missing");
  if (*version != "1.0") return fail(ErrorCode::Unsupported, "XMP hdrgm: Version \"" + *version + "\" is not 1.0");

  GainMapMetadata m;
  bool any_three = false;
  // Reads a per-channel property (attribute, single element or rdf:Seq of 1 or 3).
  auto channels = [&](const char* name, std::optional<double> fallback,
                      std::array<double, 3>& out) -> Result<void> {
    const XmpProperty* p = x.find(kNsHdrgm, name);
    if (!p) {
      if (!fallback) return bad(std::string("hdrgm:") + name + " is missing");
      out = {*fallback, *fallback, *fallback};
      return {};
    }
    if (p->values.size() != 1 && p->values.size() != 3)
      return bad(std::string("hdrgm:") + name + " must have 1 or 3 values");
    for (size_t i = 0; i < 3; ++i) {
      auto v = parse_double(p->values[p->values.size() == 3 ? i : 0]);
      if (!v) return bad(std::string("hdrgm:") + name + " is not a number: \"" + p->values[i % p->values.size()] + "\"");
      out[i] = *v;
    }
    if (p->values.size() == 3) any_three = true;
    return {};
  };
  auto scalar = [&](const char* name, std::optional<double> fallback, double& out) -> Result<void> {
    auto v = x.value(kNsHdrgm, name);
    if (!v) {
      if (!fallback) return bad(std::string("hdrgm:") + name + " is missing");
      out = *fallback;
      return {};
    }
    auto d = parse_double(*v);
    if (!d) return bad(std::string("hdrgm:") + name + " is not a number: \"" + *v + "\"");
    out = *d;
    return {};
  };
  std::array<double, 3> mn, mx, gamma, osdr, ohdr;
  REGAIN_CHECK(channels("GainMapMin", 0.0, mn));
  REGAIN_CHECK(channels("GainMapMax", std::nullopt, mx));
  REGAIN_CHECK(channels("Gamma", 1.0, gamma));
  REGAIN_CHECK(channels("OffsetSDR", 1.0 / 64, osdr));
  REGAIN_CHECK(channels("OffsetHDR", 1.0 / 64, ohdr));
  double cap_min, cap_max;
  REGAIN_CHECK(scalar("HDRCapacityMin", 0.0, cap_min));
  REGAIN_CHECK(scalar("HDRCapacityMax", std::nullopt, cap_max));
  auto base_hdr = x.value(kNsHdrgm, "BaseRenditionIsHDR");
  bool hdr_base = base_hdr && (*base_hdr == "True" || *base_hdr == "true");

  m.multichannel = any_three;
  m.use_base_colour_space = true;
  m.base_headroom = hdr_base ? cap_max : cap_min;
  m.alternate_headroom = hdr_base ? cap_min : cap_max;
  for (int c = 0; c < 3; ++c)
    m.channel[c] = {mn[c], mx[c], gamma[c], hdr_base ? ohdr[c] : osdr[c], hdr_base ? osdr[c] : ohdr[c]};
  if (m.multichannel && m.channels_equal()) m.multichannel = false;
  auto v = validate(m);
  if (!v) return tl::unexpected(with_context(v.error(), "from XMP"));
  return m;
}

AppleXmp apple_from_xmp(const Xmp& x) {
  AppleXmp a;
  if (auto v = x.value(kNsApple, "HDRGainMapVersion")) {
    if (auto d = parse_double(*v); d && std::fabs(*d) < 9e15) a.version = int64_t(*d);
  }
  if (auto v = x.value(kNsApple, "HDRGainMapHeadroom")) a.headroom = parse_double(*v);
  if (auto v = x.value(kNsApdi, "AuxiliaryImageType")) a.aux_type = *v;
  return a;
}

std::string format_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

namespace {
// Opening of every packet we write, up to the hdrgm namespace of the rdf:Description.
std::string packet_open() {
  return "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"regain\">\n"
         " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
         "  <rdf:Description rdf:about=\"\"\n"
         "    xmlns:hdrgm=\"http://ns.adobe.com/hdr-gain-map/1.0/\"\n";
}
}  // namespace

std::string primary_xmp(uint64_t gainmap_length) {
  std::string s = packet_open();
  s += "    xmlns:Container=\"http://ns.google.com/photos/1.0/container/\"\n";
  s += "    xmlns:Item=\"http://ns.google.com/photos/1.0/container/item/\"\n";
  s += "    hdrgm:Version=\"1.0\">\n";
  s += "   <Container:Directory>\n    <rdf:Seq>\n";
  s += "     <rdf:li rdf:parseType=\"Resource\">\n";
  s += "      <Container:Item Item:Semantic=\"Primary\" Item:Mime=\"image/jpeg\"/>\n";
  s += "     </rdf:li>\n";
  s += "     <rdf:li rdf:parseType=\"Resource\">\n";
  s += "      <Container:Item Item:Semantic=\"GainMap\" Item:Mime=\"image/jpeg\" Item:Length=\"" +
       std::to_string(gainmap_length) + "\"/>\n";
  s += "     </rdf:li>\n    </rdf:Seq>\n   </Container:Directory>\n";
  s += "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>";
  return s;
}

Result<std::string> gainmap_xmp(const GainMapMetadata& m) {
  REGAIN_CHECK(validate(m));
  if (!m.use_base_colour_space)
    return fail(ErrorCode::Unsupported, "XMP hdrgm cannot express use_base_colour_space = 0");
  const bool hdr_base = m.base_is_hdr();
  const bool per_channel = m.multichannel && !m.channels_equal();
  std::array<double, 3> osdr, ohdr;
  for (int c = 0; c < 3; ++c) {
    osdr[c] = hdr_base ? m.channel[c].alternate_offset : m.channel[c].base_offset;
    ohdr[c] = hdr_base ? m.channel[c].base_offset : m.channel[c].alternate_offset;
  }
  auto field = [&](int c, int which) -> double {
    const auto& ch = m.channel[c];
    switch (which) {
      case 0: return ch.min;
      case 1: return ch.max;
      case 2: return ch.gamma;
      case 3: return osdr[c];
      default: return ohdr[c];
    }
  };
  static const char* names[5] = {"GainMapMin", "GainMapMax", "Gamma", "OffsetSDR", "OffsetHDR"};
  std::string s = packet_open();
  s += "    hdrgm:Version=\"1.0\"\n";
  if (!per_channel)
    for (int i = 0; i < 5; ++i) s += std::string("    hdrgm:") + names[i] + "=\"" + format_double(field(0, i)) + "\"\n";
  double cap_min = hdr_base ? m.alternate_headroom : m.base_headroom;
  double cap_max = hdr_base ? m.base_headroom : m.alternate_headroom;
  s += "    hdrgm:HDRCapacityMin=\"" + format_double(cap_min) + "\"\n";
  s += "    hdrgm:HDRCapacityMax=\"" + format_double(cap_max) + "\"\n";
  s += std::string("    hdrgm:BaseRenditionIsHDR=\"") + (hdr_base ? "True" : "False") + "\"";
  if (!per_channel) {
    s += "/>\n";
  } else {
    s += ">\n";
    for (int i = 0; i < 5; ++i) {
      s += std::string("   <hdrgm:") + names[i] + ">\n    <rdf:Seq>\n";
      for (int c = 0; c < 3; ++c) s += "     <rdf:li>" + format_double(field(c, i)) + "</rdf:li>\n";
      s += std::string("    </rdf:Seq>\n   </hdrgm:") + names[i] + ">\n";
    }
    s += "  </rdf:Description>\n";
  }
  s += " </rdf:RDF>\n</x:xmpmeta>";
  return s;
}

namespace {

// Removes hdrgm and GContainer properties from every rdf:Description below `n`, and
// returns the first rdf:Description found (null if none).
pugi::xml_node strip_gain_map_properties(pugi::xml_node n, NsMap ns, pugi::xml_node first, int depth = 0) {
  if (depth > 64) return first;
  std::vector<std::string> ignored;
  add_declarations(n, ns, ignored);
  // Declarations go too: readers (Chromium among them) take a declared hdrgm namespace as
  // the signal that a gain map exists. Lookups above keep working from `ns`.
  for (pugi::xml_attribute a = n.first_attribute(); a;) {
    pugi::xml_attribute next = a.next_attribute();
    std::string_view name(a.name()), value(a.value());
    if (name.rfind("xmlns:", 0) == 0 && (value == kNsHdrgm || value == kNsContainer || value == kNsItem))
      n.remove_attribute(a);
    a = next;
  }
  QName q = resolve(n.name(), ns);
  if (q.ns == kNsRdf && q.local == "Description") {
    if (!first) first = n;
    for (pugi::xml_attribute a = n.first_attribute(); a;) {
      pugi::xml_attribute next = a.next_attribute();
      QName aq = resolve(a.name(), ns);
      if (aq.ns == kNsHdrgm || aq.ns == kNsContainer || aq.ns == kNsItem) n.remove_attribute(a);
      a = next;
    }
    for (pugi::xml_node c = n.first_child(); c;) {
      pugi::xml_node next = c.next_sibling();
      if (c.type() == pugi::node_element) {
        NsMap cns = ns;
        add_declarations(c, cns, ignored);
        QName cq = resolve(c.name(), cns);
        if (cq.ns == kNsHdrgm || cq.ns == kNsContainer) n.remove_child(c);
      }
      c = next;
    }
    return first;
  }
  for (auto c : n.children())
    if (c.type() == pugi::node_element) first = strip_gain_map_properties(c, ns, first, depth + 1);
  return first;
}

// Declares `uri` on `el` under `preferred` prefix, or a fresh one when that prefix is
// already bound to something else in scope; returns the prefix used.
std::string declare(pugi::xml_node el, const NsMap& scope, const std::string& preferred, std::string_view uri) {
  for (const auto& [prefix, bound] : scope)
    if (bound == uri) return prefix;
  std::string prefix = preferred;
  for (int i = 2; scope.count(prefix) && scope.at(prefix) != uri; ++i) prefix = preferred + std::to_string(i);
  el.append_attribute(("xmlns:" + prefix).c_str()) = std::string(uri).c_str();
  return prefix;
}

NsMap scope_of(pugi::xml_node el) {
  std::vector<pugi::xml_node> chain;
  for (auto n = el; n && n.type() == pugi::node_element; n = n.parent()) chain.push_back(n);
  NsMap ns;
  std::vector<std::string> ignored;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) add_declarations(*it, ns, ignored);
  return ns;
}

// Parses `existing`, strips old signalling, and calls `add(description, scope)`; falls
// back to `fresh` when there is nothing usable to merge into.
template <class Add>
Result<std::string> merge(std::string_view existing, const std::string& fresh, Add&& add) {
  while (!existing.empty() && (existing.back() == '\0' || std::isspace(uint8_t(existing.back()))))
    existing.remove_suffix(1);
  if (existing.empty()) return fresh;
  pugi::xml_document doc;
  auto flags = pugi::parse_default | pugi::parse_pi | pugi::parse_comments | pugi::parse_ws_pcdata_single;
  if (!doc.load_buffer(existing.data(), existing.size(), flags)) return fresh;  // unreadable: replace
  pugi::xml_node desc;
  for (auto c : doc.children())
    if (c.type() == pugi::node_element) desc = strip_gain_map_properties(c, {}, desc);
  if (!desc) return fresh;
  add(desc, scope_of(desc));
  struct Sink : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
  } sink;
  doc.save(sink, "", pugi::format_raw | pugi::format_no_declaration);
  return sink.out;
}

// Copies the attributes and children of the first rdf:Description of `packet` (one of
// ours, using the prefixes hdrgm/Container/Item/rdf) onto `desc`, renaming prefixes.
void graft(pugi::xml_node desc, const std::string& packet, const std::map<std::string, std::string>& rename) {
  pugi::xml_document src;
  src.load_string(packet.c_str());
  pugi::xml_node from = src.find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "rdf:Description"; });
  auto renamed = [&](std::string_view qname) {
    auto colon = qname.find(':');
    if (colon == std::string_view::npos) return std::string(qname);
    auto it = rename.find(std::string(qname.substr(0, colon)));
    return (it == rename.end() ? std::string(qname.substr(0, colon)) : it->second) + std::string(qname.substr(colon));
  };
  std::function<void(pugi::xml_node, pugi::xml_node)> copy = [&](pugi::xml_node dst, pugi::xml_node node) {
    pugi::xml_node e = dst.append_child(renamed(node.name()).c_str());
    for (auto a : node.attributes()) e.append_attribute(renamed(a.name()).c_str()) = a.value();
    for (auto c : node.children()) {
      if (c.type() == pugi::node_element) copy(e, c);
      else if (c.type() == pugi::node_pcdata) e.append_child(pugi::node_pcdata).set_value(c.value());
    }
  };
  for (auto a : from.attributes()) {
    std::string_view name(a.name());
    if (name.rfind("xmlns", 0) == 0 || name == "rdf:about") continue;
    desc.append_attribute(renamed(name).c_str()) = a.value();
  }
  for (auto c : from.children())
    if (c.type() == pugi::node_element) copy(desc, c);
}

}  // namespace

Result<std::string> merge_primary_xmp(std::string_view existing, uint64_t gainmap_length) {
  const std::string fresh = primary_xmp(gainmap_length);
  return merge(existing, fresh, [&](pugi::xml_node desc, const NsMap& scope) {
    std::map<std::string, std::string> rename = {
        {"hdrgm", declare(desc, scope, "hdrgm", kNsHdrgm)},
        {"Container", declare(desc, scope, "Container", kNsContainer)},
        {"Item", declare(desc, scope, "Item", kNsItem)},
        {"rdf", declare(desc, scope, "rdf", kNsRdf)}};
    graft(desc, fresh, rename);
  });
}

std::string strip_gain_map_xmp(std::string_view existing) {
  auto r = merge(existing, std::string(), [](pugi::xml_node, const NsMap&) {});
  return r ? *r : std::string();
}

Result<std::string> merge_gainmap_xmp(std::string_view existing, const GainMapMetadata& m) {
  REGAIN_TRY(fresh, gainmap_xmp(m));
  return merge(existing, fresh, [&](pugi::xml_node desc, const NsMap& scope) {
    std::map<std::string, std::string> rename = {{"hdrgm", declare(desc, scope, "hdrgm", kNsHdrgm)},
                                                 {"rdf", declare(desc, scope, "rdf", kNsRdf)}};
    graft(desc, fresh, rename);
  });
}

}  // namespace regain
