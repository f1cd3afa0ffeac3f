#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/info/binning.hpp"
#include "uinfo/info/kde.hpp"
#include "uinfo/info/knn.hpp"

using Catch::Matchers::Contains;
using uinfo::BinningOptions;
using uinfo::Engine;
using uinfo::InvalidArgument;
using uinfo::KdeOptions;
using uinfo::KnnOptions;
using uinfo::Label;
using uinfo::Matrix;
using uinfo::NonFiniteValue;
using uinfo::Rng;
using uinfo::Stream;

namespace {

// A 1 x n representation from a list of values.
Matrix<double> row(std::vector<double> values) {
  Matrix<double> t(1, static_cast<uinfo::Index>(values.size()));
  for (std::size_t j = 0; j < values.size(); ++j) t(0, static_cast<uinfo::Index>(j)) = values[j];
  return t;
}

// Y uniform on {0, 1} (alternating labels), Z | Y ~ N(-mu, 1) or N(+mu, 1) on the first unit and
// independent N(0, 1) on any further units. mu = 0 makes Z independent of Y.
struct GaussianClasses {
  Matrix<double> z;
  std::vector<Label> labels;
};

GaussianClasses gaussian_classes(int n, int units, double mu, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::data);
  GaussianClasses data{Matrix<double>(units, n), std::vector<Label>(static_cast<std::size_t>(n))};
  for (int j = 0; j < n; ++j) {
    const Label y = j % 2;
    data.labels[static_cast<std::size_t>(j)] = y;
    for (int u = 0; u < units; ++u) data.z(u, j) = engine.normal();
    data.z(0, j) += y == 1 ? mu : -mu;
  }
  return data;
}

