// The shape of one sample: channels x height x width.
//
// A batch stays a (features x batch) column-major matrix; an image's features are stored in HWC
// order, channel fastest: feature (h * width + w) * channels + c. Every pixel's channels are then
// contiguous, and a convolution over a whole batch is one GEMM whose (out channels x pixels *
// batch) result is, read as (out channels * pixels) x batch, already the next layer's HWC batch.
// A flat vector of n features is the shape {n, 1, 1}.
#pragma once

#include <string>

#include "uinfo/core/tensor.hpp"

namespace uinfo {

// A structural type, so a shape can be a template argument (`shaped_layer<S, Shape{1, 28, 28}>`).
struct Shape {
  Index channels = 1;
  Index height = 1;
  Index width = 1;

  constexpr Index size() const { return channels * height * width; }
  constexpr Index pixels() const { return height * width; }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

// n features with no spatial layout; flat_shape(dynamic) for a size given at run time.
constexpr Shape flat_shape(Index features) {
  return {features, 1, 1};
}

// "1x28x28": channels x height x width, the order in which layers are written.
inline std::string to_string(const Shape& shape) {
  return std::to_string(shape.channels) + "x" + std::to_string(shape.height) + "x" +
         std::to_string(shape.width);
}

// How a layer names its size: "8x28x28" for an image, else the number of features (which for a
// dynamic size is known only at run time).
inline std::string size_name(const Shape& shape, Index features) {
  return shape.pixels() > 1 ? to_string(shape) : std::to_string(features);
}

}  // namespace uinfo
