// Conv2d<OutChannels, Kernel, Stride = 1, Padding = 0, Init = he_normal>: a 2-D convolution
// (cross-correlation, as in every framework) of an HWC image with OutChannels filters of
// Kernel x Kernel x input channels, plus one bias per output channel.
//
// The whole batch is one GEMM. im2col copies the patch under every window position of every image
// into one column of a (k * k * Cin) x (Ho * Wo * batch) matrix, rows in (kh, kw, c) order; the
// weight W is Cout x (k * k * Cin) in the same order, and W * columns is Cout x (Ho * Wo * batch):
// channel fastest, then pixel, then image, which is exactly the HWC output batch
// (Cout * Ho * Wo) x batch. Backward reads dy the same way: dW = dy * columns^T, the bias
// gradient is dy's row sums, and dx is col2im(W^T * dy), which adds every patch entry back onto
// the input value it was copied from.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/window.hpp"

namespace uinfo {

template <Scalar S, Shape In, Index OutChannels, Index Kernel, Index Stride, Index Padding,
          Init WeightInit>
class Conv2dLayer {
  using Geometry = Window<In, Kernel, Stride, Padding>;
  static constexpr Index patch = Kernel * Kernel * In.channels;  // rows of the im2col matrix

 public:
  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Shape out_shape{OutChannels, Geometry::out_height, Geometry::out_width};
  static constexpr Index out_size = out_shape.size();

  Conv2dLayer(const Rng& rng, std::size_t layer_index, Index = in_size, Index = out_size)
      : weight_(OutChannels, patch, ParameterRole::weight),
        bias_(OutChannels, 1, ParameterRole::bias) {
    Engine engine = rng.engine(Stream::init, layer_index);
    initialize(weight_.value, WeightInit, engine, static_cast<double>(patch),
               static_cast<double>(Kernel * Kernel * OutChannels));
  }

  // The input shape, then the spec's arguments; the initialisation is left out, as for Dense.
  std::string name() const {
    return "Conv2d<" + to_string(In) + "," + std::to_string(OutChannels) + "," +
           std::to_string(Kernel) + "," + std::to_string(Stride) + "," + std::to_string(Padding) +
           ">";
  }

  void forward(ConstMatrixView<S> x, Mode) {
    const Index positions = Geometry::out_pixels * x.cols();
    auto columns = columns_.reshape(patch, positions);
    im2col(x.data(), x.cols(), columns.data());
    MatrixView<S> y(output_.reshape(out_size, x.cols()).data(), OutChannels, positions);
    y.colwise() = bias_.value.col(0);
    forward_product_.template accumulate<Op::plain, Op::plain>(y, view(weight_.value),
                                                               std::as_const(columns_).view());
  }

  // Uses the im2col matrix of the last forward pass, which must have been on x.
  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    const Index positions = Geometry::out_pixels * x.cols();
    const ConstMatrixView<S> dy_columns(dy.data(), OutChannels, positions);
    weight_gradient_product_.template assign<Op::plain, Op::transposed>(
        MatrixView<S>(weight_.gradient.data(), OutChannels, patch), dy_columns,
        std::as_const(columns_).view());
    bias_gradient(dy_columns);
    if (!dx) return;
    auto column_gradient = column_gradient_.reshape(patch, positions);
    input_gradient_product_.template assign<Op::transposed, Op::plain>(
        column_gradient, view(weight_.value), dy_columns);
    dx->setZero();
    col2im(column_gradient.data(), x.cols(), dx->data());
  }

  ConstMatrixView<S> output() const { return output_.view(); }
  std::array<Parameter<S>*, 2> parameters() { return {&weight_, &bias_}; }
  std::array<const Parameter<S>*, 2> parameters() const { return {&weight_, &bias_}; }

  Parameter<S>& weight() { return weight_; }
  Parameter<S>& bias() { return bias_; }
  const Parameter<S>& weight() const { return weight_; }
  const Parameter<S>& bias() const { return bias_; }

 private:
  static ConstMatrixView<S> view(const Matrix<S>& m) { return {m.data(), m.rows(), m.cols()}; }

  // One kernel row's values in a column; its length is known at compile time, so Eigen unrolls
  // and vectorises a whole run without the alignment checks of a run-time length.
  using Run = Eigen::Map<Eigen::Array<S, Geometry::run, 1>>;
  using ConstRun = Eigen::Map<const Eigen::Array<S, Geometry::run, 1>>;

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

  // Column j holds kernel row kh at entries [kh * run, (kh + 1) * run), contiguous in the image
  // too (HWC): a window inside the image copies each kernel row whole; at the border the row is
  // zeroed and the part over the image copied in.
  static void im2col(const S* images, Index batch, S* columns) {
    constexpr Index channels = In.channels;
    const auto copy_row = [&](Index j, Index kh, const S* row, Index first, Index last) {
      S* out = columns + j * patch + kh * Geometry::run;
      if (first == 0 && last == Kernel) {
        Run{out} = ConstRun{row};
        return;
      }
      Run{out}.setZero();
      for (Index i = 0; i < (last - first) * channels; ++i) out[first * channels + i] = row[i];
    };
    Geometry::for_each_kernel_row(images, batch, copy_row);
  }

  // The adjoint of im2col: every entry over the image is added to the value it was copied from
  // (windows overlap when Stride < Kernel); entries over the padding are dropped.
  static void col2im(const S* columns, Index batch, S* images) {
    constexpr Index channels = In.channels;
    const auto add_row = [&](Index j, Index kh, S* row, Index first, Index last) {
      const S* in = columns + j * patch + kh * Geometry::run;
      if (first == 0 && last == Kernel) {
        Run{row} += ConstRun{in};
        return;
      }
      for (Index i = 0; i < (last - first) * channels; ++i) row[i] += in[first * channels + i];
    };
    Geometry::for_each_kernel_row(images, batch, add_row);
  }

  Parameter<S> weight_;  // OutChannels x (Kernel * Kernel * In.channels), columns in (kh, kw, c)
  Parameter<S> bias_;    // OutChannels x 1
  Buffer<S> columns_;    // im2col of the last forward pass's input, kept for backward
  Buffer<S> column_gradient_;
  Buffer<S> output_;
  Product<S> forward_product_, weight_gradient_product_, input_gradient_product_;
};

template <Index OutChannels, Index Kernel, Index Stride = 1, Index Padding = 0,
          Init WeightInit = he_normal>
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
  using shaped_layer = Conv2dLayer<S, In, OutChannels, Kernel, Stride, Padding, WeightInit>;
};

}  // namespace uinfo