// I(Z;Y) in nats for the model above, by the trapezoid rule on a fine grid:
// I = sum_y p(y) integral of p(z|y) log[p(z|y) / p(z)] dz, with p(y) = 1/2.
double gaussian_classes_information(double mu) {
  const auto density = [](double z) {
    return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
  };
  const double low = -mu - 12, high = mu + 12;
  const int steps = 200000;
  const double h = (high - low) / steps;
  double integral = 0;
  for (int s = 0; s <= steps; ++s) {
    const double z = low + s * h;
    const double p0 = density(z + mu), p1 = density(z - mu), p = 0.5 * (p0 + p1);
    double f = 0;
    if (p0 > 0) f += 0.5 * p0 * std::log(p0 / p);
    if (p1 > 0) f += 0.5 * p1 * std::log(p1 / p);
    integral += (s == 0 || s == steps ? 0.5 : 1.0) * f;
  }
  return integral * h;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Binning

TEST_CASE("binning: one unit, 4 bins over the observed range, counted by hand", "[baselines]") {
  // Values 0..7 in 4 bins of width 7/4: bins {0,1}, {2,3}, {4,5}, {6,7} (7 is the maximum and
  // falls in the last bin). H(T) = 2 bits.
  const Matrix<double> t = row({0, 1, 2, 3, 4, 5, 6, 7});
  // Class 0 holds samples 0, 2, 4, 5: bins 0, 1, 2, 2 -> H = 1.5 bits; class 1 holds 1, 3, 6, 7:
  // bins 0, 1, 3, 3 -> H = 1.5 bits. H(T|Y) = 1.5, so I(T;Y) = 0.5 bits.
  const std::vector<Label> labels{0, 1, 0, 1, 0, 0, 1, 1};
  const auto result = uinfo::binning_information(t, labels, {.bins = 4});
  CHECK(result.occupied_bins == 4);
  CHECK(result.i_xt_bits == Approx(2.0).epsilon(1e-14));
  CHECK(result.i_xt_nats == Approx(2.0 * std::numbers::ln2).epsilon(1e-14));
  CHECK(result.i_ty_bits == Approx(0.5).epsilon(1e-14));
  CHECK(result.i_ty_nats == Approx(0.5 * std::numbers::ln2).epsilon(1e-14));
}

TEST_CASE("binning: two units give tuples, Y a function of T gives I(T, Y) = H(Y)", "[baselines]") {
  // Both units share the layer's range [-1, 1] in 2 bins: -1 -> bin 0 and 1 -> bin 1. Tuples:
  // (0,0) x 3, (0,1) x 2, (1,0) x 2, (1,1) x 1.
  Matrix<float> t(2, 8);
  t << -1, -1, -1, -1, -1, 1, 1, 1,  //
      -1, -1, -1, 1, 1, -1, -1, 1;
  // H(T) = 3/8 log2(8/3) + 2 (2/8) log2(4) + 1/8 log2(8) = 5/2 - (3/8) log2 3.
  const double h_t = 2.5 - 3.0 / 8 * std::log2(3.0);
  // Y is the first unit's bin, a function of T: I(T;Y) = H(Y) = H(5/8, 3/8).
  const std::vector<Label> labels{0, 0, 0, 0, 0, 1, 1, 1};
  const double h_y = 5.0 / 8 * std::log2(8.0 / 5) + 3.0 / 8 * std::log2(8.0 / 3);
  const auto result = uinfo::binning_information(t, labels, {.bins = 2});
  CHECK(result.occupied_bins == 4);
  CHECK(result.i_xt_bits == Approx(h_t).epsilon(1e-14));
  CHECK(result.i_ty_bits == Approx(h_y).epsilon(1e-14));

  // Labels need not be contiguous: 7 and 42 name the same two classes.
  const std::vector<Label> sparse{7, 7, 7, 7, 7, 42, 42, 42};
  CHECK(uinfo::binning_information(t, sparse, {.bins = 2}).i_ty_bits == Approx(h_y).epsilon(1e-14));
}

TEST_CASE("binning: T independent of Y gives I(T, Y) = 0 exactly", "[baselines]") {
  // Each class holds one sample of each of the 4 bins.
  const Matrix<double> t = row({0, 0, 1, 1, 2, 2, 3, 3});
  const std::vector<Label> labels{0, 1, 0, 1, 1, 0, 0, 1};
  const auto result = uinfo::binning_information(t, labels, {.bins = 4});
  CHECK(result.i_xt_bits == Approx(2.0).epsilon(1e-14));
  CHECK(result.i_ty_bits == 0.0);
  CHECK(result.i_ty_nats == 0.0);
}

TEST_CASE("binning: fixed bin width, all-distinct and constant layers", "[baselines]") {
  // Width 0.5 with edges at multiples of 0.5: bins -2, -1, 0, 0, 1, 2, 2, 1.
  const Matrix<double> t = row({-0.7, -0.2, 0.1, 0.4, 0.6, 1.2, 1.4, 0.9});
  const std::vector<Label> labels{0, 0, 0, 0, 1, 1, 1, 1};
  const auto result = uinfo::binning_information(t, labels, {.bin_width = 0.5});
  // Counts 1, 1, 2, 2, 2: H(T) = 2 (1/8) 3 + 3 (2/8) 2 = 2.25 bits. Class 0 bins -2, -1, 0, 0
  // (H = 1.5) and class 1 bins 1, 2, 2, 1 (H = 1): H(T|Y) = 1.25, I(T;Y) = 1 bit.
  CHECK(result.occupied_bins == 5);
  CHECK(result.i_xt_bits == Approx(2.25).epsilon(1e-14));
  CHECK(result.i_ty_bits == Approx(1.0).epsilon(1e-14));

  // A fixed grid does not stretch with the data: values within one bin stay one symbol.
  const auto narrow = uinfo::binning_information(
      row({0.1, 0.2, 0.3, 0.4}), std::vector<Label>{0, 1, 0, 1}, {.bin_width = 0.5});
  CHECK(narrow.i_xt_bits == 0.0);
  // ... whereas a bin count spreads over the observed range: 4 distinct values, 4 bins.
  const auto spread = uinfo::binning_information(row({0.1, 0.2, 0.3, 0.4}),
                                                 std::vector<Label>{0, 1, 0, 1}, {.bins = 4});
  CHECK(spread.i_xt_bits == Approx(2.0).epsilon(1e-14));  // log2 n: every input distinct
  CHECK(spread.i_ty_bits == Approx(1.0).epsilon(1e-14));  // = H(Y)

  // A constant layer is one bin: no information.
  const auto constant =
      uinfo::binning_information(row({3, 3, 3, 3}), std::vector<Label>{0, 1, 0, 1});
  CHECK(constant.occupied_bins == 1);
  CHECK(constant.i_xt_bits == 0.0);
  CHECK(constant.i_ty_bits == 0.0);
}

// ---------------------------------------------------------------------------------------------
// KDE

TEST_CASE("kde: two and three points, the double sum written out", "[baselines]") {
  SECTION("two points at distance 1, variance 1/2") {
    // Each row: 1 + exp(-1 / (2 * 0.5)) = 1 + e^-1. Bound = log 2 - log(1 + e^-1).
    const Matrix<double> t = row({0, 1});
    const double expected = std::log(2.0) - std::log(1 + std::exp(-1.0));
    const auto different =
        uinfo::kde_information(t, std::vector<Label>{0, 1}, {.noise_variance = 0.5});
    CHECK(different.i_xt_nats == Approx(expected).epsilon(1e-13));
    CHECK(different.i_xt_bits == Approx(expected / std::numbers::ln2).epsilon(1e-13));
    // Singleton classes have bound 0, so I(T;Y) is the whole bound.
    CHECK(different.i_ty_nats == Approx(expected).epsilon(1e-13));
    // Float input, here as an Eigen expression, is read into double.
    const auto from_float =
        uinfo::kde_information(t.cast<float>(), std::vector<Label>{0, 1}, {.noise_variance = 0.5});
    CHECK(from_float.i_xt_nats == Approx(expected).epsilon(1e-13));
    // One class: the class bound is the whole bound, I(T;Y) = 0.
    const auto same = uinfo::kde_information(t, std::vector<Label>{0, 0}, {.noise_variance = 0.5});
    CHECK(same.i_ty_nats == Approx(0.0).margin(1e-15));
  }
  SECTION("three points at 0, 1, 3 (two units, second constant), variance 1") {
    // Kernel values exp(-d^2 / 2): d = 1 -> a, d = 3 -> b, d = 2 -> c.
    Matrix<double> t(2, 3);
    t << 0, 1, 3,  //
        5, 5, 5;
    const double a = std::exp(-0.5), b = std::exp(-4.5), c = std::exp(-2.0);
    const double bound =
        std::log(3.0) - (std::log(1 + a + b) + std::log(1 + a + c) + std::log(1 + b + c)) / 3;
    // Labels {0, 0, 1}: class 0 is the two-point case at distance 1, class 1 a singleton.
    const double class0 = std::log(2.0) - std::log(1 + a);
    const std::vector<Label> labels{0, 0, 1};
    for (const uinfo::Index block : {1, 2, 256}) {  // blocks of samples do not change the sums
      const auto result =
          uinfo::kde_information(t, labels, {.noise_variance = 1.0, .block_size = block});
      CHECK(result.i_xt_nats == Approx(bound).epsilon(1e-13));
      CHECK(result.i_ty_nats == Approx(bound - 2.0 / 3 * class0).epsilon(1e-13));
    }
  }
}

TEST_CASE("kde: limits of large noise and well-separated clusters", "[baselines]") {
  Engine engine = Rng{11}.engine(Stream::data);
  // 4 clusters of 25 points in 3 units, centres 10 apart, spread 1e-3, labels = cluster.
  const int clusters = 4, per = 25, n = clusters * per;
  Matrix<double> t(3, n);
  std::vector<Label> labels(n);
  for (int j = 0; j < n; ++j) {
    labels[static_cast<std::size_t>(j)] = j % clusters;
    for (int u = 0; u < 3; ++u)
      t(u, j) = 1e-3 * engine.normal() + (u == 0 ? 10.0 * (j % clusters) : 0);
  }
  SECTION("noise much larger than the spread: the bound goes to 0") {
    // By Jensen, the bound is at most the mean of d_ij^2 / (2 sigma^2) over all pairs (i, j),
    // and equals it to first order as sigma grows: about 250 / 2e8 here.
    const double variance = 1e8;
    double jensen = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) jensen += (t.col(i) - t.col(j)).squaredNorm() / (2 * variance);
    }
    jensen /= n * n;
    const auto result = uinfo::kde_information(t, labels, {.noise_variance = variance});
    CHECK(result.i_xt_nats <= jensen);
    CHECK(result.i_xt_nats == Approx(jensen).epsilon(1e-5));
    CHECK(result.i_xt_nats < 2e-6);
    CHECK(result.i_ty_nats >= 0.0);
    CHECK(result.i_ty_nats <= result.i_xt_nats);
  }
  SECTION("distances between clusters >> sigma >> within clusters: log(clusters)") {
    // Within-cluster kernels are exp(-O(1e-6) / 2e-2) ~ 1, between-cluster exp(-100 / 2e-2) = 0.
    const auto result = uinfo::kde_information(t, labels, {.noise_variance = 1e-2});
    CHECK(result.i_xt_nats == Approx(std::log(clusters)).margin(1e-3));
    CHECK(result.i_ty_nats == Approx(std::log(clusters)).margin(1e-3));
    CHECK(result.i_xt_bits == Approx(2.0).margin(2e-3));
  }
  SECTION("sigma << every distance: log n, every input distinct") {
    const auto result = uinfo::kde_information(t, labels, {.noise_variance = 1e-12});
    CHECK(result.i_xt_nats == Approx(std::log(n)).epsilon(1e-12));
    // Within each class the bound is log(25) too: I(T;Y) = log 100 - log 25 = log 4.
    CHECK(result.i_ty_nats == Approx(std::log(clusters)).epsilon(1e-12));
  }
}

