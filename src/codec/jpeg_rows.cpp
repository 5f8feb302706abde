// Row-streaming JPEG decode through the libjpeg API (same libjpeg-turbo code as TurboJPEG;
// the default islow DCT and fancy upsampling, so pixels match decode_jpeg exactly).
#include <string>

#include "codec/libjpeg_errors.h"
#include "regain/codec.h"

namespace regain {

namespace {

using libjpeg::ErrorManager;

// C-style core: no object with a destructor lives in this frame, so longjmp is safe.
// Returns nullptr on success, else the message buffer.
const char* decode_core(jpeg_decompress_struct* cinfo, ErrorManager* err, const unsigned char* data,
                        unsigned long size, const Limits* limits, Image8* out,
                        const std::function<void(int)>* on_rows, int* too_large) {
  if (setjmp(err->jump)) return err->message;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, size);
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->image_width > limits->max_dimension || cinfo->image_height > limits->max_dimension ||
      uint64_t(cinfo->image_width) * cinfo->image_height > limits->max_pixels) {
    *too_large = 1;
    return "JPEG is over the pixel limit";
  }
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    *too_large = 2;
    return "CMYK JPEGs are not supported";
  }
  cinfo->out_color_space = JCS_RGB;
  jpeg_start_decompress(cinfo);
  if (out->width() != int(cinfo->output_width) || out->height() != int(cinfo->output_height) ||
      out->channels() != 3) {
    *too_large = 3;
    return "JPEG header and data disagree on the image size";
  }
  int since_report = 0;
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW rows[4];
    for (int i = 0; i < 4; ++i)
      rows[i] = out->row(std::min<int>(cinfo->output_scanline + i, cinfo->output_height - 1));
    int n = int(jpeg_read_scanlines(cinfo, rows, 4));
    since_report += n;
    if (since_report >= 16 || cinfo->output_scanline == cinfo->output_height) {
      (*on_rows)(int(cinfo->output_scanline));
      since_report = 0;
    }
  }
  jpeg_finish_decompress(cinfo);
  return nullptr;
}

}  // namespace

Result<void> decode_jpeg_rows(ByteView jpeg, const Limits& limits, Image8& out,
                              const std::function<void(int)>& on_rows) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = libjpeg::install(err);
  // The output is allocated here, outside the setjmp frame, from TurboJPEG's header parse.
  auto info = jpeg_info(jpeg);
  if (!info) return tl::unexpected(info.error());
  if (info->width <= 0 || info->height <= 0) return fail(ErrorCode::InvalidInput, "JPEG has zero size");
  if (uint32_t(info->width) > limits.max_dimension || uint32_t(info->height) > limits.max_dimension ||
      uint64_t(info->width) * info->height > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "JPEG is " + std::to_string(info->width) + "x" +
                                         std::to_string(info->height) + ", over the pixel limit");
  if (out.width() != info->width || out.height() != info->height || out.channels() != 3) {
    try {
      out = Image8(info->width, info->height, 3);
    } catch (const std::bad_alloc&) {
      return fail(ErrorCode::TooLarge, "not enough memory for a " + std::to_string(info->width) + "x" +
                                           std::to_string(info->height) + " image");
    }
  }
  int special = 0;
  const char* msg = decode_core(&cinfo, &err, jpeg.data(), (unsigned long)jpeg.size(), &limits, &out, &on_rows, &special);
  jpeg_destroy_decompress(&cinfo);
  if (!msg) return {};
  std::string m(msg);
  if (special == 1) return fail(ErrorCode::TooLarge, m);
  if (special == 2) return fail(ErrorCode::Unsupported, m);
  if (special == 3) return fail(ErrorCode::InvalidInput, m);
  return fail(ErrorCode::InvalidInput, "JPEG data: " + m);
}

}  // namespace regain
