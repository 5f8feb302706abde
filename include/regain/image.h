// Interleaved pixel buffers. Storage is not zero-initialised (12-MP float buffers are
// 144 MB; clearing them would cost as much as a JPEG decode).
#pragma once
#include "regain/export.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "regain/color.h"

namespace regain {

namespace detail {
// Large buffers are 2 MiB aligned and marked for transparent huge pages: a 12-MP float
// image otherwise costs ~36k page faults on first touch, as much as the work done on it.
REGAIN_API void* allocate_pixels(size_t bytes);
struct REGAIN_API FreePixels {
  size_t bytes = 0;
  void operator()(void* p) const noexcept;
};
}  // namespace detail

// Freed pixel buffers of 8 MiB and more are kept (up to this many MiB) for reuse by the next
// allocation of the same size: batch runs, the service and benchmarks allocate the same
// sizes over and over and would otherwise pay for the kernel zeroing fresh pages each time.
// A one-shot command gains nothing from it and only holds more memory, so the CLI sets 0
// except for batch, `serve` and `bench`. Default 512; the REGAIN_POOL_MB environment
// variable, when set, wins over any call.
REGAIN_API void set_pixel_pool_mb(size_t mb);

template <class T>
class Image {
 public:
  Image() = default;
  Image(int width, int height, int channels)
      : width_(width), height_(height), channels_(channels),
        data_(static_cast<T*>(detail::allocate_pixels(size_t(width) * height * channels * sizeof(T))),
              detail::FreePixels{size_t(width) * height * channels * sizeof(T)}) {
    if (!data_ && size()) throw std::bad_alloc();
  }
  Image(const Image& o) : Image(o.width_, o.height_, o.channels_) {
    if (size()) std::memcpy(data_.get(), o.data_.get(), size() * sizeof(T));
  }
  Image& operator=(const Image& o) {
    if (this != &o) { Image tmp(o); *this = std::move(tmp); }
    return *this;
  }
  Image(Image&& o) noexcept
      : width_(o.width_), height_(o.height_), channels_(o.channels_), data_(std::move(o.data_)) {
    o.width_ = o.height_ = o.channels_ = 0;
  }
  Image& operator=(Image&& o) noexcept {
    width_ = o.width_; height_ = o.height_; channels_ = o.channels_;
    data_ = std::move(o.data_);
    if (this != &o) o.width_ = o.height_ = o.channels_ = 0;
    return *this;
  }

  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  bool empty() const { return size() == 0; }
  size_t size() const { return size_t(width_) * height_ * channels_; }
  size_t row_elems() const { return size_t(width_) * channels_; }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T* row(int y) { return data_.get() + size_t(y) * row_elems(); }
  const T* row(int y) const { return data_.get() + size_t(y) * row_elems(); }
  T& at(int x, int y, int c = 0) { return row(y)[size_t(x) * channels_ + c]; }
  const T& at(int x, int y, int c = 0) const { return row(y)[size_t(x) * channels_ + c]; }
  std::span<T> span() { return {data_.get(), size()}; }
  std::span<const T> span() const { return {data_.get(), size()}; }
  void fill(T v) { std::fill(data_.get(), data_.get() + size(), v); }

 private:
  int width_ = 0, height_ = 0, channels_ = 0;
  std::unique_ptr<T[], detail::FreePixels> data_;
};

using Image8 = Image<uint8_t>;
using Image16 = Image<uint16_t>;
using ImageF = Image<float>;

// Colour description travelling with decoded pixels.
struct ColorInfo {
  Primaries primaries = Primaries::BT709;
  Transfer transfer = Transfer::SRGB;
  std::vector<uint8_t> icc;  // as found in the file, may be empty
};

// Guards against decompression bombs; every decoder checks these before allocating.
struct Limits {
  uint64_t max_pixels = 200'000'000;   // 200 MP (Samsung's largest sensor)
  uint32_t max_dimension = 65535;
  uint64_t max_file_bytes = 512ull << 20;
};

}  // namespace regain
