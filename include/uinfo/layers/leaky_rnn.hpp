// LeakyRnn<Units, Rate = Relu>: the continuous-time rate network of computational neuroscience
// (Song, Yang & Wang 2016), discretised with alpha = dt / tau:
//   x_t = (1 - alpha) x_{t-1} + alpha (W_rec f(x_{t-1}) + b + W_in (u_t + input noise) + xi_t)
//   r_t = f(x_t)
// from a trainable initial state x_{-1} = x0. Its output is the rates r_t of every step (units x
// steps * trials, time-major; see core/timeline.hpp), so a Dense after it reads out every step and
// LastStep keeps each trial's last. ElmanRnn (elman_rnn.hpp) is the same layer with alpha = 1.
//
// Configured after construction, through net.layer<K>().configure(options): alpha, noise (drawn
// from the network's noise stream for this layer, in training and evaluation alike: it is part of
// the model, not a regulariser), Dale's law and positivity (WeightConstraint), a rate penalty and
// Pascanu's vanishing-gradient regulariser. Connectivity masks and fixed weights are the
// parameters' `plastic` masks (set_connectivity). Backward runs full or truncated BPTT (the
// Timeline's truncation); padded steps (beyond a trial's length) never move a gradient.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/timeline.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/weight_constraint.hpp"
#include "uinfo/simd/elementwise.hpp"
#include "uinfo/simd/gemm.hpp"
#include "uinfo/simd/normal.hpp"
#include "uinfo/simd/recurrent_product.hpp"

namespace uinfo {

template <Scalar S>
struct RateRnnOptions {
  double alpha = 0.2;  // dt / tau; ElmanRnn is fixed at 1
  // sigma_rec: every step adds sqrt(2 / alpha) * sigma_rec * N(0, 1) to the drive inside
  // alpha(...), the discretisation of white noise of that strength in continuous time.
  double recurrent_noise = 0;
  // sigma_in per input channel (empty: none), added to u_t with the same sqrt(2 / alpha) scaling.
  std::vector<double> input_noise{};
  // rate_l2 * mean of r^2 over units and real steps, added to the loss (Sequential::penalty()).
  double rate_l2 = 0;
  // Pascanu, Mikolov & Bengio's (2013) regulariser Omega against vanishing gradients, with this
  // weight, as pycog computes it (see backward): only its immediate gradient w.r.t. W_rec.
  double vanishing_gradient = 0;
  WeightConstraint<S> input_constraint{};      // e.g. positive inputs: {Positivity::rectify}
  WeightConstraint<S> recurrent_constraint{};  // e.g. Dale's law: {rectify, signs per unit}
};

template <Scalar S, Index In, Index N, class Fn, bool Leaky>
class RateRnnLayer {
 public:
  using scalar_type = S;
  static constexpr Index in_size = In;
  static constexpr Index out_size = N;

  RateRnnLayer(const Rng& rng, std::size_t layer_index, Index inputs = In, Index units = N)
      : w_in_(require_positive_size(units, spec_name()), require_positive_size(inputs, spec_name()),
              ParameterRole::weight),
        w_rec_(units, units, ParameterRole::weight),
        bias_(units, 1, ParameterRole::bias),
        x0_(units, 1, ParameterRole::bias),
        noise_(rng.engine(Stream::noise, layer_index)) {
    Engine engine = rng.engine(Stream::init, layer_index);
    const double fan = static_cast<double>(units);
    if constexpr (Leaky) {
      // Inputs at unit scale, recurrent weights N(0, 1 / units): spectral radius about 1.
      initialize(w_in_.value, lecun_uniform, engine);
      initialize(w_rec_.value, scaled_normal(1.0), engine);
    } else {
      // PyTorch's nn.RNN: every weight and the bias U(-1/sqrt(units), 1/sqrt(units)).
      initialize(w_in_.value, lecun_uniform, engine, fan, fan);
      initialize(w_rec_.value, lecun_uniform, engine, fan, fan);
      initialize(bias_.value, lecun_uniform, engine, fan, fan);
      x0_.plastic.setZero(units, 1);  // the state starts at 0 and stays there
      options_.alpha = 1;
    }
  }

