// .cube parsing (Adobe Cube LUT Specification 1.0) and tetrahedral application.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "regain/lut.h"
#include "util/file_io.h"
#include "util/parallel.h"

namespace regain {

namespace {

tl::unexpected<Error> line_error(ErrorCode code, size_t line, const std::string& what) {
  return fail(code, "cube LUT: line " + std::to_string(line) + ": " + what);
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits off the next whitespace-separated token.
std::string_view next_token(std::string_view& s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  size_t n = 0;
  while (n < s.size() && !is_space(s[n])) ++n;
  std::string_view tok = s.substr(0, n);
  s.remove_prefix(n);
  return tok;
}

// A whole token as a float; nullopt when it is not a number at all. from_chars also accepts
// "nan"/"inf", which the caller rejects as non-finite with its own message.
std::optional<float> to_float(std::string_view tok) {
  if (!tok.empty() && tok.front() == '+') tok.remove_prefix(1);
  if (tok.empty()) return std::nullopt;
  float v = 0.f;
  auto [end, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (end != tok.data() + tok.size()) return std::nullopt;
  // Beyond float range (1e999): report it as non-finite rather than as "not a number".
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<float>::infinity();
  if (ec != std::errc()) return std::nullopt;
  return v;
}

// Reads exactly `count` finite numbers from the rest of a line; anything after them is an
// error (the spec has no trailing fields, so extra tokens mean a malformed file).
Result<std::array<float, 3>> read_numbers(std::string_view rest, int count, size_t line,
                                          const char* what) {
  std::array<float, 3> out{};
  for (int i = 0; i < count; ++i) {
    std::string_view tok = next_token(rest);
    if (tok.empty())
      return line_error(ErrorCode::InvalidInput, line,
                        std::string(what) + " needs " + std::to_string(count) + " numbers, found " +
                            std::to_string(i));
    auto v = to_float(tok);
    if (!v) return line_error(ErrorCode::InvalidInput, line, "'" + std::string(tok) + "' is not a number");
    if (!std::isfinite(*v))
      return line_error(ErrorCode::InvalidInput, line, "'" + std::string(tok) + "' is not a finite number");
    out[i] = *v;
  }
  std::string_view extra = next_token(rest);
  if (!extra.empty())
    return line_error(ErrorCode::InvalidInput, line,
                      "unexpected '" + std::string(extra.substr(0, 32)) + "' after " + what);
  return out;
}

Result<int> read_size(std::string_view rest, size_t line) {
  std::string_view tok = next_token(rest);
  if (tok.empty()) return line_error(ErrorCode::InvalidInput, line, "LUT_3D_SIZE without a value");
  if (!next_token(rest).empty())
    return line_error(ErrorCode::InvalidInput, line, "LUT_3D_SIZE takes a single integer");
  long long n = 0;
  auto [end, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), n);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && end == tok.data() + tok.size() &&
                                               n > kCubeMaxSize))
    return line_error(ErrorCode::TooLarge, line,
                      "LUT_3D_SIZE " + std::string(tok.substr(0, 32)) + " exceeds the supported maximum of " +
                          std::to_string(kCubeMaxSize));
  if (ec != std::errc() || end != tok.data() + tok.size())
    return line_error(ErrorCode::InvalidInput, line,
                      "LUT_3D_SIZE '" + std::string(tok.substr(0, 32)) + "' is not an integer");
  if (n < kCubeMinSize)
    return line_error(ErrorCode::InvalidInput, line,
                      "LUT_3D_SIZE " + std::to_string(n) + " is below the minimum of " +
                          std::to_string(kCubeMinSize));
  return int(n);
}

bool starts_number(std::string_view tok) {
  if (tok.empty()) return false;
  char c = tok.front();
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || to_float(tok).has_value();
}

}  // namespace

