// Softplus: log(1 + exp(x)), a smooth, positive rate function for recurrent rate networks.
#pragma once

#include "uinfo/layers/elementwise.hpp"
#include "uinfo/simd/math.hpp"

namespace uinfo {

struct Softplus : Activation<Softplus> {
  static constexpr const char* name = "Softplus";
  template <class T>
  static T value(T x) {
    // max(x, 0) + log1p(exp(-|x|)): no overflow for large x, no loss of digits for small ones.
    return xsimd::max(x, T(0)) + xsimd::log1p(simd::exp(-xsimd::abs(x)));
  }
  // The derivative is the logistic function of x, which is 1 - exp(-y).
  template <class T>
  static T derivative_from_output(T y) {
    return T(1) - simd::exp(-y);
  }
};

}  // namespace uinfo
