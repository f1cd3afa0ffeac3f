// Conv2d's products computed directly, one output pixel at a time, for filters small enough that
// im2col and GEMM cost more than the arithmetic (the choice is in layers/conv2d.hpp).
//
// Each image is first copied into a zero-padded image, so that every window lies inside it and
// kernel row kh of the window at (oh, ow) is the run of Kernel * Cin values starting at padded
// pixel (oh * Stride + kh, ow * Stride): no border tests and no im2col matrix. With W[kh] the
// Kernel * Cin weight columns of kernel row kh, and g = dy(pixel):
//   forward   y(pixel) = bias + sum over kh of W[kh] * run kh
//   weights   dW[kh] += g * (run kh)^T
//   input     run kh of a zero-padded dx += W[kh]^T * g, and dx is the interior
// Every product has sizes known at compile time, so Eigen unrolls it and vectorises it along the
// output channels (or the patch, for W^T * g).
#pragma once

#include <algorithm>

#include "uinfo/core/shape.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/layers/window.hpp"

namespace uinfo {

template <Scalar S, Shape In, Index OutChannels, Index Kernel, Index Stride, Index Padding>
class DirectConvolution {
  using Geometry = Window<In, Kernel, Stride, Padding>;
  static constexpr Index run = Geometry::run;  // values under one kernel row
  static constexpr Index patch = Kernel * run;
  static constexpr Index out_size = OutChannels * Geometry::out_pixels;
  static constexpr Index padded_row = (In.width + 2 * Padding) * In.channels;
  static constexpr Index padded_size = (In.height + 2 * Padding) * padded_row;

  using Weights = Eigen::Matrix<S, OutChannels, patch>;
  using Channels = Eigen::Matrix<S, OutChannels, 1>;
  using ConstChannelsMap = Eigen::Map<const Channels>;
  using Run = Eigen::Map<Eigen::Matrix<S, run, 1>>;
  using ConstRun = Eigen::Map<const Eigen::Matrix<S, run, 1>>;

 public:
  // Images are convolved one at a time, each in its padded copy.
  static constexpr Index block_images = 1;

  // The padding of padded_input_ is zeroed here and never written again.
  DirectConvolution()
      : padded_input_(Vector<S>::Zero(padded_size)), padded_gradient_(padded_size) {}

  // y = weight * patches + bias (OutChannels values, or null for none) for every image of x.
  void forward(const Matrix<S>& weight, const S* bias, ConstMatrixView<S> x, MatrixView<S> y) {
    const Weights w = weight;
    const Channels b = bias ? Channels(ConstChannelsMap(bias)) : Channels::Zero();
    for (Index image = 0; image < x.cols(); ++image) {
      S* const out = y.data() + image * out_size;
      for_each_window(pad(x.data() + image * In.size()), [&](Index pixel, const S* window) {
        Channels sum = b;
        for (Index kh = 0; kh < Kernel; ++kh) {
          // lazyProduct: Eigen's default product of these sizes calls its general GEMV kernel,
          // which is several times slower here than the unrolled coefficient-wise product.
          sum.noalias() +=
              w.template middleCols<run>(kh * run).lazyProduct(ConstRun(window + kh * padded_row));
        }
        Eigen::Map<Channels>(out + pixel * OutChannels) = sum;
      });
    }
  }

  // weight_gradient = dy * patches^T, summed image by image in order, and, if dx is given, the
  // gradient with respect to x.
  void backward(const Matrix<S>& weight, ConstMatrixView<S> x, ConstMatrixView<S> dy,
                MatrixView<S> weight_gradient, MatrixView<S>* dx) {
    Eigen::Map<Weights> total(weight_gradient.data());
    total.setZero();
    const Eigen::Matrix<S, patch, OutChannels> transposed = weight.transpose();
    for (Index image = 0; image < x.cols(); ++image) {
      const S* const gradient = dy.data() + image * out_size;
      Weights sum = Weights::Zero();
      for_each_window(pad(x.data() + image * In.size()), [&](Index pixel, const S* window) {
        const Channels g = ConstChannelsMap(gradient + pixel * OutChannels);
        for (Index kh = 0; kh < Kernel; ++kh) {
          sum.template middleCols<run>(kh * run).noalias() +=
              g * ConstRun(window + kh * padded_row).transpose();
        }
      });
      total += sum;
      if (dx) input_gradient(transposed, gradient, dx->data() + image * In.size());
    }
  }

 private:
  // f(pixel, window) for every output pixel of one padded image, with `window` pointing at the
  // window's first value in that image.
  template <class Value, class F>
  static void for_each_window(Value* padded, F&& f) {
    for (Index oh = 0; oh < Geometry::out_height; ++oh) {
      for (Index ow = 0; ow < Geometry::out_width; ++ow) {
        f(oh * Geometry::out_width + ow,
          padded + (oh * Stride * padded_row + ow * Stride * In.channels));
      }
    }
  }

  // The image's rows, each In.width * Cin values, and where they lie in the padded image.
  static constexpr Index image_row = In.width * In.channels;
  static constexpr Index interior(Index h) {
    return (h + Padding) * padded_row + Padding * In.channels;
  }

  const S* pad(const S* image) {
    for (Index h = 0; h < In.height; ++h) {
      std::copy_n(image + h * image_row, image_row, padded_input_.data() + interior(h));
    }
    return padded_input_.data();
  }

  // dx of one image from its dy: every window's share is added onto the zero-padded gradient,
  // whose interior is dx.
  void input_gradient(const Eigen::Matrix<S, patch, OutChannels>& transposed, const S* gradient,
                      S* dx) {
    padded_gradient_.setZero();
    for_each_window(padded_gradient_.data(), [&](Index pixel, S* window) {
      // W^T * g written as a sum of W^T's columns scaled by g's entries: 3x as fast as Eigen's
      // product transposed * g for the 1x28x28 -> 8 convolution.
      const ConstChannelsMap g(gradient + pixel * OutChannels);
      Eigen::Matrix<S, patch, 1> share = transposed.col(0) * g(0);
      for (Index o = 1; o < OutChannels; ++o) share += transposed.col(o) * g(o);
      for (Index kh = 0; kh < Kernel; ++kh) {
        Run(window + kh * padded_row) += share.template segment<run>(kh * run);
      }
    });
    for (Index h = 0; h < In.height; ++h) {
      std::copy_n(padded_gradient_.data() + interior(h), image_row, dx + h * image_row);
    }
  }

  Vector<S> padded_input_;     // one image inside zeros
  Vector<S> padded_gradient_;  // one image's input gradient inside the padding's
};

}  // namespace uinfo
