// Conv2d<OutChannels, Kernel, Stride = 1, Padding = 0, Init = he_normal, Bias = Bias::learned>:
// a 2-D convolution (cross-correlation, as in every framework) of an HWC image with OutChannels
// filters of Kernel x Kernel x input channels, plus one bias per output channel unless
// Bias::none (a convolution followed by BatchNorm, whose shift makes a bias redundant).
//
// The weight W is OutChannels x (Kernel * Kernel * Cin), columns in (kh, kw, c) order, so that
// each output pixel's channels are W times the patch under its window. The products run as
// register-tiled kernels over the padded images (layers/conv2d_tiled.hpp) when the output
// channels fill whole vectors, else directly, pixel by pixel (layers/conv2d_direct.hpp), or as
// GEMMs over blocks of im2col matrices (layers/conv2d_im2col.hpp), whichever was measured faster
// for the filter's size.
#pragma once

#include <array>
#include <string>
#include <type_traits>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/conv2d_direct.hpp"
#include "uinfo/layers/conv2d_im2col.hpp"
#include "uinfo/layers/conv2d_tiled.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/window.hpp"
#include "uinfo/simd/gemm.hpp"

namespace uinfo {

enum class ConvAlgorithm { direct, im2col, tiled };

// Whether a convolution has a bias per output channel.
enum class Bias { learned, none };

// The tiled kernels need output channels that fill whole vectors (16 floats with AVX-512). Else
// the direct products win while the weights are few: per output pixel they load every weight,
// where a GEMM keeps blocks of them in registers, but they skip im2col, col2im and the GEMM's
// packing. Forward and backward with the input gradient at batch 32 (uinfo_bench_layers, README)
// ran 3x as fast direct at 8 x 9 weights (1x28x28 -> 8, 3x3), 1.2x at 16 x 72 and 1.1x at
// 16 x 144 and 32 x 72, but 1.16x as fast by im2col at 32 x 144, and more so beyond.
template <Scalar S>
constexpr ConvAlgorithm fastest_conv_algorithm(Index in_channels, Index out_channels,
                                               Index kernel) {
  if (simd::tiles_rows<S>(out_channels) &&
      out_channels % static_cast<Index>(xsimd::batch<S>::size) == 0) {
    return ConvAlgorithm::tiled;
  }
  const Index weights = out_channels * kernel * kernel * in_channels;
  return weights <= 16 * 144 ? ConvAlgorithm::direct : ConvAlgorithm::im2col;
}

template <Scalar S, Shape In, Index OutChannels, Index Kernel, Index Stride, Index Padding,
          Init WeightInit, Bias HasBias = Bias::learned,
          ConvAlgorithm Algorithm = fastest_conv_algorithm<S>(In.channels, OutChannels, Kernel)>
class Conv2dLayer {
  using Geometry = Window<In, Kernel, Stride, Padding>;
  static constexpr Index patch = Kernel * Kernel * In.channels;  // weights per filter
  static constexpr bool has_bias = HasBias == Bias::learned;
  template <ConvAlgorithm A, class Direct, class Im2col, class Tiled>
  using Pick = std::conditional_t<A == ConvAlgorithm::direct, Direct,
                                  std::conditional_t<A == ConvAlgorithm::im2col, Im2col, Tiled>>;
  using Convolution =
      Pick<Algorithm, DirectConvolution<S, In, OutChannels, Kernel, Stride, Padding>,
           Im2colConvolution<S, In, OutChannels, Kernel, Stride, Padding>,
           TiledConvolution<S, In, OutChannels, Kernel, Stride, Padding>>;

 public:
  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Shape out_shape{OutChannels, Geometry::out_height, Geometry::out_width};
  static constexpr Index out_size = out_shape.size();
  // How many images the products take at a time (the last block of a batch may be smaller).
  static constexpr Index block_images = Convolution::block_images;

