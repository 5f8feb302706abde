// HEIF / AVIF structure reader: every corpus file with the values of its README line,
// hand-built files for each box feature and each hostile case, and truncation / bit-flip
// robustness over the whole corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include "container/exif.h"
#include "container/heif_gainmap.h"
#include "container/heif_json.h"
#include "container/heif_structure.h"
#include "container/isobmff.h"
#include "test_support.h"
#include "util/bytes.h"

using namespace regain;
using heif::fourcc;
using regain::test::corpus_bytes;

namespace {

const char* const kCorpus[] = {
    "heif/iphone13pro_ios16_apple_v1.heic", "heif/iphone15pro_ios18_tmap_rotated.heic",
    "heif/iphone15promax_ios18_tmap.heic",  "heif/iphone8plus_no_gainmap.heic",
    "heif/samsung_s25u_tmap_3ch.heic",      "heif/seine_sdr_gainmap_srgb.avif",
    "heif/seine_hdr_gainmap_srgb.avif",     "heif/seine_hdr_rec2020.avif",
};

// Channel values of the seine gain map (same as jpeg/seine_sdr_gainmap_srgb.jpg).
constexpr double kSeineMin[3] = {-0.256907, -0.261365, -0.280284};
constexpr double kSeineMax[3] = {1.277177, 1.277203, 1.277969};
constexpr double kSeineGamma[3] = {0.953784, 0.941095, 0.919422};

void expect_channels(const GainMapMetadata& m, double min, double max, double gamma, double offset) {
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(m.channel[c].min, min, 1e-5) << c;
    EXPECT_NEAR(m.channel[c].max, max, 1e-5) << c;
    EXPECT_NEAR(m.channel[c].gamma, gamma, 1e-5) << c;
    EXPECT_NEAR(m.channel[c].base_offset, offset, 1e-9) << c;
    EXPECT_NEAR(m.channel[c].alternate_offset, offset, 1e-9) << c;
  }
}

HeifFile read_ok(const std::vector<uint8_t>& bytes) {
  auto r = read_heif(bytes);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return {};
  EXPECT_FALSE(r->damaged) << r->damage;
  return std::move(*r);
}

}  // namespace

// ---- corpus ------------------------------------------------------------------------------

