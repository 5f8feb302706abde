// Label rendering with FreeType; geometry and colour conventions are in regain/label.h.
#include "regain/label.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace regain {

namespace {

struct Library {
  FT_Library lib = nullptr;
  FT_Face face = nullptr;
  ~Library() {
    if (face) FT_Done_Face(face);
    if (lib) FT_Done_FreeType(lib);
  }
};

// UTF-8 to code points; malformed sequences become U+FFFD, control characters spaces (a
// label is a single line).
std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    char32_t cp = 0xFFFD;
    if (len == 1) {
      cp = b;
    } else if (len && i + len <= s.size()) {
      cp = b & (0x7F >> len);
      for (int k = 1; k < len; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) { cp = 0xFFFD; len = k; break; }
        cp = (cp << 6) | (c & 0x3F);
      }
    } else {
      len = 1;
    }
    if (cp < 0x20 || cp == 0x7F) cp = ' ';
    out.push_back(cp);
    i += size_t(len);
  }
  return out;
}

struct Geometry {
  int px, pad, margin;
};
Geometry geometry(int image_height) {
  int px = std::max(8, int(std::lround(15.0 * image_height / 1000.0)));
  return {px, std::max(2, int(std::lround(0.4 * px))), px};
}

}  // namespace

std::string label_font_path() {
  const char* env = std::getenv("REGAIN_FONT");
  return env && *env ? std::string(env) : std::string(kLabelDefaultFont);
}

Result<LabelMask> render_label(std::string_view text, int image_width, int image_height) {
  if (image_width <= 0 || image_height <= 0) return fail(ErrorCode::InvalidInput, "label: empty image");
  auto chars = decode_utf8(text);
  if (chars.empty()) return fail(ErrorCode::InvalidInput, "label: empty text");
  if (chars.size() > 1000) return fail(ErrorCode::InvalidInput, "label: text longer than 1000 characters");
  const std::string font = label_font_path();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(font, ec))
    return fail(ErrorCode::NotFound,
                "label font not found: " + font + " (install fonts-liberation2 or set REGAIN_FONT)");
  Library ft;
  if (FT_Init_FreeType(&ft.lib)) return fail(ErrorCode::Internal, "label: FreeType failed to initialise");
  if (FT_New_Face(ft.lib, font.c_str(), 0, &ft.face))
    return fail(ErrorCode::InvalidInput, "label: cannot load font " + font);
  const Geometry g = geometry(image_height);
  if (FT_Set_Pixel_Sizes(ft.face, 0, FT_UInt(g.px)))
    return fail(ErrorCode::InvalidInput, "label: font " + font + " cannot be scaled");

  // First pass: glyph bitmaps and the ink/advance extent of the line.
  struct Placed {
    int x, top;  // bitmap origin relative to the pen start and the baseline
    int w, h, pitch;
    std::vector<uint8_t> bits;
  };
  std::vector<Placed> glyphs;
  glyphs.reserve(chars.size());
  const bool kerning = FT_HAS_KERNING(ft.face);
  long pen = 0;  // 26.6 fixed point
  FT_UInt prev = 0;
  int ink_left = 0, ink_right = 0;
  for (char32_t cp : chars) {
    FT_UInt gi = FT_Get_Char_Index(ft.face, FT_ULong(cp));
    if (kerning && prev && gi) {
      FT_Vector k;
      if (!FT_Get_Kerning(ft.face, prev, gi, FT_KERNING_DEFAULT, &k)) pen += k.x;
    }
    prev = gi;
    if (FT_Load_Glyph(ft.face, gi, FT_LOAD_DEFAULT) || FT_Render_Glyph(ft.face->glyph, FT_RENDER_MODE_NORMAL))
      return fail(ErrorCode::InvalidInput, "label: font cannot render U+" + std::to_string(uint32_t(cp)));
    const FT_GlyphSlot slot = ft.face->glyph;
    const FT_Bitmap& bm = slot->bitmap;
    Placed p{int(pen >> 6) + slot->bitmap_left, slot->bitmap_top, int(bm.width), int(bm.rows),
             int(bm.width), {}};
    p.bits.resize(size_t(p.w) * p.h);
    for (int y = 0; y < p.h; ++y)
      std::copy_n(bm.buffer + ptrdiff_t(y) * bm.pitch, p.w, p.bits.begin() + ptrdiff_t(y) * p.w);
    if (p.w > 0) {
      ink_left = std::min(ink_left, p.x);
      ink_right = std::max(ink_right, p.x + p.w);
    }
    pen += slot->advance.x;
    glyphs.push_back(std::move(p));
  }
  const int advance = int((pen + 63) >> 6);
  const int ascender = int((ft.face->size->metrics.ascender + 63) >> 6);
  const int descender = int(ft.face->size->metrics.descender >> 6);  // negative
  const int text_w = std::max(advance, ink_right) - ink_left;
  const int box_w = text_w + 2 * g.pad;
  const int box_h = ascender - descender + 2 * g.pad;

  // Full (unclipped) box in image coordinates, then the visible part.
  const int bx = g.margin, by = image_height - g.margin - box_h;
  std::vector<uint8_t> full(size_t(box_w) * box_h, 0);
  const int origin_x = g.pad - ink_left, baseline = g.pad + ascender;
  for (const Placed& p : glyphs)
    for (int y = 0; y < p.h; ++y) {
      int yy = baseline - p.top + y;
      if (yy < 0 || yy >= box_h) continue;
      for (int x = 0; x < p.w; ++x) {
        int xx = origin_x + p.x + x;
        if (xx < 0 || xx >= box_w) continue;
        uint8_t& d = full[size_t(yy) * box_w + xx];
        d = std::max(d, p.bits[size_t(y) * p.w + x]);  // overlapping glyph edges: no double ink
      }
    }
  LabelMask mask;
  const int x0 = std::max(bx, 0), y0 = std::max(by, 0);
  const int x1 = std::min(bx + box_w, image_width), y1 = std::min(by + box_h, image_height);
  mask.box = {x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0)};
  mask.coverage.resize(size_t(mask.box.width) * mask.box.height);
  for (int y = 0; y < mask.box.height; ++y)
    std::copy_n(full.begin() + ptrdiff_t(y + y0 - by) * box_w + (x0 - bx), mask.box.width,
                mask.coverage.begin() + ptrdiff_t(y) * mask.box.width);
  return mask;
}

