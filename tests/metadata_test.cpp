// Metadata model: ISO 21496-1 binary, XMP hdrgm, JSON, fractions, validation messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "container/iso21496.h"
#include "container/xmp.h"
#include "gainmap/fraction.h"
#include "regain/report.h"

using namespace regain;

namespace {

GainMapMetadata sample(bool multi) {
  GainMapMetadata m;
  m.multichannel = multi;
  m.base_headroom = 0;
  m.alternate_headroom = 2.681641;
  m.channel[0] = {-0.007401, 2.681641, 0.874512, 1e-5, 1e-5};
  m.channel[1] = multi ? GainMapChannel{-0.25, 1.5, 1.0, 1.0 / 64, 1.0 / 64} : m.channel[0];
  m.channel[2] = multi ? GainMapChannel{-3.835419, 3.947876, 0.610173, 0.0, 0.5} : m.channel[0];
  return m;
}

// The APP2 payload worked through in shared/docs/gainmap-formats.md section 5.7.
const uint8_t kIphoneIso[] = {0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0F, 0x42, 0x40,
                              0x00, 0x28, 0xEB, 0x29, 0x00, 0x0F, 0x42, 0x40, 0xFF, 0xFF, 0xE3, 0x17, 0x00,
                              0x0F, 0x42, 0x40, 0x00, 0x28, 0xEB, 0x29, 0x00, 0x0F, 0x42, 0x40, 0x00, 0x0D,
                              0x58, 0x10, 0x00, 0x0F, 0x42, 0x40, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x0F, 0x42,
                              0x40, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x0F, 0x42, 0x40};

}  // namespace

TEST(Iso21496, DecodesWorkedExample) {
  ASSERT_EQ(sizeof kIphoneIso, 61u);
  auto m = decode_iso21496(kIphoneIso);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->multichannel);
  EXPECT_TRUE(m->use_base_colour_space);
  EXPECT_DOUBLE_EQ(m->base_headroom, 0.0);
  EXPECT_DOUBLE_EQ(m->alternate_headroom, 2.681641);
  EXPECT_DOUBLE_EQ(m->channel[0].min, -0.007401);
  EXPECT_DOUBLE_EQ(m->channel[0].gamma, 0.874512);
  EXPECT_DOUBLE_EQ(m->channel[2].base_offset, 0.00001);
}

TEST(Iso21496, RoundTripIsLossless) {
  for (bool multi : {false, true}) {
    GainMapMetadata m = sample(multi);
    auto bytes = encode_iso21496(m);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->size(), multi ? 141u : 61u);
    auto back = decode_iso21496(*bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
  }
  // Re-encoding the decoded iPhone payload reproduces it byte for byte.
  auto m = decode_iso21496(kIphoneIso);
  auto again = encode_iso21496(*m);
  ASSERT_TRUE(again);
  auto m2 = decode_iso21496(*again);
  EXPECT_EQ(*m2, *m);
}

TEST(Iso21496, RandomValuesRoundTripBitExactly) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> gain(-8, 8), pos(0.01, 12), off(-0.5, 0.5);
  for (int i = 0; i < 500; ++i) {
    GainMapMetadata m;
    m.multichannel = true;
    m.base_headroom = 0;
    m.alternate_headroom = pos(rng);
    for (auto& c : m.channel) {
      double a = gain(rng), b = gain(rng);
      c = {std::min(a, b), std::max(a, b), pos(rng), off(rng), off(rng)};
    }
    auto bytes = encode_iso21496(m);
    ASSERT_TRUE(bytes);
    auto back = decode_iso21496(*bytes);
    ASSERT_TRUE(back);
    for (int c = 0; c < 3; ++c) {
      // The continued-fraction writer picks a fraction whose quotient is the same double
      // when one fits; otherwise the error stays below 1e-9 relative.
      EXPECT_NEAR(back->channel[c].max, m.channel[c].max, 1e-9 * std::fabs(m.channel[c].max) + 1e-12);
      EXPECT_NEAR(back->channel[c].gamma, m.channel[c].gamma, 1e-9 * m.channel[c].gamma);
    }
    // Decoded values re-encode to identical bytes (a fixed point after one pass).
    auto bytes2 = encode_iso21496(*back);
    ASSERT_TRUE(bytes2);
    EXPECT_EQ(*decode_iso21496(*bytes2), *back);
  }
}