TEST(HeifCorpus, Iphone13ProAppleV1) {
  auto f = read_ok(corpus_bytes("heif/iphone13pro_ios16_apple_v1.heic"));
  EXPECT_EQ(f.kind, HeifKind::Heic);
  EXPECT_EQ(f.primary.type, fourcc("grid"));
  EXPECT_EQ(f.primary.coded_type, fourcc("hvc1"));
  EXPECT_EQ(f.primary.width, 4032u);
  EXPECT_EQ(f.primary.height, 3024u);
  ASSERT_TRUE(f.primary.grid);
  EXPECT_EQ(f.primary.grid->columns, 8u);
  EXPECT_EQ(f.primary.grid->rows, 6u);
  EXPECT_EQ(f.primary.grid->tile_width, 512u);
  EXPECT_EQ(f.primary.rotation_ccw, 0);
  EXPECT_EQ(f.primary.display_width, 4032u);
  EXPECT_EQ(f.orientation, 1);
  EXPECT_EQ(f.primary.bit_depth, 8);
  EXPECT_EQ(f.primary.channels, 3);
  EXPECT_FALSE(f.primary.icc.empty());
  EXPECT_FALSE(f.tmap_item);
  EXPECT_FALSE(f.iso_metadata);
  ASSERT_TRUE(f.gain_map);
  EXPECT_EQ(f.gain_map->type, fourcc("hvc1"));
  EXPECT_FALSE(f.gain_map->grid);
  EXPECT_EQ(f.gain_map->width, 2016u);
  EXPECT_EQ(f.gain_map->height, 1512u);
  EXPECT_EQ(f.gain_map->channels, 1);
  EXPECT_TRUE(f.gain_map->hidden);
  EXPECT_EQ(f.apple_aux_item, f.gain_map->item_id);
  EXPECT_EQ(f.source, MetadataSource::Apple);
  EXPECT_EQ(f.apple_version, 65536);
  // No HDRGainMapHeadroom: MakerNote HDRHeadroom 0.8786 (< 1), HDRGain absent (0) -> 1.8 stops.
  ASSERT_TRUE(f.apple_maker33);
  EXPECT_NEAR(*f.apple_maker33, 0.8786434536, 1e-6);
  ASSERT_TRUE(f.apple_headroom);
  EXPECT_NEAR(*f.apple_headroom, std::exp2(1.8), 1e-6);
  ASSERT_TRUE(f.metadata);
  EXPECT_EQ(f.metadata->curve, GainCurve::AppleLinear);
  EXPECT_NEAR(f.metadata->alternate_headroom, 1.8, 1e-6);
  // The depth map is another aux image of the primary; it must not be taken for the gain map.
  ASSERT_EQ(f.aux_images.size(), 2u);
  EXPECT_EQ(f.aux_images[1].second, "urn:mpeg:hevc:2015:auxid:2");
  EXPECT_FALSE(f.gain_map_xmp.empty());
  EXPECT_TRUE(f.exif_item);
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, Iphone15ProTmapRotated) {
  auto f = read_ok(corpus_bytes("heif/iphone15pro_ios18_tmap_rotated.heic"));
  EXPECT_EQ(f.kind, HeifKind::Heic);
  EXPECT_EQ(f.primary.width, 4032u);
  EXPECT_EQ(f.primary.height, 3024u);
  ASSERT_TRUE(f.primary.grid);
  EXPECT_EQ(f.primary.grid->columns * f.primary.grid->rows, 48u);
  EXPECT_EQ(f.primary.rotation_ccw, 270);  // 90 degrees clockwise
  EXPECT_EQ(f.primary.exif_orientation, 6);
  EXPECT_EQ(f.primary.display_width, 3024u);
  EXPECT_EQ(f.primary.display_height, 4032u);
  EXPECT_EQ(f.orientation, 6);
  ASSERT_TRUE(f.gain_map);
  EXPECT_EQ(f.gain_map->item_id, 63u);
  EXPECT_EQ(f.gain_map->type, fourcc("grid"));
  EXPECT_EQ(f.gain_map->width, 2016u);
  EXPECT_EQ(f.gain_map->height, 1512u);
  EXPECT_EQ(f.gain_map->rotation_ccw, 270);
  EXPECT_EQ(f.gain_map->channels, 1);
  ASSERT_TRUE(f.gain_map->nclx);
  EXPECT_EQ(f.gain_map->nclx->primaries, 2);
  EXPECT_EQ(f.gain_map->nclx->transfer, 2);
  EXPECT_EQ(f.gain_map->nclx->matrix, 2);
  // One gain-map item serves both carriages.
  EXPECT_EQ(f.apple_aux_item, 63u);
  EXPECT_EQ(f.tmap_item, 66u);
  EXPECT_TRUE(f.tmap_brand);
  EXPECT_TRUE(f.altr_group);
  ASSERT_TRUE(f.tmap_size);
  EXPECT_EQ(f.tmap_size->width, 3024u);  // given in the displayed orientation
  EXPECT_EQ(f.tmap_size->height, 4032u);
  EXPECT_FALSE(f.alternate_icc.empty());
  ASSERT_TRUE(f.alternate_pixi);
  EXPECT_EQ(f.alternate_pixi->bits, (std::vector<uint8_t>{10, 10, 10}));
  EXPECT_EQ(f.source, MetadataSource::Iso);
  ASSERT_TRUE(f.metadata);
  EXPECT_NEAR(f.metadata->base_headroom, 0.0, 1e-9);
  EXPECT_NEAR(f.metadata->alternate_headroom, 1.69043, 1e-5);
  expect_channels(*f.metadata, 0.0, 1.69043, 0.71582, 1e-5);
  EXPECT_EQ(f.apple_version, 131072);
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, Iphone15ProMaxTmapAndAppleXmp) {
  auto f = read_ok(corpus_bytes("heif/iphone15promax_ios18_tmap.heic"));
  EXPECT_EQ(f.primary.type, fourcc("grid"));
  EXPECT_EQ(f.primary.width, 5712u);
  EXPECT_EQ(f.primary.height, 4284u);
  ASSERT_TRUE(f.primary.grid);
  EXPECT_EQ(f.primary.grid->columns, 9u);
  EXPECT_EQ(f.primary.grid->rows, 5u);
  EXPECT_EQ(f.primary.grid->tile_width, 640u);
  EXPECT_EQ(f.primary.grid->tile_height, 896u);
  EXPECT_EQ(f.primary.display_width, 4284u);
  EXPECT_EQ(f.primary.display_height, 5712u);
  EXPECT_EQ(f.orientation, 6);
  EXPECT_TRUE(f.has_gps);
  ASSERT_TRUE(f.gain_map);
  EXPECT_EQ(f.gain_map->type, fourcc("grid"));
  EXPECT_EQ(f.gain_map->width, 2856u);
  EXPECT_EQ(f.gain_map->height, 2142u);
  EXPECT_EQ(f.gain_map->channels, 1);
  EXPECT_EQ(f.apple_aux_item, f.gain_map->item_id);
  EXPECT_TRUE(f.tmap_item);
  EXPECT_EQ(f.source, MetadataSource::Iso);
  ASSERT_TRUE(f.metadata);
  EXPECT_TRUE(f.metadata->use_base_colour_space);
  EXPECT_NEAR(f.metadata->alternate_headroom, 2.681641, 1e-6);
  expect_channels(*f.metadata, -0.007401, 2.681641, 0.874512, 1e-5);
  ASSERT_TRUE(f.apple_headroom);
  EXPECT_NEAR(*f.apple_headroom, 6.415851, 1e-6);  // from XMP, preferred over the MakerNote
  EXPECT_EQ(f.apple_version, 131072);
  // The gain map plus six others (depth, portrait and semantic mattes).
  EXPECT_EQ(f.aux_images.size(), 7u);
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, Iphone8PlusNoGainMap) {
  auto f = read_ok(corpus_bytes("heif/iphone8plus_no_gainmap.heic"));
  EXPECT_EQ(f.primary.width, 4032u);
  EXPECT_EQ(f.primary.height, 3024u);
  ASSERT_TRUE(f.primary.grid);
  EXPECT_EQ(f.primary.grid->tiles.size(), 48u);
  EXPECT_EQ(f.primary.rotation_ccw, 270);
  EXPECT_EQ(f.orientation, 6);
  EXPECT_FALSE(f.gain_map);
  EXPECT_FALSE(f.metadata);
  EXPECT_EQ(f.source, MetadataSource::None);
  EXPECT_FALSE(f.tmap_item);
  EXPECT_TRUE(f.aux_images.empty());
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, SamsungTmap3Channel) {
  auto f = read_ok(corpus_bytes("heif/samsung_s25u_tmap_3ch.heic"));
  EXPECT_EQ(f.primary.width, 4000u);
  EXPECT_EQ(f.primary.height, 1848u);
  ASSERT_TRUE(f.primary.grid);
  EXPECT_EQ(f.primary.grid->columns, 8u);
  EXPECT_EQ(f.primary.grid->rows, 4u);
  EXPECT_EQ(f.primary.rotation_ccw, 0);
  EXPECT_EQ(f.orientation, 1);
  ASSERT_TRUE(f.gain_map);
  EXPECT_EQ(f.gain_map->width, 1000u);
  EXPECT_EQ(f.gain_map->height, 462u);
  ASSERT_TRUE(f.gain_map->grid);
  EXPECT_EQ(f.gain_map->grid->columns, 2u);
  EXPECT_EQ(f.gain_map->grid->rows, 1u);
  EXPECT_EQ(f.gain_map->channels, 3);
  EXPECT_EQ(f.samsung_aux_item, f.gain_map->item_id);
  EXPECT_FALSE(f.apple_aux_item);
  EXPECT_TRUE(f.tmap_brand);
  EXPECT_TRUE(f.altr_group);
  EXPECT_EQ(f.source, MetadataSource::Iso);
  ASSERT_TRUE(f.metadata);
  EXPECT_NEAR(f.metadata->base_headroom, 0.0, 1e-9);
  EXPECT_NEAR(f.metadata->alternate_headroom, 2.3, 1e-6);
  expect_channels(*f.metadata, 0.0, 2.3, 1.0, 0.0);
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, SeineSdrGainMapAvif) {
  auto f = read_ok(corpus_bytes("heif/seine_sdr_gainmap_srgb.avif"));
  EXPECT_EQ(f.kind, HeifKind::Avif);
  EXPECT_EQ(f.primary.type, fourcc("av01"));
  EXPECT_EQ(f.primary.width, 400u);
  EXPECT_EQ(f.primary.height, 300u);
  EXPECT_EQ(f.primary.bit_depth, 8);
  EXPECT_FALSE(f.primary.grid);
  EXPECT_EQ(f.primary.rotation_ccw, 0);
  EXPECT_EQ(f.orientation, 1);
  EXPECT_EQ(f.primary.codec_config.size(), 4u);
  ASSERT_TRUE(f.gain_map);
  EXPECT_EQ(f.gain_map->width, 400u);
  EXPECT_EQ(f.gain_map->height, 300u);
  EXPECT_EQ(f.gain_map->channels, 3);
  EXPECT_TRUE(f.tmap_brand);
  EXPECT_TRUE(f.altr_group);
  ASSERT_TRUE(f.alternate_nclx);
  EXPECT_EQ(f.alternate_nclx->transfer, 16);  // the alternate rendition is PQ
  ASSERT_TRUE(f.metadata);
  EXPECT_EQ(f.source, MetadataSource::Iso);
  EXPECT_TRUE(f.metadata->multichannel);
  EXPECT_NEAR(f.metadata->base_headroom, 0.0, 1e-9);
  EXPECT_NEAR(f.metadata->alternate_headroom, 1.3, 1e-6);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(f.metadata->channel[c].min, kSeineMin[c], 1e-6);
    EXPECT_NEAR(f.metadata->channel[c].max, kSeineMax[c], 1e-6);
    EXPECT_NEAR(f.metadata->channel[c].gamma, kSeineGamma[c], 1e-6);
    EXPECT_NEAR(f.metadata->channel[c].base_offset, 1.0 / 64, 1e-9);
    EXPECT_NEAR(f.metadata->channel[c].alternate_offset, 1.0 / 64, 1e-9);
  }
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, SeineHdrBaseAvif) {
  auto f = read_ok(corpus_bytes("heif/seine_hdr_gainmap_srgb.avif"));
  EXPECT_EQ(f.kind, HeifKind::Avif);
  EXPECT_EQ(f.primary.width, 400u);
  EXPECT_EQ(f.primary.height, 300u);
  EXPECT_FALSE(f.primary.grid);
  EXPECT_EQ(f.primary.rotation_ccw, 0);
  EXPECT_EQ(f.orientation, 1);
  EXPECT_EQ(f.primary.bit_depth, 10);
  ASSERT_TRUE(f.primary.nclx);
  EXPECT_EQ(f.primary.nclx->transfer, 16);  // PQ base
  ASSERT_TRUE(f.gain_map);
  EXPECT_EQ(f.gain_map->width, 400u);
  EXPECT_EQ(f.gain_map->height, 300u);
  EXPECT_EQ(f.gain_map->channels, 3);
  ASSERT_TRUE(f.alternate_nclx);
  EXPECT_EQ(f.alternate_nclx->transfer, 13);  // the alternate rendition is sRGB
  EXPECT_TRUE(f.tmap_brand);
  EXPECT_TRUE(f.altr_group);
  ASSERT_TRUE(f.metadata);
  EXPECT_EQ(f.source, MetadataSource::Iso);
  EXPECT_NEAR(f.metadata->base_headroom, 1.3, 1e-6);
  EXPECT_NEAR(f.metadata->alternate_headroom, 0.0, 1e-9);
  EXPECT_TRUE(f.metadata->base_is_hdr());
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(f.metadata->channel[c].min, kSeineMin[c], 1e-6);
    EXPECT_NEAR(f.metadata->channel[c].max, kSeineMax[c], 1e-6);
    EXPECT_NEAR(f.metadata->channel[c].gamma, kSeineGamma[c], 1e-6);
    EXPECT_NEAR(f.metadata->channel[c].base_offset, 1.0 / 64, 1e-9);
    EXPECT_NEAR(f.metadata->channel[c].alternate_offset, 1.0 / 64, 1e-9);
  }
  EXPECT_TRUE(f.warnings.empty()) << f.warnings.front();
}

