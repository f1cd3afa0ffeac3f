#include <catch2/catch.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/loss/mse.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/gradient_check.hpp"
#include "uinfo/simd/softmax_regression.hpp"

using namespace uinfo;
using Catch::Contains;
using Labels = std::vector<Label>;

namespace {

// Hand-computed: log(e^1 + e^2 + e^3) = 3.40760596444438..., so for logits (1, 2, 3) the loss of
// label k is 3.40760596444438 - (k + 1).
constexpr double loss_123_label0 = 2.40760596444438;
constexpr double loss_123_label1 = 1.4076059644443801;
constexpr double loss_123_label2 = 0.40760596444438013;
// softmax(1, 2, 3) = e^k / (e^1 + e^2 + e^3).
constexpr double softmax_123[3] = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
constexpr double ln2 = 0.6931471805599453;
constexpr double ln3 = 1.0986122886681098;

// A (classes x samples) matrix from its columns.
template <class S = double>
Matrix<S> from_columns(std::initializer_list<std::initializer_list<double>> columns) {
  Matrix<S> m(static_cast<Index>(columns.begin()->size()), static_cast<Index>(columns.size()));
  Index j = 0;
  for (const auto& column : columns) {
    Index i = 0;
    for (double v : column) m(i++, j) = static_cast<S>(v);
    ++j;
  }
  return m;
}

template <class S>
MatrixView<S> view_of(Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}

template <class S = double>
Matrix<S> random_matrix(Index rows, Index cols, std::uint64_t seed, double scale = 1) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Matrix<S> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<S>(scale * engine.normal());
  return m;
}

Labels random_labels(Index count, Index classes, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Labels labels(static_cast<std::size_t>(count));
  for (auto& label : labels)
    label = static_cast<Label>(engine.below(static_cast<std::uint64_t>(classes)));
  return labels;
}

// value, per_sample_loss and value_and_gradient agree on a random batch.
template <class S>
void check_consistency(double tolerance) {
  // 7 samples, and 600: several blocks and a tail for the vectorised entry points (256 columns
  // at a time for value_and_gradient, a vector's width for log_probabilities).
  for (const Index n : {7, 600}) {
    const Matrix<S> logits = random_matrix<S>(4, n, 1, 3.0);
    const Labels labels = random_labels(n, 4, 2);
    const S value = SoftmaxCrossEntropy::value<S>(logits, labels);

    std::vector<S> per_sample(static_cast<std::size_t>(n));
    SoftmaxCrossEntropy::per_sample_loss<S>(logits, labels, per_sample);
    const double mean =
        std::accumulate(per_sample.begin(), per_sample.end(), 0.0) / static_cast<double>(n);
    CHECK(mean == Approx(value).epsilon(tolerance));

    Matrix<S> gradient(4, n);
    const S with_gradient =
        SoftmaxCrossEntropy::value_and_gradient<S>(logits, labels, view_of(gradient));
    CHECK(with_gradient == Approx(value).epsilon(tolerance));
    // Each column of (softmax - onehot) / batch sums to zero.
    CHECK(gradient.colwise().sum().cwiseAbs().maxCoeff() <= tolerance);

    Matrix<S> log_p(4, n);
    SoftmaxCrossEntropy::log_probabilities<S>(logits, view_of(log_p));
    for (Index j = 0; j < n; ++j) {
      CHECK(-log_p(labels[static_cast<std::size_t>(j)], j) ==
            Approx(per_sample[static_cast<std::size_t>(j)]).epsilon(tolerance));
    }
  }
}

// Every SoftmaxCrossEntropy entry point rejects `labels` for 3-class logits of `samples` columns
// with InvalidArgument whose message contains every string in `expected`.
void check_rejected(const Labels& labels, Index samples,
                    std::initializer_list<const char*> expected) {
  const Matrix<double> logits = random_matrix(3, samples, 4);
  Matrix<double> gradient(3, samples);
  std::vector<double> per_sample(static_cast<std::size_t>(samples));
  for (const char* text : expected) {
    INFO("message should contain: " << text);
    CHECK_THROWS_WITH(SoftmaxCrossEntropy::value<double>(logits, labels), Contains(text));
    CHECK_THROWS_WITH(
        SoftmaxCrossEntropy::value_and_gradient<double>(logits, labels, view_of(gradient)),
        Contains(text));
    CHECK_THROWS_WITH(SoftmaxCrossEntropy::per_sample_loss<double>(logits, labels, per_sample),
                      Contains(text));
  }
  CHECK_THROWS_AS(SoftmaxCrossEntropy::value<double>(logits, labels), InvalidArgument);
  CHECK_THROWS_AS(
      SoftmaxCrossEntropy::value_and_gradient<double>(logits, labels, view_of(gradient)),
      InvalidArgument);
  CHECK_THROWS_AS(SoftmaxCrossEntropy::per_sample_loss<double>(logits, labels, per_sample),
                  InvalidArgument);
}

}  // namespace

