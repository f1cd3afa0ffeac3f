// The layer behind every activation function. An activation only states its name, its function
// and its derivative in terms of its output (`Fn::name`, `Fn::value`, `Fn::derivative_from_output`,
// and `Fn::argument` if it has one); this template supplies the buffers and the vectorised
// forward and backward passes.
#pragma once

#include <string>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/parameter_free.hpp"
#include "uinfo/simd/elementwise.hpp"

namespace uinfo {

// Shape is the input's, passed through: an activation between image layers keeps the image.
template <Scalar S, Index N, class Fn, Shape SampleShape = flat_shape(N)>
class ElementwiseLayer : public ParameterFreeLayer<S> {
  static_assert(SampleShape.size() == N, "uinfo::ElementwiseLayer: the shape must hold N features");

 public:
  using scalar_type = S;
  static constexpr Index in_size = N;
  static constexpr Index out_size = N;
  static constexpr Shape out_shape = SampleShape;

  ElementwiseLayer(const Rng&, std::size_t, Index size = N, Index = N)
      : size_(require_positive_size(size, Fn::name)) {}

  // E.g. "Tanh<64>" or "Relu<8x28x28>"; an activation with an argument adds it:
  // "LeakyRelu<64,0.1>".
  std::string name() const {
    std::string arguments = size_name(SampleShape, size_);
    if constexpr (requires { Fn::argument; }) arguments += "," + shortest(Fn::argument);
    return std::string(Fn::name) + "<" + arguments + ">";
  }

  void forward(ConstMatrixView<S> x, Mode) {
    auto y = this->output_.reshape(size_, x.cols());
    simd::map(x.data(), y.data(), x.size(), [](auto v) { return Fn::value(v); });
  }

  // The derivative is taken from the output, so backward never needs the input.
  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (!dx) return;
    const auto y = this->output_.view();
    simd::zip(y.data(), dy.data(), dx->data(), y.size(),
              [](auto out, auto grad) { return grad * Fn::derivative_from_output(out); });
  }

 private:
  Index size_;
};

// Base of activation specs: `struct Tanh : Activation<Tanh> { ... }`.
template <class Fn>
struct Activation {
  template <class S, Shape In>
  using shaped_layer = ElementwiseLayer<S, In.size(), Fn, In>;
};

}  // namespace uinfo
