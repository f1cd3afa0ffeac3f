// LeakyRelu<Slope>: x for x > 0, Slope * x otherwise.
#pragma once

#include "uinfo/core/real.hpp"
#include "uinfo/layers/elementwise.hpp"

namespace uinfo {

template <Real Slope = 0.01>
struct LeakyRelu : Activation<LeakyRelu<Slope>> {
  // The derivative is read off the output's sign, which needs a positive slope.
  static_assert(Slope.value > 0 && Slope.value < 1, "uinfo::LeakyRelu<Slope>: Slope must lie in (0, 1)");
  static constexpr const char* name = "LeakyRelu";
  static constexpr double argument = Slope.value;
  template <class T>
  static T value(T x) {
    return simd::select(x > T(0), x, T(Slope.value) * x);
  }
  template <class T>
  static T derivative_from_output(T y) {
    return simd::select(y > T(0), T(1), T(Slope.value));
  }
};

}  // namespace uinfo
