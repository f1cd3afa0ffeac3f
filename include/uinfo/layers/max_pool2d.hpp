// MaxPool2d<Kernel, Stride = Kernel>: the largest value of each channel in every Kernel x Kernel
// window of an HWC image (no padding). Forward records where each maximum came from (the first
// of equal values), and backward sends each output's gradient to that input alone, adding up
// where overlapping windows (Stride < Kernel) share a maximum.
#pragma once

#include <algorithm>
#include <string>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/parameter_free.hpp"
#include "uinfo/layers/window.hpp"

namespace uinfo {

template <Scalar S, Shape In, Index Kernel, Index Stride>
class MaxPool2dLayer : public ParameterFreeLayer<S> {
  using Geometry = Window<In, Kernel, Stride, 0>;

 public:
  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Shape out_shape{In.channels, Geometry::out_height, Geometry::out_width};
  static constexpr Index out_size = out_shape.size();

  MaxPool2dLayer(const Rng&, std::size_t, Index = in_size, Index = out_size) {}

  std::string name() const {
    return "MaxPool2d<" + to_string(In) + "," + std::to_string(Kernel) + "," +
           std::to_string(Stride) + ">";
  }

  void forward(ConstMatrixView<S> x, Mode) {
    constexpr Index channels = In.channels;
    S* const out = this->output_.reshape(out_size, x.cols()).data();
    Index* const from = argmax_.reshape(out_size, x.cols()).data();
    const S* const base = x.data();
    // Without padding every kernel row is whole: first = 0, last = Kernel.
    const auto take_max = [&](Index j, Index kh, const S* row, Index, Index) {
      S* best = out + j * channels;
      Index* where = from + j * channels;
      for (Index kw = 0; kw < Kernel; ++kw) {
        const S* values = row + kw * channels;
        const Index offset = values - base;
        if (kh == 0 && kw == 0) {
          std::copy_n(values, channels, best);
          for (Index c = 0; c < channels; ++c) where[c] = offset + c;
          continue;
        }
        for (Index c = 0; c < channels; ++c) {
          if (values[c] > best[c]) {
            best[c] = values[c];
            where[c] = offset + c;
          }
        }
      }
    };
    Geometry::for_each_kernel_row(base, x.cols(), take_max);
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (!dx) return;
    dx->setZero();
    const Index* from = std::as_const(argmax_).view().data();
    for (Index i = 0; i < dy.size(); ++i) dx->data()[from[i]] += dy.data()[i];
  }

 private:
  Buffer<Index> argmax_;  // for each output value, the offset of its input value in the batch
};

template <Index Kernel, Index Stride = Kernel>
struct MaxPool2d {
  static_assert(Kernel > 0, "uinfo::MaxPool2d<Kernel, Stride>: Kernel must be positive");
  static_assert(Stride > 0, "uinfo::MaxPool2d<Kernel, Stride>: Stride must be positive");
  template <class S, Shape In>
  using shaped_layer = MaxPool2dLayer<S, In, Kernel, Stride>;
};

}  // namespace uinfo