  std::string name() const {
    return std::string(spec_name()) + "<" + std::to_string(inputs()) + "," +
           std::to_string(units()) + "," + Fn::name + ">";
  }

  Index inputs() const { return w_in_.value.cols(); }
  Index units() const { return w_in_.value.rows(); }

  // Throws, changing nothing, unless the options fit this layer.
  void configure(RateRnnOptions<S> options) {
    const std::string where = name() + "::configure";
    if (!(options.alpha > 0 && options.alpha <= 1)) {
      throw InvalidArgument("uinfo: " + where + ": alpha = dt / tau is " +
                            std::to_string(options.alpha) + "; expected a value in (0, 1]");
    }
    if (!Leaky && options.alpha != 1) {
      throw InvalidArgument("uinfo: " + where + ": an Elman layer has alpha 1; use LeakyRnn");
    }
    if (!options.input_noise.empty() &&
        static_cast<Index>(options.input_noise.size()) != inputs()) {
      throw InvalidArgument("uinfo: " + where + ": " + std::to_string(options.input_noise.size()) +
                            " input noise levels for " + std::to_string(inputs()) +
                            " inputs; expected one per input channel (or none)");
    }
    auto non_negative = [&](double value, const std::string& what) {
      if (!(value >= 0) || !std::isfinite(value)) {
        throw InvalidArgument("uinfo: " + where + ": " + what + " is " + std::to_string(value) +
                              "; expected a finite value >= 0");
      }
    };
    non_negative(options.recurrent_noise, "recurrent_noise");
    non_negative(options.rate_l2, "rate_l2");
    non_negative(options.vanishing_gradient, "vanishing_gradient");
    for (const double sigma : options.input_noise) non_negative(sigma, "an input noise level");
    options.input_constraint.check(inputs(), where + " (input weights)");
    options.recurrent_constraint.check(units(), where + " (recurrent weights)");
    options_ = std::move(options);
  }
  const RateRnnOptions<S>& options() const { return options_; }

  // Which input and recurrent connections exist and learn: 1 where a weight learns, 0 where it is
  // fixed. An absent connection is a fixed weight of 0: its value is set to 0 here. Masks are
  // units x inputs and units x units (row: receiving unit); an empty mask leaves every weight of
  // that block plastic.
  void set_connectivity(const Matrix<S>& input_mask, const Matrix<S>& recurrent_mask) {
    uinfo::set_connectivity(w_in_, input_mask, name() + ": the input mask");
    uinfo::set_connectivity(w_rec_, recurrent_mask, name() + ": the recurrent mask");
  }

  void forward(ConstMatrixView<S> u, Mode mode) {
    forward(u, mode, Timeline::single_step(u.cols()));
  }