TEST(HeifCorpus, SeineHdrRec2020NoGainMap) {
  auto f = read_ok(corpus_bytes("heif/seine_hdr_rec2020.avif"));
  EXPECT_EQ(f.kind, HeifKind::Avif);
  EXPECT_EQ(f.primary.width, 400u);
  EXPECT_EQ(f.primary.height, 300u);
  EXPECT_EQ(f.primary.bit_depth, 10);
  ASSERT_TRUE(f.primary.nclx);
  EXPECT_EQ(f.primary.nclx->primaries, 9);
  EXPECT_EQ(f.primary.nclx->transfer, 16);
  EXPECT_EQ(f.primary.nclx->matrix, 9);
  EXPECT_FALSE(f.primary.grid);
  EXPECT_EQ(f.orientation, 1);
  EXPECT_EQ(f.primary.rotation_ccw, 0);
  EXPECT_FALSE(f.gain_map);
  EXPECT_FALSE(f.metadata);
  EXPECT_FALSE(f.tmap_item);
}

TEST(HeifCorpus, ItemDataAndJson) {
  auto bytes = corpus_bytes("heif/seine_sdr_gainmap_srgb.avif");
  auto f = read_ok(bytes);
  ASSERT_TRUE(f.tmap_item);
  auto tmap = heif::read_item_data(f.structure, bytes, *f.tmap_item, 1 << 16);
  ASSERT_TRUE(tmap) << tmap.error().message;
  EXPECT_EQ(tmap->size(), 142u);  // version byte + 141-byte 3-channel GainMapMetadata
  EXPECT_EQ((*tmap)[0], 0);
  auto small = heif::read_item_data(f.structure, bytes, f.primary.item_id, 100);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, ErrorCode::TooLarge);
  auto view = heif::item_data_view(f.structure, bytes, f.primary.item_id);
  ASSERT_TRUE(view);
  EXPECT_GT(view->size(), 1000u);
  EXPECT_GE(view->data(), bytes.data());
  EXPECT_LE(view->data() + view->size(), bytes.data() + bytes.size());

  auto j = heif_file_json(f);
  EXPECT_EQ(j["format"], "avif");
  EXPECT_EQ(j["gain_map"]["metadata_source"], "iso21496-1");
  EXPECT_EQ(j["tmap"]["altr_group"], true);
  EXPECT_EQ(j["structure"]["items"].size(), f.structure.items.size());
  EXPECT_EQ(j["structure"]["groups"][0]["type"], "altr");

  auto tree = isobmff::read_box_tree(bytes);
  ASSERT_TRUE(tree) << tree.error().message;
  bool found_ipco = false;
  for (const auto& n : *tree)
    if (n.box.type == fourcc("meta"))
      for (const auto& c : n.children)
        if (c.box.type == fourcc("iprp"))
          for (const auto& cc : c.children) found_ipco |= cc.box.type == fourcc("ipco") && !cc.children.empty();
  EXPECT_TRUE(found_ipco);
  auto tj = box_tree_json(*tree);
  ASSERT_TRUE(tj.is_array());
  EXPECT_EQ(tj[0]["type"], "ftyp");
}

TEST(HeifCorpus, ExifTiffAndXmpItems) {
  auto bytes = corpus_bytes("heif/iphone15promax_ios18_tmap.heic");
  auto f = read_ok(bytes);
  ASSERT_TRUE(f.exif_item);
  ASSERT_GE(f.exif_tiff.size(), 8u);
  EXPECT_TRUE(starts_with(f.exif_tiff, "MM") || starts_with(f.exif_tiff, "II"));
  auto e = parse_exif(f.exif_tiff);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->orientation, 6);
  EXPECT_GE(f.xmp_items.size(), 7u);  // one per aux image
  EXPECT_NE(f.gain_map_xmp.find("HDRGainMap"), std::string::npos);
  // Every grid tile of both images is readable and inside the file.
  for (const auto* img : {&f.primary, &*f.gain_map})
    for (uint32_t t : img->grid->tiles) {
      auto v = heif::item_data_view(f.structure, bytes, t);
      ASSERT_TRUE(v) << v.error().message;
      EXPECT_GT(v->size(), 0u);
    }
}

// ---- hand-built files ----------------------------------------------------------------------

namespace {

using Bytes = std::vector<uint8_t>;

Bytes box(const char* type, const Bytes& payload) {
  ByteWriter w;
  w.u32(uint32_t(8 + payload.size()));
  w.append(std::string_view(type, 4));
  w.append(payload);
  return w.take();
}
Bytes full(const char* type, uint8_t version, uint32_t flags, const Bytes& payload) {
  ByteWriter w;
  w.u32(uint32_t(version) << 24 | flags);
  w.append(payload);
  return box(type, w.bytes());
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
void append(Bytes& to, const Bytes& more) { to.insert(to.end(), more.begin(), more.end()); }
Bytes be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }
Bytes be16(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v)}; }
Bytes str(std::string_view s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}
Bytes cc(const char* s) { return Bytes(s, s + 4); }