  Conv2dLayer(const Rng& rng, std::size_t layer_index, Index = in_size, Index = out_size)
      : weight_(OutChannels, patch, ParameterRole::weight),
        bias_(has_bias ? OutChannels : 0, 1, ParameterRole::bias) {
    Engine engine = rng.engine(Stream::init, layer_index);
    initialize(weight_.value, WeightInit, engine, static_cast<double>(patch),
               static_cast<double>(Kernel * Kernel * OutChannels));
  }

  // The input shape, then the spec's arguments; the initialisation is left out, as for Dense.
  std::string name() const {
    return "Conv2d<" + to_string(In) + "," + std::to_string(OutChannels) + "," +
           std::to_string(Kernel) + "," + std::to_string(Stride) + "," + std::to_string(Padding) +
           (has_bias ? "" : ",no bias") + ">";
  }

  void forward(ConstMatrixView<S> x, Mode) {
    convolution_.forward(weight_.value, has_bias ? bias_.value.data() : nullptr, x,
                         output_.reshape(out_size, x.cols()));
  }

  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    convolution_.backward(weight_.value, x, dy,
                          MatrixView<S>(weight_.gradient.data(), OutChannels, patch), dx);
    if constexpr (has_bias) {
      bias_gradient(ConstMatrixView<S>(dy.data(), OutChannels, Geometry::out_pixels * x.cols()));
    }
  }

  ConstMatrixView<S> output() const { return output_.view(); }
  auto parameters() { return parameter_list<Parameter<S>*>(weight_, bias_); }
  auto parameters() const { return parameter_list<const Parameter<S>*>(weight_, bias_); }

  Parameter<S>& weight() { return weight_; }
  const Parameter<S>& weight() const { return weight_; }
  Parameter<S>& bias() requires(has_bias) { return bias_; }
  const Parameter<S>& bias() const requires(has_bias) { return bias_; }

 private:
  // The row sums of dy as Cout x (pixels * batch), added up column by column with Cout known at
  // compile time: Eigen's rowwise().sum() reduces each row on its own when Cout is narrower than
  // a SIMD register, and a run-time length costs alignment checks on every column.
  void bias_gradient(ConstMatrixView<S> dy_columns) {
    using Channels = Eigen::Map<Eigen::Matrix<S, OutChannels, 1>>;
    using ConstChannels = Eigen::Map<const Eigen::Matrix<S, OutChannels, 1>>;
    Channels sum(bias_.gradient.data());
    sum.setZero();
    for (Index j = 0; j < dy_columns.cols(); ++j) sum += ConstChannels(dy_columns.col(j).data());
  }

  // The weight, and the bias if the layer has one.
  template <class Pointer, class W, class B>
  static auto parameter_list(W& weight, B& bias) {
    if constexpr (has_bias) {
      return std::array<Pointer, 2>{&weight, &bias};
    } else {
      (void)bias;
      return std::array<Pointer, 1>{&weight};
    }
  }

  Parameter<S> weight_;  // OutChannels x (Kernel * Kernel * In.channels), columns in (kh, kw, c)
  Parameter<S> bias_;    // OutChannels x 1, or empty without a bias
  Buffer<S> output_;
  Convolution convolution_;
};

template <Index OutChannels, Index Kernel, Index Stride = 1, Index Padding = 0,
          Init WeightInit = he_normal, Bias HasBias = Bias::learned>
struct Conv2d {
  static_assert(OutChannels > 0,
                "uinfo::Conv2d<OutChannels, Kernel, ...>: OutChannels must be "
                "positive");
  static_assert(Kernel > 0, "uinfo::Conv2d<OutChannels, Kernel, ...>: Kernel must be positive");
  static_assert(Stride > 0,
                "uinfo::Conv2d<OutChannels, Kernel, Stride, ...>: Stride must be positive");
  static_assert(Padding >= 0,
                "uinfo::Conv2d<OutChannels, Kernel, Stride, Padding>: Padding must be 0 or more");
  template <class S, Shape In>
  using shaped_layer =
      Conv2dLayer<S, In, OutChannels, Kernel, Stride, Padding, WeightInit, HasBias>;
};

}  // namespace uinfo
