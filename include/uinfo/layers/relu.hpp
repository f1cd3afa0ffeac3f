// Relu: max(x, 0).
#pragma once

#include "uinfo/layers/elementwise.hpp"

namespace uinfo {

struct Relu : Activation<Relu> {
  static constexpr const char* name = "Relu";
  template <class T>
  static T value(T x) {
    return xsimd::max(x, T(0));
  }
  template <class T>
  static T derivative_from_output(T y) {
    return simd::select(y > T(0), T(1), T(0));
  }
};

}  // namespace uinfo