TEST_CASE("softmax cross-entropy equals hand-computed values", "[loss]") {
  const Matrix<double> z = from_columns({{1, 2, 3}});
  CHECK(SoftmaxCrossEntropy::value<double>(z, Labels{0}) == Approx(loss_123_label0).epsilon(1e-14));
  CHECK(SoftmaxCrossEntropy::value<double>(z, Labels{1}) == Approx(loss_123_label1).epsilon(1e-14));
  CHECK(SoftmaxCrossEntropy::value<double>(z, Labels{2}) == Approx(loss_123_label2).epsilon(1e-14));
  // Shifting every logit by a constant changes nothing.
  CHECK(SoftmaxCrossEntropy::value<double>(from_columns({{-9, -8, -7}}), Labels{2}) ==
        Approx(loss_123_label2).epsilon(1e-14));

  // The batch mean: equal logits give log(3) for any label.
  const Matrix<double> batch = from_columns({{1, 2, 3}, {0, 0, 0}});
  CHECK(SoftmaxCrossEntropy::value<double>(batch, Labels{2, 1}) ==
        Approx((loss_123_label2 + ln3) / 2).epsilon(1e-14));

  const Matrix<float> zf = from_columns<float>({{1, 2, 3}});
  CHECK(SoftmaxCrossEntropy::value<float>(zf, Labels{2}) == Approx(loss_123_label2).epsilon(1e-6));
}

TEST_CASE("softmax cross-entropy gradient is (softmax - onehot) / batch", "[loss]") {
  const Matrix<double> z = from_columns({{1, 2, 3}, {1, 2, 3}});
  Matrix<double> gradient(3, 2);
  const double value =
      SoftmaxCrossEntropy::value_and_gradient<double>(z, Labels{2, 0}, view_of(gradient));
  CHECK(value == Approx((loss_123_label2 + loss_123_label0) / 2).epsilon(1e-14));
  for (Index k = 0; k < 3; ++k) {
    CHECK(gradient(k, 0) == Approx((softmax_123[k] - (k == 2)) / 2).margin(1e-15));
    CHECK(gradient(k, 1) == Approx((softmax_123[k] - (k == 0)) / 2).margin(1e-15));
  }
}

TEST_CASE("huge logits give finite, correct losses and gradients", "[loss]") {
  const auto columns = {
      std::initializer_list<double>{1000, -1000}, {1000, -1000}, {-1000, 1000}, {1000, 1000}};
  const Labels labels{0, 1, 0, 0};
  // e^-2000 underflows to 0, so the exact losses are 0, 2000, 2000 and log(2).
  const double expected[4] = {0, 2000, 2000, ln2};
  const double mean = (0 + 2000 + 2000 + ln2) / 4;

  const Matrix<double> z = from_columns(columns);
  CHECK(SoftmaxCrossEntropy::value<double>(z, labels) == Approx(mean).epsilon(1e-14));
  std::vector<double> per_sample(4);
  SoftmaxCrossEntropy::per_sample_loss<double>(z, labels, per_sample);
  for (int j = 0; j < 4; ++j) CHECK(per_sample[j] == Approx(expected[j]).margin(1e-12));

  Matrix<double> gradient(2, 4);
  SoftmaxCrossEntropy::value_and_gradient<double>(z, labels, view_of(gradient));
  REQUIRE(gradient.allFinite());
  Matrix<double> expected_gradient(2, 4);
  expected_gradient << 0, 1, -1, -0.5,  //
      0, -1, 1, 0.5;
  CHECK((gradient - expected_gradient / 4).cwiseAbs().maxCoeff() <= 1e-15);

  Matrix<double> log_p(2, 4);
  SoftmaxCrossEntropy::log_probabilities<double>(z, view_of(log_p));
  REQUIRE(log_p.allFinite());
  CHECK(log_p(1, 0) == Approx(-2000));
  CHECK(log_p(0, 3) == Approx(-ln2));

  const Matrix<float> zf = from_columns<float>(columns);
  const float value_f = SoftmaxCrossEntropy::value<float>(zf, labels);
  CHECK(std::isfinite(value_f));
  CHECK(value_f == Approx(mean).epsilon(1e-6));
}

