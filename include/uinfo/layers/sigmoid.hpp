// Sigmoid: 1 / (1 + exp(-x)).
#pragma once

#include "uinfo/layers/elementwise.hpp"
#include "uinfo/simd/math.hpp"

namespace uinfo {

struct Sigmoid : Activation<Sigmoid> {
  static constexpr const char* name = "Sigmoid";
  template <class T>
  static T value(T x) {
    return T(1) / (T(1) + simd::exp(-x));  // exp overflows to inf for x << 0, giving exactly 0
  }
  template <class T>
  static T derivative_from_output(T y) {
    return y * (T(1) - y);
  }
};

}  // namespace uinfo
