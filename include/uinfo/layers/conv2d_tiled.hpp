// Conv2d's products as register-tiled xsimd kernels that read the zero-padded HWC images in place,
// for layers whose output channels fill whole vectors (layers/conv2d.hpp chooses).
//
// In HWC order the window under output pixel (oh, ow) is Kernel runs of Kernel * Cin contiguous
// values, one per kernel row, and the windows of neighbouring output pixels start Stride * Cin
// values apart. So the products that im2col would feed to a GEMM can instead read each window
// where it lies: every offset inside a tile is a compile-time constant, and no column matrix is
// written or read. Each kernel keeps a tile of its result in registers (MB vectors x NC columns)
// and multiplies a vector of one operand by broadcast elements of the other, as simd/gemm.hpp:
//   forward   y(:, pixel) = bias + W * window(pixel)      vectors of output channels, NC pixels
//                                                          of one output row
//   weights   dW(:, q) = sum over pixels of dy(:, pixel) * window(pixel)[q]
//                                                          vectors of output channels, NC patch
//                                                          entries, summed over a block of images
//   input     dx(window(pixel) tap t) += W_tᵀ dy(:, pixel)  vectors of input channels, NC pixels,
//                                                          one tap (kh, kw) at a time, added onto
//                                                          the zero-padded input gradient
// Every sum runs in the same order whatever the batch, so results do not depend on how a batch is
// split, nor on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/external.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/layers/window.hpp"

namespace uinfo {

namespace detail::tiled_conv {

template <class S>
inline constexpr Index width = static_cast<Index>(xsimd::batch<S>::size);

// The most accumulators a tile keeps, out of 32 vector registers: the rest hold the MB vectors
// loaded for each step of the sum.
inline constexpr int accumulators = 24;

// Vectors per tile of a result whose rows are `vectors` vectors long: the largest divisor up to 4,
// so that strips of MB vectors cover the rows exactly.
constexpr int strip_vectors(Index vectors) {
  for (int mb = 4; mb > 1; --mb) {
    if (vectors % mb == 0) return mb;
  }
  return 1;
}

// Tiles of nearly equal width covering `length` columns, each at most `widest`.
struct Split {
  Index tiles, wide, last;  // tiles - 1 tiles of `wide` columns, then one of `last`
};
constexpr Split split(Index length, Index widest) {
  const Index tiles = (length + widest - 1) / widest;
  const Index wide = (length + tiles - 1) / tiles;
  return {tiles, wide, length - (tiles - 1) * wide};
}

}  // namespace detail::tiled_conv

template <Scalar S, Shape In, Index OutChannels, Index Kernel, Index Stride, Index Padding>
class TiledConvolution {
  using Geometry = Window<In, Kernel, Stride, Padding>;
  using Batch = xsimd::batch<S>;
  static constexpr Index width = detail::tiled_conv::width<S>;
  static_assert(OutChannels % width == 0,
                "uinfo: TiledConvolution needs output channels that fill whole vectors");

  static constexpr Index channels = In.channels;
  static constexpr Index run = Kernel * channels;  // values under one kernel row
  static constexpr Index patch = Kernel * run;     // weights per filter
  static constexpr Index padded_row = (In.width + 2 * Padding) * channels;
  static constexpr Index padded_size = (In.height + 2 * Padding) * padded_row;
  static constexpr Index out_width = Geometry::out_width;
  static constexpr Index out_pixels = Geometry::out_pixels;
  static constexpr Index out_size = OutChannels * out_pixels;
  static constexpr Index column_step = Stride * channels;  // between neighbouring windows
  static constexpr Index row_step = Stride * padded_row;   // between window rows

  // Forward and weight-gradient tiles: MB vectors of output channels.
  static constexpr int MB = detail::tiled_conv::strip_vectors(OutChannels / width);
  static constexpr int widest = detail::tiled_conv::accumulators / MB;
  static constexpr auto pixel_tiles = detail::tiled_conv::split(out_width, widest);
  // A small patch (a few input channels) is one weight-gradient tile across its kernel rows;
  // otherwise tiles lie within a kernel row's run.
  static constexpr bool whole_patch = patch <= widest;
  static constexpr auto patch_tiles = detail::tiled_conv::split(run, widest);