TEST_CASE("log-probabilities are hand-computed values and exponentiate to a distribution",
          "[loss]") {
  Matrix<double> log_p(3, 1);
  SoftmaxCrossEntropy::log_probabilities<double>(from_columns({{1, 2, 3}}), view_of(log_p));
  CHECK(log_p(0, 0) == Approx(-loss_123_label0).epsilon(1e-14));
  CHECK(log_p(1, 0) == Approx(-loss_123_label1).epsilon(1e-14));
  CHECK(log_p(2, 0) == Approx(-loss_123_label2).epsilon(1e-14));

  const Matrix<double> logits = random_matrix(5, 6, 3, 10.0);
  Matrix<double> random_log_p(5, 6);
  SoftmaxCrossEntropy::log_probabilities<double>(logits, view_of(random_log_p));
  for (Index j = 0; j < 6; ++j) {
    CHECK(random_log_p.col(j).array().exp().sum() == Approx(1.0).epsilon(1e-14));
    CHECK(random_log_p.col(j).maxCoeff() <= 0.0);
  }
}

TEST_CASE("per-sample losses, value and value_and_gradient agree", "[loss]") {
  check_consistency<double>(1e-12);
  check_consistency<float>(1e-5);
}

TEST_CASE("softmax cross-entropy gradient matches finite differences", "[loss]") {
  for (Index batch : {1, 5}) {
    const Matrix<double> logits = random_matrix(4, batch, 5, 2.0);
    const Labels labels = random_labels(batch, 4, 6);
    const auto report = check_loss_gradients(SoftmaxCrossEntropy{}, logits, labels);
    INFO("batch " << batch << ", worst: " << report.worst);
    CHECK(report.checked == 4 * batch);
    REQUIRE(report.passed);
  }
}

namespace {

// simd::SoftmaxRegression against the layer-by-layer path: logits W x + b, value_and_gradient,
// then the gradient products. Sample counts that do and do not fill the last panel; few classes
// (gradient summed with the samples in the lanes) and more classes than one group of logits or one
// vector of the gradient; large weights (logits of +-50).
template <class S>
void check_softmax_regression(Index samples, Index features, Index classes, double scale,
                              double tolerance) {
  INFO(samples << " samples, " << features << " features, " << classes << " classes");
  const Matrix<S> x = random_matrix<S>(features, samples, 11);
  const Matrix<S> w = random_matrix<S>(classes, features, 12, scale);
  const Matrix<S> b = random_matrix<S>(classes, 1, 13);
  const Labels labels = random_labels(samples, classes, 14);
  const Matrix<S> logits = (w * x).colwise() + b.col(0);
  Matrix<S> logit_gradient(classes, samples);
  const double expected =
      SoftmaxCrossEntropy::value_and_gradient<S>(logits, labels, view_of(logit_gradient));
  const simd::SamplePanels<S> panels(x);
  simd::SoftmaxRegression<S> regression(panels, labels, classes);
  Matrix<S> dw, db;
  const double loss = regression.loss_and_gradient(w, b, dw, db);
  CHECK(loss == Approx(expected).epsilon(tolerance));
  const Matrix<S> expected_dw = logit_gradient * x.transpose();
  const Matrix<S> expected_db = logit_gradient.rowwise().sum();
  CHECK((dw - expected_dw).template cast<double>().cwiseAbs().maxCoeff() <= tolerance);
  CHECK((db - expected_db).template cast<double>().cwiseAbs().maxCoeff() <= tolerance);
}

}  // namespace

// Every value lands in its panel, feature and lane, and the last panel's padding is zero: feature
// and sample counts below, at and beyond a vector's width, and a layout reassigned to a new size.
TEMPLATE_TEST_CASE("sample panels hold each sample's features in its lane", "[loss][simd]", float,
                   double) {
  using S = TestType;
  constexpr Index width = simd::SamplePanels<S>::width;
  simd::SamplePanels<S> panels;
  for (const Index features : {Index{1}, width, 2 * width + 3}) {
    for (const Index samples : {Index{1}, width, 3 * width + 5}) {
      INFO(features << " features, " << samples << " samples");
      const Matrix<S> x = random_matrix<S>(features, samples, 21);
      panels.assign(x);
      REQUIRE(panels.count() == (samples + width - 1) / width);
      for (Index p = 0; p < panels.count(); ++p) {
        for (Index f = 0; f < features; ++f) {
          for (Index lane = 0; lane < width; ++lane) {
            const Index j = p * width + lane;
            REQUIRE(panels.panel(p)[f * width + lane] == (j < samples ? x(f, j) : S(0)));
          }
        }
      }
    }
  }
}

TEST_CASE("the fused softmax regression gives the loss and gradients of the layers", "[loss]") {
  check_softmax_regression<float>(37, 5, 3, 1.0, 1e-5);
  check_softmax_regression<float>(64, 9, 2, 1.0, 1e-5);
  check_softmax_regression<float>(100, 20, 17, 1.0, 1e-5);
  check_softmax_regression<float>(50, 7, 1, 1.0, 1e-5);  // one class: loss and gradients 0
  check_softmax_regression<float>(40, 6, 4, 20.0, 1e-5);
  check_softmax_regression<float>(300, 6, 2, 20.0, 1e-5);
  check_softmax_regression<double>(1001, 30, 10, 1.0, 1e-12);
  check_softmax_regression<double>(203, 12, 2, 1.0, 1e-12);
}

