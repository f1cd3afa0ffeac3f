#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/dropout.hpp"
#include "uinfo/layers/identity.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/leaky_relu.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/sigmoid.hpp"
#include "uinfo/layers/tanh.hpp"
#include "uinfo/net/gradient_check.hpp"
#include "uinfo/net/sequential.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

template <class S>
ConstMatrixView<S> view(const Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}

// --- Gradient checks ---------------------------------------------------------------------------

// Gradient-checks one spec on In inputs, and verifies that every parameter and input entry was
// compared.
template <class Spec, Index In>
void check_spec_at(const GradientCheckOptions& options) {
  const Sequential<double, Input<In>, Spec> net{Rng{options.seed}};
  const auto report = check_layer_gradients<Spec, In>(options);
  INFO(net.architecture() << " in " << (options.mode == Mode::train ? "train" : "eval") << " mode");
  INFO("worst: " << report.worst << " (error " << report.max_error << ")");
  CHECK(report.checked == net.parameter_count() + In * options.batch);
  REQUIRE(report.passed);
}

// Two input sizes: one below a double SIMD batch (a scalar tail only) and one above it.
template <class Spec>
void check_spec(GradientCheckOptions options = {}) {
  check_spec_at<Spec, 3>(options);
  options.batch = 4;
  check_spec_at<Spec, 9>(options);
}

// y = 2x, with a backward pass that forgets the factor 2: a gradient check must fail on it.
template <class S, Index N>
class WrongBackwardLayer {
 public:
  using scalar_type = S;
  static constexpr Index in_size = N;
  static constexpr Index out_size = N;
  WrongBackwardLayer(const Rng&, std::size_t, Index = N, Index = N) {}
  static std::string name() { return "WrongBackward"; }
  void forward(ConstMatrixView<S> x, Mode) { output_.reshape(N, x.cols()) = 2 * x; }
  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (dx) *dx = dy;
  }
  ConstMatrixView<S> output() const { return output_.view(); }
  std::array<Parameter<S>*, 0> parameters() { return {}; }
  std::array<const Parameter<S>*, 0> parameters() const { return {}; }

 private:
  Buffer<S> output_;
};

struct WrongBackward {
  template <class S, Index N>
  using layer = WrongBackwardLayer<S, N>;
};

// --- Initialisation statistics -----------------------------------------------------------------

struct Moments {
  double mean = 0, stddev = 0, kurtosis = 0, max_abs = 0;
  Index count = 0;
};

template <class S>
Moments moments_of(const Matrix<S>& w) {
  Moments m;
  m.count = w.size();
  const double n = static_cast<double>(w.size());
  for (Index i = 0; i < w.size(); ++i) m.mean += w.data()[i] / n;
  double second = 0, fourth = 0;
  for (Index i = 0; i < w.size(); ++i) {
    const double d = w.data()[i] - m.mean;
    second += d * d / n;
    fourth += d * d * d * d / n;
    m.max_abs = std::max(m.max_abs, std::abs(static_cast<double>(w.data()[i])));
  }
  m.stddev = std::sqrt(second);
  m.kurtosis = fourth / (second * second);
  return m;
}

constexpr Index fan_in = 256;
constexpr Index fan_out = 512;