// ---------------------------------------------------------------------------------------------
// kNN

TEST_CASE("digamma matches known values", "[baselines]") {
  constexpr double euler = 0.57721566490153286061;
  CHECK(uinfo::digamma(1.0) == Approx(-euler).epsilon(2e-15));
  CHECK(uinfo::digamma(0.5) == Approx(-euler - 2 * std::numbers::ln2).epsilon(2e-15));
  // psi(10) = H_9 - gamma; psi(n + 1) = psi(n) + 1/n.
  double harmonic = 0;
  for (int i = 1; i <= 9; ++i) harmonic += 1.0 / i;
  CHECK(uinfo::digamma(10.0) == Approx(harmonic - euler).epsilon(2e-15));
  CHECK(uinfo::digamma(10.0) == Approx(2.2517525890667211076).epsilon(2e-15));
  CHECK(uinfo::digamma(0.25) ==
        Approx(-euler - std::numbers::pi / 2 - 3 * std::numbers::ln2).epsilon(2e-15));
  CHECK(uinfo::digamma(1e-3) == Approx(-1000.5755719318103).epsilon(2e-15));  // -1/x - gamma + ...
  CHECK(uinfo::digamma(4000.0) ==
        Approx(8.2939246348936944).epsilon(2e-15));  // log x - 1/(2x) - ...
  CHECK_THROWS_AS(uinfo::digamma(0.0), InvalidArgument);
  CHECK_THROWS_AS(uinfo::digamma(-1.5), InvalidArgument);
}