TEST(Fraction, EdgeCases) {
  auto f = to_fraction_signed(1.0 / 64);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->num, 1);
  EXPECT_EQ(f->den, 64u);
  f = to_fraction_signed(2.0);
  EXPECT_EQ(f->num, 2);
  EXPECT_EQ(f->den, 1u);
  f = to_fraction_signed(0.0);
  EXPECT_EQ(f->num, 0);
  f = to_fraction_signed(-0.007401);
  EXPECT_DOUBLE_EQ(double(f->num) / f->den, -0.007401);
  f = to_fraction_signed(1e-9);
  ASSERT_TRUE(f);
  EXPECT_NEAR(double(f->num) / f->den, 1e-9, 1e-10);
  EXPECT_TRUE(to_fraction_unsigned(4e9));
  EXPECT_FALSE(to_fraction_unsigned(5e9));
  EXPECT_FALSE(to_fraction_signed(3e9));
  EXPECT_FALSE(to_fraction_unsigned(-1));
  EXPECT_FALSE(to_fraction_signed(std::nan("")));
  EXPECT_FALSE(to_fraction_signed(INFINITY));
  f = to_fraction_signed(-2147483647.0);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->num, -2147483647);
}

// Found by fuzz_iso21496: a value just below 1 whose next convergent overflows was written
// with its numerator scaled to the unsigned range, which is negative as a signed field.
TEST(Fraction, JustBelowOneStaysInTheSignedRange) {
  for (double v : {0.99999999953433871, -0.99999999953433871, 0.9999999999, 0.5000000001}) {
    auto f = to_fraction_signed(v);
    ASSERT_TRUE(f) << v;
    EXPECT_LE(f->num, int64_t(INT32_MAX)) << v;
    EXPECT_GE(f->num, -int64_t(INT32_MAX)) << v;
    EXPECT_NEAR(double(f->num) / f->den, v, 1e-9) << v;
  }
}

// Also from the fuzzer: whatever decodes must encode, and our encoding must decode; nearly
// equal min/max values must not swap order when they become fractions.
TEST(Iso21496, EncodingOfDecodedMetadataDecodes) {
  GainMapMetadata m;
  m.multichannel = true;
  m.channel[0] = {-0.0078125009276847068, 0.0, 1.0, 1.0 / 64, 1.0 / 64};
  m.channel[1] = {0.0011496535936191988, 0.99999999953433871, 1.0, 1.0 / 64, 1.0 / 64};
  m.channel[2] = {0.0, 3.0518978732796192e-05, 1.0, 1.0 / 64, 1.0 / 64};
  auto bytes = encode_iso21496(m);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto back = decode_iso21496(*bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_NEAR(back->channel[1].max, 0.99999999953433871, 1e-9);
  m.channel[1].min = m.channel[1].max = 1.0 / 3.0 + 1e-17;  // equal as doubles
  m.channel[1].max = std::nextafter(m.channel[1].min, 1.0);
  bytes = encode_iso21496(m);
  ASSERT_TRUE(bytes) << bytes.error().message;
  back = decode_iso21496(*bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_LE(back->channel[1].min, back->channel[1].max);
}

TEST(Iso21496, RejectsBrokenPayloads) {
  for (size_t n = 0; n < sizeof kIphoneIso; ++n)
    EXPECT_FALSE(decode_iso21496(std::span(kIphoneIso, n))) << n;
  uint8_t zero_den[61];
  std::memcpy(zero_den, kIphoneIso, 61);
  std::memset(zero_den + 9, 0, 4);  // base headroom denominator
  auto r = decode_iso21496(zero_den);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("base_hdr_headroom"), std::string::npos);
  uint8_t newer[61];
  std::memcpy(newer, kIphoneIso, 61);
  newer[1] = 1;  // minimum_version 1
  r = decode_iso21496(newer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
}

TEST(Iso21496, LegacyCommonDenominator) {
  // flags 0x08: common denominator 64, then numerators.
  const uint8_t legacy[] = {0, 0, 0, 0, 0x48, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 128,
                            0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 0, 64, 0, 0, 0, 1, 0, 0, 0, 1};
  auto m = decode_iso21496(legacy);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_DOUBLE_EQ(m->alternate_headroom, 2.0);
  EXPECT_DOUBLE_EQ(m->channel[0].max, 2.0);
  EXPECT_DOUBLE_EQ(m->channel[0].gamma, 1.0);
  EXPECT_DOUBLE_EQ(m->channel[0].base_offset, 1.0 / 64);
}

TEST(Validate, MessagesNameTheField) {
  GainMapMetadata m = sample(false);
  m.channel[0].max = -1;
  auto v = validate(m);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("gain_map_max"), std::string::npos);
  m = sample(true);
  m.channel[2].gamma = 0;
  v = validate(m);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("blue gamma"), std::string::npos);
  m = sample(false);
  m.alternate_headroom = m.base_headroom;
  EXPECT_FALSE(validate(m));
  m = sample(false);
  m.channel[0].min = NAN;
  EXPECT_FALSE(validate(m));
}

