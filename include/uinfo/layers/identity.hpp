// Identity: passes its input through; a named point to probe, or a linear output.
#pragma once

#include "uinfo/layers/elementwise.hpp"

namespace uinfo {

struct Identity : Activation<Identity> {
  static constexpr const char* name = "Identity";
  template <class T>
  static T value(T x) {
    return x;
  }
  template <class T>
  static T derivative_from_output(T) {
    return T(1);
  }
};

}  // namespace uinfo