// Draws a 512 x 256 weight with `init` and checks it against a zero-mean distribution of the
// given standard deviation: normal (kurtosis 3) or uniform on [-bound, bound] (kurtosis 1.8).
// n = 131072 draws: the sample sd's relative standard error is 1/sqrt(2n) = 0.2% for a normal
// and sqrt(0.8/n)/2 = 0.12% for a uniform, so 1% is five standard errors or more; the kurtosis
// estimate's standard error is sqrt(24/n) = 0.014 for a normal, below that for a uniform.
template <Init init>
void check_init(double expected_stddev, bool uniform) {
  const DenseLayer<double, fan_in, fan_out, init> layer(Rng{2024}, 1);
  const Matrix<double>& w = layer.weight().value;
  REQUIRE(w.rows() == fan_out);
  REQUIRE(w.cols() == fan_in);
  const Moments m = moments_of(w);
  INFO(init.name() << ": mean " << m.mean << ", sd " << m.stddev << " (expected " << expected_stddev
                   << "), kurtosis " << m.kurtosis << ", max |w| " << m.max_abs);
  CHECK(std::abs(m.mean) <= 5 * expected_stddev / std::sqrt(static_cast<double>(m.count)));
  CHECK(m.stddev == Approx(expected_stddev).epsilon(0.01));
  if (uniform) {
    const double bound = std::sqrt(3.0) * expected_stddev;
    CHECK(m.max_abs <= bound);
    // P(all 131072 draws inside 0.999 * bound) = 0.999^131072, about e^-131.
    CHECK(m.max_abs >= 0.999 * bound);
    CHECK(m.kurtosis == Approx(1.8).margin(0.05));
  } else {
    CHECK(m.kurtosis == Approx(3.0).margin(0.1));
  }
  CHECK(layer.bias().value.isZero(0.0));
  CHECK(layer.bias().value.rows() == fan_out);
}

// --- Dropout -----------------------------------------------------------------------------------

constexpr Index dropout_units = 1000;
constexpr Index dropout_batch = 50;

// Nonzero inputs of both signs, so that a zero output always means a dropped unit.
template <class S>
Matrix<S> nonzero_batch(std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Matrix<S> x(dropout_units, dropout_batch);
  for (Index i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<S>((engine.uniform() < 0.5 ? -1 : 1) * (0.5 + engine.uniform()));
  }
  return x;
}

template <class S, Real Rate>
Matrix<S> dropout_output(std::uint64_t seed, std::size_t layer_index, const Matrix<S>& x) {
  DropoutLayer<S, dropout_units, Rate> layer(Rng{seed}, layer_index);
  layer.forward(view(x), Mode::train);
  return layer.output();
}

// The fraction of positions where exactly one of a and b is zero.
template <class S>
double mask_difference(const Matrix<S>& a, const Matrix<S>& b) {
  return ((a.array() == 0) != (b.array() == 0)).template cast<double>().mean();
}

template <class S, Real R>
void check_dropout_statistics() {
  constexpr double Rate = R.value;
  INFO((std::is_same_v<S, float> ? "float" : "double") << ", rate " << Rate);
  const Matrix<S> x = nonzero_batch<S>(8);
  const Matrix<S> y = dropout_output<S, R>(3, 2, x);
  REQUIRE(y.rows() == dropout_units);
  REQUIRE(y.cols() == dropout_batch);

  const double n = static_cast<double>(y.size());
  const double zeros = (y.array() == 0).template cast<double>().mean();
  // Five binomial standard deviations of the dropped fraction.
  CHECK(zeros == Approx(Rate).margin(5 * std::sqrt(Rate * (1 - Rate) / n)));

  // Survivors are scaled by 1 / (1 - Rate). The layer multiplies by the rounded reciprocal,
  // so the result can differ from x / (1 - Rate) by the two roundings: 2 epsilon, relatively.
  const S one_minus_rate = static_cast<S>(1 - Rate);
  double worst = 0;
  for (Index i = 0; i < y.size(); ++i) {
    if (y.data()[i] == 0) continue;
    const S expected = x.data()[i] / one_minus_rate;
    worst =
        std::max(worst, static_cast<double>(std::abs(y.data()[i] - expected) / std::abs(expected)));
  }
  CHECK(worst <= 2 * std::numeric_limits<S>::epsilon());
}

}  // namespace

TEST_CASE("Dense gradients match finite differences for every initialisation", "[layers]") {
  check_spec<Dense<4, inferred, he_normal>>();
  check_spec<Dense<4, inferred, he_uniform>>();
  check_spec<Dense<4, inferred, glorot_normal>>();
  check_spec<Dense<4, inferred, glorot_uniform>>();
  check_spec<Dense<4, inferred, lecun_uniform>>();
  check_spec<Dense<4, inferred, scaled_normal(0.5)>>();
  check_spec<Dense<1>>();
}

