#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "uinfo/core/rng.hpp"
#include "uinfo/layers/identity.hpp"
#include "uinfo/layers/leaky_relu.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/sigmoid.hpp"
#include "uinfo/layers/tanh.hpp"
#include "uinfo/simd/elementwise.hpp"
#include "uinfo/simd/normal.hpp"
#include "uinfo/simd/update.hpp"

using uinfo::Index;

namespace {

// Lengths that cover an empty vector body (shorter than one batch), several whole batches with
// and without a scalar tail, and a long array.
std::vector<Index> lengths() {
  std::vector<Index> result;
  for (Index n = 1; n <= 40; ++n) result.push_back(n);
  result.push_back(1000);
  result.push_back(1003);
  return result;
}

template <class S>
std::vector<S> edge_values() {
  using limits = std::numeric_limits<S>;
  // -88.5 and -709.6 sit just inside exp's float and double overflow thresholds (88.72, 709.78).
  // clang-format off
  return {S(0), S(-0.0), S(1e-30), S(-1e-30), S(1e-8), S(-1e-8),                 // near zero
          limits::min(), limits::denorm_min(), -limits::denorm_min(),            // (sub)normal
          S(0.25), S(0.5), S(-0.5), S(1), S(-1), S(3), S(-3),                    // moderate
          S(20), S(-20), S(100), S(-100), S(-88.5), S(-709.6),                   // saturating
          S(1e30), S(-1e30), limits::max(), -limits::max()};                     // huge
  // clang-format on
}

// Test arrays of length n: every edge value at every position (so each lands in every SIMD lane
// and in the scalar tail), then normal draws at two scales.
template <class S>
std::vector<std::vector<S>> test_arrays(Index n, uinfo::Engine& engine) {
  const auto edges = edge_values<S>();
  std::vector<std::vector<S>> arrays;
  for (std::size_t shift = 0; shift < edges.size(); ++shift) {
    std::vector<S> a(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = edges[(i + shift) % edges.size()];
    arrays.push_back(std::move(a));
  }
  for (double scale : {1.0, 10.0}) {
    std::vector<S> a(static_cast<std::size_t>(n));
    for (auto& v : a) v = static_cast<S>(scale * engine.normal());
    arrays.push_back(std::move(a));
  }
  return arrays;
}

// Distance in units in the last place; +0 and -0 are the same point, NaN matches only NaN.
template <class S>
std::uint64_t ulp_distance(S a, S b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) ? 0 : std::numeric_limits<std::uint64_t>::max();
  }
  using Int = std::conditional_t<std::is_same_v<S, float>, std::int32_t, std::int64_t>;
  auto ordered = [](S x) {
    const Int bits = std::bit_cast<Int>(x);
    return static_cast<std::int64_t>(bits < 0 ? std::numeric_limits<Int>::min() - bits : bits);
  };
  const std::int64_t ia = ordered(a), ib = ordered(b);
  return static_cast<std::uint64_t>(ia > ib ? ia - ib : ib - ia);
}

// The largest ulp distance between two arrays, and a description of where it was. With
// `subnormals_agree`, results that are both below the smallest normal number count as equal.
struct Worst {
  std::uint64_t ulps = 0;
  std::string where = "nowhere";

  template <class S>
  void compare(const std::vector<S>& simd, const std::vector<S>& scalar,
               const std::vector<S>& input, bool subnormals_agree = false) {
    const S tiny = std::numeric_limits<S>::min();
    for (std::size_t i = 0; i < simd.size(); ++i) {
      if (subnormals_agree && std::abs(simd[i]) < tiny && std::abs(scalar[i]) < tiny) continue;
      const auto d = ulp_distance(simd[i], scalar[i]);
      if (d > ulps) {
        ulps = d;
        where = "length " + std::to_string(simd.size()) + ", index " + std::to_string(i) +
                ", input " + std::to_string(input[i]) + ": simd " + std::to_string(simd[i]) +
                ", scalar " + std::to_string(scalar[i]);
      }
    }
  }
};

