// What every layer without parameters shares: its own output buffer and an empty parameter list.
#pragma once

#include <array>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/parameter.hpp"

namespace uinfo {

template <Scalar S>
class ParameterFreeLayer {
 public:
  ConstMatrixView<S> output() const { return output_.view(); }
  std::array<Parameter<S>*, 0> parameters() { return {}; }
  std::array<const Parameter<S>*, 0> parameters() const { return {}; }

 protected:
  Buffer<S> output_;
};

}  // namespace uinfo
