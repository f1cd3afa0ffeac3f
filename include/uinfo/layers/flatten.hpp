// Flatten: an image's C * H * W values as that many flat features, for the layers that follow
// (BatchNorm then normalises per feature, not per channel; Dense reads flat features anyway).
//
// In HWC storage nothing moves, so Flatten is the identity on values, written as the activation
// Identity with a flat output shape. Its output is a copy, not a view of its input: a layer owns
// its output (core/concepts.hpp), and a view into the previous layer's buffer would point into
// another network after the network is copied (check_gradients) or loaded (load() fills a copy
// and moves it in). The copy costs one pass over the activations, small beside a convolution.
#pragma once

#include "uinfo/core/shape.hpp"
#include "uinfo/layers/elementwise.hpp"
#include "uinfo/layers/identity.hpp"

namespace uinfo {

struct Flatten : Identity {
  static constexpr const char* name = "Flatten";
  template <class S, Shape In>
  using shaped_layer = ElementwiseLayer<S, In.size(), Flatten>;
};

}  // namespace uinfo