TEST_CASE("knn: Gaussian classes match the integrated I(Z, Y)", "[baselines]") {
  // Over 40 seeds (n = 4000, k = 3, mu in {0, 0.5, 1, 2}, 1 or 2 units) the error had mean
  // within +-0.002 nats and standard deviation 0.004-0.009 nats, largest 0.021: the margin,
  // 0.035 nats, is 4 standard deviations. (Seed 2024 here: errors -0.0002 and -0.0008.)
  const double margin = 0.035;
  const double mu = 1.0;
  const double exact = gaussian_classes_information(mu);
  const auto data = gaussian_classes(4000, 1, mu, 2024);
  const auto result = uinfo::knn_information(data.z, data.labels, {.k = 3});
  CHECK(result.used_samples == 4000);
  CHECK(result.excluded_samples == 0);
  CHECK(result.nats == Approx(exact).margin(margin));
  CHECK(result.bits == Approx(result.nats / std::numbers::ln2));
  const Matrix<float> single = data.z.cast<float>();
  CHECK(uinfo::knn_information(single, data.labels, {.k = 3}).nats ==
        Approx(result.nats).margin(1e-3));
  SECTION("a second, uninformative unit leaves I unchanged") {
    const auto two = gaussian_classes(4000, 2, mu, 2024);
    CHECK(uinfo::knn_information(two.z, two.labels, {.k = 3}).nats == Approx(exact).margin(margin));
  }
}