// Runs map/map_scalar on Fn::value and zip/zip_scalar on the backward op over all test arrays;
// returns the worst disagreement of each.
template <class Fn, class S>
std::pair<Worst, Worst> compare_activation(bool subnormals_agree) {
  uinfo::Engine engine = uinfo::Rng{11}.engine(uinfo::Stream::user);
  auto value = [](auto x) { return Fn::value(x); };
  auto backward = [](auto y, auto grad) { return grad * Fn::derivative_from_output(y); };
  Worst forward_worst, backward_worst;
  for (Index n : lengths()) {
    const auto arrays = test_arrays<S>(n, engine);
    for (std::size_t k = 0; k < arrays.size(); ++k) {
      const auto& x = arrays[k];
      std::vector<S> simd_out(x.size()), scalar_out(x.size());
      uinfo::simd::map(x.data(), simd_out.data(), n, value);
      uinfo::simd::map_scalar(x.data(), scalar_out.data(), n, value);
      forward_worst.compare(simd_out, scalar_out, x, subnormals_agree);

      // Outputs of the activation, against gradients taken from another test array.
      const auto& grad = arrays[(k + 1) % arrays.size()];
      std::vector<S> simd_dx(x.size()), scalar_dx(x.size());
      uinfo::simd::zip(scalar_out.data(), grad.data(), simd_dx.data(), n, backward);
      uinfo::simd::zip_scalar(scalar_out.data(), grad.data(), scalar_dx.data(), n, backward);
      backward_worst.compare(simd_dx, scalar_dx, scalar_out);
    }
  }
  return {forward_worst, backward_worst};
}

// Ulp bounds for the vectorised transcendental functions against the scalar path. xsimd's
// batch tanh and exp are polynomial approximations (about 1-2 ulp), while the scalar path calls
// glibc's std::tanh / std::exp (< 1 ulp), so the two may differ by a few ulps. Sweeping 2e7
// points over [-750, 750] with AVX-512 gave at most 2 ulp for tanh and 4 for sigmoid (exp's error
// plus the rounding of 1 + e and of the division), in float and double; the bounds leave a
// little headroom and would still catch a wrong formula, which is off by far more.
//
// One known difference is excused: xsimd's exp overflows to inf slightly early (above 88.376 in
// float, 709.437 in double, against 88.72 and 709.78), so sigmoid(-88.5f) is 0 in the vector path
// and 3.7e-39 in the scalar one. Both are below the smallest normal number, so results that are
// both subnormal count as equal for these two functions.
constexpr std::uint64_t tanh_ulps = 4;
constexpr std::uint64_t sigmoid_ulps = 6;

template <class Fn, class S>
void check_activation(std::uint64_t value_ulps) {
  const bool transcendental = value_ulps > 0;
  const auto [forward_worst, backward_worst] = compare_activation<Fn, S>(transcendental);
  INFO(Fn::name << (std::is_same_v<S, float> ? " float" : " double"));
  INFO("value: worst " << forward_worst.ulps << " ulp at " << forward_worst.where);
  CHECK(forward_worst.ulps <= value_ulps);
  INFO("backward: worst " << backward_worst.ulps << " ulp at " << backward_worst.where);
  CHECK(backward_worst.ulps == 0);
}

template <class S>
void check_all_activations() {
  // Exact: max, select, multiplication and the identity are correctly rounded in both paths.
  check_activation<uinfo::Relu, S>(0);
  check_activation<uinfo::LeakyRelu<0.1>, S>(0);
  check_activation<uinfo::Identity, S>(0);
  check_activation<uinfo::Tanh, S>(tanh_ulps);
  check_activation<uinfo::Sigmoid, S>(sigmoid_ulps);
}

// An SGD-with-momentum step, written once for scalars and batches.
template <class S>
struct MomentumStep {
  S lr, mu;
  template <class T>
  void operator()(T& w, T g, T& v) const {
    v = T(mu) * v + g;
    w = w - T(lr) * v;
  }
};

template <class S>
struct PlainStep {
  S lr;
  template <class T>
  void operator()(T& w, T g) const {
    w = w - T(lr) * g;
  }
};

template <class S>
std::vector<S> normal_array(Index n, uinfo::Engine& engine) {
  std::vector<S> a(static_cast<std::size_t>(n));
  for (auto& v : a) v = static_cast<S>(engine.normal());
  return a;
}

template <class S>
void check_update() {
  uinfo::Engine engine = uinfo::Rng{5}.engine(uinfo::Stream::user);
  const MomentumStep<S> momentum{S(0.05), S(0.9)};
  const PlainStep<S> plain{S(0.1)};
  for (Index n : lengths()) {
    INFO("length " << n);
    const auto w0 = normal_array<S>(n, engine), g = normal_array<S>(n, engine),
               v0 = normal_array<S>(n, engine);
    auto w_simd = w0, w_scalar = w0, v_simd = v0, v_scalar = v0;
    // Several steps, so the state written by one step is read by the next.
    for (int step = 0; step < 3; ++step) {
      uinfo::simd::update(n, w_simd.data(), g.data(), momentum, v_simd.data());
      uinfo::simd::update_scalar(n, w_scalar.data(), g.data(), nullptr, momentum, v_scalar.data());
    }
    CHECK(w_simd == w_scalar);
    CHECK(v_simd == v_scalar);
    CHECK(w_simd != w0);  // the step did something
    CHECK(v_simd != v0);

    auto p_simd = w0, p_scalar = w0;
    uinfo::simd::update(n, p_simd.data(), g.data(), plain);
    uinfo::simd::update_scalar(n, p_scalar.data(), g.data(), nullptr, plain);
    CHECK(p_simd == p_scalar);
  }
}

}  // namespace