  void forward(ConstMatrixView<S> u, Mode, const Timeline& time) {
    time_.assign(time);
    const Index n = units(), steps = time.steps, trials = time.trials;
    options_.input_constraint.effective(w_in_.value, w_in_eff_);
    options_.recurrent_constraint.effective(w_rec_.value, w_rec_eff_);
    recurrent_.prepare(w_rec_eff_, zero_weights_that_learn());

    const ConstMatrixView<S> input = noisy_input(u);
    // The rates r_{-1} = f(x0) of every trial, then r_0 ... r_{T-1} (the output), so that step
    // t reads r_{t-1} just before its own block and the weight gradient pairs every step's
    // gradient with the rates before it in one product.
    auto rates = rates_.reshape(n, (steps + 1) * trials);
    initial_rates_.resize(n);
    const auto x0 = x0_.value.col(0);
    simd::map(x0.data(), initial_rates_.data(), n, [](auto v) { return Fn::value(v); });
    rates.leftCols(trials).colwise() = initial_rates_;
    MatrixView<S> r(rates.data() + n * trials, n, steps * trials);
    // Every step's input drive at once: one product over all steps.
    if (simd::tiles_rows<S>(n)) {
      simd::multiply(r, view(w_in_eff_), input, bias_.value.data());
    } else {
      r.colwise() = bias_.value.col(0);
      input_product_.template accumulate<Op::plain, Op::plain>(r, view(w_in_eff_), input);
    }

    auto x = state_.reshape(n, trials);
    if constexpr (Leaky) x.colwise() = x0;
    const S alpha = static_cast<S>(options_.alpha);
    const S noise = static_cast<S>(std::sqrt(2 / options_.alpha) * options_.recurrent_noise);
    const Index block = n * trials;  // one step
    for (Index t = 0; t < steps; ++t) {
      S* drive = r.data() + t * block;  // holds the input drive; becomes r_t
      recurrent_.accumulate(MatrixView<S>(drive, n, trials),
                            ConstMatrixView<S>(drive - block, n, trials));
      if (noise != S(0)) simd::add_normal(noise_, drive, block, noise);
      if constexpr (Leaky) {
        simd::zip(x.data(), drive, x.data(), block,
                  [=](auto state, auto d) { return state + alpha * (d - state); });
        simd::map(x.data(), drive, block, [](auto v) { return Fn::value(v); });
      } else {
        simd::map(drive, drive, block, [](auto v) { return Fn::value(v); });
      }
    }
    if (options_.rate_l2 > 0) rate_penalty_ = options_.rate_l2 * mean_square_of_real_rates();
  }

  void backward(ConstMatrixView<S> u, ConstMatrixView<S> dy, MatrixView<S>* du) {
    const Index n = units(), steps = time_.steps(), trials = time_.trials();
    const ConstMatrixView<S> r = output();
    const S alpha = static_cast<S>(options_.alpha);
    const bool omega = options_.vanishing_gradient > 0;
    // g_t = alpha dL/dx_t, the gradient of the step's drive, for every step.
    auto g = drive_gradient_.reshape(n, steps * trials);
    auto carry = carry_.reshape(n, trials);          // (1 - alpha) dL/dx_{t+1}
    auto through_w = through_w_.reshape(n, trials);  // W_recᵀ g_{t+1}: dL/dr_t via step t+1
    carry.setZero();
    through_w.setZero();
    if (omega) {
      omega_left_.reshape(n, steps * trials).setZero();
      omega_right_.reshape(n, steps * trials).setZero();
    }
    const auto rate_scale =
        static_cast<S>(options_.rate_l2 > 0 ? 2 * options_.rate_l2 / real_values() : 0);
    omega_sum_ = 0;
    omega_count_ = 0;
    Index shortest = steps;
    for (Index b = 0; b < trials; ++b) shortest = std::min(shortest, length(b));
    for (Index t = steps - 1; t >= 0; --t) {
      const Index first = t * trials;
      // dL/dx_t = (dL/dr_t) f'(x_t) + (1 - alpha) dL/dx_{t+1}, written where g_t goes
      if (t < shortest) {
        state_gradient(g.col(first).data(), n * trials, dy.col(first).data(), through_w.data(),
                       r.col(first).data(), carry.data(), rate_scale);
      } else {
        for (Index b = 0; b < trials; ++b) {
          S* dx = g.col(first + b).data();
          if (t >= length(b)) {  // padding: no gradient (so none reaches the steps before)
            std::fill(dx, dx + n, S(0));
          } else {
            state_gradient(dx, n, dy.col(first + b).data(), through_w.col(b).data(),
                           r.col(first + b).data(), carry.col(b).data(), rate_scale);
          }
        }
      }
      S* dx_t = g.col(first).data();
      if constexpr (Leaky) {
        simd::map(dx_t, carry.data(), n * trials, [=](auto v) { return (S(1) - alpha) * v; });
      }
      simd::map(dx_t, dx_t, n * trials, [=](auto v) { return alpha * v; });  // now g_t
      recurrent_.assign_transposed(through_w, ConstMatrixView<S>(dx_t, n, trials));
      if (omega) omega_terms(t, alpha);
      if (t > 0 && !time_.gradient_crosses(t)) {
        carry.setZero();
        through_w.setZero();
      }
    }
    weight_gradients(u, du);
  }

