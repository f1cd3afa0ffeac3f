#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/dropout.hpp"
#include "uinfo/layers/identity.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/sigmoid.hpp"
#include "uinfo/layers/tanh.hpp"
#include "uinfo/net/gradient_check.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/net/serialize.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

using Net =
    Sequential<double, Input<5>, Dense<7>, Tanh, Dense<6>, Relu, Dense<4>, Sigmoid, Dense<3>>;

static_assert(Net::depth == 8);
static_assert(Net::input_size == 5);
static_assert(Net::output_size == 3);
static_assert(Net::layer_type<0>::out_size == 5);
static_assert(Net::layer_type<1>::in_size == 5 && Net::layer_type<1>::out_size == 7);
static_assert(Net::layer_type<2>::in_size == 7 && Net::layer_type<2>::out_size == 7);
static_assert(Net::layer_type<3>::out_size == 6);
static_assert(Net::layer_type<5>::in_size == 6 && Net::layer_type<5>::out_size == 4);
static_assert(Net::layer_type<7>::in_size == 4 && Net::layer_type<7>::out_size == 3);
static_assert(std::is_same_v<Net::scalar_type, double>);
static_assert(std::is_same_v<Net::layer_type<4>, ElementwiseLayer<double, 6, Relu>>);
static_assert(Sequential<float, Input<3>, Dense<2, 3>>::output_size == 2);

Matrix<double> random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = engine.normal();
  return m;
}

// Biases start at zero; give them values so that forward tests see them added.
template <class N>
void randomize_biases(N& net, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  net.for_each_parameter([&](Parameter<double>& p) {
    if (p.role == ParameterRole::bias) {
      for (Index i = 0; i < p.size(); ++i) p.value.data()[i] = engine.normal();
    }
  });
}

template <class N>
std::vector<Matrix<double>> parameter_values(const N& net) {
  std::vector<Matrix<double>> values;
  net.for_each_parameter([&](const Parameter<double>& p) { values.push_back(p.value); });
  return values;
}

template <class N>
std::vector<Matrix<double>> parameter_gradients(const N& net) {
  std::vector<Matrix<double>> gradients;
  net.for_each_parameter([&](const Parameter<double>& p) { gradients.push_back(p.gradient); });
  return gradients;
}

// Largest elementwise difference relative to the larger magnitude (at least 1).
double relative_difference(const Matrix<double>& a, const Matrix<double>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  const double scale = std::max({1.0, a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff()});
  return (a - b).cwiseAbs().maxCoeff() / scale;
}

Matrix<double> affine(const Parameter<double>& weight, const Parameter<double>& bias,
                      const Matrix<double>& x) {
  Matrix<double> y = weight.value * x;
  for (Index j = 0; j < y.cols(); ++j) y.col(j) += bias.value.col(0);
  return y;
}

}  // namespace

TEST_CASE("each layer's output after forward matches a manual computation", "[sequential]") {
  Net net{Rng{1}};
  randomize_biases(net, 2);
  const Matrix<double> x = random_matrix(5, 4, 3);
  const Matrix<double> y = net.forward(x);

  // Hand-written layers: products, then std::tanh, max, and 1 / (1 + exp(-v)) per entry.
  const Matrix<double> h1 = affine(net.layer<1>().weight(), net.layer<1>().bias(), x);
  const Matrix<double> h2 = h1.unaryExpr([](double v) { return std::tanh(v); });
  const Matrix<double> h3 = affine(net.layer<3>().weight(), net.layer<3>().bias(), h2);
  const Matrix<double> h4 = h3.unaryExpr([](double v) { return v > 0 ? v : 0.0; });
  const Matrix<double> h5 = affine(net.layer<5>().weight(), net.layer<5>().bias(), h4);
  const Matrix<double> h6 = h5.unaryExpr([](double v) { return 1 / (1 + std::exp(-v)); });
  const Matrix<double> h7 = affine(net.layer<7>().weight(), net.layer<7>().bias(), h6);

  CHECK(Matrix<double>(net.output<0>()) == x);
  // Summation order in the products and xsimd's tanh/exp differ from the code above by a few
  // ulps per entry; 1e-12 relative is far below any real mistake and far above rounding.
  CHECK(relative_difference(net.output<1>(), h1) <= 1e-12);
  CHECK(relative_difference(net.output<2>(), h2) <= 1e-12);
  CHECK(relative_difference(net.output<3>(), h3) <= 1e-12);
  CHECK(relative_difference(net.output<4>(), h4) <= 1e-12);
  CHECK(relative_difference(net.output<5>(), h5) <= 1e-12);
  CHECK(relative_difference(net.output<6>(), h6) <= 1e-12);
  CHECK(relative_difference(net.output<7>(), h7) <= 1e-12);
  CHECK(Matrix<double>(net.output()) == y);
  CHECK(y.rows() == 3);
  CHECK(y.cols() == 4);
  CHECK((h4.array() == 0).any());  // the Relu really clips something here
}

