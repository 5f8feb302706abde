// libjpeg error handling shared by the codecs that use the libjpeg API directly (row
// streaming, gray re-packing): errors longjmp back to the caller's setjmp with the message
// kept, and a stream that runs out of data is an error rather than a warning.
#pragma once
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>

#include <csetjmp>

namespace regain::libjpeg {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

inline void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Real files carry benign defects (extraneous bytes before a marker) that every viewer
// shows; those warnings pass. Running out of data is an error: the rest would be grey.
inline void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

// Points `err` at the handlers above; returns the jpeg_error_mgr to store in a struct's err.
inline jpeg_error_mgr* install(ErrorManager& err) {
  jpeg_error_mgr* e = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  return e;
}

}  // namespace regain::libjpeg