TEST_CASE("activation gradients match finite differences", "[layers]") {
  check_spec<Relu>();
  check_spec<LeakyRelu<0.2>>();
  check_spec<Tanh>();
  check_spec<Sigmoid>();
  check_spec<Identity>();
}

TEST_CASE("dropout gradients match finite differences in both modes", "[layers]") {
  check_spec<Dropout<0.3>>();  // train: the check copies the net, so every probe has one mask
  GradientCheckOptions eval;
  eval.mode = Mode::eval;
  check_spec<Dropout<0.3>>(eval);
}

TEST_CASE("gradients of a small network of every layer match finite differences", "[layers]") {
  using Net = Sequential<double, Input<4>, Dense<6, inferred, glorot_normal>, Sigmoid, Dropout<0.3>,
                         Dense<5, inferred, lecun_uniform>, LeakyRelu<0.2>,
                         Dense<3, inferred, scaled_normal(0.5)>, Tanh, Identity>;
  for (Index batch : {1, 5}) {
    GradientCheckOptions options;
    options.batch = batch;
    const auto report = check_gradients(Net{Rng{17}}, options);
    INFO("batch " << batch << ", worst: " << report.worst);
    CHECK(report.checked == Net{Rng{17}}.parameter_count() + 4 * batch);
    REQUIRE(report.passed);
  }
}

TEST_CASE("the gradient check catches a wrong backward pass", "[layers]") {
  const auto report = check_layer_gradients<WrongBackward, 3>();
  INFO(report.worst);
  CHECK_FALSE(report.passed);
  // d(2x)/dx is 2, backward says 1: the relative error is (2 - 1) / 2.
  CHECK(report.max_error == Approx(0.5).epsilon(1e-6));
}

TEST_CASE("initialisations have the variance their scheme prescribes", "[layers]") {
  const double in = fan_in, out = fan_out;
  check_init<he_normal>(std::sqrt(2 / in), false);
  check_init<he_uniform>(std::sqrt(6 / in) / std::sqrt(3.0), true);
  check_init<glorot_normal>(std::sqrt(2 / (in + out)), false);
  check_init<glorot_uniform>(std::sqrt(6 / (in + out)) / std::sqrt(3.0), true);
  check_init<lecun_uniform>(1 / std::sqrt(in) / std::sqrt(3.0), true);
  check_init<scaled_normal(0.5)>(0.5 / std::sqrt(in), false);
}

TEST_CASE("float and double networks draw the same initial weights", "[layers]") {
  // Draws are made in double and rounded, so a float layer holds the double layer's weights.
  const DenseLayer<double, 7, 5, he_normal> d_normal(Rng{3}, 1);
  const DenseLayer<float, 7, 5, he_normal> f_normal(Rng{3}, 1);
  CHECK(f_normal.weight().value == d_normal.weight().value.cast<float>());
  const DenseLayer<double, 7, 5, glorot_uniform> d_uniform(Rng{3}, 1);
  const DenseLayer<float, 7, 5, glorot_uniform> f_uniform(Rng{3}, 1);
  CHECK(f_uniform.weight().value == d_uniform.weight().value.cast<float>());
}

TEST_CASE("dropout drops the rate's fraction and rescales survivors exactly", "[layers]") {
  check_dropout_statistics<double, 0.3>();
  check_dropout_statistics<float, 0.3>();
  check_dropout_statistics<double, 0.5>();
  check_dropout_statistics<float, 0.1>();
}