  // Input-gradient tiles: MB_in vectors of input channels, when they fill whole vectors.
  static constexpr bool vector_input = channels % width == 0;
  static constexpr int MB_in = detail::tiled_conv::strip_vectors(channels / width);
  static constexpr auto input_tiles =
      detail::tiled_conv::split(out_width, detail::tiled_conv::accumulators / MB_in);

  static constexpr std::size_t block_bytes = std::size_t{256} * 1024;

 public:
  // Images per block of the weight gradient: their padded inputs and output gradients stay in L2
  // while every tile sums over them. A constant, so the order of the sums is fixed.
  static constexpr Index block_images =
      std::max<Index>(1, static_cast<Index>(block_bytes / (sizeof(S) * (padded_size + out_size))));

  TiledConvolution() : transposed_(patch, OutChannels) {}

  // y = weight * windows + bias (bias: OutChannels values, or null) for every image of x. The
  // padded images are kept for backward.
  void forward(const Matrix<S>& weight, const S* bias, ConstMatrixView<S> x, MatrixView<S> y) {
    const S* const images = pad(x);
    for (Index image = 0; image < x.cols(); ++image) {
      const S* const padded = images + image * padded_size;
      S* const out = y.data() + image * out_size;
      for (Index oh = 0; oh < Geometry::out_height; ++oh) {
        for_each_pixel_tile([&]<int NC>(Index ow) {
          const S* window = padded + oh * row_step + ow * column_step;
          S* pixel = out + (oh * out_width + ow) * OutChannels;
          for (Index row = 0; row < OutChannels; row += MB * width) {
            forward_tile<NC>(weight.data() + row, window, bias ? bias + row : nullptr, pixel + row);
          }
        });
      }
    }
  }

  // weight_gradient = dy * windowsᵀ summed over the images in order, and, if dx is given, the
  // gradient with respect to x. Needs the forward pass of the same x.
  void backward(const Matrix<S>& weight, ConstMatrixView<S> x, ConstMatrixView<S> dy,
                MatrixView<S> weight_gradient, MatrixView<S>* dx) {
    const S* const images = padded_input(x);
    for (Index first = 0; first < x.cols(); first += block_images) {
      const Index count = std::min(block_images, x.cols() - first);
      weight_gradient_block(images + first * padded_size, dy.data() + first * out_size, count,
                            weight_gradient.data(), first == 0);
    }
    if (!dx) return;
    transposed_.noalias() = weight.transpose();
    for (Index image = 0; image < x.cols(); ++image) {
      input_gradient(dy.data() + image * out_size, dx->data() + image * In.size());
    }
  }

 private:
  // f.template operator()<NC>(ow) for the tiles of an output row, from column ow.
  template <class F>
  static void for_each_pixel_tile(F&& f) {
    constexpr auto t = pixel_tiles;
    for (Index tile = 0; tile + 1 < t.tiles; ++tile) f.template operator()<t.wide>(tile * t.wide);
    f.template operator()<t.last>((t.tiles - 1) * t.wide);
  }

  // acc[v][c] = bias + sum over the window of W(row strip, q) * window(pixel c)[q].
  template <int NC>
  static void forward_tile(const S* w, const S* window, const S* bias, S* out) {
    Batch acc[MB][NC];
    for (int v = 0; v < MB; ++v) {
      const Batch start = bias ? Batch::load_unaligned(bias + v * width) : Batch(S(0));
      for (int c = 0; c < NC; ++c) acc[v][c] = start;
    }
    for (Index kh = 0; kh < Kernel; ++kh) {
      const S* a = w + kh * run * OutChannels;
      const S* b = window + kh * padded_row;
      for (Index j = 0; j < run; ++j) {
        Batch left[MB];
#pragma GCC unroll 8
        for (int v = 0; v < MB; ++v)
          left[v] = Batch::load_unaligned(a + j * OutChannels + v * width);
#pragma GCC unroll 32
        for (int c = 0; c < NC; ++c) {
          const Batch right(b[c * column_step + j]);
#pragma GCC unroll 8
          for (int v = 0; v < MB; ++v) acc[v][c] = xsimd::fma(left[v], right, acc[v][c]);
        }
      }
    }
    for (int c = 0; c < NC; ++c) {
      for (int v = 0; v < MB; ++v) acc[v][c].store_unaligned(out + c * OutChannels + v * width);
    }
  }

