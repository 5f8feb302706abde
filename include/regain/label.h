// Text labels burned into `regain master` exports ("PQ HEIC", "gain map, LUT ...") so that
// renditions can be told apart side by side.
//
// Look: Liberation Sans Regular (metric-compatible with Arial), antialiased by FreeType,
// mid-grey text on a black box. Geometry, all from the image height H:
//   text size  px      = max(8, round(15 * H / 1000))   (15 px on a 1000-px-high image)
//   padding    pad     = max(2, round(0.4 * px))          (box edge to the text's line box)
//   margin     margin  = px                               (image edge to the box)
//   box        bottom-left corner: x = margin, bottom edge `margin` above the image bottom;
//              height = font ascender - descender + 2 * pad, width = ink/advance extent
//              of the string + 2 * pad; clipped to the image.
// The grey is the same *signal* in every SDR export: code 128/255 (50%) where coverage is
// full, black where it is zero, antialiasing blended in the signal domain. HDR renditions
// get that grey at its SDR level (sRGB-decoded 128/255 = 0.2158 of SDR white), so with the
// gain map forced to "no gain" under label_rect() the label looks identical in SDR and HDR.
//
// The font is found at run time: $REGAIN_FONT if set, else
// /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf (Debian fonts-liberation2).
// A missing font is a NotFound error, never a silent fallback.
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regain/error.h"
#include "regain/image.h"

namespace regain {

constexpr uint8_t kLabelGrey = 128;  // 8-bit SDR signal of fully covered text
constexpr const char* kLabelDefaultFont = "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf";

struct LabelRect {
  int x = 0, y = 0, width = 0, height = 0;  // image coordinates, top-left origin
  bool empty() const { return width <= 0 || height <= 0; }
  bool contains(int px, int py) const { return px >= x && py >= y && px < x + width && py < y + height; }
};

struct LabelMask {
  LabelRect box;                  // the black box, clipped to the image
  std::vector<uint8_t> coverage;  // box.width * box.height text coverage, 0 (box) .. 255 (text)
  uint8_t at(int image_x, int image_y) const {
    return coverage[size_t(image_y - box.y) * box.width + (image_x - box.x)];
  }
  // The 8-bit SDR signal of the label at coverage c (same value in every channel).
  static uint8_t signal(uint8_t c) { return uint8_t((kLabelGrey * c + 127) / 255); }
};

// The font file in use ($REGAIN_FONT or the Debian default).
REGAIN_API std::string label_font_path();

// Renders `text` (UTF-8, one line; control characters become spaces) for an image of the
// given size. Errors: empty text, non-positive size, missing or unreadable font.
REGAIN_API Result<LabelMask> render_label(std::string_view text, int image_width, int image_height);
// Just the box (same geometry as render_label).
REGAIN_API Result<LabelRect> label_rect(std::string_view text, int image_width, int image_height);

// Composites into an 8-bit sRGB-encoded RGB/RGBA image (alpha set opaque inside the box).
REGAIN_API Result<LabelRect> draw_label(Image8& sdr_rgb, std::string_view text);
// Composites into a linear float RGB/RGBA image in which `sdr_white` is SDR white (1.0 in
// regain's extended-SDR convention): each pixel becomes sdr_white * srgb_to_linear(signal),
// i.e. exactly the linear light of the 8-bit label.
REGAIN_API Result<LabelRect> draw_label(ImageF& linear_rgb, std::string_view text, float sdr_white = 1.f);

}  // namespace regain