// Property boxes.
Bytes hvcc(bool mono = false) {
  Bytes p(23, 0);
  p[0] = 1;
  p[16] = 0xFC | (mono ? 0 : 1);  // chroma_format_idc
  p[17] = 0xF8 | 2;              // 10-bit luma
  p[18] = 0xF8 | 2;
  return box("hvcC", p);
}
Bytes ispe(uint32_t w, uint32_t h) { return full("ispe", 0, 0, cat({be32(w), be32(h)})); }
Bytes irot(uint8_t a) { return box("irot", {a}); }
Bytes imir(uint8_t a) { return box("imir", {a}); }
Bytes clap(uint32_t wn, uint32_t wd, uint32_t hn, uint32_t hd, int32_t ho, uint32_t hod, int32_t vo, uint32_t vod) {
  return box("clap", cat({be32(wn), be32(wd), be32(hn), be32(hd), be32(uint32_t(ho)), be32(hod), be32(uint32_t(vo)),
                          be32(vod)}));
}
Bytes auxc(std::string_view type) { return full("auxC", 0, 0, str(type)); }
Bytes pixi(std::initializer_list<uint8_t> bits) {
  Bytes p(bits);
  p.insert(p.begin(), uint8_t(bits.size()));
  return full("pixi", 0, 0, p);
}

struct TItem {
  uint32_t id = 0;
  std::string type = "hvc1";
  Bytes data;
  bool in_idat = false;
  bool hidden = false;
  std::vector<uint16_t> props;  // 1-based ipco indices
  std::string content_type;
};

struct TestHeif {
  std::vector<std::string> brands{"mif1", "heic"};
  uint32_t primary = 1;
  std::vector<TItem> items;
  std::vector<Bytes> properties;
  std::vector<std::tuple<std::string, uint32_t, std::vector<uint32_t>>> refs;
  Bytes grpl;            // children of grpl (empty: no grpl box)
  uint8_t iinf_version = 0;
  std::optional<uint32_t> iinf_count;  // override
  std::string handler = "pict";
  Bytes extra_meta;      // more boxes appended inside meta
  Bytes iloc_override;   // replaces the generated iloc
  Bytes trailing;        // more top-level boxes after meta

  // ftyp, mdat (construction-0 item data, in item order), meta (with idat for the others).
  Bytes build() const {
    Bytes ftyp_payload = cat({cc(brands.empty() ? "heic" : brands[0].c_str()), be32(0)});
    for (const auto& b : brands) append(ftyp_payload, cc(b.c_str()));
    Bytes ftyp = box("ftyp", ftyp_payload);
    Bytes mdat_payload, idat_payload;
    std::vector<std::pair<uint64_t, uint64_t>> where(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      Bytes& dst = items[i].in_idat ? idat_payload : mdat_payload;
      const uint64_t base = items[i].in_idat ? 0 : ftyp.size() + 8;
      where[i] = {base + dst.size(), items[i].data.size()};
      dst.insert(dst.end(), items[i].data.begin(), items[i].data.end());
    }
    Bytes mdat = box("mdat", mdat_payload);

    Bytes infes;
    for (const auto& it : items) {
      Bytes p = cat({be16(uint16_t(it.id)), be16(0), cc(it.type.c_str()), str("")});
      if (it.type == "mime") p = cat({p, str(it.content_type)});
      append(infes, full("infe", 2, it.hidden ? 1 : 0, p));
    }
    const uint32_t count = iinf_count.value_or(uint32_t(items.size()));
    Bytes iinf = full("iinf", iinf_version, 0,
                      cat({iinf_version == 0 ? be16(uint16_t(count)) : be32(count), infes}));
    Bytes iloc_p = cat({Bytes{0x44, 0x00}, be16(uint16_t(items.size()))});
    for (size_t i = 0; i < items.size(); ++i)
      append(iloc_p, cat({be16(uint16_t(items[i].id)), be16(items[i].in_idat ? 1 : 0), be16(0), be16(1),
                          be32(uint32_t(where[i].first)), be32(uint32_t(where[i].second))}));
    Bytes iloc = iloc_override.empty() ? full("iloc", 1, 0, iloc_p) : iloc_override;
    Bytes ipco;
    for (const auto& p : properties) append(ipco, p);
    Bytes ipma_p = be32(uint32_t(items.size()));
    for (const auto& it : items) {
      append(ipma_p, cat({be16(uint16_t(it.id)), Bytes{uint8_t(it.props.size())}}));
      for (uint16_t p : it.props) ipma_p.push_back(uint8_t(0x80 | p));
    }
    Bytes iprp = box("iprp", cat({box("ipco", ipco), full("ipma", 0, 0, ipma_p)}));
    Bytes irefs;
    for (const auto& [type, from, to] : refs) {
      Bytes p = cat({be16(uint16_t(from)), be16(uint16_t(to.size()))});
      for (uint32_t t : to) append(p, be16(uint16_t(t)));
      append(irefs, box(type.c_str(), p));
    }
    Bytes meta_p = cat({full("hdlr", 0, 0, cat({be32(0), cc(handler.c_str()), be32(0), be32(0), be32(0), str("")})),
                        full("pitm", 0, 0, be16(uint16_t(primary))), iinf, iloc, iprp});
    if (!refs.empty()) meta_p = cat({meta_p, full("iref", 0, 0, irefs)});
    if (!grpl.empty()) meta_p = cat({meta_p, box("grpl", grpl)});
    if (!idat_payload.empty()) meta_p = cat({meta_p, box("idat", idat_payload)});
    meta_p = cat({meta_p, extra_meta});
    return cat({ftyp, mdat, full("meta", 0, 0, meta_p), trailing});
  }
};

// A 64x48 HEVC primary (item 1, properties hvcC + ispe).
TestHeif simple() {
  TestHeif h;
  h.properties = {hvcc(), ispe(64, 48)};
  h.items.push_back({1, "hvc1", Bytes(100, 0xAB), false, false, {1, 2}, ""});
  return h;
}

Bytes grid_data(int rows, int cols, uint32_t w, uint32_t h, bool wide = false) {
  if (wide) return cat({Bytes{0, 1, uint8_t(rows - 1), uint8_t(cols - 1)}, be32(w), be32(h)});
  return cat({Bytes{0, 0, uint8_t(rows - 1), uint8_t(cols - 1)}, be16(uint16_t(w)), be16(uint16_t(h))});
}

// tmap payload: version 0 + single-channel GainMapMetadata (alternate headroom 2, max 2).
Bytes tmap_data(uint8_t version = 0, uint16_t minimum_version = 0) {
  Bytes m = cat({Bytes{version}, be16(minimum_version), be16(0), Bytes{0x40}, be32(0), be32(1), be32(2), be32(1)});
  m = cat({m, be32(0), be32(1), be32(2), be32(1), be32(1), be32(1), be32(1), be32(64), be32(1), be32(64)});
  return m;
}