  // The penalties of the last passes: the rate penalty (forward) and Omega (backward).
  double penalty() const {
    const double omega =
        omega_count_ > 0 ? options_.vanishing_gradient * omega_sum_ / omega_count_ : 0;
    return rate_penalty_ + omega;
  }

  // The rates r_t of the last forward pass, units x steps * trials.
  ConstMatrixView<S> output() const {
    const Index block = units() * time_.trials();
    return {rates_.view().data() + block, units(), time_.steps() * time_.trials()};
  }
  std::array<Parameter<S>*, 4> parameters() { return {&w_in_, &w_rec_, &bias_, &x0_}; }
  std::array<const Parameter<S>*, 4> parameters() const { return {&w_in_, &w_rec_, &bias_, &x0_}; }
  std::array<Engine*, 1> engines() { return {&noise_}; }

  Parameter<S>& input_weight() { return w_in_; }
  Parameter<S>& recurrent_weight() { return w_rec_; }
  Parameter<S>& bias() { return bias_; }
  Parameter<S>& initial_state() { return x0_; }
  const Parameter<S>& input_weight() const { return w_in_; }
  const Parameter<S>& recurrent_weight() const { return w_rec_; }
  const Parameter<S>& bias() const { return bias_; }
  const Parameter<S>& initial_state() const { return x0_; }

  // alpha dL/dx_t for every step and trial of the last backward pass (units x steps * trials):
  // the gradient of each step's drive, e.g. to see how far gradients travel back in time.
  ConstMatrixView<S> drive_gradient() const { return drive_gradient_.view(); }

  // The weights the layer computes with (after its constraints), as of the last forward pass or
  // computed now from the trained ones.
  Matrix<S> effective_recurrent_weight() const {
    Matrix<S> w;
    options_.recurrent_constraint.effective(w_rec_.value, w);
    return w;
  }
  Matrix<S> effective_input_weight() const {
    Matrix<S> w;
    options_.input_constraint.effective(w_in_.value, w);
    return w;
  }

 private:
  static constexpr const char* spec_name() { return Leaky ? "LeakyRnn" : "ElmanRnn"; }
  static ConstMatrixView<S> view(const Matrix<S>& m) { return {m.data(), m.rows(), m.cols()}; }

  // dx = (dy + w_g + rate_scale r) f'(r) + carry over n values: the gradient of the state at one
  // step from that of its rates (through the output and the next step) and of the next state.
  static void state_gradient(S* dx, Index n, const S* dy, const S* w_g, const S* r, const S* carry,
                             S rate_scale) {
    auto slope = [](auto rate) { return Fn::derivative_from_output(rate); };
    if (rate_scale != S(0)) {
      simd::transform(
          dx, n,
          [=](auto d, auto w, auto rate, auto c) {
            return (d + w + rate_scale * rate) * slope(rate) + c;
          },
          dy, w_g, r, carry);
    } else if constexpr (Leaky) {
      simd::transform(
          dx, n, [=](auto d, auto w, auto rate, auto c) { return (d + w) * slope(rate) + c; }, dy,
          w_g, r, carry);
    } else {  // no carry through an Elman layer's state
      simd::transform(
          dx, n, [=](auto d, auto w, auto rate) { return (d + w) * slope(rate); }, dy, w_g, r);
    }
  }

  // The zero effective recurrent weights whose gradient is still needed (see
  // simd/recurrent_product.hpp): none under a positivity, whose derivative is 0 there; without
  // one, every weight that learns.
  const Matrix<S>& zero_weights_that_learn() {
    if (options_.recurrent_constraint.positivity != Positivity::none) return no_weights_;
    if (w_rec_.plastic.size() != 0) return w_rec_.plastic;
    if (all_weights_.rows() != units()) all_weights_.setOnes(units(), units());
    return all_weights_;
  }

