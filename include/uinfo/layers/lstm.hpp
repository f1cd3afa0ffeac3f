// Lstm<Units>: the long short-term memory layer of PyTorch's nn.LSTM (gates i, f, g, o; one bias
// per gate for PyTorch's two), over a sequence batch (core/timeline.hpp):
//   [i f g o] = [σ σ tanh σ](W_in u_t + b + W_rec h_{t-1})
//   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t),   h_{-1} = c_{-1} = 0
// Its output is h_t of every step. Initialised as PyTorch: U(-1/sqrt(units), 1/sqrt(units)).
// Backward runs full or truncated BPTT; padded steps never move a gradient.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/timeline.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/sigmoid.hpp"
#include "uinfo/layers/tanh.hpp"
#include "uinfo/simd/elementwise.hpp"
#include "uinfo/simd/recurrent_product.hpp"

namespace uinfo {

template <Scalar S, Index In, Index N>
class LstmLayer {
 public:
  using scalar_type = S;
  static constexpr Index in_size = In;
  static constexpr Index out_size = N;

  LstmLayer(const Rng& rng, std::size_t layer_index, Index inputs = In, Index units = N)
      : w_in_(4 * require_positive_size(units, "Lstm"), require_positive_size(inputs, "Lstm"),
              ParameterRole::weight),
        w_rec_(4 * units, units, ParameterRole::weight),
        bias_(4 * units, 1, ParameterRole::bias) {
    Engine engine = rng.engine(Stream::init, layer_index);
    const double fan = static_cast<double>(units);
    for (Parameter<S>* p : parameters()) initialize(p->value, lecun_uniform, engine, fan, fan);
  }

  std::string name() const {
    return "Lstm<" + std::to_string(w_in_.value.cols()) + "," + std::to_string(units()) + ">";
  }
  Index units() const { return w_rec_.value.cols(); }

  void forward(ConstMatrixView<S> u, Mode mode) {
    forward(u, mode, Timeline::single_step(u.cols()));
  }

  void forward(ConstMatrixView<S> u, Mode, const Timeline& time) {
    time_.assign(time);
    const Index n = units(), steps = time.steps, trials = time.trials;
    recurrent_.prepare(w_rec_.value, all_weights());
    // gates: the four pre-activations of every step, then, step by step, their values.
    auto gates = gates_.reshape(4 * n, steps * trials);
    gates.colwise() = bias_.value.col(0);
    input_product_.template accumulate<Op::plain, Op::plain>(gates, view(w_in_.value), u);
    auto c = cells_.reshape(n, steps * trials);
    auto tanh_c = cell_tanh_.reshape(n, steps * trials);
    auto h = output_.reshape(n, steps * trials);
    for (Index t = 0; t < steps; ++t) {
      const Index first = t * trials;
      auto z = gates.middleCols(first, trials);
      if (t > 0) {
        recurrent_.accumulate(MatrixView<S>(z.data(), 4 * n, trials),
                              ConstMatrixView<S>(h.col(first - trials).data(), n, trials));
      }
      for (Index b = 0; b < trials; ++b) {
        S* gate = z.col(b).data();
        const S *i = gate, *f = gate + n, *g = gate + 2 * n, *o = gate + 3 * n;
        simd::map(gate, gate, 2 * n, [](auto v) { return Sigmoid::value(v); });  // i, f
        simd::map(g, gate + 2 * n, n, [](auto v) { return Tanh::value(v); });
        simd::map(o, gate + 3 * n, n, [](auto v) { return Sigmoid::value(v); });
        S* cell = c.col(first + b).data();
        if (t > 0) {
          simd::transform(
              cell, n,
              [](auto fv, auto previous, auto iv, auto gv) { return fv * previous + iv * gv; }, f,
              c.col(first - trials + b).data(), i, g);
        } else {
          simd::zip(i, g, cell, n, [](auto iv, auto gv) { return iv * gv; });
        }
        simd::map(cell, tanh_c.col(first + b).data(), n, [](auto v) { return Tanh::value(v); });
        simd::zip(o, tanh_c.col(first + b).data(), h.col(first + b).data(), n,
                  [](auto ov, auto tc) { return ov * tc; });
      }
    }
  }