// Primary 1 (64x48), gain map 2 (32x24, hidden), tmap 3 with dimg [1, 2], altr [3, 1].
TestHeif with_tmap() {
  TestHeif h = simple();
  h.brands = {"mif1", "heic", "tmap"};
  h.properties.push_back(ispe(32, 24));   // 3
  h.properties.push_back(hvcc(true));     // 4
  h.properties.push_back(pixi({10, 10, 10}));  // 5
  h.items.push_back({2, "hvc1", Bytes(50, 0xCD), false, true, {4, 3}, ""});
  h.items.push_back({3, "tmap", tmap_data(), false, false, {2, 5}, ""});
  h.refs.push_back({"dimg", 3, {1, 2}});
  h.grpl = full("altr", 0, 0, cat({be32(10), be32(2), be32(3), be32(1)}));
  return h;
}

Result<HeifFile> read(const Bytes& b) { return read_heif(b); }

}  // namespace

TEST(HeifBuilt, SimpleFile) {
  Bytes b = simple().build();
  auto f = read(b);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->kind, HeifKind::Heic);
  EXPECT_EQ(f->primary.width, 64u);
  EXPECT_EQ(f->primary.height, 48u);
  EXPECT_EQ(f->primary.bit_depth, 10);  // from hvcC (no pixi)
  EXPECT_EQ(f->primary.channels, 3);
  EXPECT_FALSE(f->gain_map);
  auto data = heif::read_item_data(f->structure, b, 1, 1000);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, Bytes(100, 0xAB));
  EXPECT_TRUE(f->warnings.empty()) << f->warnings.front();
}

TEST(HeifBuilt, TmapGainMap) {
  auto f = read(with_tmap().build());
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->gain_map);
  EXPECT_EQ(f->gain_map->item_id, 2u);
  EXPECT_EQ(f->gain_map->channels, 1);  // monochrome hvcC
  EXPECT_EQ(f->tmap_item, 3u);
  EXPECT_TRUE(f->tmap_brand);
  EXPECT_TRUE(f->altr_group);
  ASSERT_TRUE(f->alternate_pixi);
  EXPECT_EQ(f->alternate_pixi->bits.size(), 3u);
  ASSERT_TRUE(f->metadata);
  EXPECT_EQ(f->source, MetadataSource::Iso);
  EXPECT_DOUBLE_EQ(f->metadata->alternate_headroom, 2.0);
  EXPECT_DOUBLE_EQ(f->metadata->channel[0].max, 2.0);
  EXPECT_DOUBLE_EQ(f->metadata->channel[0].base_offset, 1.0 / 64);
  EXPECT_TRUE(f->warnings.empty()) << f->warnings.front();
}

TEST(HeifBuilt, TmapWithoutBrandOrAltrIsUsedWithWarnings) {
  TestHeif h = with_tmap();
  h.brands = {"mif1", "heic"};
  h.grpl.clear();
  auto f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->metadata);
  EXPECT_FALSE(f->tmap_brand);
  EXPECT_FALSE(f->altr_group);
  EXPECT_EQ(f->warnings.size(), 2u);
  // altr in the wrong order (base preferred) does not count.
  h = with_tmap();
  h.grpl = full("altr", 0, 0, cat({be32(10), be32(2), be32(1), be32(3)}));
  f = read(h.build());
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->altr_group);
}

TEST(HeifBuilt, TmapUnknownVersionIgnoredNotAnError) {
  for (auto [version, minimum] : {std::pair<uint8_t, uint16_t>{1, 0}, {0, 1}}) {
    TestHeif h = with_tmap();
    h.items[2].data = tmap_data(version, minimum);
    auto f = read(h.build());
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_FALSE(f->metadata);
    EXPECT_FALSE(f->iso_metadata);
    EXPECT_EQ(f->source, MetadataSource::None);
    EXPECT_FALSE(f->damaged);
    EXPECT_FALSE(f->warnings.empty());
  }
}

TEST(HeifBuilt, TmapWrongInputsIgnored) {
  TestHeif h = with_tmap();
  h.refs = {{"dimg", 3, {2, 1}}};  // base is not the primary
  auto f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_FALSE(f->tmap_item);
  EXPECT_FALSE(f->metadata);
  h.refs = {{"dimg", 3, {1}}};
  f = read(h.build());
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->tmap_item);
  h.refs = {{"dimg", 3, {1, 1}}};
  f = read(h.build());
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->tmap_item);
  EXPECT_FALSE(f->gain_map);
}

TEST(HeifBuilt, TruncatedGainMapIsDamaged) {
  TestHeif h = with_tmap();
  Bytes b = h.build();
  // Point the gain map's extent (found by its 50-byte length in iloc) past the end of the file.
  const Bytes len50 = be32(50);
  auto it = std::search(b.begin(), b.end(), len50.begin(), len50.end());
  ASSERT_NE(it, b.end());
  const Bytes past = be32(uint32_t(b.size() - 10));
  std::copy(past.begin(), past.end(), it - 4);
  auto f = read(b);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->damaged);
  EXPECT_FALSE(f->gain_map);
  EXPECT_FALSE(f->metadata);
  EXPECT_TRUE(f->iso_metadata);  // the tmap itself was readable
}

TEST(HeifBuilt, AppleAuxWithExifAndXmp) {
  TestHeif h = simple();
  h.properties.push_back(ispe(32, 24));                               // 3
  h.properties.push_back(hvcc(true));                                 // 4
  h.properties.push_back(auxc("urn:com:apple:photo:2020:aux:hdrgainmap"));  // 5
  h.properties.push_back(auxc("urn:com:apple:photo:2019:aux:semanticskinmatte"));  // 6
  h.items.push_back({2, "hvc1", Bytes(40, 1), false, true, {4, 3, 5}, ""});
  h.items.push_back({3, "hvc1", Bytes(40, 2), false, true, {4, 3, 6}, ""});
  const std::string xmp =
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
      "<rdf:Description xmlns:HDRGainMap=\"http://ns.apple.com/HDRGainMap/1.0/\">"
      "<HDRGainMap:HDRGainMapVersion>131072</HDRGainMap:HDRGainMapVersion>"
      "<HDRGainMap:HDRGainMapHeadroom>4.5</HDRGainMap:HDRGainMapHeadroom>"
      "</rdf:Description></rdf:RDF></x:xmpmeta>";
  h.items.push_back({4, "mime", Bytes(xmp.begin(), xmp.end()), true, true, {}, "application/rdf+xml"});
  Bytes exif = cat({be32(6), Bytes{'E', 'x', 'i', 'f', 0, 0}, make_orientation_exif(8)});
  h.items.push_back({5, "Exif", exif, false, true, {}, ""});
  // The matte comes first: the gain map must be picked by its auxC type.
  h.refs = {{"auxl", 3, {1}}, {"auxl", 2, {1}}, {"cdsc", 4, {2}}, {"cdsc", 5, {1}}, {"cdsc", 3, {99}}};
  auto f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->gain_map);
  EXPECT_EQ(f->gain_map->item_id, 2u);
  EXPECT_EQ(f->apple_aux_item, 2u);
  EXPECT_EQ(f->aux_images.size(), 2u);
  EXPECT_EQ(f->source, MetadataSource::Apple);
  EXPECT_EQ(f->apple_version, 131072);
  ASSERT_TRUE(f->apple_headroom);
  EXPECT_DOUBLE_EQ(*f->apple_headroom, 4.5);
  ASSERT_TRUE(f->metadata);
  EXPECT_NEAR(f->metadata->alternate_headroom, std::log2(4.5), 1e-9);
  EXPECT_EQ(f->exif_item, 5u);
  EXPECT_EQ(f->orientation, 8);
  EXPECT_TRUE(f->xmp_items == std::vector<uint32_t>{4});
  // The dangling cdsc (to item 99) is a warning, not an error; so is an EXIF orientation that
  // irot/imir (absent here) do not match.
  ASSERT_EQ(f->warnings.size(), 2u);
  EXPECT_NE(f->warnings[0].find("99"), std::string::npos);
  EXPECT_NE(f->warnings[1].find("EXIF orientation 8"), std::string::npos);
}