  Index length(Index trial) const { return time_.length(trial); }
  // Units times the real (unpadded) steps of every trial.
  double real_values() const {
    return static_cast<double>(time_.real_steps()) * static_cast<double>(units());
  }
  double mean_square_of_real_rates() const {
    const auto r = output();
    const Index trials = time_.trials();
    double sum = 0;
    for (Index b = 0; b < trials; ++b) {
      for (Index t = 0; t < length(b); ++t)
        sum += static_cast<double>(r.col(t * trials + b).squaredNorm());
    }
    return sum / real_values();
  }

  // The input the layer computes with: u itself, or a copy with this pass's input noise.
  ConstMatrixView<S> noisy_input(ConstMatrixView<S> u) {
    const auto& sigma = options_.input_noise;
    const auto noisy_channels =
        std::count_if(sigma.begin(), sigma.end(), [](double s) { return s > 0; });
    if (noisy_channels == 0) return u;
    auto noisy = noisy_input_.reshape(u.rows(), u.cols());
    noisy = u;
    auto draws = input_draws_.reshape(noisy_channels, u.cols());
    draws.setZero();
    simd::add_normal(noise_, draws.data(), draws.size(), S(1));
    const double scale = std::sqrt(2 / options_.alpha);
    for (Index j = 0; j < noisy.cols(); ++j) {
      Index k = 0;
      for (Index c = 0; c < noisy.rows(); ++c) {
        const double s = sigma[static_cast<std::size_t>(c)];
        if (s > 0) noisy(c, j) += static_cast<S>(scale * s) * draws(k++, j);
      }
    }
    return {noisy.data(), noisy.rows(), noisy.cols()};
  }

  // Omega, as pycog computes it (its trainer's sgd.py): with d = dL/dx_t of the loss alone,
  //   u = (1 - alpha) d + (W_recᵀ alpha d) ⊙ f'(x_t),   Omega_tb = (|u|² / |d|² - 1)²
  // averaged over the (t, b) with |d|² >= 1e-20, and d held constant in its gradient:
  //   dOmega/dW_rec = sum 4 alpha (|u|²/|d|² - 1) / |d|² / count * d (u ⊙ f')ᵀ,
  // collected here column by column and multiplied out in weight_gradients(). (pycog evaluates f'
  // at the same step as d; Pascanu et al. at the step before. This follows pycog.)
  void omega_terms(Index t, S alpha) {
    const Index n = units(), trials = time_.trials(), first = t * trials;
    const auto g = drive_gradient_.view();
    const auto w_t_g = through_w_.view();  // W_recᵀ g_t, this step's, before any truncation
    const auto r = output();
    auto left = omega_left_.view();
    auto right = omega_right_.view();
    for (Index b = 0; b < trials; ++b) {
      if (t >= length(b)) continue;
      double u2 = 0, d2 = 0;
      for (Index i = 0; i < n; ++i) {
        const S d = g(i, first + b) / alpha;
        const S slope = Fn::derivative_from_output(r(i, first + b));
        const S ui = (S(1) - alpha) * d + w_t_g(i, b) * slope;
        right(i, first + b) = ui * slope;
        u2 += static_cast<double>(ui) * ui;
        d2 += static_cast<double>(d) * d;
      }
      if (d2 < 1e-20) continue;
      const double ratio = u2 / d2 - 1;
      omega_sum_ += ratio * ratio;
      omega_count_ += 1;
      left.col(first + b) = g.col(first + b) * static_cast<S>(4 * ratio / d2);  // g = alpha d
    }
  }