  // dW(row strip, NC patch entries at `offsets` from a window's start) over a block of images,
  // added to what earlier blocks left there unless `first`.
  template <int NC, class Offsets>
  static void weight_tile(const S* images, const S* dy, Index count, S* dw, Offsets offsets,
                          bool first) {
    Batch acc[MB][NC];
    for (int c = 0; c < NC; ++c) {
      for (int v = 0; v < MB; ++v) {
        acc[v][c] = first ? Batch(S(0))
                          : Batch::load_unaligned(dw + offsets.column(c) * OutChannels + v * width);
      }
    }
    for (Index image = 0; image < count; ++image) {
      const S* padded = images + image * padded_size;
      const S* g = dy + image * out_size;
      for (Index oh = 0; oh < Geometry::out_height; ++oh) {
        const S* window = padded + oh * row_step;
        for (Index ow = 0; ow < out_width; ++ow, g += OutChannels, window += column_step) {
          Batch left[MB];
#pragma GCC unroll 8
          for (int v = 0; v < MB; ++v) left[v] = Batch::load_unaligned(g + v * width);
#pragma GCC unroll 32
          for (int c = 0; c < NC; ++c) {
            const Batch right(window[offsets.offset(c)]);
#pragma GCC unroll 8
            for (int v = 0; v < MB; ++v) acc[v][c] = xsimd::fma(left[v], right, acc[v][c]);
          }
        }
      }
    }
    for (int c = 0; c < NC; ++c) {
      for (int v = 0; v < MB; ++v) {
        acc[v][c].store_unaligned(dw + offsets.column(c) * OutChannels + v * width);
      }
    }
  }

  // Patch entries j, j + 1, ... of kernel row kh: consecutive in the window.
  struct RunEntries {
    Index kh, j;
    Index column(int c) const { return kh * run + j + c; }
    Index offset(int c) const { return kh * padded_row + j + c; }
  };
  // Every patch entry: the kernel row of entry c is a compile-time constant.
  struct PatchEntries {
    static constexpr Index column(int c) { return c; }
    static constexpr Index offset(int c) { return (c / run) * padded_row + c % run; }
  };

  static void weight_gradient_block(const S* images, const S* dy, Index count, S* dw, bool first) {
    for (Index row = 0; row < OutChannels; row += MB * width) {
      if constexpr (whole_patch) {
        weight_tile<patch>(images, dy + row, count, dw + row, PatchEntries{}, first);
      } else {
        constexpr auto t = patch_tiles;
        for (Index kh = 0; kh < Kernel; ++kh) {
          for (Index tile = 0; tile + 1 < t.tiles; ++tile) {
            weight_tile<t.wide>(images, dy + row, count, dw + row, RunEntries{kh, tile * t.wide},
                                first);
          }
          weight_tile<t.last>(images, dy + row, count, dw + row,
                              RunEntries{kh, (t.tiles - 1) * t.wide}, first);
        }
      }
    }
  }

  // dx of one image: each tap's share of every output pixel's gradient is added onto the
  // zero-padded gradient, whose interior is dx.
  void input_gradient(const S* dy, S* dx) {
    S* const padded = padded_gradient_.reshape(padded_size, 1).data();
    std::fill_n(padded, padded_size, S(0));
    for (Index oh = 0; oh < Geometry::out_height; ++oh) {
      if constexpr (vector_input) {
        constexpr auto t = input_tiles;
        for (Index tile = 0; tile + 1 < t.tiles; ++tile) {
          input_taps<t.wide>(dy, padded, oh, tile * t.wide);
        }
        input_taps<t.last>(dy, padded, oh, (t.tiles - 1) * t.wide);
      } else {
        for (Index ow = 0; ow < out_width; ++ow) scalar_input_taps(dy, padded, oh, ow);
      }
    }
    for (Index h = 0; h < In.height; ++h) {
      std::copy_n(padded + (h + Padding) * padded_row + Padding * channels, In.width * channels,
                  dx + h * In.width * channels);
    }
  }

