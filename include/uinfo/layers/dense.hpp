// Dense<Out>: y = W x + b, a fully connected layer. Its input size is inferred from the
// previous layer; write Dense<Out, In> to have the compiler check it. Dense<dynamic> takes its
// output size from the network's constructor.
//
// A readout of a biologically constrained network constrains its weights (constrain(): positive
// weights, Dale's signs per input unit; see weight_constraint.hpp) and its connectivity
// (set_connectivity(mask): e.g. read only one area's excitatory units); fix the bias at zero with
// `bias().plastic.setZero(out, 1)`.
#pragma once

#include <array>
#include <string>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/weight_constraint.hpp"
#include "uinfo/simd/gemm.hpp"

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

  // Throws, changing nothing, unless the constraint fits the weights' input columns.
  void constrain(WeightConstraint<S> constraint) {
    constraint.check(weight_.value.cols(), name());
    constraint_ = std::move(constraint);
  }
  const WeightConstraint<S>& constraint() const { return constraint_; }
  // 1 where a weight exists and learns, 0 where it is fixed (an absent one is set to 0).
  void set_connectivity(const Matrix<S>& mask) {
    uinfo::set_connectivity(weight_, mask, name() + ": the mask");
  }

  // Layers with at least a vector of outputs run the tiled product of simd/gemm.hpp, which adds
  // the bias in the same pass; narrower ones dot products (see can_be_narrow) or Eigen's.
  void forward(ConstMatrixView<S> x, Mode) {
    if (constraint_.active()) constraint_.effective(weight_.value, effective_);
    const ConstMatrixView<S> w = weights();
    auto y = output_.reshape(weight_.value.rows(), x.cols());
    if (simd::tiles_rows<S>(y.rows())) {
      simd::multiply(y, w, x, bias_.value.data());
      return;
    }
    if constexpr (can_be_narrow) {
      if (narrow(x.rows())) {
        transposed_ = w.transpose();
        simd::multiply_narrow<Out>(y, view(transposed_), x, bias_.value.data());
        return;
      }
    }
    y.colwise() = bias_.value.col(0);
    forward_product_.template accumulate<Op::plain, Op::plain>(y, w, x);
  }

  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    bias_and_input_gradients(dy, dx);
    weight_gradient(x, dy, simd::Store<S>{weight_.gradient.data()});
    if (constraint_.active()) constraint_.raw_gradient(weight_.value, weight_.gradient);
  }

  // backward() fused with an optimizer step (see Sequential::backward with updates): the bias is
  // updated from its gradient, and the weights from theirs as it is computed, a tile at a time,
  // so that the weight gradient is never written to memory (weight().gradient is left as it was).
  template <class Updates>
  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx,
                const Updates& updates) {
    if (constraint_.active()) {  // the raw gradient needs the whole effective one first
      backward(x, dy, dx);
      updates(bias_);
      updates(weight_);
      return;
    }
    bias_and_input_gradients(dy, dx);  // dx first: it needs the weights before their update
    updates(bias_);
    updates.with(weight_, [&](const auto& update) { weight_gradient(x, dy, update); });
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
  // The weights the layer computes with: the trained ones, or the effective ones of the last
  // forward pass when constrained.
  ConstMatrixView<S> weights() const {
    return view(constraint_.active() ? effective_ : weight_.value);
  }

  // A layer with fewer outputs than a vector (a readout of a few values at every step of a
  // sequence) from at least a vector of inputs: Eigen's GEMM would pack all of x or dy for these
  // few rows, so its products are dot products over the inputs (forward) or tiled over them, with
  // the weights transposed (input and weight gradients).
  static constexpr bool can_be_narrow =
      Out != dynamic && Out < static_cast<Index>(xsimd::batch<S>::size);
  static constexpr bool narrow(Index inputs) {
    return can_be_narrow && simd::narrow_rows<S>(Out, inputs);
  }

  void bias_and_input_gradients(ConstMatrixView<S> dy, MatrixView<S>* dx) {
    bias_.gradient.noalias() = dy.rowwise().sum();
    if (!dx) return;
    if (narrow(dx->rows())) {
      simd::multiply(*dx, view(transposed_), dy, static_cast<const S*>(nullptr));
      return;
    }
    input_gradient_product_.template assign<Op::transposed, Op::plain>(*dx, weights(), dy);
  }

  // dW = dy xᵀ, handed to `consume` (a simd::Store or an optimizer's simd::BoundUpdate) vector by
  // vector as the tiled product computes it, or, for layers with fewer outputs than a vector,
  // computed by Eigen into the gradient and consumed from there.
  template <class Consume>
  void weight_gradient(ConstMatrixView<S> x, ConstMatrixView<S> dy, const Consume& consume) {
    Matrix<S>& g = weight_.gradient;
    if (simd::tiles_rows<S>(g.rows())) {
      simd::multiply_transposed(dy, x, consume);
      return;
    }
    if (narrow(x.rows())) {  // gᵀ = x dyᵀ, tiled over the inputs
      transposed_gradient_.resize(g.cols(), g.rows());
      const simd::Store<S> store{transposed_gradient_.data()};
      simd::multiply_transposed(x, dy, store);
      g = transposed_gradient_.transpose();
      consume.apply_all(g.size(), g.data());
      return;
    }
    weight_gradient_product_.template assign<Op::plain, Op::transposed>(
        MatrixView<S>(g.data(), g.rows(), g.cols()), dy, x);
    consume.apply_all(g.size(), g.data());
  }

  Parameter<S> weight_;  // outputs x inputs
  Parameter<S> bias_;    // outputs x 1
  WeightConstraint<S> constraint_;
  Matrix<S> effective_;                         // the constrained weights of the last forward pass
  Matrix<S> transposed_, transposed_gradient_;  // narrow layers: inputs x outputs
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