TEST_CASE("bad labels are rejected with the label, the sample and the class count", "[loss]") {
  check_rejected({0, 3}, 2, {"label 3", "sample 1", "3 classes"});
  check_rejected({-1, 0}, 2, {"label -1", "sample 0", "3 classes"});
  check_rejected({0, 1, 2}, 2, {"3 labels", "2 samples"});
  check_rejected({0}, 2, {"1 labels", "2 samples"});
}

TEST_CASE("mean squared error equals hand-computed values", "[loss]") {
  Matrix<double> predictions(2, 2), targets(2, 2);
  predictions << 1, 2,  //
      3, 4;
  targets << 0, 2,  //
      5, 1;
  // Differences 1, 0, -2, 3: (1 + 0 + 4 + 9) / 4.
  CHECK(MeanSquaredError::value<double>(predictions, targets) == 3.5);
  Matrix<double> gradient(2, 2);
  CHECK(MeanSquaredError::value_and_gradient<double>(predictions, targets, view_of(gradient)) ==
        3.5);
  // 2 * difference / 4.
  Matrix<double> expected(2, 2);
  expected << 0.5, 0,  //
      -1, 1.5;
  CHECK(gradient == expected);
}

TEST_CASE("mean squared error gradient matches finite differences", "[loss]") {
  const Matrix<double> predictions = random_matrix(3, 5, 7);
  const Matrix<double> targets = random_matrix(3, 5, 8);
  const auto report = check_loss_gradients(MeanSquaredError{}, predictions, targets);
  INFO("worst: " << report.worst);
  CHECK(report.checked == 15);
  REQUIRE(report.passed);
}

TEST_CASE("mean squared error rejects mismatched shapes and non-finite targets", "[loss]") {
  const Matrix<double> predictions = random_matrix(2, 2, 1);
  Matrix<double> gradient(2, 2);
  const Matrix<double> wide = random_matrix(2, 3, 2);
  CHECK_THROWS_AS(MeanSquaredError::value<double>(predictions, wide), InvalidArgument);
  CHECK_THROWS_WITH(MeanSquaredError::value<double>(predictions, wide),
                    Contains("targets are 2 x 3") && Contains("predictions are 2 x 2"));
  CHECK_THROWS_AS(
      MeanSquaredError::value_and_gradient<double>(predictions, wide, view_of(gradient)),
      InvalidArgument);

  Matrix<double> targets = random_matrix(2, 2, 3);
  targets(1, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(MeanSquaredError::value<double>(predictions, targets), NonFiniteValue);
  CHECK_THROWS_WITH(MeanSquaredError::value<double>(predictions, targets),
                    Contains("MSE targets") && Contains("a NaN at feature 1 of sample 0"));
  targets(1, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(
      MeanSquaredError::value_and_gradient<double>(predictions, targets, view_of(gradient)),
      NonFiniteValue);
}

// The vectorised log-softmax against a column at a time, for class counts below, at and above a
// vector's width, sample counts with and without a scalar tail, logits read through a stride
// (rows of a taller matrix) and shifted far enough that exp would overflow without the max.
TEMPLATE_TEST_CASE("vectorised log-softmax agrees with the per-column formula", "[loss][simd]",
                   float, double) {
  using S = TestType;
  for (const Index classes : {1, 2, 3, 10, 20}) {
    for (const Index n : {1, 15, 16, 17, 33, 600}) {
      for (const double shift : {0.0, 1e4}) {
        const Matrix<S> taller =
            random_matrix<S>(classes + 3, n, static_cast<std::uint64_t>(classes * n), 5.0).array() +
            static_cast<S>(shift);
        const auto z = taller.middleRows(1, classes);
        Matrix<S> out(classes, n);
        simd::log_softmax<S>(z, MatrixView<S>(out.data(), classes, n));
        INFO(classes << " classes, " << n << " samples, shift " << shift);
        // Shifted float logits are 1e4 +- 10, where one rounding of a float is 1e-3.
        const double tolerance = std::is_same_v<S, float> ? (shift > 0 ? 2e-3 : 1e-5) : 1e-9;
        for (Index j = 0; j < n; ++j) {
          const auto column = z.col(j).array().template cast<double>();
          const double log_sum =
              column.maxCoeff() + std::log((column - column.maxCoeff()).exp().sum());
          for (Index k = 0; k < classes; ++k) {
            const double expected = static_cast<double>(z(k, j)) - log_sum;
            REQUIRE(static_cast<double>(out(k, j)) == Approx(expected).margin(tolerance));
          }
        }
      }
    }
  }
}
