#include "gainmap/fraction.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace regain {

namespace {

std::optional<Fraction> approximate(double v, double max_num) {
  if (!std::isfinite(v)) return std::nullopt;
  double a = std::fabs(v);
  if (a > max_num) return std::nullopt;
  const double max_den = std::numeric_limits<uint32_t>::max();
  // Convergents h/k of the continued fraction of a.
  double h_prev = 1, h = std::floor(a), k_prev = 0, k = 1;
  double x = a - std::floor(a);
  Fraction best{int64_t(h), 1};
  for (int i = 0; i < 64 && x > 0; ++i) {
    if (h / k == a) break;
    double inv = 1.0 / x;
    double q = std::floor(inv);
    x = inv - q;
    double h_next = q * h + h_prev, k_next = q * k + k_prev;
    if (h_next > max_num || k_next > max_den) break;
    h_prev = h; k_prev = k; h = h_next; k = k_next;
    best = {int64_t(h), uint32_t(k)};
  }
  if (best.den == 1 && double(best.num) != a && a < 1.0) {
    // Values whose next convergent overflowed (tiny ones, or ones just below 1): the largest
    // denominator that keeps the numerator in range, when that is closer. (Scaling by the
    // denominator's range alone overflowed the numerator for values near 1: a fuzzer found
    // 0.9999999995 written as a negative signed fraction.)
    const double den = std::min(max_den, std::floor(max_num / a));
    const Fraction alt{int64_t(std::llround(a * den)), uint32_t(den)};
    if (std::fabs(double(alt.num) / alt.den - a) < std::fabs(double(best.num) - a)) best = alt;
  }
  if (v < 0) best.num = -best.num;
  return best;
}

}  // namespace

std::optional<Fraction> to_fraction_signed(double v) {
  return approximate(v, double(std::numeric_limits<int32_t>::max()));
}

std::optional<Fraction> to_fraction_unsigned(double v) {
  if (v < 0) return std::nullopt;
  return approximate(v, double(std::numeric_limits<uint32_t>::max()));
}

}  // namespace regain