TEST_CASE("knn: Z independent of Y gives about 0", "[baselines]") {
  // Same spread as above; seed 77 gives -0.013 nats.
  const double margin = 0.035;
  const auto data = gaussian_classes(4000, 1, 0.0, 77);
  CHECK(uinfo::knn_information(data.z, data.labels, {.k = 3}).nats == Approx(0.0).margin(margin));
}

TEST_CASE("knn: small classes are excluded and counted", "[baselines]") {
  auto data = gaussian_classes(400, 1, 1.0, 5);
  const auto full = uinfo::knn_information(data.z, data.labels, {.k = 3});
  // Three samples of a new class 2 (k = 3 needs 4): left out, so the estimate does not change.
  Matrix<double> z(1, 403);
  z << data.z, 0.0, 0.1, -0.1;
  data.labels.insert(data.labels.end(), {2, 2, 2});
  const auto with_small = uinfo::knn_information(z, data.labels, {.k = 3});
  CHECK(with_small.used_samples == 400);
  CHECK(with_small.excluded_samples == 3);
  CHECK(with_small.nats == full.nats);
}

// ---------------------------------------------------------------------------------------------
// Bad input

TEST_CASE("bad input throws with what and where", "[baselines]") {
  const Matrix<double> t = row({0, 1, 2, 3, 4});
  const std::vector<Label> labels{0, 1, 0, 1, 0};

  const Matrix<double> empty(3, 0);
  CHECK_THROWS_WITH(uinfo::binning_information(empty, std::vector<Label>{}),
                    Contains("no samples"));
  CHECK_THROWS_AS(uinfo::kde_information(empty, std::vector<Label>{}), InvalidArgument);
  CHECK_THROWS_AS(uinfo::knn_information(empty, std::vector<Label>{}), InvalidArgument);
  CHECK_THROWS_WITH(uinfo::kde_information(Matrix<double>(0, 5), labels), Contains("0 units"));

  Matrix<double> nan = t;
  nan(0, 3) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(uinfo::binning_information(nan, labels), NonFiniteValue);
  CHECK_THROWS_WITH(uinfo::kde_information(nan, labels),
                    Contains("kde_information") && Contains("NaN at feature 0 of sample 3"));
  Matrix<double> infinite = t;
  infinite(0, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(uinfo::knn_information(infinite, labels, {.k = 1}), NonFiniteValue);

  const std::vector<Label> four{0, 1, 0, 1};
  CHECK_THROWS_WITH(uinfo::binning_information(t, four),
                    Contains("5 samples but there are 4 labels"));
  CHECK_THROWS_AS(uinfo::kde_information(t, four), InvalidArgument);
  CHECK_THROWS_AS(uinfo::knn_information(t, four), InvalidArgument);

  const std::vector<Label> negative{0, 1, -1, 1, 0};
  CHECK_THROWS_WITH(uinfo::knn_information(t, negative, {.k = 1}),
                    Contains("label -1 at sample 2"));
  CHECK_THROWS_AS(uinfo::binning_information(t, negative), InvalidArgument);
  CHECK_THROWS_AS(uinfo::kde_information(t, negative), InvalidArgument);

  CHECK_THROWS_WITH(uinfo::binning_information(t, labels, {.bins = 0}), Contains("bins is 0"));
  CHECK_THROWS_WITH(uinfo::binning_information(t, labels, {.bin_width = -1}),
                    Contains("bin_width"));
  CHECK_THROWS_WITH(uinfo::binning_information(t, labels, {.bin_width = 1e-300}),
                    Contains("beyond 2^62 bins"));
  CHECK_THROWS_WITH(uinfo::kde_information(t, labels, {.noise_variance = 0}),
                    Contains("noise_variance"));
  CHECK_THROWS_WITH(uinfo::knn_information(t, labels, {.k = 0}), Contains("k is 0"));
  // Classes of 3 and 2 samples: k = 2 keeps the first, k = 3 keeps none.
  CHECK(uinfo::knn_information(t, labels, {.k = 2}).excluded_samples == 2);
  CHECK_THROWS_WITH(uinfo::knn_information(t, labels, {.k = 3}),
                    Contains("no class has more than k = 3 samples (the largest has 3)"));
}
