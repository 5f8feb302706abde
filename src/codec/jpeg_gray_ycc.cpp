// A grayscale (one-component) JPEG re-packed as a three-component YCbCr JPEG without
// touching its luma: the DCT coefficients and quantisation table of the gray component are
// copied as they are, and Cb/Cr are all-zero blocks (mid-grey, so R = G = B = Y when
// decoded). Why: an edited photo turned black-and-white is a common edit, and some gain-map
// readers (libultrahdr among them) refuse a gray primary image; decoding and re-encoding would
// cost a generation of JPEG loss that this avoids. The zero chroma blocks cost a few bits
// each (a few % of the file; the luma's Huffman tables are re-optimised, which wins some back).
#include <cstdlib>
#include <cstring>

#include "codec/libjpeg_errors.h"
#include "regain/codec.h"

namespace regain {

namespace {

using libjpeg::ErrorManager;

enum Status { kOk = 0, kLibError, kNotGray, kTooLarge };

// Output buffer owned here, not by libjpeg: jpeg_mem_dest frees and replaces its buffer as it
// grows but tells the caller the new address only at the end, so an error in between (a
// failed allocation) would leave the caller freeing a stale pointer. Here the pointer is
// updated at every growth and is always the caller's to free.
struct Sink {
  jpeg_destination_mgr pub;
  unsigned char* buf = nullptr;
  size_t cap = 0, size = 0;
};

void sink_init(j_compress_ptr cinfo) {
  auto* s = reinterpret_cast<Sink*>(cinfo->dest);
  s->cap = 1 << 16;
  s->buf = static_cast<unsigned char*>(std::malloc(s->cap));
  if (!s->buf) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  s->pub.next_output_byte = s->buf;
  s->pub.free_in_buffer = s->cap;
}

boolean sink_grow(j_compress_ptr cinfo) {
  auto* s = reinterpret_cast<Sink*>(cinfo->dest);
  const size_t used = s->cap;  // called only when the buffer is full
  auto* bigger = static_cast<unsigned char*>(std::realloc(s->buf, s->cap * 2));
  if (!bigger) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);  // s->buf stays valid (and freed later)
  s->buf = bigger;
  s->cap *= 2;
  s->pub.next_output_byte = s->buf + used;
  s->pub.free_in_buffer = s->cap - used;
  return TRUE;
}

void sink_term(j_compress_ptr cinfo) {
  auto* s = reinterpret_cast<Sink*>(cinfo->dest);
  s->size = s->cap - s->pub.free_in_buffer;
}

// C-style core: no object with a destructor lives in this frame, so longjmp is safe. The
// caller owns both structs and the sink, and destroys and frees them whatever happens here.
Status repack_core(jpeg_decompress_struct* src, jpeg_compress_struct* dst, ErrorManager* err,
                   const unsigned char* data, unsigned long size, const Limits* limits, Sink* sink) {
  if (setjmp(err->jump)) return kLibError;
  jpeg_create_decompress(src);
  jpeg_create_compress(dst);
  jpeg_mem_src(src, data, size);
  jpeg_read_header(src, TRUE);
  if (src->num_components != 1 || src->jpeg_color_space != JCS_GRAYSCALE || src->data_precision != 8)
    return kNotGray;
  if (src->image_width > limits->max_dimension || src->image_height > limits->max_dimension ||
      uint64_t(src->image_width) * src->image_height > limits->max_pixels)
    return kTooLarge;
  // One zeroed chroma plane, requested before the coefficients are read so that libjpeg
  // realises it with the luma's (the same block grid: every component samples 1x1). Cb and
  // Cr share it: the writer only reads them.
  const jpeg_component_info& y = src->comp_info[0];
  jvirt_barray_ptr arrays[3];
  arrays[1] = arrays[2] = (*src->mem->request_virt_barray)(reinterpret_cast<j_common_ptr>(src), JPOOL_IMAGE, TRUE,
                                                           y.width_in_blocks, y.height_in_blocks, 1);
  jvirt_barray_ptr* coef = jpeg_read_coefficients(src);
  arrays[0] = coef[0];

  sink->pub.init_destination = sink_init;
  sink->pub.empty_output_buffer = sink_grow;
  sink->pub.term_destination = sink_term;
  dst->dest = &sink->pub;
  dst->image_width = src->image_width;
  dst->image_height = src->image_height;
  dst->input_components = 3;
  dst->in_color_space = JCS_YCbCr;
  jpeg_set_defaults(dst);
  jpeg_set_colorspace(dst, JCS_YCbCr);
  for (int c = 0; c < 3; ++c) {
    dst->comp_info[c].h_samp_factor = 1;
    dst->comp_info[c].v_samp_factor = 1;
    dst->comp_info[c].quant_tbl_no = c == 0 ? 0 : 1;
  }
  // The luma keeps the table its coefficients were decoded with: the one latched at its first
  // scan (a file may redefine the slot later), else the slot's. The chroma table is libjpeg's
  // default, irrelevant for all-zero blocks.
  const JQUANT_TBL* q = y.quant_table ? y.quant_table : src->quant_tbl_ptrs[y.quant_tbl_no];
  if (!q) return kNotGray;
  if (!dst->quant_tbl_ptrs[0]) dst->quant_tbl_ptrs[0] = jpeg_alloc_quant_table(reinterpret_cast<j_common_ptr>(dst));
  std::memcpy(dst->quant_tbl_ptrs[0]->quantval, q->quantval, sizeof q->quantval);
  dst->optimize_coding = TRUE;
  dst->write_JFIF_header = TRUE;
  jpeg_write_coefficients(dst, arrays);
  jpeg_finish_compress(dst);
  jpeg_finish_decompress(src);
  return kOk;
}

}  // namespace

Result<Bytes> gray_jpeg_to_ycc(ByteView jpeg, const Limits& limits) {
  jpeg_decompress_struct src{};
  jpeg_compress_struct dst{};
  ErrorManager err{};
  src.err = dst.err = libjpeg::install(err);
  Sink sink{};
  const Status s = repack_core(&src, &dst, &err, jpeg.data(), static_cast<unsigned long>(jpeg.size()), &limits, &sink);
  const bool out_of_memory = s == kLibError && err.pub.msg_code == JERR_OUT_OF_MEMORY;
  jpeg_destroy_compress(&dst);
  jpeg_destroy_decompress(&src);
  Bytes bytes;
  if (s == kOk && sink.buf) bytes.assign(sink.buf, sink.buf + sink.size);
  std::free(sink.buf);
  switch (s) {
    case kOk: return bytes;
    case kNotGray: return fail(ErrorCode::InvalidInput, "not an 8-bit grayscale JPEG");
    case kTooLarge: return fail(ErrorCode::TooLarge, "JPEG is over the pixel limit");
    default:
      if (out_of_memory) return fail(ErrorCode::TooLarge, "JPEG re-packing: out of memory");
      return fail(ErrorCode::InvalidInput, std::string("JPEG: ") + err.message);
  }
}

}  // namespace regain
