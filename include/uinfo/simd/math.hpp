// exp and tanh for scalars and xsimd batches, defined for every input.
//
// xsimd's exp rounds x log2(e) to an integer before it tests for overflow, and for double on
// AVX-512 that conversion is a C++ cast: undefined for NaN and beyond 2^63 (UBSan reports it).
// Beyond +-1000, exp is already 0 or inf and tanh +-1 in float and double alike, so the argument
// is clamped there and NaN is set aside: no result changes.
#pragma once

#include "uinfo/core/external.hpp"
#include "uinfo/simd/elementwise.hpp"

namespace uinfo::simd {

namespace detail {

inline constexpr double saturation_limit = 1000;

// f(x) for every x, with f evaluated only on [-limit, limit]; NaN gives NaN.
template <class T, class F>
T saturated(T x, F f) {
  const T limit(saturation_limit);
  const T inside = select(x > limit, limit, select(x < -limit, -limit, x));
  const auto is_number = x == x;
  return select(is_number, f(select(is_number, inside, T(0))), x);
}

}  // namespace detail

template <class T>
T exp(T x) {
  return detail::saturated(x, [](T y) { return xsimd::exp(y); });
}

template <class T>
T tanh(T x) {
  return detail::saturated(x, [](T y) { return xsimd::tanh(y); });
}

}  // namespace uinfo::simd