TEST_CASE("ulp_distance counts representable numbers", "[simd]") {
  CHECK(ulp_distance(1.0, std::nextafter(1.0, 2.0)) == 1);
  CHECK(ulp_distance(0.0, -0.0) == 0);
  CHECK(ulp_distance(-std::numeric_limits<double>::denorm_min(),
                     std::numeric_limits<double>::denorm_min()) == 2);
  CHECK(ulp_distance(1.0f, std::nextafter(std::nextafter(1.0f, 0.0f), 0.0f)) == 2);
  CHECK(ulp_distance(std::nan(""), 1.0) > 1000);
}

TEST_CASE("vectorised activations agree with the scalar loop (float)", "[simd]") {
  check_all_activations<float>();
}

TEST_CASE("vectorised activations agree with the scalar loop (double)", "[simd]") {
  check_all_activations<double>();
}

TEST_CASE("activation edge values are right in the vectorised path", "[simd]") {
  // A single long array of edge values runs through the vector body.
  const auto x = edge_values<double>();
  const Index n = static_cast<Index>(x.size());
  std::vector<double> y(x.size());
  uinfo::simd::map(x.data(), y.data(), n, [](auto v) { return uinfo::Sigmoid::value(v); });
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("sigmoid(" << x[i] << ") = " << y[i]);
    CHECK(std::isfinite(y[i]));
    CHECK(y[i] >= 0.0);
    CHECK(y[i] <= 1.0);
  }
  uinfo::simd::map(x.data(), y.data(), n, [](auto v) { return uinfo::Tanh::value(v); });
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("tanh(" << x[i] << ") = " << y[i]);
    CHECK(std::abs(y[i]) <= 1.0);
    CHECK(std::signbit(y[i]) == std::signbit(x[i]));  // odd, including tanh(-0) = -0
  }
  uinfo::simd::map(x.data(), y.data(), n, [](auto v) { return uinfo::Relu::value(v); });
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0));
}

TEST_CASE("vectorised optimizer updates agree exactly with the scalar loop", "[simd]") {
  SECTION("float") {
    check_update<float>();
  }
  SECTION("double") {
    check_update<double>();
  }
}

// Arrays of static storage and a constant length that is a multiple of the vector width: GCC 12
// once warned (-Waggressive-loop-optimizations, an error under -Werror) that copy_finite's empty
// scalar tail ran past them; this test failed to compile then.
TEST_CASE("copy_finite compiles without warnings on static arrays of a constant length", "[simd]") {
  static float in[64 * 16], out[64 * 16];
  for (std::size_t i = 0; i < std::size(in); ++i) in[i] = static_cast<float>(i);
  CHECK(uinfo::simd::copy_finite(in, out, Index{64 * 16}));
  CHECK(std::equal(std::begin(in), std::end(in), std::begin(out)));
}

TEMPLATE_TEST_CASE("copy_finite copies every value and finds a NaN or infinity anywhere", "[simd]",
                   float, double) {
  using S = TestType;
  for (const Index n : lengths()) {
    std::vector<S> in(static_cast<std::size_t>(n)), out(in.size());
    for (Index i = 0; i < n; ++i) in[static_cast<std::size_t>(i)] = static_cast<S>(i) - S(7.5);
    CHECK(uinfo::simd::copy_finite(in.data(), out.data(), n));
    CHECK(out == in);
    // One bad value at each position: in a vector body, in the scalar tail, first and last.
    for (const S bad : {std::numeric_limits<S>::quiet_NaN(), std::numeric_limits<S>::infinity(),
                        -std::numeric_limits<S>::infinity()}) {
      for (Index at = 0; at < n; at += std::max<Index>(1, n / 7)) {
        std::vector<S> with_bad = in;
        with_bad[static_cast<std::size_t>(at)] = bad;
        INFO("n = " << n << ", bad value at " << at);
        CHECK_FALSE(uinfo::simd::copy_finite(with_bad.data(), out.data(), n));
      }
    }
  }
}

TEMPLATE_TEST_CASE("transform with several inputs agrees exactly with the scalar loop", "[simd]",
                   float, double) {
  using S = TestType;
  uinfo::Engine engine = uinfo::Rng{6}.engine(uinfo::Stream::user);
  const auto op = [](auto a, auto b, auto c) { return (a + b) * c - a; };
  for (const Index n : lengths()) {
    const auto a = normal_array<S>(n, engine), b = normal_array<S>(n, engine),
               c = normal_array<S>(n, engine);
    std::vector<S> simd(a.size()), scalar(a.size());
    uinfo::simd::transform(simd.data(), n, op, a.data(), b.data(), c.data());
    uinfo::simd::transform_scalar(scalar.data(), n, op, a.data(), b.data(), c.data());
    INFO("length " << n);
    CHECK(simd == scalar);
    auto in_place = a;  // out may be an input
    uinfo::simd::transform(in_place.data(), n, op, in_place.data(), b.data(), c.data());
    CHECK(in_place == scalar);
  }
}