TEST(Xmp, AttributeAndSeqFormsRoundTrip) {
  for (bool multi : {false, true}) {
    GainMapMetadata m = sample(multi);
    auto text = gainmap_xmp(m);
    ASSERT_TRUE(text);
    EXPECT_EQ(text->find("rdf:Seq") != std::string::npos, multi);
    auto x = parse_xmp(*text);
    ASSERT_TRUE(x) << x.error().message;
    auto back = hdrgm_from_xmp(*x);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, m);
  }
}

TEST(Xmp, HdrBaseSwapsOffsetsAndCapacities) {
  GainMapMetadata m = sample(false);
  m.base_headroom = 1.3;
  m.alternate_headroom = 0;
  for (auto& c : m.channel) c.base_offset = 0.25, c.alternate_offset = 0.125;
  auto text = gainmap_xmp(m);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("BaseRenditionIsHDR=\"True\""), std::string::npos);
  EXPECT_NE(text->find("hdrgm:OffsetHDR=\"0.25\""), std::string::npos);
  EXPECT_NE(text->find("HDRCapacityMax=\"1.3\""), std::string::npos);
  auto back = hdrgm_from_xmp(*parse_xmp(*text));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(Xmp, ResolvesNamespacesNotPrefixesAndToleratesWrappers) {
  const char* packet =
      "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
      "<rdf:Description xmlns:g=\"http://ns.adobe.com/hdr-gain-map/1.0/\" g:Version=\"1.0\" g:GainMapMax=\"3.5\""
      " g:HDRCapacityMax=\"3.5\" g:OffsetSDR=\"0\" g:OffsetHDR=\"0\"/></rdf:RDF></x:xmpmeta>\n"
      "<?xpacket end=\"w\"?>      \0\0\0";
  auto x = parse_xmp(std::string_view(packet, std::strlen(packet) + 3));
  ASSERT_TRUE(x) << x.error().message;
  auto m = hdrgm_from_xmp(*x);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_DOUBLE_EQ(m->channel[0].max, 3.5);
  EXPECT_DOUBLE_EQ(m->channel[0].gamma, 1.0);
  EXPECT_DOUBLE_EQ(m->channel[0].base_offset, 0.0);
}

TEST(Xmp, MissingOrBadFieldsAreNamed) {
  auto x = parse_xmp(
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
      "<rdf:Description xmlns:hdrgm=\"http://ns.adobe.com/hdr-gain-map/1.0/\" hdrgm:Version=\"1.0\""
      " hdrgm:HDRCapacityMax=\"2\"/></rdf:RDF></x:xmpmeta>");
  ASSERT_TRUE(x);
  auto m = hdrgm_from_xmp(*x);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("GainMapMax"), std::string::npos);
  x = parse_xmp(
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
      "<rdf:Description xmlns:hdrgm=\"http://ns.adobe.com/hdr-gain-map/1.0/\" hdrgm:Version=\"1.0\""
      " hdrgm:GainMapMax=\"abc\" hdrgm:HDRCapacityMax=\"2\"/></rdf:RDF></x:xmpmeta>");
  m = hdrgm_from_xmp(*x);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("GainMapMax"), std::string::npos);
  EXPECT_FALSE(parse_xmp("<x:xmpmeta><unclosed"));
}

TEST(Xmp, ContainerDirectory) {
  auto x = parse_xmp(primary_xmp(12345));
  ASSERT_TRUE(x);
  ASSERT_EQ(x->directory.size(), 2u);
  EXPECT_EQ(x->directory[0].semantic, "Primary");
  EXPECT_EQ(x->directory[1].semantic, "GainMap");
  EXPECT_EQ(x->directory[1].length, 12345u);
  EXPECT_EQ(x->value(kNsHdrgm, "Version"), "1.0");
}

TEST(Json, MetadataRoundTrip) {
  for (bool multi : {false, true}) {
    GainMapMetadata m = sample(multi);
    auto back = metadata_from_json(metadata_to_json(m));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, m);
  }
  EXPECT_FALSE(metadata_from_json(nlohmann::json::parse(R"({"channels":[{}]})")));
  EXPECT_FALSE(metadata_from_json(nlohmann::json::parse(R"([1,2])")));
}