  void weight_gradients(ConstMatrixView<S> u, MatrixView<S>* du) {
    const Index n = units(), steps = time_.steps(), trials = time_.trials();
    const ConstMatrixView<S> g = std::as_const(drive_gradient_).view();
    const ConstMatrixView<S> input = noisy_input_used(u);
    // dW_rec_eff = sum_t g_t r_{t-1}ᵀ: the rates from r_{-1} on, one step behind g.
    Matrix<S>& dw = w_rec_.gradient;
    const ConstMatrixView<S> previous_rates(rates_.view().data(), n, steps * trials);
    recurrent_.weight_gradient(MatrixView<S>(dw.data(), n, n), g, previous_rates);
    if (omega_count_ > 0) {
      const S weight = static_cast<S>(options_.vanishing_gradient / omega_count_);
      auto left = omega_left_.view();
      left *= weight;
      recurrent_.weight_gradient(MatrixView<S>(dw.data(), n, n), std::as_const(omega_left_).view(),
                                 std::as_const(omega_right_).view(), true);
    }
    options_.recurrent_constraint.raw_gradient(w_rec_.value, dw);

    bias_.gradient.noalias() = g.rowwise().sum();
    Matrix<S>& dw_in = w_in_.gradient;
    if (simd::tiles_rows<S>(n)) {
      const simd::Store<S> store{dw_in.data()};
      simd::multiply_transposed(g, input, store);
    } else {
      input_gradient_product_.template assign<Op::plain, Op::transposed>(
          MatrixView<S>(dw_in.data(), dw_in.rows(), dw_in.cols()), g, input);
    }
    options_.input_constraint.raw_gradient(w_in_.value, dw_in);
    if (du) {
      input_product_backward_.template assign<Op::transposed, Op::plain>(*du, view(w_in_eff_), g);
    }
    // dL/dx0: through the first step's recurrent input f(x0) and, when leaky, its carry.
    const auto w_t_g = through_w_.view();
    const auto carry = carry_.view();
    for (Index i = 0; i < n; ++i) {
      const S slope = Fn::derivative_from_output(initial_rates_(i));
      S sum = 0;
      for (Index b = 0; b < trials; ++b) sum += w_t_g(i, b) * slope + carry(i, b);
      x0_.gradient(i, 0) = sum;
    }
  }

  ConstMatrixView<S> noisy_input_used(ConstMatrixView<S> u) const {
    const auto& sigma = options_.input_noise;
    if (std::none_of(sigma.begin(), sigma.end(), [](double s) { return s > 0; })) return u;
    return noisy_input_.view();
  }

  Parameter<S> w_in_;   // units x inputs
  Parameter<S> w_rec_;  // units x units, row: receiving unit
  Parameter<S> bias_;   // units x 1
  Parameter<S> x0_;     // units x 1, the state before the first step
  RateRnnOptions<S> options_;
  Engine noise_;

  Matrix<S> w_in_eff_, w_rec_eff_;
  simd::RecurrentProduct<S> recurrent_;
  Matrix<S> no_weights_, all_weights_;  // for zero_weights_that_learn()
  Product<S> input_product_, input_product_backward_, input_gradient_product_;
  Buffer<S> rates_;        // r_{-1} = f(x0) per trial, then r_t: units x (steps + 1) * trials
  Buffer<S> noisy_input_;  // u + input noise, when there is input noise
  Buffer<S> input_draws_;  // the standard normal draws of the noisy input channels
  Buffer<S> state_;
  Vector<S> initial_rates_;  // f(x0)
  Buffer<S> drive_gradient_, carry_, through_w_, omega_left_, omega_right_;
  TimelineCopy time_;  // of the last forward pass
  double rate_penalty_ = 0, omega_sum_ = 0;
  Index omega_count_ = 0;
};

// LeakyRnn<dynamic>: the number of units is given when the network is constructed.
template <Index Units, class Rate = Relu, Index In = inferred>
struct LeakyRnn {
  static_assert(Units > 0 || Units == dynamic,
                "uinfo::LeakyRnn<Units>: the number of units must be positive (or dynamic)");
  static constexpr Index declared_input_size = In;
  static constexpr bool sized_at_run_time = Units == dynamic;
  template <class S, Index InputSize>
  using layer = RateRnnLayer<S, InputSize, Units, Rate, true>;
};

}  // namespace uinfo