TEST(HeifBuilt, GridInIdat) {
  TestHeif h;
  h.properties = {hvcc(), ispe(64, 64), ispe(120, 100), irot(1)};
  h.primary = 10;
  for (uint32_t i = 1; i <= 4; ++i) h.items.push_back({i, "hvc1", Bytes(20, uint8_t(i)), false, true, {1, 2}, ""});
  h.items.push_back({10, "grid", grid_data(2, 2, 120, 100), true, false, {3, 4}, ""});
  h.refs = {{"dimg", 10, {1, 2, 3, 4}}};
  Bytes b = h.build();
  auto f = read(b);
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->primary.grid);
  EXPECT_EQ(f->primary.grid->rows, 2u);
  EXPECT_EQ(f->primary.grid->columns, 2u);
  EXPECT_EQ(f->primary.grid->tiles, (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(f->primary.width, 120u);  // the 128x128 mosaic cropped
  EXPECT_EQ(f->primary.height, 100u);
  EXPECT_EQ(f->primary.rotation_ccw, 90);
  EXPECT_EQ(f->primary.display_width, 100u);
  EXPECT_EQ(f->primary.display_height, 120u);
  EXPECT_EQ(f->primary.codec_config.size(), 23u);
  // 32-bit output sizes (flags bit 0).
  h.items[4].data = grid_data(2, 2, 120, 100, true);
  f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->primary.width, 120u);
}

TEST(HeifBuilt, GridErrors) {
  auto grid = [](Bytes data, std::vector<uint32_t> tiles, Bytes tile2_ispe = ispe(64, 64)) {
    TestHeif h;
    h.properties = {hvcc(), ispe(64, 64), tile2_ispe};
    h.primary = 10;
    h.items.push_back({1, "hvc1", Bytes(20, 1), false, true, {1, 2}, ""});
    h.items.push_back({2, "hvc1", Bytes(20, 2), false, true, {1, 3}, ""});
    h.items.push_back({10, "grid", std::move(data), true, false, {}, ""});
    h.refs = {{"dimg", 10, std::move(tiles)}};
    return read(h.build());
  };
  EXPECT_TRUE(grid(grid_data(1, 2, 128, 64), {1, 2}));
  // Tiles do not cover the output.
  auto r = grid(grid_data(1, 2, 129, 64), {1, 2});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidInput);
  // Tile count differs from rows x columns.
  EXPECT_FALSE(grid(grid_data(2, 2, 128, 128), {1, 2}));
  // Tiles of different sizes.
  EXPECT_FALSE(grid(grid_data(1, 2, 128, 64), {1, 2}, ispe(32, 64)));
  // Tile missing.
  EXPECT_FALSE(grid(grid_data(1, 2, 128, 64), {1, 7}));
  // Unknown grid version.
  Bytes v1 = grid_data(1, 2, 128, 64);
  v1[0] = 1;
  r = grid(v1, {1, 2});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  // The largest grid, 256 x 256 tiles, with an output far over the pixel limit.
  r = grid(grid_data(256, 256, 100000, 100000, true), {1, 2});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
  // 255 x 256 tile references (a u16 reference_count cannot say 65536): all checked, fine.
  std::vector<uint32_t> many(255 * 256, 2);
  r = grid(grid_data(255, 256, 256 * 32, 255 * 32, true), many, ispe(32, 32));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->primary.grid->tiles.size(), many.size());
  // ... and the same mosaic over the pixel limit.
  Limits tight;
  tight.max_pixels = 1'000'000;
  TestHeif big;
  big.properties = {hvcc(), ispe(64, 64)};
  big.primary = 10;
  big.items.push_back({1, "hvc1", Bytes(20, 1), false, true, {1, 2}, ""});
  big.items.push_back({10, "grid", grid_data(255, 256, 256 * 64, 255 * 64, true), true, false, {}, ""});
  big.refs = {{"dimg", 10, many}};
  auto rb = read_heif(big.build(), tight);
  ASSERT_FALSE(rb);
  EXPECT_EQ(rb.error().code, ErrorCode::TooLarge);
  // Last column entirely cropped away: readable, with a warning.
  r = grid(grid_data(1, 2, 60, 64), {1, 2});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->warnings.empty());
}

TEST(HeifBuilt, Transforms) {
  auto with = [](std::vector<Bytes> extra) {
    TestHeif h = simple();  // 64x48
    for (auto& p : extra) {
      h.properties.push_back(std::move(p));
      h.items[0].props.push_back(uint16_t(h.properties.size()));
    }
    return read(h.build());
  };
  // clap to 32x24 centred, then a quarter turn.
  auto f = with({clap(32, 1, 24, 1, 0, 1, 0, 1), irot(1), imir(1)});
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->primary.clap);
  EXPECT_EQ(f->primary.display_width, 24u);
  EXPECT_EQ(f->primary.display_height, 32u);
  EXPECT_EQ(f->primary.rotation_ccw, 90);
  ASSERT_TRUE(f->primary.mirror_axis);
  EXPECT_EQ(*f->primary.mirror_axis, 1);  // left <-> right (ISO/IEC 23008-12:2022)
  EXPECT_EQ(f->primary.transform_order, (std::vector<uint32_t>{fourcc("clap"), fourcc("irot"), fourcc("imir")}));
  EXPECT_EQ(f->primary.exif_orientation, 7);  // 90 anticlockwise, then left<->right
  // irot / imir as EXIF orientations (irot turns anticlockwise; imir 0 exchanges top and bottom).
  const std::pair<std::vector<Bytes>, int> cases[] = {
      {{}, 1},        {{irot(1)}, 8}, {{irot(2)}, 3},          {{irot(3)}, 6},          {{imir(1)}, 2},
      {{imir(0)}, 4}, {{irot(3), imir(1)}, 5}, {{irot(1), imir(0)}, 5}, {{irot(2), imir(0)}, 2}};
  for (const auto& [props, want] : cases) {
    auto g = with(props);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->primary.exif_orientation, want) << props.size();
  }
  // A clap offset that leaves the image, and a non-integer crop: ignored with a warning.
  for (auto bad : {clap(32, 1, 24, 1, 20, 1, 0, 1), clap(65, 2, 24, 1, 0, 1, 0, 1)}) {
    f = with({bad});
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->primary.clap);
    EXPECT_EQ(f->primary.display_width, 64u);
    EXPECT_FALSE(f->warnings.empty());
  }
  // A zero denominator makes the property undecodable: kept as BadProperty, warned.
  f = with({clap(32, 0, 24, 1, 0, 1, 0, 1)});
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->primary.clap);
  EXPECT_TRUE(std::holds_alternative<heif::BadProperty>(f->structure.properties.back().value));
  // An essential property nobody knows is reported.
  f = with({box("zzzz", {1, 2, 3})});
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->warnings.empty());
}

