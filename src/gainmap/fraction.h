// Double <-> rational conversion for the ISO 21496-1 binary form.
#pragma once
#include <cstdint>
#include <optional>

namespace regain {

struct Fraction {
  int64_t num = 0;   // fits i32 or u32 depending on the field
  uint32_t den = 1;
};

// Best rational approximation by continued fractions that reproduces `v` exactly as a double
// when one exists within the field's range (so parse -> write -> parse is lossless).
// nullopt for NaN/inf or out-of-range values.
std::optional<Fraction> to_fraction_signed(double v);    // num in int32
std::optional<Fraction> to_fraction_unsigned(double v);  // num in uint32, v >= 0

}  // namespace regain
