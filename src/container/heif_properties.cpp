// Decoding of the item property boxes found in 'ipco'. Layouts: ISO/IEC 23008-12 (ispe, pixi,
// irot, imir, auxC, lsel), ISO/IEC 14496-12 (colr, clap, clli), ISO/IEC 14496-15 (hvcC) and
// the AV1 ISOBMFF binding (av1C).
#include "container/heif_structure.h"
#include "container/heif_util.h"

namespace regain::heif {

namespace {

using isobmff::Box;

// Returns the decoded value or the reason it could not be decoded.
using Decoded = std::variant<PropertyValue, std::string>;

Decoded full_box_body(const Box& b, ByteView& body) {
  auto fb = isobmff::full_box(b);
  if (!fb) return fb.error().message;
  if (fb->version != 0) return "version " + std::to_string(fb->version) + " is not understood";
  body = fb->body;
  return PropertyValue{};
}

Decoded decode(const Box& b) {
  ByteReader r(b.payload);
  switch (b.type) {
    case fourcc("hvcC"):
      // The HEVCDecoderConfigurationRecord has 23 fixed bytes before its NAL unit arrays.
      if (b.payload.size() < 23) return std::string("shorter than the 23-byte fixed part");
      if (b.payload[0] != 1) return "configurationVersion " + std::to_string(b.payload[0]) + " (expected 1)";
      return CodecConfig{{b.payload.begin(), b.payload.end()}};
    case fourcc("av1C"):
      if (b.payload.size() < 4) return std::string("shorter than 4 bytes");
      if (b.payload[0] != 0x81) return std::string("marker/version byte is not 0x81");
      return CodecConfig{{b.payload.begin(), b.payload.end()}};
    case fourcc("ispe"): {
      ByteView body;
      auto d = full_box_body(b, body);
      if (auto* e = std::get_if<std::string>(&d)) return *e;
      ByteReader br(body);
      Ispe v;
      if (!br.u32(v.width) || !br.u32(v.height)) return std::string("truncated");
      if (v.width == 0 || v.height == 0) return std::string("zero width or height");
      return v;
    }
    case fourcc("pixi"): {
      ByteView body;
      auto d = full_box_body(b, body);
      if (auto* e = std::get_if<std::string>(&d)) return *e;
      ByteReader br(body);
      uint8_t n = 0;
      ByteView bits;
      if (!br.u8(n) || !br.bytes(n, bits)) return std::string("truncated channel list");
      if (n == 0) return std::string("zero channels");
      for (uint8_t x : bits)
        if (x == 0 || x > 32) return "implausible " + std::to_string(x) + " bits per channel";
      return Pixi{{bits.begin(), bits.end()}};
    }
    case fourcc("colr"): {
      Colr c;
      if (!r.u32(c.colour_type)) return std::string("truncated colour_type");
      if (c.colour_type == fourcc("nclx")) {
        Nclx n;
        uint8_t fr = 0;
        if (!r.u16(n.primaries) || !r.u16(n.transfer) || !r.u16(n.matrix) || !r.u8(fr))
          return std::string("nclx truncated");
        n.full_range = fr & 0x80;
        c.nclx = n;
      } else if (c.colour_type == fourcc("rICC") || c.colour_type == fourcc("prof")) {
        if (r.remaining() == 0) return std::string("empty ICC profile");
        auto rest = b.payload.subspan(r.pos());
        c.icc.assign(rest.begin(), rest.end());
      }
      return c;
    }
    case fourcc("irot"): {
      uint8_t v = 0;
      if (!r.u8(v)) return std::string("empty");
      return Irot{uint8_t(v & 3)};
    }
    case fourcc("imir"): {
      uint8_t v = 0;
      if (!r.u8(v)) return std::string("empty");
      return Imir{uint8_t(v & 1)};
    }
    case fourcc("clap"): {
      Clap c;
      uint32_t ho = 0, vo = 0;
      if (!r.u32(c.width_n) || !r.u32(c.width_d) || !r.u32(c.height_n) || !r.u32(c.height_d) || !r.u32(ho) ||
          !r.u32(c.horiz_off_d) || !r.u32(vo) || !r.u32(c.vert_off_d))
        return std::string("truncated");
      c.horiz_off_n = int32_t(ho);
      c.vert_off_n = int32_t(vo);
      if (!c.width_d || !c.height_d || !c.horiz_off_d || !c.vert_off_d) return std::string("zero denominator");
      return c;
    }
    case fourcc("auxC"): {
      ByteView body;
      auto d = full_box_body(b, body);
      if (auto* e = std::get_if<std::string>(&d)) return *e;
      ByteReader br(body);
      AuxC a;
      if (!detail::read_cstring(br, a.aux_type)) return std::string("aux_type too long");
      auto rest = body.subspan(br.pos());
      a.subtype.assign(rest.begin(), rest.end());
      return a;
    }
    case fourcc("clli"): {
      Clli c;
      if (!r.u16(c.max_content_light_level) || !r.u16(c.max_pic_average_light_level))
        return std::string("truncated");
      return c;
    }
    case fourcc("lsel"): {
      Lsel l;
      if (!r.u16(l.layer_id)) return std::string("truncated");
      return l;
    }
    default:
      return OtherProperty{};
  }
}

}  // namespace

Property decode_property(const isobmff::Box& box) {
  Property p;
  p.type = box.type;
  p.offset = box.offset;
  p.size = box.size;
  auto d = decode(box);
  if (auto* e = std::get_if<std::string>(&d))
    p.value = BadProperty{"'" + fourcc_name(box.type) + "' property at offset " + std::to_string(box.offset) +
                          ": " + *e};
  else
    p.value = std::move(std::get<PropertyValue>(d));
  return p;
}

}  // namespace regain::heif