  template <int NC>
  void input_taps(const S* dy, S* padded, Index oh, Index ow) const {
    const S* g = dy + (oh * out_width + ow) * OutChannels;
    for (Index kh = 0; kh < Kernel; ++kh) {
      for (Index kw = 0; kw < Kernel; ++kw) {
        S* target = padded + (oh * Stride + kh) * padded_row + (ow * Stride + kw) * channels;
        const S* wt = transposed_.data() + (kh * Kernel + kw) * channels;
        for (Index row = 0; row < channels; row += MB_in * width) {
          input_tile<NC>(wt + row, g, target + row);
        }
      }
    }
  }

  // target(pixel c) += W_tapᵀ(row strip, :) * dy(:, pixel c); wt's column o is output channel o.
  template <int NC>
  static void input_tile(const S* wt, const S* g, S* target) {
    Batch acc[MB_in][NC];
    for (int c = 0; c < NC; ++c) {
      for (int v = 0; v < MB_in; ++v) {
        acc[v][c] = Batch::load_unaligned(target + c * column_step + v * width);
      }
    }
    for (Index o = 0; o < OutChannels; ++o) {
      Batch left[MB_in];
#pragma GCC unroll 8
      for (int v = 0; v < MB_in; ++v) left[v] = Batch::load_unaligned(wt + o * patch + v * width);
#pragma GCC unroll 32
      for (int c = 0; c < NC; ++c) {
        const Batch right(g[c * OutChannels + o]);
#pragma GCC unroll 8
        for (int v = 0; v < MB_in; ++v) acc[v][c] = xsimd::fma(left[v], right, acc[v][c]);
      }
    }
    for (int c = 0; c < NC; ++c) {
      for (int v = 0; v < MB_in; ++v) {
        acc[v][c].store_unaligned(target + c * column_step + v * width);
      }
    }
  }

  // The same for input channels that do not fill a vector (a first layer's 1 or 3, whose input
  // gradient training skips): one pixel and tap at a time, by Eigen.
  void scalar_input_taps(const S* dy, S* padded, Index oh, Index ow) const {
    using Taps =
        Eigen::Map<const Eigen::Matrix<S, channels, OutChannels>, 0, Eigen::OuterStride<patch>>;
    const Eigen::Map<const Eigen::Matrix<S, OutChannels, 1>> g(dy +
                                                               (oh * out_width + ow) * OutChannels);
    for (Index kh = 0; kh < Kernel; ++kh) {
      for (Index kw = 0; kw < Kernel; ++kw) {
        Eigen::Map<Eigen::Matrix<S, channels, 1>> target(padded + (oh * Stride + kh) * padded_row +
                                                         (ow * Stride + kw) * channels);
        target.noalias() += Taps(transposed_.data() + (kh * Kernel + kw) * channels) * g;
      }
    }
  }

  // The batch's images inside zeros, in padded_input_; without padding, x itself.
  const S* pad(ConstMatrixView<S> x) {
    if constexpr (Padding == 0) {
      return x.data();
    } else {
      S* const out = padded_input_.reshape(padded_size, x.cols()).data();
      constexpr Index image_row = In.width * channels;
      constexpr Index side = Padding * channels;
      for (Index image = 0; image < x.cols(); ++image) {
        S* padded = out + image * padded_size;
        const S* source = x.data() + image * In.size();
        std::fill_n(padded, Padding * padded_row, S(0));
        for (Index h = 0; h < In.height; ++h) {
          S* row = padded + (h + Padding) * padded_row;
          std::fill_n(row, side, S(0));
          std::copy_n(source + h * image_row, image_row, row + side);
          std::fill_n(row + side + image_row, side, S(0));
        }
        std::fill_n(padded + (In.height + Padding) * padded_row, Padding * padded_row, S(0));
      }
      return out;
    }
  }

  const S* padded_input(ConstMatrixView<S> x) const {
    if constexpr (Padding == 0) {
      return x.data();
    } else {
      return padded_input_.view().data();
    }
  }

  Buffer<S> padded_input_;     // the last forward pass's images inside zeros
  Buffer<S> padded_gradient_;  // one image's input gradient inside the padding's
  Matrix<S> transposed_;       // Wᵀ, patch x OutChannels: each column one filter
};

}  // namespace uinfo
