// torch.save files: a zip with <prefix>/data.pkl (the pickled state_dict) and
// <prefix>/data/<key> (raw little-endian storages). The pickle is interpreted by a tiny
// stack machine that knows only the opcodes a state_dict needs; globals are matched against
// a fixed allow-list and turned into plain data, so nothing in the file can run code.
#include <cstring>
#include <string>
#include <variant>

#include "predict/zip_stored.h"
#include "regain/gmnet.h"

namespace regain::gmnet {

namespace {

constexpr size_t kMaxOps = 1u << 20, kMaxStack = 1u << 16, kMaxMemo = 1u << 16, kMaxItems = 1u << 16;
constexpr size_t kMaxStr = 1u << 16;
// Memo gets copy values; a pickle that nests memo references doubles its size per opcode
// ("billion laughs"), so the total number of values ever built is capped.
constexpr int64_t kMaxNodes = 1 << 18;  // a state_dict needs a few thousand

struct Value;
using Items = std::vector<Value>;

enum class Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor, Mark };

struct Value {
  Value() = default;
  explicit Value(Kind k) : kind(k) {}
  Kind kind = Kind::None;
  int64_t i = 0;
  double f = 0;
  std::string s, s2;       // Str; Global module/name; Storage dtype/key
  Items items;             // Tuple/List; Dict as key,value,key,value...
  std::vector<int64_t> size, stride;  // Tensor
  std::string key, dtype;  // Tensor storage
  int64_t offset = 0, storage_numel = 0;
  int64_t nodes = 1;  // values in this tree (for the size cap)
};

Result<Value> err(const std::string& m) { return fail(ErrorCode::InvalidInput, "weights pickle: " + m); }

bool global_allowed(const std::string& mod, const std::string& name) {
  if (mod == "collections" && name == "OrderedDict") return true;
  if (mod == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter")) return true;
  if (mod == "torch" && name.size() > 7 && name.ends_with("Storage")) return true;
  return false;
}

std::string storage_dtype(const std::string& name) {
  if (name == "FloatStorage") return "float32";
  if (name == "DoubleStorage") return "float64";
  if (name == "HalfStorage") return "float16";
  if (name == "BFloat16Storage") return "bfloat16";
  return name;
}

class Unpickler {
 public:
  explicit Unpickler(std::span<const uint8_t> d) : d_(d) {}

  Result<Value> run() {
    for (size_t ops = 0; ops < kMaxOps; ++ops) {
      if (p_ >= d_.size()) return err("truncated (no STOP)");
      const uint8_t op = d_[p_++];
      if (st_.size() > kMaxStack) return err("stack too deep");
      if (created_ > kMaxNodes) return fail(ErrorCode::TooLarge, "weights pickle: too many objects");
      switch (op) {
        case 0x80: if (!skip(1)) return err("truncated"); break;                 // PROTO
        case 0x95: if (!skip(8)) return err("truncated"); break;                 // FRAME
        case '.':                                                                // STOP
          if (st_.size() != 1) return err("unbalanced stack at STOP");
          return std::move(st_.back());
        case '(': push(Value(Kind::Mark)); break;
        case 'N': push(Value(Kind::None)); break;
        case 0x88: case 0x89: { Value v(Kind::Bool); v.i = op == 0x88; push(std::move(v)); break; }
        case 'K': { uint64_t v; if (!le(1, v)) return err("truncated"); push_int(int64_t(v)); break; }
        case 'M': { uint64_t v; if (!le(2, v)) return err("truncated"); push_int(int64_t(v)); break; }
        case 'J': { uint64_t v; if (!le(4, v)) return err("truncated"); push_int(int32_t(uint32_t(v))); break; }
        case 0x8a: {                                                              // LONG1
          uint64_t n;
          if (!le(1, n) || n > 8 || p_ + n > d_.size()) return err("bad LONG1");
          uint64_t v = 0;
          for (uint64_t k = 0; k < n; ++k) v |= uint64_t(d_[p_ + k]) << (8 * k);
          if (n > 0 && n < 8 && (d_[p_ + n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);
          p_ += n;
          push_int(int64_t(v));
          break;
        }
        case 'G': {                                                               // BINFLOAT (big-endian)
          if (!have(8)) return err("truncated");
          uint64_t b = 0;
          for (int k = 0; k < 8; ++k) b = (b << 8) | d_[p_ + k];
          p_ += 8;
          Value v(Kind::Float);
          std::memcpy(&v.f, &b, 8);
          push(std::move(v));
          break;
        }
        case 'X': case 0x8c: case 0x8d: {                                         // BINUNICODE{,SHORT,8}
          uint64_t n;
          if (!le(op == 'X' ? 4 : op == 0x8c ? 1 : 8, n)) return err("truncated");
          if (n > kMaxStr || !have(n)) return err("string too long or truncated");
          Value v(Kind::Str);
          v.s.assign(reinterpret_cast<const char*>(d_.data() + p_), n);
          p_ += n;
          push(std::move(v));
          break;
        }
        case 'c': {                                                               // GLOBAL
          Value v(Kind::Global);
          if (!line(v.s) || !line(v.s2)) return err("bad GLOBAL");
          if (!global_allowed(v.s, v.s2)) return err("refers to " + v.s + "." + v.s2 + ", which is not allowed in a weights file");
          push(std::move(v));
          break;
        }
        case 0x93: {                                                              // STACK_GLOBAL
          if (st_.size() < 2 || st_[st_.size() - 1].kind != Kind::Str || st_[st_.size() - 2].kind != Kind::Str) return err("bad STACK_GLOBAL");
          Value v(Kind::Global);
          v.s2 = pop().s;
          v.s = pop().s;
          if (!global_allowed(v.s, v.s2)) return err("refers to " + v.s + "." + v.s2 + ", which is not allowed in a weights file");
          push(std::move(v));
          break;
        }
        case ')': push(Value(Kind::Tuple)); break;
        case ']': push(Value(Kind::List)); break;
        case '}': push(Value(Kind::Dict)); break;
        case 't': { auto it = to_mark(); if (!it) return tl::unexpected(it.error()); Value v(Kind::Tuple); v.items = std::move(*it); push(std::move(v)); break; }
        case 0x85: case 0x86: case 0x87: {
          const size_t n = op - 0x84;
          if (st_.size() < n) return err("stack underflow");
          Value v(Kind::Tuple);
          v.items.assign(std::make_move_iterator(st_.end() - n), std::make_move_iterator(st_.end()));
          st_.resize(st_.size() - n);
          for (auto& x : v.items) if (x.kind == Kind::Mark) return err("mark in tuple");
          push(std::move(v));
          break;
        }
        case 'q': case 'r': case 0x94: {                                          // BINPUT, LONG_BINPUT, MEMOIZE
          uint64_t idx = memo_.size();
          if (op != 0x94 && !le(op == 'q' ? 1 : 4, idx)) return err("truncated");
          if (st_.empty() || idx > kMaxMemo) return err("bad memo put");
          if (idx >= memo_.size()) memo_.resize(idx + 1);
          memo_[idx] = st_.back();
          break;
        }
        case 'h': case 'j': {                                                     // BINGET, LONG_BINGET
          uint64_t idx;
          if (!le(op == 'h' ? 1 : 4, idx)) return err("truncated");
          if (idx >= memo_.size()) return err("bad memo get");
          created_ += memo_[idx].nodes;
          if (created_ > kMaxNodes) return fail(ErrorCode::TooLarge, "weights pickle: too many objects");
          st_.push_back(memo_[idx]);
          break;
        }
        case 'a': case 'e': {                                                     // APPEND(S)
          Items xs;
          if (op == 'a') { if (st_.size() < 2) return err("stack underflow"); xs.push_back(pop()); }
          else { auto it = to_mark(); if (!it) return tl::unexpected(it.error()); xs = std::move(*it); }
          if (st_.empty() || st_.back().kind != Kind::List) return err("append to a non-list");
          if (st_.back().items.size() + xs.size() > kMaxItems) return err("list too long");
          for (auto& x : xs) { st_.back().nodes += x.nodes; st_.back().items.push_back(std::move(x)); }
          break;
        }
        case 's': case 'u': {                                                     // SETITEM(S)
          Items xs;
          if (op == 's') { if (st_.size() < 3) return err("stack underflow"); Value v = pop(); xs.push_back(pop()); xs.push_back(std::move(v)); }
          else { auto it = to_mark(); if (!it) return tl::unexpected(it.error()); xs = std::move(*it); }
          if (xs.size() % 2 || st_.empty() || st_.back().kind != Kind::Dict) return err("setitem on a non-dict");
          if (st_.back().items.size() + xs.size() > 2 * kMaxItems) return err("dict too large");
          for (auto& x : xs) { st_.back().nodes += x.nodes; st_.back().items.push_back(std::move(x)); }
          break;
        }
        case 'b': {                                                               // BUILD: only OrderedDict._metadata
          if (st_.size() < 2) return err("stack underflow");
          pop();
          if (st_.back().kind != Kind::Dict) return err("BUILD on an unexpected object");
          break;
        }
        case 'Q': {                                                               // BINPERSID
          if (st_.empty()) return err("stack underflow");
          auto r = storage(pop());
          if (!r) return r;
          push(std::move(*r));
          break;
        }
        case 'R': {                                                               // REDUCE
          if (st_.size() < 2) return err("stack underflow");
          Value args = pop(), fn = pop();
          auto r = reduce(fn, args);
          if (!r) return r;
          push(std::move(*r));
          break;
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          return fail(ErrorCode::Unsupported, std::string("weights pickle: opcode ") + hex + " is not allowed in a weights file");
        }
      }
    }
    return err("too many opcodes");
  }

 private:
  bool have(uint64_t n) const { return n <= d_.size() - p_; }
  bool skip(uint64_t n) { if (!have(n)) return false; p_ += n; return true; }
  bool le(int n, uint64_t& v) {
    if (!have(n)) return false;
    v = 0;
    for (int k = 0; k < n; ++k) v |= uint64_t(d_[p_ + k]) << (8 * k);
    p_ += n;
    return true;
  }
  bool line(std::string& s) {
    size_t q = p_;
    while (q < d_.size() && d_[q] != '\n' && q - p_ < 256) ++q;
    if (q >= d_.size() || d_[q] != '\n') return false;
    s.assign(reinterpret_cast<const char*>(d_.data() + p_), q - p_);
    p_ = q + 1;
    return true;
  }
  void push(Value v) {
    for (auto& x : v.items) v.nodes += x.nodes;
    created_ += v.nodes;
    st_.push_back(std::move(v));
  }
  void push_int(int64_t x) { Value v(Kind::Int); v.i = x; push(std::move(v)); }
  Value pop() { Value v = std::move(st_.back()); st_.pop_back(); return v; }
  Result<Items> to_mark() {
    size_t m = st_.size();
    while (m > 0 && st_[m - 1].kind != Kind::Mark) --m;
    if (m == 0) return fail(ErrorCode::InvalidInput, "weights pickle: no MARK");
    if (st_.size() - m > kMaxItems) return fail(ErrorCode::TooLarge, "weights pickle: too many items");
    Items xs(std::make_move_iterator(st_.begin() + m), std::make_move_iterator(st_.end()));
    st_.resize(m - 1);
    return xs;
  }

  // ('storage', torch.<T>Storage, key, location, numel)
  static Result<Value> storage(const Value& pid) {
    const auto& t = pid.items;
    if (pid.kind != Kind::Tuple || t.size() != 5 || t[0].kind != Kind::Str || t[0].s != "storage" ||
        t[1].kind != Kind::Global || t[2].kind != Kind::Str || t[4].kind != Kind::Int || t[4].i < 0)
      return err("unexpected persistent id (not a tensor storage)");
    Value v(Kind::Storage);
    v.s = storage_dtype(t[1].s2);
    v.s2 = t[2].s;
    v.i = t[4].i;
    return v;
  }

  static bool int_tuple(const Value& v, std::vector<int64_t>& out) {
    if (v.kind != Kind::Tuple || v.items.size() > 8) return false;
    for (auto& x : v.items) {
      if (x.kind != Kind::Int || x.i < 0 || x.i > (int64_t(1) << 32)) return false;
      out.push_back(x.i);
    }
    return true;
  }

  static Result<Value> reduce(const Value& fn, const Value& args) {
    if (fn.kind != Kind::Global || args.kind != Kind::Tuple) return err("REDUCE on a non-callable");
    if (fn.s == "collections" && fn.s2 == "OrderedDict") {
      if (!args.items.empty()) return err("OrderedDict with arguments");
      return Value(Kind::Dict);
    }
    if (fn.s2 == "_rebuild_parameter") {
      if (args.items.empty() || args.items[0].kind != Kind::Tensor) return err("bad parameter");
      return args.items[0];
    }
    if (fn.s2 == "_rebuild_tensor_v2") {
      const auto& a = args.items;
      Value t(Kind::Tensor);
      if (a.size() < 4 || a[0].kind != Kind::Storage || a[1].kind != Kind::Int || a[1].i < 0 ||
          !int_tuple(a[2], t.size) || !int_tuple(a[3], t.stride) || t.size.size() != t.stride.size())
        return err("bad tensor record");
      t.dtype = a[0].s;
      t.key = a[0].s2;
      t.storage_numel = a[0].i;
      t.offset = a[1].i;
      return t;
    }
    return err("calls " + fn.s + "." + fn.s2 + ", which is not allowed");
  }

  std::span<const uint8_t> d_;
  size_t p_ = 0;
  std::vector<Value> st_;
  std::vector<Value> memo_;
  int64_t created_ = 0;
};

}  // namespace

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

Result<TensorMap> load_torch_state_dict(std::vector<uint8_t> bytes_in) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(bytes_in));
  const std::span<const uint8_t> z(*bytes);
  REGAIN_TRY(entries, zip_list(z));
  const ZipEntry* pkl = nullptr;
  for (auto& e : entries)
    if (e.name.ends_with("/data.pkl") && e.name.find('/') == e.name.size() - 9) pkl = &e;
  if (!pkl) return fail(ErrorCode::InvalidInput, "weights archive has no data.pkl (not a torch.save file?)");
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - 8);
  for (auto& e : entries)
    if (e.name == prefix + "byteorder" && !(e.size == 6 && std::memcmp(z.data() + e.offset, "little", 6) == 0))
      return fail(ErrorCode::Unsupported, "weights archive: big-endian storages are not supported");
  REGAIN_CHECK(zip_verify(z, *pkl));
  Unpickler up(z.subspan(pkl->offset, pkl->size));
  REGAIN_TRY(root, up.run());
  if (root.kind != Kind::Dict) return fail(ErrorCode::InvalidInput, "weights pickle: top-level object is not a dict (a state_dict is expected)");
  // Some checkpoints wrap the state_dict: {'state_dict': {...}} or {'params': {...}}.
  for (size_t k = 0; k + 1 < root.items.size(); k += 2)
    if (root.items[k].kind == Kind::Str && (root.items[k].s == "state_dict" || root.items[k].s == "params") &&
        root.items[k + 1].kind == Kind::Dict) {
      Value inner = std::move(root.items[k + 1]);
      root = std::move(inner);
      break;
    }