  void backward(ConstMatrixView<S> u, ConstMatrixView<S> dy, MatrixView<S>* du) {
    const Index n = units(), steps = time_.steps(), trials = time_.trials();
    const auto gates = std::as_const(gates_).view();
    const auto c = std::as_const(cells_).view();
    const auto tanh_c = std::as_const(cell_tanh_).view();
    auto dz = gate_gradient_.reshape(4 * n, steps * trials);
    auto through_w = through_w_.reshape(n, trials);    // W_recᵀ dz_{t+1}
    auto cell_carry = cell_carry_.reshape(n, trials);  // dL/dc_{t+1} ⊙ f_{t+1}
    auto dc = cell_gradient_.reshape(n, 1);
    through_w.setZero();
    cell_carry.setZero();
    for (Index t = steps - 1; t >= 0; --t) {
      const Index first = t * trials;
      for (Index b = 0; b < trials; ++b) {
        S* d = dz.col(first + b).data();
        if (time_.padding(t, b)) {
          std::fill(d, d + 4 * n, S(0));
          continue;
        }
        const S* gate = gates.col(first + b).data();
        const S *i = gate, *f = gate + n, *g = gate + 2 * n, *o = gate + 3 * n;
        const S *dy_b = dy.col(first + b).data(), *w_g = through_w.col(b).data();
        const S* tc = tanh_c.col(first + b).data();
        S* carry = cell_carry.col(b).data();
        // dh = dy + W_recᵀ dz_{t+1};  dc = dh o (1 - tanh²c) + dL/dc_{t+1} f_{t+1}
        simd::transform(
            dc.data(), n,
            [](auto dyv, auto wv, auto ov, auto tcv, auto cc) {
              return (dyv + wv) * ov * (decltype(ov)(1) - tcv * tcv) + cc;
            },
            dy_b, w_g, o, tc, carry);
        simd::transform(
            d, n, [](auto dcv, auto gv, auto iv) { return dcv * gv * iv * (decltype(iv)(1) - iv); },
            dc.data(), g, i);
        if (t > 0) {
          simd::transform(
              d + n, n,
              [](auto dcv, auto previous, auto fv) {
                return dcv * previous * fv * (decltype(fv)(1) - fv);
              },
              dc.data(), c.col(first - trials + b).data(), f);
        } else {
          std::fill(d + n, d + 2 * n, S(0));  // c_{-1} = 0
        }
        simd::transform(
            d + 2 * n, n,
            [](auto dcv, auto iv, auto gv) { return dcv * iv * (decltype(gv)(1) - gv * gv); },
            dc.data(), i, g);
        simd::transform(
            d + 3 * n, n,
            [](auto dyv, auto wv, auto tcv, auto ov) {
              return (dyv + wv) * tcv * ov * (decltype(ov)(1) - ov);
            },
            dy_b, w_g, tc, o);
        simd::zip(dc.data(), f, carry, n, [](auto dcv, auto fv) { return dcv * fv; });
      }
      recurrent_.assign_transposed(through_w,
                                   ConstMatrixView<S>(dz.col(first).data(), 4 * n, trials));
      if (t > 0 && !time_.gradient_crosses(t)) {
        through_w.setZero();
        cell_carry.setZero();
      }
    }
    const ConstMatrixView<S> g = std::as_const(gate_gradient_).view();
    const ConstMatrixView<S> h = std::as_const(output_).view();
    // dW_rec = sum over t >= 1 of dz_t h_{t-1}ᵀ (h_{-1} = 0).
    if (steps > 1) {
      const Index later = (steps - 1) * trials;
      recurrent_.weight_gradient(MatrixView<S>(w_rec_.gradient.data(), 4 * n, n),
                                 ConstMatrixView<S>(g.col(trials).data(), 4 * n, later),
                                 ConstMatrixView<S>(h.data(), n, later));
    } else {
      w_rec_.gradient.setZero();
    }
    bias_.gradient.noalias() = g.rowwise().sum();
    input_gradient_product_.template assign<Op::plain, Op::transposed>(
        MatrixView<S>(w_in_.gradient.data(), 4 * n, w_in_.value.cols()), g, u);
    if (du)
      input_product_backward_.template assign<Op::transposed, Op::plain>(*du, view(w_in_.value), g);
  }

  ConstMatrixView<S> output() const { return output_.view(); }
  // The cell states c_t of the last forward pass (units x steps * trials).
  ConstMatrixView<S> cells() const { return cells_.view(); }
  std::array<Parameter<S>*, 3> parameters() { return {&w_in_, &w_rec_, &bias_}; }
  std::array<const Parameter<S>*, 3> parameters() const { return {&w_in_, &w_rec_, &bias_}; }

  Parameter<S>& input_weight() { return w_in_; }
  Parameter<S>& recurrent_weight() { return w_rec_; }
  Parameter<S>& bias() { return bias_; }

 private:
  static ConstMatrixView<S> view(const Matrix<S>& m) { return {m.data(), m.rows(), m.cols()}; }

  // Every recurrent weight learns, zero or not: the gradient's structure (see
  // simd/recurrent_product.hpp).
  const Matrix<S>& all_weights() {
    if (all_weights_.rows() != w_rec_.value.rows()) all_weights_.setOnes(4 * units(), units());
    return all_weights_;
  }

  Parameter<S> w_in_;   // 4 units x inputs, gates i, f, g, o
  Parameter<S> w_rec_;  // 4 units x units
  Parameter<S> bias_;   // 4 units x 1
  simd::RecurrentProduct<S> recurrent_;
  Matrix<S> all_weights_;
  Product<S> input_product_, input_product_backward_, input_gradient_product_;
  Buffer<S> gates_, cells_, cell_tanh_, output_, gate_gradient_, through_w_, cell_carry_,
      cell_gradient_;
  TimelineCopy time_;
};

template <Index Units, Index In = inferred>
struct Lstm {
  static_assert(Units > 0, "uinfo::Lstm<Units>: the number of units must be positive");
  static constexpr Index declared_input_size = In;
  template <class S, Index InputSize>
  using layer = LstmLayer<S, InputSize, Units>;
};

}  // namespace uinfo
