// AvgPool2d<Kernel, Stride = Kernel>: the mean of each channel over every Kernel x Kernel window
// of an HWC image (no padding). Backward spreads each output's gradient evenly over its window,
// adding up where windows overlap (Stride < Kernel).
#pragma once

#include <string>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/parameter_free.hpp"
#include "uinfo/layers/window.hpp"

namespace uinfo {

template <Scalar S, Shape In, Index Kernel, Index Stride>
class AvgPool2dLayer : public ParameterFreeLayer<S> {
  using Geometry = Window<In, Kernel, Stride, 0>;
  using Channels = Eigen::Map<Eigen::Array<S, In.channels, 1>>;  // one pixel's channels
  using ConstChannels = Eigen::Map<const Eigen::Array<S, In.channels, 1>>;
  static constexpr S scale = S(1) / S(Kernel * Kernel);

 public:
  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Shape out_shape{In.channels, Geometry::out_height, Geometry::out_width};
  static constexpr Index out_size = out_shape.size();

  AvgPool2dLayer(const Rng&, std::size_t, Index = in_size, Index = out_size) {}

  std::string name() const {
    return "AvgPool2d<" + to_string(In) + "," + std::to_string(Kernel) + "," +
           std::to_string(Stride) + ">";
  }

  // Without padding every kernel row is whole (first = 0, last = Kernel).
  void forward(ConstMatrixView<S> x, Mode) {
    auto y = this->output_.reshape(out_size, x.cols());
    y.setZero();
    const auto add_row = [&](Index j, Index, const S* row, Index, Index) {
      Channels sum(y.data() + j * In.channels);
      for (Index kw = 0; kw < Kernel; ++kw) sum += ConstChannels(row + kw * In.channels);
    };
    Geometry::for_each_kernel_row(x.data(), x.cols(), add_row);
    y *= scale;
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (!dx) return;
    dx->setZero();
    const auto spread_row = [&](Index j, Index, S* row, Index, Index) {
      const ConstChannels share(dy.data() + j * In.channels);
      for (Index kw = 0; kw < Kernel; ++kw) Channels(row + kw * In.channels) += scale * share;
    };
    Geometry::for_each_kernel_row(dx->data(), dy.cols(), spread_row);
  }
};

template <Index Kernel, Index Stride = Kernel>
struct AvgPool2d {
  static_assert(Kernel > 0, "uinfo::AvgPool2d<Kernel, Stride>: Kernel must be positive");
  static_assert(Stride > 0, "uinfo::AvgPool2d<Kernel, Stride>: Stride must be positive");
  template <class S, Shape In>
  using shaped_layer = AvgPool2dLayer<S, In, Kernel, Stride>;
};

}  // namespace uinfo
