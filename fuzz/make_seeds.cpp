// Seed corpora for the fuzz harnesses: `make_seeds OUT CORPUS_DIR` writes OUT/<harness>/...
// Small files the project generates (every container flavour and codec we write, at tens of
// pixels so each run is fast) plus the real corpus files and the payloads inside them (XMP
// packets, EXIF, ISO 21496-1, MPF, ICC), so the fuzzers start from what phones write.
#include <lcms2.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "container/exif.h"
#include "container/iso21496.h"
#include "container/jpeg_segments.h"
#include "container/mpf.h"
#include "container/xmp.h"
#include "regain/codec.h"
#include "regain/gainmap.h"
#include "regain/gmnet.h"
#include "regain/heif.h"
#include "regain/icc.h"
#include "regain/jpegr.h"
#include "regain/learned.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"

namespace fs = std::filesystem;
using namespace regain;

namespace {

fs::path g_out;
int g_count = 0;

void put(const std::string& harness, const std::string& name, std::span<const uint8_t> bytes) {
  fs::create_directories(g_out / harness);
  std::ofstream(g_out / harness / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  ++g_count;
}
void put(const std::string& harness, const std::string& name, std::string_view text) {
  put(harness, name, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}
template <class T>
void put(const std::string& harness, const std::string& name, const Result<T>& r) {
  if (r) put(harness, name, *r);
  else std::cerr << "seed " << harness << "/" << name << ": " << r.error().message << "\n";
}

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

Image16 to16(const ImageF& hdr) {  // PQ-ish 10-bit code values, enough for a seed
  Image16 out(hdr.width(), hdr.height(), 3);
  for (size_t i = 0; i < out.size(); ++i) out.data()[i] = uint16_t(std::min(1023.f, hdr.data()[i] * 300.f));
  return out;
}

void generated() {
  const ImageF hdr = synthetic_hdr_scene(96, 64, SceneKind::Sunset);
  const Image8 sdr = tone_map_to_sdr(hdr);
  auto gm = compute_gain_map(sdr, hdr);
  if (!gm) return;
  const GainMapMetadata& meta = gm->meta;

  // Gain-map JPEGs in each flavour, and plain JPEGs.
  EncodeOptions eo;
  put("jpegr", "both.jpg", encode_jpegr(sdr, hdr, eo));
  eo.container.write_iso = false;
  put("jpegr", "xmp_only.jpg", encode_jpegr(sdr, hdr, eo));
  eo.container.write_iso = true;
  eo.container.write_xmp = false;
  eo.gain.multichannel = true;
  put("jpegr", "iso_3ch.jpg", encode_jpegr(sdr, hdr, eo));
  put("jpegr", "plain.jpg", encode_jpeg(sdr, JpegEncodeOptions{80, true}));

  // HEIC/AVIF: one item and grids, tmap and Apple aux, Samsung's layout, rotations, PQ.
  HeifEncodeOptions ho;
  ho.tile_size = 64;
  ho.effort = 0;
  put("heif", "grid_tmap_aux.heic", encode_heif_gainmap(sdr, Primaries::BT709, {}, gm->map, meta, ho));
  ho.rotation_ccw = 90;
  put("heif", "rot90.heic", encode_heif_gainmap(sdr, Primaries::DisplayP3, {}, gm->map, meta, ho));
  ho.rotation_ccw = 0;
  ho.samsung_layout = true;
  ho.map_without_irot = true;
  put("heif", "samsung.heic", encode_heif_gainmap(sdr, Primaries::BT709, {}, gm->map, meta, ho));
  HeifEncodeOptions av;
  av.avif = true;
  av.effort = 9;
  put("heif", "gainmap.avif", encode_heif_gainmap(sdr, Primaries::BT709, {}, gm->map, meta, av));
  Nclx pq{9, 16, 0, true};
  put("heif", "pq10.heic", encode_heif_image(to16(hdr), 10, pq, {}, HeifEncodeOptions{}));

  // Lossless and float formats the decoders take.
  const Image16 px16 = to16(hdr);
  put("decode", "hdr16_cicp.png", encode_png16(px16, Cicp{9, 16, 0, 1}));
  put("decode", "sdr8.png", encode_png8(sdr, make_display_icc(Primaries::DisplayP3)));
  {  // transparent edits: RGBA (cut-out) and gray+alpha PNGs, the second with a late eXIf
    Image8 rgba(sdr.width(), sdr.height(), 4), ga(sdr.width(), sdr.height(), 2);
    for (size_t i = 0; i < size_t(sdr.width()) * sdr.height(); ++i) {
      const uint8_t a = uint8_t(i % size_t(sdr.width()) < size_t(sdr.width() / 2) ? 255 : i % 7 * 30);
      for (int c = 0; c < 3; ++c) rgba.data()[4 * i + c] = sdr.data()[3 * i + c];
      rgba.data()[4 * i + 3] = a;
      ga.data()[2 * i] = sdr.data()[3 * i + 1];
      ga.data()[2 * i + 1] = a;
    }
    put("decode", "rgba.png", encode_png8(rgba));
    if (auto g = encode_png8(ga)) {
      const std::vector<uint8_t> tiff = make_orientation_exif(6);
      std::vector<uint8_t> chunk(8 + tiff.size() + 4, 0);  // CRC left 0: nobody checks it after IDAT
      for (int k = 0; k < 4; ++k) chunk[size_t(k)] = uint8_t(tiff.size() >> (24 - 8 * k));
      std::copy_n("eXIf", 4, chunk.begin() + 4);
      std::copy(tiff.begin(), tiff.end(), chunk.begin() + 8);
      std::vector<uint8_t> late(g->begin(), g->end());
      late.insert(late.end() - 12, chunk.begin(), chunk.end());
      put("decode", "gray_alpha_late_exif.png", std::span<const uint8_t>(late));
    }
  }
  put("decode", "hdr16.tif", encode_tiff16(px16));
  put("decode", "hdrf.tif", encode_tiff_float(hdr));
  put("decode", "hdr.exr", encode_exr(hdr, Primaries::BT2020));
  {  // a black-and-white edit (one-component JPEG): the YCbCr re-packing path
    Image8 gray(sdr.width(), sdr.height(), 1);
    for (size_t i = 0; i < gray.size(); ++i) gray.data()[i] = sdr.data()[3 * i + 1];
    put("decode", "gray.jpg", encode_jpeg(gray, {85, false}));
  }
  {  // WebP edits: lossy with ICC + EXIF chunks (VP8X), and lossless
    uint8_t* enc = nullptr;
    const size_t n = WebPEncodeRGB(sdr.data(), sdr.width(), sdr.height(), sdr.width() * 3, 80.f, &enc);
    if (n) {
      WebPMux* mux = WebPMuxNew();
      const WebPData img{enc, n};
      const auto icc = make_display_icc(Primaries::DisplayP3);
      const auto exif = make_orientation_exif(6);
      const WebPData iccd{icc.data(), icc.size()}, exifd{exif.data(), exif.size()};
      WebPData out{};
      if (mux && WebPMuxSetImage(mux, &img, 1) == WEBP_MUX_OK && WebPMuxSetChunk(mux, "ICCP", &iccd, 1) == WEBP_MUX_OK &&
          WebPMuxSetChunk(mux, "EXIF", &exifd, 1) == WEBP_MUX_OK && WebPMuxAssemble(mux, &out) == WEBP_MUX_OK)
        put("decode", "p3_exif.webp", std::span<const uint8_t>(out.bytes, out.size));
      WebPDataClear(&out);
      WebPMuxDelete(mux);
      WebPFree(enc);
    }
    const size_t nl = WebPEncodeLosslessRGB(sdr.data(), sdr.width(), sdr.height(), sdr.width() * 3, &enc);
    if (nl) put("decode", "lossless.webp", std::span<const uint8_t>(enc, nl));
    WebPFree(enc);
  }

  // Payloads.
  put("xmp", "gainmap.xmp", gainmap_xmp(meta));
  put("xmp", "primary.xmp", primary_xmp(123456));
  put("iso21496", "meta.bin", encode_iso21496(meta));
  put("iso21496", "version.bin", iso_version_payload());
  auto mpf = build_mpf(100000, 20000, 100000);
  put("mpf", "built.bin", std::span<const uint8_t>(mpf).subspan(4));  // after "MPF\0"
  put("exif", "orientation6.tif", make_orientation_exif(6));
  put("icc", "p3.icc", make_display_icc(Primaries::DisplayP3));
  put("icc", "bt2020.icc", make_display_icc(Primaries::BT2020));
  put("icc", "hdr_cicp.icc", make_hdr_icc(HdrIccProfile::HdrP3D65St2084));
  put("icc", "p3pq_v2.icc", make_hdr_icc(HdrIccProfile::P3Pq));
  {  // a grayscale profile (gamma 2.2), as black-and-white edits carry
    cmsToneCurve* g = cmsBuildGamma(nullptr, 2.2);
    cmsHPROFILE gp = cmsCreateGrayProfile(cmsD50_xyY(), g);
    cmsFreeToneCurve(g);
    cmsUInt32Number n = 0;
    if (gp && cmsSaveProfileToMem(gp, nullptr, &n)) {
      std::vector<uint8_t> bytes(n);
      if (cmsSaveProfileToMem(gp, bytes.data(), &n)) put("icc", "gray22.icc", std::span<const uint8_t>(bytes));
    }
    if (gp) cmsCloseProfile(gp);
  }

  // .cube LUTs.
  put("cube_lut", "identity2.cube",
      "TITLE \"identity\"\nLUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n"
      "0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n");
  std::string lut3 = "# warm\nLUT_3D_SIZE 3\n";
  for (int b = 0; b < 3; ++b)
    for (int g = 0; g < 3; ++g)
      for (int r = 0; r < 3; ++r)
        lut3 += std::to_string(r * 0.5 * 1.02) + " " + std::to_string(g * 0.5) + " " + std::to_string(b * 0.5 * 0.97) + "\n";
  put("cube_lut", "warm3.cube", lut3);

  // Models: first byte selects the loader (0 .rglm, 1 .rgm, 2 .pth; see fuzz_models.cpp).
  auto tagged = [](uint8_t tag, std::span<const uint8_t> b) {
    std::vector<uint8_t> v{tag};
    v.insert(v.end(), b.begin(), b.end());
    return v;
  };
  put("models", "small.rglm", tagged(0, learned::serialize_model(learned::new_model(1, {8}))));
  gmnet::TensorMap w;
  static const float vals[6] = {1, 2, 3, 4, 5, 6};
  w["conv.weight"] = gmnet::Tensor{{2, 3}, vals, nullptr};
  w["conv.bias"] = gmnet::Tensor{{2}, std::span<const float>(vals, 2), nullptr};
  const fs::path tmp = g_out / "tmp.rgm";
  if (gmnet::save_rgm(w, tmp)) {
    put("models", "small.rgm", tagged(1, read_all(tmp)));
    fs::remove(tmp);
  }

  // POST /process forms: [selector][length][bytes] records (see fuzz_upload_form.cpp).
  std::vector<uint8_t> form;
  auto part = [&](uint8_t sel, std::span<const uint8_t> b) {
    form.push_back(sel);
    form.push_back(uint8_t(b.size()));
    form.insert(form.end(), b.begin(), b.begin() + std::min<size_t>(b.size(), 255));
  };
  static const uint8_t jpeg_head[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0};
  static const uint8_t heic_head[] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'};
  part(0, jpeg_head);
  part(1, heic_head);
  part(2, std::span(reinterpret_cast<const uint8_t*>("1.5"), 3));
  part(3, std::span(reinterpret_cast<const uint8_t*>("heic"), 4));
  part(4, std::span(reinterpret_cast<const uint8_t*>("true"), 4));
  put("upload_form", "form.bin", form);
}

// Real files, and the payloads inside their JPEG segments.
void from_corpus(const fs::path& corpus) {
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    if (!e.is_regular_file() || e.file_size() > (2u << 20)) continue;
    const auto bytes = read_all(e.path());
    const std::string name = e.path().filename().string();
    const FileType t = sniff_file_type(bytes);
    if (t == FileType::Jpeg) {
      put("jpegr", name, bytes);
      put("decode", name, bytes);
      auto s = parse_jpeg_stream(bytes);
      if (!s) continue;
      int k = 0;
      for (const auto& seg : s->segments) {
        const std::string id = name + "." + std::to_string(k++);
        auto starts = [&](std::string_view sig) {
          return seg.payload.size() >= sig.size() && std::equal(sig.begin(), sig.end(), seg.payload.begin());
        };
        if (seg.marker == 0xE1 && starts(kXmpSig)) put("xmp", id + ".xmp", seg.payload.subspan(kXmpSig.size()));
        else if (seg.marker == 0xE1 && starts(kExifSig)) put("exif", id + ".tif", seg.payload.subspan(kExifSig.size()));
        else if (seg.marker == 0xE2 && starts(kMpfSig)) put("mpf", id + ".bin", seg.payload.subspan(kMpfSig.size()));
        else if (seg.marker == 0xE2 && starts(kIsoSig)) put("iso21496", id + ".bin", seg.payload.subspan(kIsoSig.size()));
      }
      if (auto jr = read_jpegr(bytes); jr && !jr->icc.empty()) put("icc", name + ".icc", jr->icc);
    } else if (t == FileType::Heif || t == FileType::Avif) {
      put("heif", name, bytes);
    } else if (t == FileType::Png || t == FileType::Tiff || t == FileType::Exr) {
      put("decode", name, bytes);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_seeds OUT_DIR CORPUS_DIR\n";
    return 2;
  }
  g_out = argv[1];
  fs::create_directories(g_out);
  if (!fs::is_directory(argv[2])) {
    std::cerr << "make_seeds: corpus not found: " << argv[2] << "\n";
    return 1;
  }
  generated();
  from_corpus(argv[2]);
  std::cout << "make_seeds: " << g_count << " seeds in " << g_out.string() << "\n";
  return 0;
}