Result<CubeLut> parse_cube_lut(std::string_view text) {
  if (text.size() > kCubeMaxFileBytes)
    return fail(ErrorCode::TooLarge, "cube LUT: larger than " + std::to_string(kCubeMaxFileBytes >> 20) + " MiB");
  CubeLut lut;
  bool have_title = false, have_min = false, have_max = false, have_range = false;
  size_t expected = 0;  // N^3 once the size is known
  size_t entries = 0;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view raw = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (raw.size() > kCubeMaxLineBytes)
      return line_error(ErrorCode::InvalidInput, line_no,
                        "line longer than " + std::to_string(kCubeMaxLineBytes) + " bytes");
    // Control bytes other than tab/CR never occur in a text LUT: this is binary data (or a
    // file in UTF-16), and parsing on would only produce confusing number errors.
    for (char c : raw) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7F)
        return line_error(ErrorCode::InvalidInput, line_no, "binary data (not a text .cube file)");
    }
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;

    std::string_view rest = line;
    std::string_view key = next_token(rest);
    if (starts_number(key)) {
      if (!expected)
        return line_error(ErrorCode::InvalidInput, line_no, "table data before LUT_3D_SIZE");
      if (entries == expected)
        return line_error(ErrorCode::InvalidInput, line_no,
                          "more than the " + std::to_string(expected) + " entries LUT_3D_SIZE " +
                              std::to_string(lut.size) + " declares");
      REGAIN_TRY(rgb, read_numbers(line, 3, line_no, "a table entry"));
      lut.table.insert(lut.table.end(), rgb.begin(), rgb.end());
      ++entries;
      continue;
    }
    // Keywords precede the table (Cube LUT Specification 1.0, file structure).
    if (entries)
      return line_error(ErrorCode::InvalidInput, line_no,
                        "keyword '" + std::string(key.substr(0, 32)) + "' after table data");
    if (key == "TITLE") {
      if (have_title) return line_error(ErrorCode::InvalidInput, line_no, "second TITLE");
      std::string_view t = trim(rest);
      if (!t.empty() && t.front() == '"') {
        size_t close = t.find('"', 1);
        if (close == std::string_view::npos)
          return line_error(ErrorCode::InvalidInput, line_no, "TITLE has no closing quote");
        if (!trim(t.substr(close + 1)).empty())
          return line_error(ErrorCode::InvalidInput, line_no, "unexpected text after TITLE");
        t = t.substr(1, close - 1);
      }
      lut.title = std::string(t);
      have_title = true;
    } else if (key == "LUT_3D_SIZE") {
      if (lut.size) return line_error(ErrorCode::InvalidInput, line_no, "second LUT_3D_SIZE");
      REGAIN_TRY(n, read_size(rest, line_no));
      lut.size = n;
      expected = size_t(n) * n * n;
      lut.table.reserve(expected * 3);
    } else if (key == "LUT_1D_SIZE" || key == "LUT_1D_INPUT_RANGE") {
      return line_error(ErrorCode::Unsupported, line_no,
                        std::string(key) + ": 1D tables (and 1D shapers) are not supported, only 3D LUTs");
    } else if (key == "DOMAIN_MIN" || key == "DOMAIN_MAX") {
      bool is_min = key == "DOMAIN_MIN";
      if ((is_min && have_min) || (!is_min && have_max) || have_range)
        return line_error(ErrorCode::InvalidInput, line_no, "domain given twice");
      REGAIN_TRY(v, read_numbers(rest, 3, line_no, is_min ? "DOMAIN_MIN" : "DOMAIN_MAX"));
      (is_min ? lut.domain_min : lut.domain_max) = {v[0], v[1], v[2]};
      (is_min ? have_min : have_max) = true;
    } else if (key == "LUT_3D_INPUT_RANGE") {
      // Resolve's spelling of a uniform domain: "LUT_3D_INPUT_RANGE min max".
      if (have_min || have_max || have_range)
        return line_error(ErrorCode::InvalidInput, line_no, "domain given twice");
      REGAIN_TRY(v, read_numbers(rest, 2, line_no, "LUT_3D_INPUT_RANGE"));
      lut.domain_min = {v[0], v[0], v[0]};
      lut.domain_max = {v[1], v[1], v[1]};
      have_range = true;
    } else {
      // Unknown keywords (e.g. Resolve's LUT_IN_VIDEO_RANGE) change the meaning of the
      // table; ignoring them would silently produce wrong colours.
      return line_error(ErrorCode::Unsupported, line_no,
                        "unknown keyword '" + std::string(key.substr(0, 32)) + "'");
    }
  }
  if (!lut.size) return fail(ErrorCode::InvalidInput, "cube LUT: no LUT_3D_SIZE (not a 3D .cube file)");
  if (entries != expected)
    return line_error(ErrorCode::InvalidInput, line_no,
                      "end of file: LUT_3D_SIZE " + std::to_string(lut.size) + " needs " + std::to_string(expected) +
                          " entries, the file has " + std::to_string(entries));
  for (int c = 0; c < 3; ++c)
    if (!(lut.domain_min[c] < lut.domain_max[c]))
      return fail(ErrorCode::InvalidInput, "cube LUT: DOMAIN_MIN must be below DOMAIN_MAX in every channel");
  return lut;
}

Result<CubeLut> load_cube_lut(const std::filesystem::path& path) {
  REGAIN_TRY(bytes, read_file(path, kCubeMaxFileBytes));
  auto lut = parse_cube_lut(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!lut) return tl::unexpected(with_context(lut.error(), path.filename().string()));
  return lut;
}