  TensorMap out;
  std::map<std::string, const ZipEntry*> by_name;
  for (auto& e : entries) by_name[e.name] = &e;
  std::map<std::string, bool> verified;
  for (size_t k = 0; k + 1 < root.items.size(); k += 2) {
    const Value& key = root.items[k];
    const Value& t = root.items[k + 1];
    if (key.kind != Kind::Str) return fail(ErrorCode::InvalidInput, "weights pickle: non-string key");
    std::string name = key.s;
    if (name.starts_with("module.")) name = name.substr(7);
    if (t.kind != Kind::Tensor) return fail(ErrorCode::InvalidInput, "weights: '" + name + "' is not a tensor");
    if (t.dtype != "float32") return fail(ErrorCode::Unsupported, "weights: '" + name + "' has dtype " + t.dtype + ", expected float32");
    auto it = by_name.find(prefix + "data/" + t.key);
    if (it == by_name.end()) return fail(ErrorCode::InvalidInput, "weights: storage '" + t.key + "' of '" + name + "' is missing (truncated?)");
    const ZipEntry& e = *it->second;
    if (uint64_t(t.storage_numel) * 4 != e.size) return fail(ErrorCode::InvalidInput, "weights: storage size of '" + name + "' disagrees with the archive");
    Tensor ten;
    ten.shape = t.size;
    // Contiguous row-major layout only (what state_dict tensors are).
    int64_t expect = 1;
    for (size_t d = t.size.size(); d-- > 0;) {
      if (t.size[d] != 1 && t.stride[d] != expect) return fail(ErrorCode::Unsupported, "weights: '" + name + "' is not contiguous");
      expect *= t.size[d];
    }
    const int64_t n = ten.numel();
    if (n > t.storage_numel || t.offset > t.storage_numel - n) return fail(ErrorCode::InvalidInput, "weights: '" + name + "' overruns its storage");
    if (!verified[t.key]) { REGAIN_CHECK(zip_verify(z, e)); verified[t.key] = true; }
    const uint8_t* p = z.data() + e.offset + uint64_t(t.offset) * 4;
    if (reinterpret_cast<uintptr_t>(p) % alignof(float) == 0) {
      ten.data = {reinterpret_cast<const float*>(p), size_t(n)};
      ten.keep = bytes;
    } else {
      auto copy = std::make_shared<std::vector<float>>(size_t(n));
      std::memcpy(copy->data(), p, size_t(n) * 4);
      ten.data = *copy;
      ten.keep = copy;
    }
    if (!out.emplace(name, std::move(ten)).second) return fail(ErrorCode::InvalidInput, "weights: duplicate key '" + name + "'");
  }
  return out;
}

}  // namespace regain::gmnet