TEST_CASE("parameters are counted and visited weight then bias, from the input side",
          "[sequential]") {
  Net net{Rng{1}};
  // (5*7 + 7) + (7*6 + 6) + (6*4 + 4) + (4*3 + 3) = 42 + 48 + 28 + 15
  CHECK(net.parameter_count() == 133);

  std::vector<const Parameter<double>*> visited;
  net.for_each_parameter([&](Parameter<double>& p) { visited.push_back(&p); });
  const std::vector<const Parameter<double>*> expected = {
      &net.layer<1>().weight(), &net.layer<1>().bias(),   &net.layer<3>().weight(),
      &net.layer<3>().bias(),   &net.layer<5>().weight(), &net.layer<5>().bias(),
      &net.layer<7>().weight(), &net.layer<7>().bias()};
  CHECK(visited == expected);
  CHECK(visited[0]->role == ParameterRole::weight);
  CHECK(visited[1]->role == ParameterRole::bias);
  CHECK(visited[2]->value.rows() == 6);
  CHECK(visited[2]->value.cols() == 7);
  CHECK(visited[3]->value.rows() == 6);
  CHECK(visited[3]->value.cols() == 1);

  const Net& const_net = net;
  int blocks = 0;
  const_net.for_each_parameter(
      [&](const Parameter<double>& p) { CHECK(&p == expected[blocks++]); });
  CHECK(blocks == 8);
}

TEST_CASE("a four-layer network's gradients match finite differences", "[sequential]") {
  for (Index batch : {1, 3, 6}) {
    GradientCheckOptions options;
    options.batch = batch;
    Net net{Rng{3}};
    randomize_biases(net, 4);
    const auto report = check_gradients(net, options);
    INFO("batch " << batch << ", worst: " << report.worst);
    CHECK(report.checked == 133 + 5 * batch);
    REQUIRE(report.passed);
  }
}

TEST_CASE("skipping the input gradient leaves the parameter gradients unchanged", "[sequential]") {
  const Matrix<double> x = random_matrix(5, 4, 5);
  const Matrix<double> g = random_matrix(3, 4, 6);
  Net computed{Rng{2}}, skipped{Rng{2}};
  computed.forward(x);
  computed.backward(g, InputGradient::compute);
  skipped.forward(x);
  skipped.backward(g, InputGradient::skip);
  CHECK(parameter_gradients(skipped) == parameter_gradients(computed));
  CHECK(computed.input_gradient().rows() == 5);
  CHECK(computed.input_gradient().cols() == 4);
  CHECK_THROWS_AS(skipped.input_gradient(), InvalidArgument);
  CHECK_THROWS_WITH(skipped.input_gradient(), Contains("InputGradient::compute"));

  // A skipping pass also hides the input gradient of an earlier computing pass.
  computed.backward(g, InputGradient::skip);
  CHECK_THROWS_AS(computed.input_gradient(), InvalidArgument);
}

