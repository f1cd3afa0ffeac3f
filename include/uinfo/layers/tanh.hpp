// Tanh: the hyperbolic tangent.
#pragma once

#include "uinfo/layers/elementwise.hpp"
#include "uinfo/simd/math.hpp"

namespace uinfo {

struct Tanh : Activation<Tanh> {
  static constexpr const char* name = "Tanh";
  template <class T>
  static T value(T x) {
    return simd::tanh(x);
  }
  template <class T>
  static T derivative_from_output(T y) {
    return T(1) - y * y;
  }
};

}  // namespace uinfo