TEST(HeifBuilt, IdatExtentToEndAndConstructionMethods) {
  // Extent length 0 = to the end of the idat.
  TestHeif h = simple();
  h.items.push_back({2, "Exif", cat({be32(0), make_orientation_exif(3)}), true, true, {}, ""});
  h.refs = {{"cdsc", 2, {1}}};
  Bytes b = h.build();
  auto f = read(b);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->orientation, 3);
  const auto& loc = f->structure.item(2)->location;
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->construction_method, 1);
  heif::HeifStructure s = f->structure;
  s.items[s.item_index[2]].location->extents[0].length = 0;
  auto all = heif::read_item_data(s, b, 2, 1 << 20);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), s.idat->size);
  // Construction method 2 and external data are refused clearly.
  s.items[s.item_index[2]].location->construction_method = 2;
  auto r = heif::read_item_data(s, b, 2, 1 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  EXPECT_NE(r.error().message.find("construction_method 2"), std::string::npos);
  s.items[s.item_index[2]].location->construction_method = 0;
  s.items[s.item_index[2]].location->data_reference_index = 1;
  EXPECT_FALSE(heif::read_item_data(s, b, 2, 1 << 20));
  // Offsets that overflow 64 bits.
  s.items[s.item_index[2]].location->data_reference_index = 0;
  s.items[s.item_index[2]].location->base_offset = ~0ull - 2;
  EXPECT_FALSE(heif::read_item_data(s, b, 2, 1 << 20));
}

TEST(HeifBuilt, BoxHeaderForms) {
  // largesize, size 0 (to end) and a uuid box at the top level.
  TestHeif h = simple();
  Bytes uuid = cat({be32(8 + 16 + 3), cc("uuid"), Bytes(16, 0x11), Bytes{1, 2, 3}});
  h.trailing = cat({uuid, be32(1), cc("free"), be32(0), be32(20), Bytes(4, 0), be32(0), cc("skip"), Bytes(5, 0)});
  Bytes b = h.build();
  auto f = read(b);
  ASSERT_TRUE(f) << f.error().message;
  const auto& boxes = f->structure.boxes;
  ASSERT_EQ(boxes.size(), 6u);
  EXPECT_EQ(boxes[3].type, fourcc("uuid"));
  EXPECT_EQ(boxes[4].size, 20u);
  EXPECT_EQ(boxes[5].size, 13u);
  auto list = isobmff::read_boxes(b, 0);
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->boxes[5].to_end);
  EXPECT_EQ(list->boxes[3].usertype[0], 0x11);
  EXPECT_EQ(list->boxes[3].payload.size(), 3u);
}

TEST(HeifBuilt, MoovIsIgnored) {
  TestHeif h = simple();
  h.trailing = box("moov", box("trak", {}));
  auto f = read(h.build());
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->structure.has_moov);
}

// ---- hostile files -------------------------------------------------------------------------

TEST(HeifHostile, IlocExtentPastEnd) {
  TestHeif h = simple();
  Bytes b = h.build();
  const Bytes len = be32(100);
  auto it = std::search(b.begin(), b.end(), len.begin(), len.end());
  ASSERT_NE(it, b.end());
  const Bytes huge = be32(0x7FFFFFF0);
  std::copy(huge.begin(), huge.end(), it);
  auto s = heif::parse_heif_structure(b);
  ASSERT_TRUE(s);
  auto d = heif::read_item_data(*s, b, 1, ~0ull);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("item 1"), std::string::npos);
  EXPECT_NE(d.error().message.find("past the end"), std::string::npos);
  auto f = read(b);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::InvalidInput);
}

TEST(HeifHostile, DimgLoops) {
  TestHeif h;
  h.properties = {hvcc(), ispe(64, 64)};
  h.items.push_back({1, "grid", grid_data(1, 1, 64, 64), true, false, {2}, ""});
  h.items.push_back({2, "grid", grid_data(1, 1, 64, 64), true, false, {2}, ""});
  h.items.push_back({3, "grid", grid_data(1, 1, 64, 64), true, false, {2}, ""});
  h.refs = {{"dimg", 1, {2}}, {"dimg", 2, {3}}, {"dimg", 3, {1}}};
  auto f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("derived from itself"), std::string::npos);
  h.refs = {{"dimg", 1, {1}}};
  f = read(h.build());
  ASSERT_FALSE(f);
  // A grid whose tile is another grid is refused (no recursion into derived tiles).
  h.refs = {{"dimg", 1, {2}}, {"dimg", 2, {3}}};
  f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::Unsupported);
}

TEST(HeifHostile, HugeCounts) {
  TestHeif h = simple();
  h.iinf_version = 1;
  h.iinf_count = 0xFFFFFFFFu;
  auto f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::TooLarge);
  EXPECT_NE(f.error().message.find("iinf"), std::string::npos);
  // Too many properties.
  h = simple();
  for (int i = 0; i < 1100; ++i) h.properties.push_back(box("free", {}));
  f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::TooLarge);
  // ipma pointing past ipco.
  h = simple();
  h.items[0].props.push_back(9);
  f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("property index 9"), std::string::npos);
  // iloc item_count far beyond the box.
  h = simple();
  h.iloc_override = full("iloc", 0, 0, {0x44, 0x00, 0xFF, 0xFF, 0, 1});
  f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("iloc"), std::string::npos);
  // ... and 65535 extents for one item in a short box.
  h.iloc_override = full("iloc", 0, 0, {0x44, 0x00, 0, 1, 0, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0});
  f = read(h.build());
  ASSERT_FALSE(f);
  // A second iloc.
  h.iloc_override.clear();
  h.extra_meta = full("iloc", 0, 0, {0x44, 0x00, 0, 0});
  f = read(h.build());
  ASSERT_FALSE(f);
}

TEST(HeifHostile, BadBoxSizes) {
  Bytes b = simple().build();
  // Top-level box size smaller than its header.
  Bytes small = b;
  small[3] = 4;  // ftyp size 4
  auto f = read(small);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("smaller than its"), std::string::npos);
  // A box inside meta claiming more than meta holds.
  TestHeif h = simple();
  h.extra_meta = cat({be32(1000), cc("free")});
  f = read(h.build());
  ASSERT_FALSE(f);
  // largesize smaller than the 16-byte header.
  h = simple();
  h.extra_meta = cat({be32(1), cc("free"), be32(0), be32(12)});
  f = read(h.build());
  ASSERT_FALSE(f);
  // Not a picture handler.
  h = simple();
  h.handler = "vide";
  f = read(h.build());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::Unsupported);
  // No pitm target / empty file / no meta.
  h = simple();
  h.primary = 42;
  EXPECT_FALSE(read(h.build()));
  EXPECT_FALSE(read(Bytes{}));
  EXPECT_FALSE(read(box("ftyp", cat({cc("heic"), be32(0)}))));
}