TEST_CASE("bad input batches are rejected with messages that say what and where", "[sequential]") {
  Net net{Rng{1}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  SECTION("wrong number of rows") {
    const Matrix<double> x = random_matrix(4, 3, 1);
    CHECK_THROWS_AS(net.forward(x), InvalidArgument);
    CHECK_THROWS_WITH(net.forward(x),
                      Contains("Input<5>") && Contains("4 rows") && Contains("expected 5"));
  }
  SECTION("NaN") {
    Matrix<double> x = random_matrix(5, 3, 1);
    x(2, 1) = nan;
    CHECK_THROWS_AS(net.forward(x), NonFiniteValue);
    CHECK_THROWS_WITH(net.forward(x), Contains("a NaN at feature 2 of sample 1"));
  }
  SECTION("infinity") {
    Matrix<double> x = random_matrix(5, 3, 1);
    x(0, 2) = -inf;
    CHECK_THROWS_AS(net.forward(x), NonFiniteValue);
    CHECK_THROWS_WITH(net.forward(x), Contains("an infinity at feature 0 of sample 2"));
  }
  SECTION("the first bad value in sample order is named") {
    Matrix<double> x = random_matrix(5, 3, 1);
    x(0, 1) = inf;
    x(4, 0) = nan;
    CHECK_THROWS_WITH(net.forward(x), Contains("a NaN at feature 4 of sample 0"));
  }
  SECTION("empty batch") {
    const Matrix<double> x(5, 0);
    CHECK_THROWS_AS(net.forward(x), InvalidArgument);
    CHECK_THROWS_WITH(net.forward(x), Contains("empty batch"));
  }
  SECTION("wrongly shaped output gradient") {
    net.forward(random_matrix(5, 3, 1));
    CHECK_THROWS_AS(net.backward(random_matrix(3, 2, 2)), InvalidArgument);
    CHECK_THROWS_WITH(net.backward(random_matrix(3, 2, 2)),
                      Contains("3 x 2") && Contains("expected 3 x 3"));
    CHECK_THROWS_WITH(net.backward(random_matrix(2, 3, 2)),
                      Contains("2 x 3") && Contains("expected 3 x 3"));
  }
  SECTION("a rejected batch leaves the network usable") {
    Matrix<double> bad = random_matrix(5, 3, 1);
    bad(1, 1) = nan;
    const Matrix<double> good = random_matrix(5, 2, 2);
    Net fresh{Rng{1}};
    net.forward(random_matrix(5, 6, 3));
    CHECK_THROWS(net.forward(bad));
    CHECK(Matrix<double>(net.forward(good)) == Matrix<double>(fresh.forward(good)));
    CHECK_NOTHROW(net.backward(random_matrix(3, 2, 4)));
  }
}

TEST_CASE("initial weights are fixed by the seed and by the layer's index", "[sequential]") {
  const auto a = parameter_values(Net{Rng{7}});
  const auto b = parameter_values(Net{Rng{7}});
  const auto c = parameter_values(Net{Rng{8}});
  CHECK(a == b);
  for (std::size_t k = 0; k < a.size(); k += 2) {  // weights; biases start at zero either way
    INFO("block " << k);
    CHECK((a[k].array() != c[k].array()).all());
  }

  // Appending a layer, or swapping a parameter-free layer for another, keeps earlier weights.
  using Short = Sequential<double, Input<5>, Dense<7>, Tanh, Dense<6>>;
  using Longer = Sequential<double, Input<5>, Dense<7>, Tanh, Dense<6>, Relu, Dense<4>>;
  using WithDropout = Sequential<double, Input<5>, Dense<7>, Dropout<0.5>, Dense<6>>;
  const Short s{Rng{7}};
  const Longer l{Rng{7}};
  const WithDropout d{Rng{7}};
  CHECK(l.layer<1>().weight().value == s.layer<1>().weight().value);
  CHECK(l.layer<3>().weight().value == s.layer<3>().weight().value);
  CHECK(d.layer<3>().weight().value == s.layer<3>().weight().value);

  // Same shapes at different indices: different streams.
  const Sequential<double, Input<5>, Dense<5>, Dense<5>> twins{Rng{7}};
  CHECK((twins.layer<1>().weight().value.array() != twins.layer<2>().weight().value.array()).all());
}

TEST_CASE("architecture() names the scalar type and every layer", "[sequential]") {
  CHECK(Net{Rng{1}}.architecture() ==
        "double: Input<5> Dense<7,5> Tanh<7> Dense<6,7> Relu<6> Dense<4,6> Sigmoid<4> Dense<3,4>");
  CHECK(Sequential<float, Input<2>, Dropout<0.25>, Identity>{Rng{1}}.architecture() ==
        "float: Input<2> Dropout<2,0.25> Identity<2>");
}

TEST_CASE("a non-contiguous output gradient gives the same result as a contiguous one",
          "[sequential]") {
  const Matrix<double> x = random_matrix(5, 4, 5);
  const Matrix<double> big = random_matrix(10, 9, 6);
  const auto block = big.block(2, 3, 3, 4);  // outer stride 10, not 3
  const Matrix<double> copy = block;

  Net reference{Rng{2}};
  reference.forward(x);
  reference.backward(copy);

  auto check_same = [&](Net& net) {
    CHECK(parameter_gradients(net) == parameter_gradients(reference));
    CHECK(Matrix<double>(net.input_gradient()) == Matrix<double>(reference.input_gradient()));
  };
  SECTION("a block of a larger matrix") {
    Net net{Rng{2}};
    net.forward(x);
    net.backward(block);
    check_same(net);
  }
  SECTION("a row-major matrix (inner stride 4)") {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = copy;
    Net net{Rng{2}};
    net.forward(x);
    net.backward(rows);
    check_same(net);
  }
  SECTION("an expression") {
    Net net{Rng{2}};
    net.forward(x);
    net.backward(0.5 * (2.0 * copy));  // exact: scaling by powers of two
    check_same(net);
  }
}

TEST_CASE("batches of different sizes can follow each other", "[sequential]") {
  Net net{Rng{4}};
  randomize_biases(net, 5);
  std::uint64_t seed = 10;
  for (Index batch : {4, 1, 7, 2, 7, 3}) {
    INFO("batch " << batch);
    const Matrix<double> x = random_matrix(5, batch, ++seed);
    const Matrix<double> y = net.forward(x);
    REQUIRE(y.rows() == 3);
    REQUIRE(y.cols() == batch);

    // The same computation on a fresh network gives the same bits.
    Net fresh{Rng{4}};
    randomize_biases(fresh, 5);
    CHECK(Matrix<double>(fresh.forward(x)) == y);
    // One sample at a time: different product kernels, so rounding may differ slightly.
    for (Index j = 0; j < batch; ++j) {
      CHECK(relative_difference(fresh.forward(x.col(j)), y.col(j)) <= 1e-12);
    }

    const Matrix<double> g = random_matrix(3, batch, ++seed);
    net.backward(g);
    CHECK(net.input_gradient().cols() == batch);
    fresh.forward(x);
    fresh.backward(g);
    CHECK(parameter_gradients(net) == parameter_gradients(fresh));
  }
}

// Networks whose sizes come from data: Input<dynamic> and Dense<dynamic> take theirs from the
// constructor, in order, and layers after them follow.
TEST_CASE("dynamic sizes are given at construction and propagate", "[sequential][dynamic]") {
  using Decoder = Sequential<double, Input<dynamic>, Dense<dynamic>, Tanh, Dense<3>>;
  static_assert(Decoder::runtime_size_count == 2);
  static_assert(Decoder::input_size == dynamic);
  static_assert(Decoder::output_size == 3);
  const Decoder decoder{Rng{4}, {5, 7}};
  CHECK(decoder.layer_size(0) == 5);
  CHECK(decoder.layer_size(1) == 7);
  CHECK(decoder.layer_size(2) == 7);
  CHECK(decoder.layer_size(3) == 3);
  CHECK(decoder.architecture() == "double: Input<5> Dense<7,5> Tanh<7> Dense<3,7>");
  CHECK(decoder.parameter_count() == 7 * 5 + 7 + 3 * 7 + 3);

  const auto report = check_gradients(decoder);
  INFO(report.worst);
  CHECK(report.passed);

  Decoder copy = decoder;
  CHECK_THROWS_WITH(copy.forward(Matrix<double>::Ones(4, 2)),
                    Contains("Input<5>") && Contains("4 rows") && Contains("expected 5"));
}

TEST_CASE("dynamic sizes that do not fit are refused at construction", "[sequential][dynamic]") {
  using Decoder = Sequential<float, Input<dynamic>, Dense<dynamic>>;
  CHECK_THROWS_WITH((Decoder{Rng{1}, {0, 3}}), Contains("layer 0") && Contains("positive"));
  CHECK_THROWS_WITH((Decoder{Rng{1}, {4, -2}}), Contains("layer 1") && Contains("positive"));
  // A declared input size after a dynamic one can only be checked at run time.
  using Declared = Sequential<float, Input<dynamic>, Dense<3, 10>>;
  CHECK_THROWS_WITH((Declared{Rng{1}, {4}}),
                    Contains("layer 1 declares 10 inputs") && Contains("layer 0 has 4 outputs"));
  CHECK_NOTHROW(Declared{Rng{1}, {10}});
}

TEST_CASE("a dynamic network's file records its run-time sizes", "[sequential][dynamic]") {
  using Decoder = Sequential<float, Input<dynamic>, Dense<dynamic>>;
  const ScratchDir scratch("uinfo_dynamic_sizes");
  const auto path = scratch.path / "decoder.bin";
  Decoder written{Rng{2}, {6, 4}};
  save(written, path);
  Decoder same{Rng{3}, {6, 4}};
  load(same, path);
  CHECK(same.layer<1>().weight().value == written.layer<1>().weight().value);
  Decoder other{Rng{3}, {5, 4}};
  CHECK_THROWS_WITH(load(other, path), Contains("Input<6> Dense<4,6>") && Contains("Input<5>"));
}
