// Dense<Out>: y = W x + b, a fully connected layer. Its input size is inferred from the
// previous layer; write Dense<Out, In> to have the compiler check it. Dense<dynamic> takes its
// output size from the network's constructor.
#pragma once

#include <array>
#include <string>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/layers/init.hpp"

namespace uinfo {

template <Scalar S, Index In, Index Out, Init WeightInit>
class DenseLayer {
 public:
  using scalar_type = S;
  static constexpr Index in_size = In;
  static constexpr Index out_size = Out;

  DenseLayer(const Rng& rng, std::size_t layer_index, Index inputs = In, Index outputs = Out)
      : weight_(require_positive_size(outputs, "Dense"), require_positive_size(inputs, "Dense"),
                ParameterRole::weight),
        bias_(outputs, 1, ParameterRole::bias) {
    Engine engine = rng.engine(Stream::init, layer_index);
    initialize(weight_.value, WeightInit, engine);
  }

  // The initialisation is left out: it does not change what a saved network holds.
  std::string name() const {
    return "Dense<" + std::to_string(weight_.value.rows()) + "," +
           std::to_string(weight_.value.cols()) + ">";
  }

  void forward(ConstMatrixView<S> x, Mode) {
    auto y = output_.reshape(weight_.value.rows(), x.cols());
    y.colwise() = bias_.value.col(0);
    forward_product_.template accumulate<Op::plain, Op::plain>(y, view(weight_.value), x);
  }

  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    weight_gradient_product_.template assign<Op::plain, Op::transposed>(
        MatrixView<S>(weight_.gradient.data(), weight_.gradient.rows(), weight_.gradient.cols()),
        dy, x);
    bias_.gradient.noalias() = dy.rowwise().sum();
    if (dx)
      input_gradient_product_.template assign<Op::transposed, Op::plain>(*dx, view(weight_.value),
                                                                         dy);
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

  Parameter<S> weight_;  // outputs x inputs
  Parameter<S> bias_;    // outputs x 1
  Buffer<S> output_;
  Product<S> forward_product_, weight_gradient_product_, input_gradient_product_;
};

template <Index Out, Index In = inferred, Init WeightInit = he_normal>
struct Dense {
  static_assert(Out > 0 || Out == dynamic,
                "uinfo::Dense<Out>: the output size Out must be positive");
  static_assert(In == inferred || In > 0,
                "uinfo::Dense<Out, In>: the input size In must be positive");
  static constexpr Index declared_input_size = In;
  static constexpr bool sized_at_run_time = Out == dynamic;
  template <class S, Index InputSize>
  using layer = DenseLayer<S, InputSize, Out, WeightInit>;
};

}  // namespace uinfo
