// The sliding window that Conv2d and the pooling layers move over an HWC image (core/shape.hpp):
// Kernel x Kernel pixels, moved by Stride, over the image zero-padded by Padding on every side.
// As in PyTorch, a window that would run past the padded input's end is not taken (the output
// is floor((input + 2 * padding - kernel) / stride) + 1 wide), so a 3x3 convolution with stride 2
// and padding 1 halves 28 x 28 to 14 x 14. Its geometry is checked at compile time, and one
// traversal serves im2col, col2im and pooling.
#pragma once

#include <algorithm>

#include "uinfo/core/shape.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

// A failed check names its values in this type's template arguments, which the compiler prints:
// window_shape_check<input height, input width, kernel, stride, padding>.
template <Index Height, Index Width, Index Kernel, Index Stride, Index Padding>
struct window_shape_check {
  static_assert(Kernel <= Height + 2 * Padding && Kernel <= Width + 2 * Padding,
                "uinfo: a Conv2d or pooling kernel is larger than its zero-padded input; see "
                "window_shape_check<input height, input width, kernel, stride, padding> in the "
                "instantiation above");
  static constexpr bool ok = true;
};

template <Shape In, Index Kernel, Index Stride, Index Padding>
struct Window {
  static_assert(In.size() > 0,
                "uinfo: Conv2d and pooling need an image shape known at compile time; they "
                "cannot follow a layer whose size is dynamic");
  static_assert(window_shape_check<In.height, In.width, Kernel, Stride, Padding>::ok);

  static constexpr Index out_height = (In.height + 2 * Padding - Kernel) / Stride + 1;
  static constexpr Index out_width = (In.width + 2 * Padding - Kernel) / Stride + 1;
  static constexpr Index out_pixels = out_height * out_width;  // window positions per image
  static constexpr Index run = Kernel * In.channels;           // values under one kernel row

  // Calls f(j, kh, row, first, last) for every image b of the batch, window position (oh, ow) and
  // kernel row kh, in that order; j = (b * out_height + oh) * out_width + ow numbers the window
  // positions of the whole batch. Kernel columns [first, last) of that row lie inside the image
  // (first = last = 0 for a row in the padding), and `row` points at the input value of kernel
  // column `first`, channel 0: column kw >= first, channel c is row[(kw - first) * channels + c].
  // `images` is const for reading (im2col, pooling) and mutable for writing (col2im, the
  // gradient of average pooling).
  template <class Value, class F>
  static void for_each_kernel_row(Value* images, Index batch, F&& f) {
    for (Index b = 0; b < batch; ++b) {
      Value* image = images + b * In.size();
      for (Index oh = 0; oh < out_height; ++oh) {
        for (Index ow = 0; ow < out_width; ++ow) {
          const Index j = (b * out_height + oh) * out_width + ow;
          const Index left = ow * Stride - Padding;  // the image column under kernel column 0
          const Index first = std::clamp<Index>(-left, 0, Kernel);
          const Index last = std::clamp<Index>(In.width - left, first, Kernel);
          for (Index kh = 0; kh < Kernel; ++kh) {
            const Index h = oh * Stride - Padding + kh;
            if (h < 0 || h >= In.height) {
              f(j, kh, image, Index{0}, Index{0});
            } else {
              f(j, kh, image + (h * In.width + left + first) * In.channels, first, last);
            }
          }
        }
      }
    }
  }
};

}  // namespace uinfo