Result<LabelRect> label_rect(std::string_view text, int image_width, int image_height) {
  REGAIN_TRY(mask, render_label(text, image_width, image_height));
  return mask.box;
}

Result<LabelRect> draw_label(Image8& sdr_rgb, std::string_view text) {
  if (sdr_rgb.channels() < 3) return fail(ErrorCode::InvalidInput, "label: image is not RGB");
  REGAIN_TRY(mask, render_label(text, sdr_rgb.width(), sdr_rgb.height()));
  const int ch = sdr_rgb.channels();
  for (int y = mask.box.y; y < mask.box.y + mask.box.height; ++y) {
    uint8_t* px = sdr_rgb.row(y) + size_t(mask.box.x) * ch;
    for (int x = mask.box.x; x < mask.box.x + mask.box.width; ++x, px += ch) {
      uint8_t v = LabelMask::signal(mask.at(x, y));
      px[0] = px[1] = px[2] = v;
      if (ch > 3) px[3] = 255;
    }
  }
  return mask.box;
}

Result<LabelRect> draw_label(ImageF& linear_rgb, std::string_view text, float sdr_white) {
  if (linear_rgb.channels() < 3) return fail(ErrorCode::InvalidInput, "label: image is not RGB");
  REGAIN_TRY(mask, render_label(text, linear_rgb.width(), linear_rgb.height()));
  const auto& to_lin = srgb8_to_linear_lut();
  const int ch = linear_rgb.channels();
  for (int y = mask.box.y; y < mask.box.y + mask.box.height; ++y) {
    float* px = linear_rgb.row(y) + size_t(mask.box.x) * ch;
    for (int x = mask.box.x; x < mask.box.x + mask.box.width; ++x, px += ch) {
      float v = sdr_white * to_lin[LabelMask::signal(mask.at(x, y))];
      px[0] = px[1] = px[2] = v;
      if (ch > 3) px[3] = 1.f;
    }
  }
  return mask.box;
}

}  // namespace regain