TEST_CASE("dropout in evaluation mode is the identity and draws nothing", "[layers]") {
  const Matrix<double> x = nonzero_batch<double>(8);
  DropoutLayer<double, dropout_units, 0.3> layer(Rng{3}, 2);
  layer.forward(view(x), Mode::eval);
  CHECK(Matrix<double>(layer.output()) == x);

  Matrix<double> dx(dropout_units, dropout_batch);
  MatrixView<double> dx_view(dx.data(), dx.rows(), dx.cols());
  const Matrix<double> dy = nonzero_batch<double>(9);
  layer.backward(view(x), view(dy), &dx_view);
  CHECK(dx == dy);

  // An evaluation pass between training passes leaves the training masks unchanged.
  DropoutLayer<double, dropout_units, 0.3> reference(Rng{3}, 2);
  layer.forward(view(x), Mode::train);
  reference.forward(view(x), Mode::train);
  CHECK(Matrix<double>(layer.output()) == Matrix<double>(reference.output()));
}

TEST_CASE("dropout masks are fixed by the seed and the layer index", "[layers]") {
  const Matrix<double> x = nonzero_batch<double>(8);
  const Matrix<double> y = dropout_output<double, 0.3>(3, 2, x);
  CHECK(dropout_output<double, 0.3>(3, 2, x) == y);
  // Independent masks of rate 0.3 disagree at 2 * 0.3 * 0.7 = 42% of positions.
  CHECK(mask_difference(dropout_output<double, 0.3>(3, 5, x), y) == Approx(0.42).margin(0.02));
  CHECK(mask_difference(dropout_output<double, 0.3>(4, 2, x), y) == Approx(0.42).margin(0.02));

  // Each training pass draws a new mask.
  DropoutLayer<double, dropout_units, 0.3> layer(Rng{3}, 2);
  layer.forward(view(x), Mode::train);
  const Matrix<double> first = layer.output();
  layer.forward(view(x), Mode::train);
  CHECK(first == y);
  CHECK(mask_difference(Matrix<double>(layer.output()), first) == Approx(0.42).margin(0.02));
}

TEST_CASE("dropout's backward pass applies the forward pass's mask", "[layers]") {
  const Matrix<double> x = nonzero_batch<double>(8);
  const Matrix<double> dy = nonzero_batch<double>(9);
  DropoutLayer<double, dropout_units, 0.3> layer(Rng{3}, 2);
  layer.forward(view(x), Mode::train);
  Matrix<double> dx(dropout_units, dropout_batch);
  MatrixView<double> dx_view(dx.data(), dx.rows(), dx.cols());
  layer.backward(view(x), view(dy), &dx_view);
  // dy / dx and y / x are both the mask's multiplier, 0 or 1 / 0.7.
  const Matrix<double> y = layer.output();
  CHECK(((dx.array() == 0) == (y.array() == 0)).all());
  CHECK((dx.array() / dy.array()).isApprox(y.array() / x.array(), 1e-15));
}

TEST_CASE("layer names state the layer and its sizes", "[layers]") {
  using Net = Sequential<double, Input<3>, Dense<4>, Relu, Dense<5, 4, glorot_uniform>, Tanh,
                         Dense<5, inferred, scaled_normal(0.5)>, Sigmoid, Identity, Dropout<0.3>,
                         LeakyRelu<0.2>>;
  const Net net{Rng{1}};
  CHECK(net.layer<0>().name() == "Input<3>");
  // Dense names give out and in sizes; the initialisation, which a saved network does not
  // depend on, is left out.
  CHECK(net.layer<1>().name() == "Dense<4,3>");
  CHECK(net.layer<2>().name() == "Relu<4>");
  CHECK(net.layer<3>().name() == "Dense<5,4>");
  CHECK(net.layer<4>().name() == "Tanh<5>");
  CHECK(net.layer<5>().name() == "Dense<5,5>");
  CHECK(net.layer<6>().name() == "Sigmoid<5>");
  CHECK(net.layer<7>().name() == "Identity<5>");
  CHECK(net.layer<8>().name() == "Dropout<5,0.3>");
  CHECK(net.layer<9>().name() == "LeakyRelu<5,0.2>");
  CHECK(DenseLayer<float, 2, 3, lecun_uniform>(Rng{1}, 1).name() == "Dense<3,2>");
  CHECK(glorot_uniform.name() == "glorot_uniform");
  CHECK(scaled_normal(0.5).name() == "scaled_normal(0.5)");
}