namespace {

// Standard normal draws added to zeros by add_normal, over many calls of length n.
std::vector<float> normal_draws(uinfo::Engine& engine, Index n, Index calls) {
  std::vector<float> all;
  std::vector<float> x(static_cast<std::size_t>(n));
  for (Index k = 0; k < calls; ++k) {
    std::fill(x.begin(), x.end(), 0.0f);
    uinfo::simd::add_normal(engine, x.data(), n, 1.0f);
    all.insert(all.end(), x.begin(), x.end());
  }
  return all;
}

// The standard normal distribution function.
double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

}  // namespace

TEMPLATE_TEST_CASE("vectorised normal noise agrees exactly with the scalar lanes", "[simd]", float,
                   double) {
  using S = TestType;
  for (const Index n : lengths()) {
    std::vector<S> simd(static_cast<std::size_t>(n), S(1)), scalar = simd;
    uinfo::Engine a{21}, b{21};
    uinfo::simd::add_normal(a, simd.data(), n, S(0.5));
    uinfo::simd::add_normal_scalar(b, scalar.data(), n, S(0.5));
    INFO("length " << n);
    CHECK(simd == scalar);
    CHECK(a == b);  // both drew the same seeds from the engine
    CHECK(std::all_of(simd.begin(), simd.end(), [](S v) { return v != S(1); }));  // all added to
  }
}

TEST_CASE("vectorised normal noise has the standard normal distribution", "[simd]") {
  uinfo::Engine engine = uinfo::Rng{22}.engine(uinfo::Stream::user);
  // Blocks of one recurrent step (300 units x 20 trials) and an odd length with a tail.
  for (const Index n : {Index{6000}, Index{37}}) {
    const auto z = normal_draws(engine, n, 400000 / n);
    const double count = static_cast<double>(z.size());
    double sum = 0, sum_sq = 0, sum_fourth = 0;
    for (const float v : z) {
      sum += v;
      sum_sq += static_cast<double>(v) * v;
      sum_fourth += static_cast<double>(v) * v * v * v;
    }
    INFO("length " << n << ", " << z.size() << " draws");
    CHECK(sum / count == Approx(0.0).margin(5 / std::sqrt(count)));
    CHECK(sum_sq / count == Approx(1.0).margin(5 * std::sqrt(2.0 / count)));
    CHECK(sum_fourth / count == Approx(3.0).margin(5 * std::sqrt(96.0 / count)));
    // Kolmogorov-Smirnov: the largest gap between the empirical and the normal distribution
    // function, against its 0.1% critical value 1.95 / sqrt(count).
    auto sorted = z;
    std::sort(sorted.begin(), sorted.end());
    double gap = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      const double f = normal_cdf(sorted[i]);
      gap = std::max(
          {gap, f - static_cast<double>(i) / count, static_cast<double>(i + 1) / count - f});
    }
    CHECK(gap < 1.95 / std::sqrt(count));
    // The tails: beyond 3 and 4 standard deviations about as often as they should be.
    const auto beyond = [&](double t) {
      return static_cast<double>(
          std::count_if(z.begin(), z.end(), [&](float v) { return std::abs(v) > t; }));
    };
    for (const double t : {3.0, 4.0}) {
      const double expected = 2 * normal_cdf(-t) * count;
      CHECK(beyond(t) == Approx(expected).margin(5 * std::sqrt(expected)));
    }
  }
  // Consecutive calls, other seeds and the two values of a pair are not correlated.
  const auto z = normal_draws(engine, 64, 20000);
  const auto pair = static_cast<std::size_t>(uinfo::simd::normal_detail::lanes);
  double lag_one = 0, lag_pair = 0, sq = 0;
  for (std::size_t i = 0; i + pair < z.size(); ++i) {
    lag_one += static_cast<double>(z[i]) * z[i + 1];
    lag_pair += static_cast<double>(z[i]) * z[i + pair];  // the same lane's other value
    sq += static_cast<double>(z[i]) * z[i];
  }
  CHECK(lag_one / sq == Approx(0.0).margin(5 / std::sqrt(static_cast<double>(z.size()))));
  CHECK(lag_pair / sq == Approx(0.0).margin(5 / std::sqrt(static_cast<double>(z.size()))));
}
