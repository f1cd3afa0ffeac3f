// Images as features. uinfo stores one image per column in HWC order, the channel fastest:
// feature (h * width + w) * channels + c. A pixel's channels are neighbours, and a grey image is
// its rows one after another, as IDX files store them.
#pragma once

#include <array>
#include <cstdint>

#include "uinfo/core/tensor.hpp"

namespace uinfo {

// How a pixel byte becomes a feature.
enum class PixelScale {
  unit,  // byte / 255, in [0, 1]: 0 and 255 map exactly to 0 and 1
  byte,  // the byte's value, 0 to 255
};

struct ImageShape {
  Index height = 0;
  Index width = 0;
  Index channels = 1;

  Index features() const { return height * width * channels; }
  Index feature(Index h, Index w, Index c = 0) const { return (h * width + w) * channels + c; }
};

namespace detail {
// The feature value of every byte: converting through a table costs a load per pixel, and its
// entries are correctly rounded quotients (255 / 255 is exactly 1, which x * (1 / 255) is not
// always).
template <Scalar S>
std::array<S, 256> pixel_values(PixelScale scale) {
  std::array<S, 256> values{};
  for (int b = 0; b < 256; ++b) {
    values[static_cast<std::size_t>(b)] =
        scale == PixelScale::unit ? static_cast<S>(b) / S(255) : static_cast<S>(b);
  }
  return values;
}
}  // namespace detail

}  // namespace uinfo