namespace {

// Lattice cell and fractional position of one channel. NaN fails both comparisons and
// lands on the domain minimum, so it can never index outside the table.
struct Axis {
  int i;
  float f;
};
inline Axis locate(float v, float lo, float scale, int n) {
  float x = (v - lo) * scale;  // scale = (N-1) / (max - min)
  float top = float(n - 1);
  x = x > 0.f ? (x < top ? x : top) : 0.f;
  int i = std::min(int(x), n - 2);
  return {i, x - float(i)};
}

struct Prepared {
  Vec3 lo;
  Vec3 scale;
  // Index steps between neighbouring lattice points, in floats.
  size_t dr, dg, db;
};

Prepared prepare(const CubeLut& lut) {
  Prepared p;
  p.lo = lut.domain_min;
  for (int c = 0; c < 3; ++c) p.scale[c] = float(lut.size - 1) / (lut.domain_max[c] - lut.domain_min[c]);
  p.dr = 3;
  p.dg = 3 * size_t(lut.size);
  p.db = 3 * size_t(lut.size) * lut.size;
  return p;
}

// Tetrahedral interpolation: the cube cell is split into six tetrahedra along its main
// diagonal (black to white corner); the point is interpolated from the four corners of the
// tetrahedron that holds it, chosen by the order of its fractional coordinates. Greys stay
// on the lattice's grey axis, which trilinear interpolation (eight corners) does not do.
inline Vec3 tetra(const CubeLut& lut, const Prepared& p, Vec3 in) {
  const int n = lut.size;
  Axis r = locate(in[0], p.lo[0], p.scale[0], n);
  Axis g = locate(in[1], p.lo[1], p.scale[1], n);
  Axis b = locate(in[2], p.lo[2], p.scale[2], n);
  const float* c000 = lut.table.data() + r.i * p.dr + g.i * p.dg + b.i * p.db;
  const float* c111 = c000 + p.dr + p.dg + p.db;
  // The path from c000 to c111 steps first along the axis with the largest fraction.
  const float *c1, *c2;
  float w0, w1, w2, w3;  // weights of c000, c1, c2, c111
  if (r.f > g.f) {
    if (g.f > b.f) {  // r > g > b
      c1 = c000 + p.dr; c2 = c000 + p.dr + p.dg;
      w0 = 1 - r.f; w1 = r.f - g.f; w2 = g.f - b.f; w3 = b.f;
    } else if (r.f > b.f) {  // r > b >= g
      c1 = c000 + p.dr; c2 = c000 + p.dr + p.db;
      w0 = 1 - r.f; w1 = r.f - b.f; w2 = b.f - g.f; w3 = g.f;
    } else {  // b >= r > g
      c1 = c000 + p.db; c2 = c000 + p.dr + p.db;
      w0 = 1 - b.f; w1 = b.f - r.f; w2 = r.f - g.f; w3 = g.f;
    }
  } else {
    if (b.f > g.f) {  // b > g >= r
      c1 = c000 + p.db; c2 = c000 + p.dg + p.db;
      w0 = 1 - b.f; w1 = b.f - g.f; w2 = g.f - r.f; w3 = r.f;
    } else if (b.f > r.f) {  // g >= b > r
      c1 = c000 + p.dg; c2 = c000 + p.dg + p.db;
      w0 = 1 - g.f; w1 = g.f - b.f; w2 = b.f - r.f; w3 = r.f;
    } else {  // g >= r >= b
      c1 = c000 + p.dg; c2 = c000 + p.dr + p.dg;
      w0 = 1 - g.f; w1 = g.f - r.f; w2 = r.f - b.f; w3 = b.f;
    }
  }
  Vec3 out;
  for (int c = 0; c < 3; ++c) out[c] = w0 * c000[c] + w1 * c1[c] + w2 * c2[c] + w3 * c111[c];
  return out;
}

}  // namespace

Vec3 lut_tetrahedral(const CubeLut& lut, Vec3 rgb) { return tetra(lut, prepare(lut), rgb); }

Vec3 lut_trilinear(const CubeLut& lut, Vec3 rgb) {
  Prepared p = prepare(lut);
  Axis r = locate(rgb[0], p.lo[0], p.scale[0], lut.size);
  Axis g = locate(rgb[1], p.lo[1], p.scale[1], lut.size);
  Axis b = locate(rgb[2], p.lo[2], p.scale[2], lut.size);
  const float* base = lut.table.data() + r.i * p.dr + g.i * p.dg + b.i * p.db;
  Vec3 out{0.f, 0.f, 0.f};
  for (int k = 0; k < 8; ++k) {
    int dr = k & 1, dg = (k >> 1) & 1, db = (k >> 2) & 1;
    float w = (dr ? r.f : 1 - r.f) * (dg ? g.f : 1 - g.f) * (db ? b.f : 1 - b.f);
    const float* e = base + dr * p.dr + dg * p.dg + db * p.db;
    for (int c = 0; c < 3; ++c) out[c] += w * e[c];
  }
  return out;
}

void apply_cube_lut(const CubeLut& lut, ImageF& image, int threads) {
  if (image.empty() || image.channels() < 3 || lut.size < 2) return;
  const Prepared p = prepare(lut);
  const int ch = image.channels();
  parallel_for(image.height(), threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* px = image.row(y);
      for (int x = 0; x < image.width(); ++x, px += ch) {
        Vec3 o = tetra(lut, p, {px[0], px[1], px[2]});
        px[0] = o[0];
        px[1] = o[1];
        px[2] = o[2];
      }
    }
  });
}

}  // namespace regain