TEST(HeifHostile, NestingBomb) {
  // 2000 nested containers: the tree walk stops at depth 32 without exhausting the stack.
  Bytes inner;
  for (int i = 0; i < 2000; ++i) inner = box(i % 2 ? "trak" : "moov", inner);
  inner = box("moov", inner);
  auto tree = isobmff::read_box_tree(inner);
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("nested deeper"), std::string::npos);
  // The structure parser never recurses into them: a file carrying the bomb still reads.
  TestHeif h = simple();
  h.trailing = inner;
  auto f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->structure.has_moov);
  // Nested iprp/ipco inside meta are not descended either.
  h = simple();
  Bytes nest = box("ipco", {});
  for (int i = 0; i < 2000; ++i) nest = box(i % 2 ? "ipco" : "iprp", nest);
  h.extra_meta = box("dinf", nest);
  EXPECT_TRUE(read(h.build()));
}

TEST(HeifHostile, DanglingReferences) {
  TestHeif h = with_tmap();
  h.refs.push_back({"dimg", 3, {1, 2}});  // duplicate reference box: first one wins
  h.refs.push_back({"cdsc", 77, {1}});    // from a missing item
  h.refs.push_back({"thmb", 2, {2}});     // to itself
  auto f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->metadata);
  EXPECT_GE(f->warnings.size(), 3u);
  // A tmap whose gain-map input does not exist: damaged, no gain map.
  h = with_tmap();
  h.refs = {{"dimg", 3, {1, 9}}};
  f = read(h.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_FALSE(f->gain_map);
  EXPECT_TRUE(f->damaged);
}

// ---- robustness over the corpus ------------------------------------------------------------

namespace {

// Reads every way a consumer would; must return (value or error), never crash or overread.
// The JSON view is slow next to parsing, so only some calls build it.
Result<HeifFile> exercise(ByteView bytes, bool json) {
  auto f = read_heif(bytes);
  if (f) {
    if (json) (void)heif_file_json(*f);
    if (f->tmap_item) (void)heif::read_item_data(f->structure, bytes, *f->tmap_item, 1 << 16);
    if (f->gain_map && !f->gain_map->grid) (void)heif::item_data_view(f->structure, bytes, f->gain_map->item_id);
  }
  (void)isobmff::read_box_tree(bytes);
  return f;
}

// Every box boundary in the file (top level and inside meta), +-1 byte.
std::vector<size_t> box_boundaries(ByteView file) {
  std::vector<size_t> out;
  auto tree = isobmff::read_box_tree(file);
  EXPECT_TRUE(tree);
  if (!tree) return out;
  std::vector<const isobmff::BoxNode*> stack;
  for (const auto& n : *tree) stack.push_back(&n);
  while (!stack.empty()) {
    const auto* n = stack.back();
    stack.pop_back();
    for (size_t p : {size_t(n->box.offset), size_t(n->box.offset + n->box.header_size),
                     size_t(n->box.offset + n->box.size)})
      for (int d : {-1, 0, 1})
        if (p + d <= file.size()) out.push_back(p + d);
    for (const auto& c : n->children) stack.push_back(&c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

TEST(HeifFuzz, TruncatedCopies) {
  for (const char* name : kCorpus) {
    const auto bytes = corpus_bytes(name);
    ASSERT_FALSE(bytes.empty()) << name;
    std::vector<size_t> cuts = box_boundaries(bytes);
    for (int i = 0; i < 48; ++i) cuts.push_back(bytes.size() * i / 48);
    for (size_t k = 1; k < 8; ++k) cuts.push_back(bytes.size() - k);
    size_t ok = 0;
    for (size_t cut : cuts) {
      if (cut >= bytes.size()) continue;
      // An exact-size heap copy, so that any read past the cut is a sanitizer error.
      std::vector<uint8_t> part(bytes.begin(), bytes.begin() + cut);
      auto f = exercise(part, true);
      ok += f.has_value();
      if (f && f->gain_map && f->structure.truncated) {
        // A cut file may keep its gain map only if all of the map's data survived.
        for (uint32_t t : f->gain_map->grid ? f->gain_map->grid->tiles : std::vector<uint32_t>{f->gain_map->item_id})
          EXPECT_TRUE(heif::item_ranges(f->structure, t)) << name << " cut at " << cut;
      }
    }
    SCOPED_TRACE(name);
    EXPECT_GT(cuts.size(), 40u);
  }
}

// 2000 mutated copies per corpus file (REGAIN_HEIF_FUZZ_ITERATIONS overrides, for soaks):
// bit flips, and now and then a size-like value (0, 1, 7, 0xFFFFFFFF, ...) written over four
// bytes, which reaches the count and length checks more often than single flips do.
TEST(HeifFuzz, BitFlips) {
  std::mt19937 rng(20240611);
  const char* env = std::getenv("REGAIN_HEIF_FUZZ_ITERATIONS");
  const int iterations = env ? std::max(1, std::atoi(env)) : 2000;
  const uint32_t interesting[] = {0, 1, 7, 8, 9, 16, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF8};
  for (const char* name : kCorpus) {
    auto bytes = corpus_bytes(name);
    ASSERT_FALSE(bytes.empty()) << name;
    // Concentrate on meta, where every byte is structure.
    auto s = heif::parse_heif_structure(bytes);
    ASSERT_TRUE(s) << name;
    size_t meta_begin = 0, meta_end = bytes.size();
    for (const auto& b : s->boxes)
      if (b.type == fourcc("meta")) {
        meta_begin = size_t(b.offset);
        meta_end = size_t(b.offset + b.size);
      }
    int errors = 0;
    for (int i = 0; i < iterations; ++i) {
      const int nflips = 1 + int(rng() % 3);
      std::vector<std::pair<size_t, uint8_t>> undo;
      auto pick = [&] {
        return rng() % 10 == 0 ? rng() % bytes.size() : meta_begin + rng() % (meta_end - meta_begin);
      };
      for (int k = 0; k < nflips; ++k) {
        const size_t pos = pick();
        undo.emplace_back(pos, bytes[pos]);
        bytes[pos] ^= uint8_t(1u << (rng() % 8));
      }
      if (rng() % 4 == 0) {
        const size_t pos = std::min(pick(), bytes.size() - 4);
        const uint32_t v = interesting[rng() % std::size(interesting)];
        for (int k = 0; k < 4; ++k) {
          undo.emplace_back(pos + k, bytes[pos + k]);
          bytes[pos + k] = uint8_t(v >> (24 - 8 * k));
        }
      }
      errors += !exercise(bytes, i % 16 == 0).has_value();
      for (auto it = undo.rbegin(); it != undo.rend(); ++it) bytes[it->first] = it->second;
    }
    // Most flips land in payloads that do not break the structure.
    EXPECT_LT(errors, iterations) << name;
  }
}
