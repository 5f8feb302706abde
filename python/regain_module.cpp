// Python bindings (pybind11): `import regain`. Each function is a thin wrapper over the same
// library call the CLI makes, so numbers match `regain ... --json` exactly. Work runs with the
// GIL released; results come back without copies where the library's buffers can be handed
// over (decoded pixels become numpy arrays that own them); errors raise regain.Error with
// the library's error code.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "container/heif_decode.h"
#include "container/heif_gainmap.h"
#include "regain/codec.h"
#include "regain/jpegr.h"
#include "regain/learned.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "regain/report.h"
#include "regain/train.h"
#include "util/exit_code.h"
#include "util/file_io.h"
#include "util/json_text.h"

namespace py = pybind11;
using namespace regain;

namespace {

py::object& error_type() {
  // regain.Error, created at import. Never destroyed: a static py::object would be released
  // by C++ static destruction after the interpreter is gone.
  static py::object* t = new py::object();
  return *t;
}

[[noreturn]] void raise(const Error& e) {
  py::object exc = error_type()(valid_utf8(e.message));  // messages may quote bytes from a file
  exc.attr("code") = error_code_name(e.code);
  exc.attr("exit_code") = exit_code_of(e.code);
  PyErr_SetObject(error_type().ptr(), exc.ptr());
  throw py::error_already_set();
}

template <class T>
T take(Result<T>&& r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

py::object json_to_py(const nlohmann::json& j) {
  // Through Python's own json module: the same text the CLI prints, so the same numbers.
  return py::module_::import("json").attr("loads")(json_text(j));
}

// Input bytes: a path (str or os.PathLike) is read here; bytes/bytearray/memoryview are used
// in place (a view, no copy). The buffer export is held until the Input is destroyed (with
// the GIL held, after the work): while exported, a bytearray cannot be resized and an mmap
// cannot be closed by another thread during the GIL-free work.
struct Input {
  py::buffer owner;
  std::unique_ptr<py::buffer_info> view;
  std::vector<uint8_t> file;
  std::span<const uint8_t> bytes;
  std::string name;  // the path, or "" for bytes
};

Input input_of(const py::object& src, const char* what) {
  Input in;
  if (py::isinstance<py::str>(src) || py::hasattr(src, "__fspath__")) {
    in.name = py::str(py::module_::import("os").attr("fsdecode")(src));  // str, or bytes paths
    Result<std::vector<uint8_t>> r;
    {
      py::gil_scoped_release nogil;
      r = read_file(in.name);
    }
    in.file = take(std::move(r));
    in.bytes = in.file;
    return in;
  }
  if (!py::isinstance<py::buffer>(src))
    throw py::type_error(std::string(what) + " must be a path or a bytes-like object");
  in.owner = py::reinterpret_borrow<py::buffer>(src);
  in.view = std::make_unique<py::buffer_info>(in.owner.request());
  const py::buffer_info& info = *in.view;
  if (info.itemsize != 1 || info.ndim != 1 || info.strides[0] != 1)
    throw py::type_error(std::string(what) + " must be contiguous bytes");
  in.bytes = {static_cast<const uint8_t*>(info.ptr), size_t(info.shape[0])};
  return in;
}

py::bytes to_bytes(const std::vector<uint8_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

// An image handed to numpy without a copy: the array owns the Image through a capsule.
template <class T>
py::array_t<T> to_array(Image<T>&& img) {
  auto* owned = new Image<T>(std::move(img));
  py::capsule free_it(owned, [](void* p) { delete static_cast<Image<T>*>(p); });
  std::vector<py::ssize_t> shape{owned->height(), owned->width()};
  std::vector<py::ssize_t> strides{py::ssize_t(owned->row_elems() * sizeof(T)), py::ssize_t(owned->channels() * sizeof(T))};
  if (owned->channels() > 1) {
    shape.push_back(owned->channels());
    strides.push_back(sizeof(T));
  }
  return py::array_t<T>(shape, strides, owned->data(), free_it);
}

// numpy HxWx3 (or HxW) -> Image: one copy, which the library's owning image type needs.
template <class T>
Image<T> from_array(const py::array& a, const char* what) {
  auto arr = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!arr || (arr.ndim() != 3 && arr.ndim() != 2) || (arr.ndim() == 3 && arr.shape(2) != 3))
    throw py::value_error(std::string(what) + " must be an HxWx3 array");
  if (arr.shape(0) < 1 || arr.shape(1) < 1 || arr.shape(0) > 65535 || arr.shape(1) > 65535)
    throw py::value_error(std::string(what) + ": bad size");
  Image<T> img(int(arr.shape(1)), int(arr.shape(0)), 3);
  if (arr.ndim() == 3) {
    std::memcpy(img.data(), arr.data(), img.size() * sizeof(T));
  } else {  // grey: replicate
    const T* s = arr.data();
    for (size_t i = 0; i < size_t(img.width()) * img.height(); ++i) img.data()[3 * i] = img.data()[3 * i + 1] = img.data()[3 * i + 2] = s[i];
  }
  return img;
}

Primaries primaries_of(const std::string& s) {
  if (s == "bt709" || s == "srgb") return Primaries::BT709;
  if (s == "p3" || s == "display-p3") return Primaries::DisplayP3;
  if (s == "bt2020") return Primaries::BT2020;
  throw py::value_error("primaries must be bt709, p3 or bt2020");
}

// ---- functions -------------------------------------------------------------------------

py::object inspect(const py::object& src) {
  Input in = input_of(src, "source");
  Result<nlohmann::json> j;
  {
    py::gil_scoped_release nogil;
    j = inspect_json(in.bytes);
  }
  nlohmann::json out = take(std::move(j));
  if (!in.name.empty()) out["file"] = in.name;
  out["size_bytes"] = in.bytes.size();
  return json_to_py(out);
}

py::array_t<float> decode(const py::object& src, std::optional<double> headroom, bool orient) {
  Input in = input_of(src, "source");
  DecodeOptions opt;
  opt.headroom = headroom;
  opt.apply_orientation = orient;
  Result<DecodedHdr> r;
  {
    py::gil_scoped_release nogil;
    r = decode_gainmap_hdr(in.bytes, opt);
  }
  return to_array(std::move(take(std::move(r)).rgb));
}

py::bytes encode(const py::array& sdr_a, const py::array& hdr_a, int quality, int map_quality, int scale,
                 bool multichannel, const std::string& primaries, bool iso, bool xmp) {
  Image8 sdr = from_array<uint8_t>(sdr_a, "sdr");
  ImageF hdr = from_array<float>(hdr_a, "hdr");
  if (sdr.width() != hdr.width() || sdr.height() != hdr.height()) throw py::value_error("sdr and hdr differ in size");
  EncodeOptions opt;
  opt.base_quality = quality;
  opt.map_quality = map_quality;
  opt.gain.scale = scale;
  opt.gain.multichannel = multichannel;
  opt.gain.primaries = primaries_of(primaries);
  opt.container.write_iso = iso;
  opt.container.write_xmp = xmp;
  Result<std::vector<uint8_t>> r;
  {
    py::gil_scoped_release nogil;
    r = encode_jpegr(sdr, hdr, opt);
  }
  return to_bytes(take(std::move(r)));
}

// The gain map of a file regain wrote (JPEG_R or HEIF/AVIF), as 8-bit pixels.
Result<Image8> gain_map_pixels(std::span<const uint8_t> file) {
  const FileType t = sniff_file_type(file);
  if (t == FileType::Jpeg) {
    REGAIN_TRY(jr, read_jpegr(file));
    if (!jr.gain_map) return fail(ErrorCode::NotFound, "no gain map");
    return decode_jpeg(jr.gain_map_bytes);
  }
  REGAIN_TRY(hf, read_heif(file));
  if (!hf.gain_map) return fail(ErrorCode::NotFound, "no gain map");
  REGAIN_TRY(pic, decode_heif_item(hf, file, *hf.gain_map));
  return take_8bit(std::move(pic));
}

struct PyResult {
  py::bytes data;
  py::object meta;
  std::vector<uint8_t> file;  // for the lazily decoded gain map
  std::string format;
};

PyResult process(const py::object& edited, const py::object& reference, std::optional<double> boost,
                 const std::string& format, const std::string& background) {
  Input img = input_of(edited, "edited");
  std::optional<Input> ref;
  if (!reference.is_none()) ref = input_of(reference, "reference");
  ProcessOptions opt;
  opt.boost = boost;
  auto fmt = parse_output_format(format);
  if (!fmt) throw py::value_error("format must be jpeg, heic or avif");
  opt.format = *fmt;
  auto bg = parse_background(background);
  if (!bg) throw py::value_error(bg.error().message);
  opt.background = *bg;
  Result<ProcessResult> r;
  {
    py::gil_scoped_release nogil;
    r = process_image(img.bytes, ref ? std::optional<std::span<const uint8_t>>(ref->bytes) : std::nullopt, opt);
  }
  ProcessResult pr = take(std::move(r));
  PyResult out;
  out.data = to_bytes(pr.output);
  out.meta = json_to_py(pr.meta);
  out.file = std::move(pr.output);
  out.format = format;
  return out;
}

py::object train(const std::vector<py::object>& inputs, const std::optional<std::string>& out,
                 const std::vector<py::object>& val, int epochs, uint64_t seed, const std::optional<std::string>& init,
                 const std::optional<py::function>& progress, const std::string& name, int ensemble) {
  std::vector<TrainPair> pairs, val_pairs;
  py::list skipped;
  // Bytes inputs are named by their place in the list ("inputs[2]", "val[0]").
  auto load = [&](const std::vector<py::object>& srcs, std::vector<TrainPair>& into, const char* list) {
    for (size_t k = 0; k < srcs.size(); ++k) {
      Input in = input_of(srcs[k], "training input");
      const std::string label = in.name.empty() ? std::string(list) + "[" + std::to_string(k) + "]" : in.name;
      Result<TrainPair> p;
      {
        py::gil_scoped_release nogil;
        p = load_train_pair(in.bytes, label);
      }
      if (p) into.push_back(std::move(*p));
      else skipped.append(py::make_tuple(label, valid_utf8(p.error().message)));  // skipped with a reason, as the CLI does
    }
  };
  load(inputs, pairs, "inputs");
  load(val, val_pairs, "val");
  if (pairs.empty()) raise(Error{ErrorCode::InvalidInput, "no usable training files (none had a readable gain map)"});
  TrainOptions opt;
  opt.epochs = epochs;
  opt.seed = seed;
  opt.ensemble = ensemble;
  if (init) opt.init = take(learned::load_model(*init));
  if (progress) {
    opt.progress = [&](const EpochReport& e) {
      py::gil_scoped_acquire gil;
      (*progress)(py::dict(py::arg("epoch") = e.epoch, py::arg("epochs") = e.epochs, py::arg("member") = e.member,
                           py::arg("members") = e.members, py::arg("train_abs") = e.train_abs,
                           py::arg("val_abs") = e.val_abs, py::arg("val_struc") = e.val_struc, py::arg("seconds") = e.seconds));
    };
  }
  Result<TrainOutcome> r;
  const auto t0 = std::chrono::steady_clock::now();
  {
    py::gil_scoped_release nogil;
    r = train_model(pairs, val_pairs, opt);
  }
  TrainOutcome t = take(std::move(r));
  t.model.info = training_provenance(name, pairs, val_pairs, t, opt,
                                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (out) {
    if (auto w = learned::save_model(t.model, *out); !w) raise(w.error());
  }
  py::dict result;
  result["info"] = json_to_py(t.model.info);
  py::list val_scores;
  for (const auto& v : t.validation) val_scores.append(py::dict(py::arg("name") = v.name, py::arg("abs") = v.abs, py::arg("struc") = v.struc));
  result["validation"] = val_scores;
  result["skipped"] = skipped;
  return result;
}

// For the binding-overhead benchmark (scripts/bench-python-decode.py): the same decode timed inside
// C++, no Python objects involved. Median seconds of `runs`.
double time_decode_cpp(const py::object& src, int runs) {
  Input in = input_of(src, "source");
  py::gil_scoped_release nogil;
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = decode_gainmap_hdr(in.bytes, {});
    if (!r) break;
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (t.empty()) return -1;
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

PYBIND11_MODULE(_regain, m) {
  m.doc() = "regain: gain-map HDR photos (Ultra HDR JPEG, HEIC, AVIF) from C++";
  error_type() = py::reinterpret_steal<py::object>(PyErr_NewException("regain.Error", PyExc_RuntimeError, nullptr));
  m.attr("Error") = error_type();

  m.def("inspect", &inspect, py::arg("source"),
        "Structure, metadata flavours and values of a JPEG/HEIC/AVIF (path or bytes): the dict `regain inspect --json` prints.");
  m.def("decode", &decode, py::arg("source"), py::arg("headroom") = py::none(), py::arg("orient") = true,
        "HDR rendition of a gain-map file as float32 HxWx3, linear, 1.0 = SDR white. `headroom`: log2 display headroom "
        "(default: the file's full headroom).");
  m.def("encode", &encode, py::arg("sdr"), py::arg("hdr"), py::kw_only(), py::arg("quality") = 95, py::arg("map_quality") = 90,
        py::arg("scale") = 4, py::arg("multichannel") = false, py::arg("primaries") = "bt709", py::arg("iso") = true,
        py::arg("xmp") = true,
        "Ultra HDR JPEG bytes from an sRGB-encoded uint8 SDR (HxWx3) and a linear float32 HDR of the same size.");
  py::class_<PyResult>(m, "Result", "What process() returns: the HDR file's bytes, its metadata, and its gain map.")
      .def_readonly("data", &PyResult::data)
      .def_readonly("meta", &PyResult::meta)
      .def_readonly("format", &PyResult::format)
      .def_property_readonly(
          "gain_map",
          [](const PyResult& r) {
            Result<Image8> map;
            {
              py::gil_scoped_release nogil;
              map = gain_map_pixels(r.file);
            }
            return to_array(take(std::move(map)));
          },
          "The gain map as uint8 HxW (or HxWx3), decoded from data on each access.")
      .def("__bytes__", [](const PyResult& r) { return r.data; });
  m.def("process", &process, py::arg("edited"), py::arg("reference") = py::none(), py::kw_only(),
        py::arg("boost") = py::none(), py::arg("format") = "jpeg", py::arg("background") = "white",
        "Restore HDR to an edited photo: Reference mode with `reference` (the original HDR photo), Predictive "
        "mode without. `boost`: stops of headroom (default from the scene). `format`: jpeg, heic or avif. "
        "`background`: white, black or #rrggbb, what a transparent edit is flattened onto (no HDR gain there).");
  m.def("train", &train, py::arg("inputs"), py::arg("out") = py::none(), py::kw_only(),
        py::arg("val") = std::vector<py::object>{}, py::arg("epochs") = 12, py::arg("seed") = 1, py::arg("init") = py::none(),
        py::arg("progress") = py::none(), py::arg("name") = "custom", py::arg("ensemble") = 1,
        "Train the learned predictor on gain-map photos (paths or bytes); `ensemble` networks are trained and averaged; "
        "writes `out` (.rglm) when given. Returns "
        "provenance, validation per file and the skipped files with reasons.");
  m.def("_time_decode_cpp", &time_decode_cpp, py::arg("source"), py::arg("runs") = 5);
}
