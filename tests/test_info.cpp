// Usable information against answers known in advance: label entropies by hand, L-BFGS on
// problems with known minima, and decoders on Gaussian classes whose Shannon information the
// test computes from the exact posterior.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <span>
#include <tuple>
#include <vector>

#include "uinfo/data/synthetic.hpp"
#include "uinfo/info/layer_probe.hpp"
#include "uinfo/info/usable_information.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/tanh.hpp"

#include "mixture.hpp"

using namespace uinfo;
using Catch::Contains;

using namespace uinfo::testing;

// --- Entropy ----------------------------------------------------------------------------------

TEST_CASE("label entropy by hand, plug-in and Miller-Madow", "[info][entropy]") {
  const std::vector<Label> balanced{0, 1, 0, 1};
  CHECK(entropy(balanced, 2) == Approx(std::log(2.0)));
  const std::vector<Label> skewed{0, 0, 0, 1};  // p = (3/4, 1/4)
  const double h = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  CHECK(entropy(skewed, 2) == Approx(h));
  CHECK(entropy(skewed, 2) * bits_per_nat == Approx(0.8112781244591328));
  // Miller-Madow adds (m - 1) / 2n with m = 2 classes seen, n = 4.
  CHECK(entropy(skewed, 2, EntropyEstimator::miller_madow) == Approx(h + 1.0 / 8));
  // A class that never occurs adds nothing, to either estimator.
  CHECK(entropy(skewed, 5, EntropyEstimator::miller_madow) == Approx(h + 1.0 / 8));
  CHECK(entropy(std::vector<Label>{2, 2, 2}, 3) == 0.0);
  CHECK_THROWS_AS(entropy(std::vector<Label>{}, 2), InvalidArgument);
  CHECK_THROWS_WITH(entropy(std::vector<Label>{0, 3}, 2),
                    Contains("label 3") && Contains("2 classes"));
}

TEST_CASE("the label marginal adds the pseudo-count to every class", "[info][entropy]") {
  const std::vector<Label> labels{0, 0, 0, 1};
  const auto p = label_marginal(labels, 3, 0.5);  // (3.5, 1.5, 0.5) / 5.5
  CHECK(p[0] == Approx(3.5 / 5.5));
  CHECK(p[1] == Approx(1.5 / 5.5));
  CHECK(p[2] == Approx(0.5 / 5.5));
  const auto raw = label_marginal(labels, 2, 0.0);
  CHECK(raw[0] == 0.75);
  CHECK(raw[1] == 0.25);
}

// --- L-BFGS -----------------------------------------------------------------------------------

TEST_CASE("L-BFGS finds the minimum of a quadratic and of Rosenbrock's function", "[info][lbfgs]") {
  SECTION("quadratic 1/2 x'Ax - b'x: the minimum solves Ax = b") {
    Matrix<double> a(3, 3);
    a << 4, 1, 0, 1, 3, 1, 0, 1, 2;
    const Vector<double> b = Vector<double>::LinSpaced(3, 1, 3);
    Vector<double> x = Vector<double>::Zero(3);
    const auto result = minimize_lbfgs(
        [&](const Vector<double>& v, Vector<double>& g) {
          g = a * v - b;
          return 0.5 * v.dot(a * v) - b.dot(v);
        },
        x, {.gradient_tolerance = 1e-10, .relative_decrease = 0});
    CHECK(result.converged);
    const Vector<double> exact = a.ldlt().solve(b);
    CHECK((x - exact).norm() < 1e-8);
  }
  SECTION("Rosenbrock from (-1.2, 1) reaches (1, 1)") {
    Vector<double> x(2);
    x << -1.2, 1;
    const auto result = minimize_lbfgs(
        [](const Vector<double>& v, Vector<double>& g) {
          const double a = 1 - v(0), b = v(1) - v(0) * v(0);
          g(0) = -2 * a - 400 * v(0) * b;
          g(1) = 200 * b;
          return a * a + 100 * b * b;
        },
        x, {.max_iterations = 1000, .gradient_tolerance = 1e-9, .relative_decrease = 0});
    CHECK(result.converged);
    CHECK(x(0) == Approx(1).margin(1e-6));
    CHECK(x(1) == Approx(1).margin(1e-6));
  }
}

// --- Usable information -----------------------------------------------------------------------

TEST_CASE("the linear decoder reaches the maximum-likelihood fit", "[info][decoder]") {
  // Against an independent Newton solve of the same objective (mean cross-entropy plus
  // (l2 / 2)||W||^2) in double, on a small problem: the two held-out cross-entropies agree.
  Engine engine = Rng{3}.engine(Stream::data);
  const Mixture m = random_mixture(4, 3, 0.8, engine);
  const Sample train = draw(m, 600, engine), test = draw(m, 600, engine);
  const double l2 = 1e-3;
  LinearDecoder<double> decoder(
      {.l2 = l2, .preprocess = Preprocess::none, .lbfgs = {.gradient_tolerance = 1e-10}});
  const auto info = usable_information<LinearDecoder<double>>(
      train.z.cast<double>(), train.y, test.z.cast<double>(), test.y, decoder);

  // Newton's method on theta = vec(W, b) for K = 3 classes, d = 4 features.
  const Index d = 4, k = 3, p = k * (d + 1);
  Vector<double> theta = Vector<double>::Zero(p);
  auto probabilities = [&](const Vector<double>& t, const Vector<double>& z) {
    Vector<double> logits(k);
    for (Index c = 0; c < k; ++c) logits(c) = t.segment(c * (d + 1), d).dot(z) + t(c * (d + 1) + d);
    const Vector<double> e = (logits.array() - logits.maxCoeff()).exp();
    return Vector<double>(e / e.sum());
  };
  for (int iteration = 0; iteration < 30; ++iteration) {
    Vector<double> gradient = Vector<double>::Zero(p);
    Matrix<double> hessian = Matrix<double>::Zero(p, p);
    const double n = static_cast<double>(train.z.cols());
    for (Index j = 0; j < train.z.cols(); ++j) {
      Vector<double> x(d + 1);
      x << train.z.col(j).cast<double>(), 1.0;
      const Vector<double> q = probabilities(theta, x.head(d));
      for (Index a = 0; a < k; ++a) {
        const double residual = q(a) - (train.y[static_cast<std::size_t>(j)] == a);
        gradient.segment(a * (d + 1), d + 1) += residual * x / n;
        for (Index b = 0; b < k; ++b) {
          hessian.block(a * (d + 1), b * (d + 1), d + 1, d + 1) +=
              (q(a) * ((a == b) - q(b))) * x * x.transpose() / n;
        }
      }
    }
    for (Index c = 0; c < k; ++c) {  // the penalty covers weights, not biases
      gradient.segment(c * (d + 1), d) += l2 * theta.segment(c * (d + 1), d);
      hessian.block(c * (d + 1), c * (d + 1), d, d).diagonal().array() += l2;
    }
    theta -= hessian.ldlt().solve(gradient);
  }
  double ce = 0;
  for (Index j = 0; j < test.z.cols(); ++j) {
    const Vector<double> q = probabilities(theta, test.z.col(j).cast<double>());
    ce -= std::log2(q(test.y[static_cast<std::size_t>(j)]));
  }
  ce /= static_cast<double>(test.z.cols());
  CHECK(info.ce_bits == Approx(ce).margin(1e-6));
}

TEST_CASE("Z independent of Y: no usable information beyond the decoder's fitting noise",
          "[info][decoder]") {
  // A decoder fitted to noise predicts slightly worse than the marginal: by p / 2n nats in
  // expectation for a barely penalised linear decoder (maximum-likelihood asymptotics,
  // p = 2 x 11 parameters here). Its ratio to the standard error, about sqrt(p) / 2, does not
  // shrink with n, so the test allows for it rather than asking for |I_u| < 2 SE around 0.
  Engine engine = Rng{5}.engine(Stream::data);
  const Mixture noise = random_mixture(10, 3, 0.0, engine);  // every class, one distribution
  const Sample train = draw(noise, 3000, engine), test = draw(noise, 3000, engine);
  LinearDecoder<float> unpenalised({.l2 = 1e-5});
  const auto by_unpenalised = usable_information(train.z, train.y, test.z, test.y, unpenalised);
  const double fitting_noise = 22.0 / (2 * 3000) * bits_per_nat;
  INFO("l2 1e-5: " << by_unpenalised.bits << " +- " << by_unpenalised.standard_error_bits
                   << ", expected -" << fitting_noise);
  CHECK(std::abs(by_unpenalised.bits + fitting_noise) < 2 * by_unpenalised.standard_error_bits);
  // The penalty chosen by cross-validation shrinks the weights to nearly nothing: the decoder
  // predicts the marginal, and the estimate is 0 to well within the fitting noise.
  LinearDecoder<float> chosen;
  const auto by_chosen = usable_information(train.z, train.y, test.z, test.y, chosen);
  INFO("chosen l2 " << by_chosen.l2 << ": " << by_chosen.bits);
  CHECK(by_chosen.l2_selection == "5-fold");
  CHECK(by_chosen.l2 > 0.1);
  CHECK(std::abs(by_chosen.bits) < 0.1 * fitting_noise);
  // The MLP starts at the marginal and early stopping keeps what the validation split confirms.
  MlpDecoder<float> mlp;
  const auto by_mlp = usable_information(train.z, train.y, test.z, test.y, mlp);
  INFO("mlp: " << by_mlp.bits << " +- " << by_mlp.standard_error_bits);
  CHECK(by_mlp.bits < 2 * by_mlp.standard_error_bits);
  CHECK(by_mlp.bits > -fitting_noise - 2 * by_mlp.standard_error_bits);
}

TEST_CASE("2 Gaussian classes in 20-D: the linear decoder recovers Shannon's I(Z, Y)",
          "[info][decoder]") {
  Engine engine = Rng{11}.engine(Stream::data);
  const Mixture m = random_mixture(20, 2, 0.3, engine);
  const Sample train = draw(m, 5000, engine), test = draw(m, 5000, engine);
  LinearDecoder<float> decoder;
  const auto info = usable_information(train.z, train.y, test.z, test.y, decoder);
  const double shannon = shannon_bits_on(m, test);
  INFO("estimate " << info.bits << ", Shannon on the same samples " << shannon);
  CHECK(std::abs(info.bits - shannon) < 0.03);
  CHECK(info.n_train == 5000);
  CHECK(info.n_test == 5000);
  CHECK(info.decoder == "linear");
}

TEST_CASE("10 Gaussian classes in 50-D: the estimate approaches Shannon's I(Z, Y) as n grows",
          "[info][decoder]") {
  // A decoder fitted on n samples loses about p / 2n nats of held-out log-likelihood to the
  // true posterior (p = 459 parameters here; the asymptotics of maximum likelihood): 0.066 bits
  // at n = 5000, 0.008 at n = 40000. The estimate is below Shannon's value by about that much.
  Engine engine = Rng{12}.engine(Stream::data);
  const Mixture m = random_mixture(50, 10, 0.3, engine);
  const double parameters = 9 * 51;
  for (const Index n : {Index{5000}, Index{40000}}) {
    const Sample train = draw(m, n, engine), test = draw(m, 5000, engine);
    LinearDecoder<float> decoder;
    const auto info = usable_information(train.z, train.y, test.z, test.y, decoder);
    const double shannon = shannon_bits_on(m, test);
    const double expected_gap = parameters / (2 * static_cast<double>(n)) * bits_per_nat;
    INFO("n " << n << ": estimate " << info.bits << ", Shannon " << shannon << ", expected gap "
              << expected_gap);
    CHECK(info.bits < shannon);
    CHECK(std::abs(shannon - expected_gap - info.bits) < 0.03);
    if (n == 40000) CHECK(shannon - info.bits < 0.03);
  }
}

TEST_CASE("XOR: a linear decoder finds nothing, an MLP finds the bit", "[info][decoder]") {
  Engine engine = Rng{2}.engine(Stream::data);
  const auto train = make_xor<float>(2000, 0.2, engine);
  const auto test = make_xor<float>(2000, 0.2, engine);
  LinearDecoder<float> linear;
  const auto by_linear = usable_information(train.x, train.labels, test.x, test.labels, linear);
  CHECK(by_linear.bits < 0.05);
  MlpDecoder<float> mlp;
  const auto by_mlp = usable_information(train.x, train.labels, test.x, test.labels, mlp);
  INFO("linear " << by_linear.bits << ", mlp " << by_mlp.bits);
  CHECK(by_mlp.bits > 0.9);
  CHECK(by_mlp.decoder == "mlp(64)");
}

TEST_CASE("non-uniform priors: H(Y) and I_u are right", "[info][decoder]") {
  Engine engine = Rng{13}.engine(Stream::data);
  Mixture m = random_mixture(5, 3, 0.7, engine);
  m.prior = {0.7, 0.2, 0.1};
  const Sample train = draw(m, 5000, engine), test = draw(m, 5000, engine);
  LinearDecoder<float> decoder;
  const auto info = usable_information(train.z, train.y, test.z, test.y, decoder);
  // H(Y) is the cross-entropy of the training labels' marginal (counts + 1/2) on the test labels.
  std::vector<double> train_count(3, 0), test_count(3, 0);
  for (const Label y : train.y) ++train_count[static_cast<std::size_t>(y)];
  for (const Label y : test.y) ++test_count[static_cast<std::size_t>(y)];
  double h = 0;
  for (std::size_t k = 0; k < 3; ++k)
    h -= test_count[k] / 5000 * std::log2((train_count[k] + 0.5) / 5001.5);
  CHECK(info.h_bits == Approx(h).epsilon(1e-12));
  // ... which estimates the prior's entropy (1.157 bits) to within a few of its standard
  // errors, sd(-log2 p(y)) / sqrt(n) = 0.0134 bits here.
  double second_moment = 0;
  for (const double p : m.prior) second_moment += p * std::log2(p) * std::log2(p);
  const double standard_error =
      std::sqrt((second_moment - std::pow(m.prior_entropy_bits(), 2)) / 5000);
  CHECK(info.h_bits == Approx(m.prior_entropy_bits()).margin(3 * standard_error));
  const double shannon = shannon_bits_on(m, test);
  INFO("estimate " << info.bits << ", Shannon " << shannon);
  CHECK(std::abs(info.bits - shannon) < 0.03);
  // The paper's convention log2 K changes H, and by the same amount the estimate.
  LinearDecoder<float> again;
  const auto with_log_k = usable_information(train.z, train.y, test.z, test.y, again,
                                             {.reference = EntropyReference::log_classes});
  CHECK(with_log_k.h_bits == Approx(std::log2(3.0)));
  CHECK(with_log_k.bits - info.bits == Approx(std::log2(3.0) - info.h_bits).margin(1e-6));
}

TEST_CASE("pointwise V-information averages to the estimate", "[info][pvi]") {
  Engine engine = Rng{14}.engine(Stream::data);
  const Mixture m = random_mixture(6, 4, 0.6, engine);
  const Sample train = draw(m, 1000, engine), test = draw(m, 800, engine);
  LinearDecoder<float> decoder;
  const auto info = usable_information(train.z, train.y, test.z, test.y, decoder);
  REQUIRE(info.pointwise_bits.size() == 800);
  double mean = 0;
  for (const double v : info.pointwise_bits) mean += v / 800.0;
  CHECK(mean == Approx(info.bits).margin(1e-9));
  // The standard error is that of this mean.
  double variance = 0;
  for (const double v : info.pointwise_bits) variance += (v - mean) * (v - mean) / 799.0;
  CHECK(info.standard_error_bits == Approx(std::sqrt(variance / 800.0)));
  CHECK(info.bits == Approx(info.h_bits - info.ce_bits).margin(1e-9));
}

TEST_CASE("a decoder probed again starts from its previous weights", "[info][decoder]") {
  Engine engine = Rng{15}.engine(Stream::data);
  const Mixture m = random_mixture(30, 5, 0.4, engine);
  const Sample train = draw(m, 3000, engine), test = draw(m, 1000, engine);
  LinearDecoder<float> warm({.l2 = 1e-4});
  const auto first = usable_information(train.z, train.y, test.z, test.y, warm);
  const auto again = usable_information(train.z, train.y, test.z, test.y, warm);
  CHECK(again.iterations <= 1);
  CHECK(again.bits == Approx(first.bits).margin(1e-4));
  // With the penalty chosen from the data, the search starts where the last one ended, and on
  // the same samples finds the same penalty again.
  LinearDecoder<float> choosing;
  const auto chosen = usable_information(train.z, train.y, test.z, test.y, choosing);
  const auto chosen_again = usable_information(train.z, train.y, test.z, test.y, choosing);
  INFO("iterations " << chosen.iterations << ", again " << chosen_again.iterations);
  CHECK(chosen_again.l2 == Approx(chosen.l2).epsilon(0.05));
  CHECK(chosen_again.iterations < chosen.iterations);
  // A slightly different representation (as one epoch later): fewer iterations than from zero.
  Sample shifted = train;
  shifted.z.array() +=
      0.05f * Matrix<float>::Ones(shifted.z.rows(), shifted.z.cols()).array().sin();
  shifted.z.row(0) *= 1.1f;
  LinearDecoder<float> cold({.l2 = 1e-4});
  const auto from_zero = usable_information(shifted.z, shifted.y, test.z, test.y, cold);
  const auto from_previous = usable_information(shifted.z, shifted.y, test.z, test.y, warm);
  INFO("iterations from zero " << from_zero.iterations << ", warm " << from_previous.iterations);
  CHECK(from_previous.iterations < from_zero.iterations);
  CHECK(from_previous.bits == Approx(from_zero.bits).margin(0.005));
}

TEST_CASE("usable_information refuses bad input, saying what and where", "[info]") {
  Engine engine = Rng{16}.engine(Stream::data);
  const Mixture m = random_mixture(3, 2, 1.0, engine);
  const Sample train = draw(m, 50, engine), test = draw(m, 40, engine);
  LinearDecoder<float> decoder;
  SECTION("splits with different features") {
    const Matrix<float> narrow = test.z.topRows(2);
    CHECK_THROWS_WITH(usable_information(train.z, train.y, narrow, test.y, decoder),
                      Contains("3 features") && Contains("2"));
  }
  SECTION("label count") {
    const std::vector<Label> short_labels(train.y.begin(), train.y.end() - 1);
    CHECK_THROWS_WITH(usable_information(train.z, short_labels, test.z, test.y, decoder),
                      Contains("50 samples but there are 49 labels"));
  }
  SECTION("NaN in a representation") {
    Matrix<float> bad = test.z;
    bad(1, 7) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(usable_information(train.z, train.y, bad, test.y, decoder),
                      Contains("test split") && Contains("feature 1 of sample 7"));
  }
  SECTION("empty split") {
    CHECK_THROWS_WITH(
        usable_information(Matrix<float>(3, 0), std::vector<Label>{}, test.z, test.y, decoder),
        Contains("training split: no samples"));
  }
  SECTION("label out of range for the classes given") {
    CHECK_THROWS_WITH(usable_information(train.z, train.y, test.z, test.y, decoder, {.classes = 1}),
                      Contains("out of range for 1 classes"));
  }
  SECTION("an unfitted decoder") {
    Matrix<float> out(2, 3);
    CHECK_THROWS_WITH(
        decoder.log_probabilities(test.z.leftCols(3), MatrixView<float>(out.data(), 2, 3)),
        Contains("not been fitted"));
  }
}

TEST_CASE("a refitted feature map carries affine weights over unchanged", "[info][preprocess]") {
  // y = W A_old(z) + b must equal W' A_new(z) + b' for every z: what makes a warm start after
  // the representation moved start from the same function.
  Engine engine = Rng{17}.engine(Stream::data);
  const Mixture m = random_mixture(6, 3, 1.0, engine);
  Sample before = draw(m, 400, engine), after = draw(m, 400, engine);
  after.z = (after.z.array() * 1.7f + 0.3f).matrix();  // the representation moved
  const Matrix<double> w = Matrix<double>::Random(3, 6), b = Matrix<double>::Random(3, 1);
  for (const Preprocess how : {Preprocess::none, Preprocess::standardize, Preprocess::whiten}) {
    const FeatureMap<double> old_map(before.z.cast<double>(), how);
    const FeatureMap<double> new_map(after.z.cast<double>(), how);
    Matrix<double> w2, b2;
    new_map.carry_over(old_map, w, b, w2, b2);
    const Matrix<double> probe = after.z.cast<double>();
    const Matrix<double> y_old = (w * old_map(probe)).colwise() + b.col(0);
    const Matrix<double> y_new = (w2 * new_map(probe)).colwise() + b2.col(0);
    INFO(to_string(how));
    CHECK((y_old - y_new).cwiseAbs().maxCoeff() < 1e-9);
  }
}

TEST_CASE("whitening keeps what varies independently and drops the rest", "[info][preprocess]") {
  // Units: a, b, a + b, a constant and a again: two directions of variance.
  Engine engine = Rng{18}.engine(Stream::data);
  Matrix<double> z(5, 300);
  for (Index j = 0; j < z.cols(); ++j) {
    const double a = engine.normal(), b = 3 * engine.normal() + 1;
    z.col(j) << a, b, a + b, 2.5, a;
  }
  const FeatureMap<double> map(z, Preprocess::whiten);
  REQUIRE(map.inputs() == 5);
  REQUIRE(map.outputs() == 2);
  const Matrix<double> mapped = map(z);
  const Matrix<double> centred = mapped.colwise() - mapped.rowwise().mean();
  const Matrix<double> covariance = centred * centred.transpose() / static_cast<double>(z.cols());
  CHECK((covariance - Matrix<double>::Identity(2, 2)).cwiseAbs().maxCoeff() < 1e-9);
  // A warm start through this map still computes the same function of all five units.
  const FeatureMap<double> other(z.leftCols(200), Preprocess::whiten);
  const Matrix<double> w = Matrix<double>::Random(3, other.outputs()),
                       b = Matrix<double>::Zero(3, 1);
  Matrix<double> w2, b2;
  map.carry_over(other, w, b, w2, b2);
  const Matrix<double> y_old = (w * other(z)).colwise() + b.col(0);
  const Matrix<double> y_new = (w2 * mapped).colwise() + b2.col(0);
  CHECK((y_old - y_new).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("whitening keeps a small independent unit beside large redundant ones",
          "[info][preprocess]") {
  // Units a, 10 a and 0.1 c: the redundant 10 a has the largest variance and a the second, so a
  // factorisation that picked its pivots by the units' own variances would stop at a (nothing
  // left once 10 a is known) and lose c, the only other thing the features say.
  Engine engine = Rng{19}.engine(Stream::data);
  Matrix<double> z(3, 500);
  for (Index j = 0; j < z.cols(); ++j) {
    const double a = engine.normal(), c = engine.normal();
    z.col(j) << a, 10 * a, 0.1 * c;
  }
  const FeatureMap<double> map(z, Preprocess::whiten);
  REQUIRE(map.outputs() == 2);
  const Matrix<double> mapped = map(z);
  const Matrix<double> covariance = mapped * mapped.transpose() / static_cast<double>(z.cols());
  CHECK((covariance - Matrix<double>::Identity(2, 2)).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("a constant representation holds no usable information, and says so",
          "[info][preprocess]") {
  // A layer whose units are all dead: nothing to whiten. The decoders fall back to the labels'
  // marginal (about 0 bits) instead of failing on a map scaled by 1 / sqrt(0).
  for (const float value : {0.0f, 0.5f}) {
    const Matrix<float> z = Matrix<float>::Constant(3, 200, value);
    const Matrix<float> z_test = Matrix<float>::Constant(3, 100, value);
    std::vector<Label> y(200), y_test(100);
    for (std::size_t j = 0; j < y.size(); ++j) y[j] = static_cast<Label>(j % 2);
    for (std::size_t j = 0; j < y_test.size(); ++j) y_test[j] = static_cast<Label>(j % 2);
    LinearDecoder<float> linear;
    MlpDecoder<float> mlp({.max_epochs = 5});
    INFO("value " << value);
    const UsableInformation a = usable_information(z, y, z_test, y_test, linear);
    const UsableInformation b = usable_information(z, y, z_test, y_test, mlp);
    CHECK(std::abs(a.bits) < 0.01);
    CHECK(std::abs(b.bits) < 0.01);
  }
}

TEST_CASE("features too large to rescale are refused with a hint", "[info][preprocess]") {
  Matrix<double> huge = Matrix<double>::Random(3, 50) * 1e200;
  for (const Preprocess how : {Preprocess::standardize, Preprocess::whiten}) {
    CHECK_THROWS_WITH(FeatureMap<double>(huge, how),
                      Contains("too large to " + to_string(how)) && Contains("diverged"));
  }
  CHECK_NOTHROW(FeatureMap<double>(huge, Preprocess::none));
}

// --- Probing a network's layers -----------------------------------------------------------------

TEST_CASE("LayerProbe measures what each layer keeps, from warm decoders", "[info][probe]") {
  // Layer 2 keeps tanh(x0) and a constant: it knows the sign of x0, nothing of x1's.
  using Net = Sequential<float, Input<2>, Dense<2>, Tanh>;
  Net net{Rng{1}};
  net.layer<1>().weight().value << 1, 0, 0, 0;
  net.layer<1>().bias().value.setZero();
  Engine engine = Rng{16}.engine(Stream::data);
  auto draw_inputs = [&](Index n) {
    Matrix<float> x(2, n);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(engine.normal());
    return x;
  };
  const Matrix<float> x_train = draw_inputs(2000), x_test = draw_inputs(2000);
  auto sign_of = [](const Matrix<float>& x, Index row) {
    std::vector<Label> y(static_cast<std::size_t>(x.cols()));
    for (Index j = 0; j < x.cols(); ++j) y[static_cast<std::size_t>(j)] = x(row, j) > 0;
    return y;
  };
  LayerProbe<Net, 0, 2> probe(x_train, x_test,
                              {{"x0", sign_of(x_train, 0), sign_of(x_test, 0), 2},
                               {"x1", sign_of(x_train, 1), sign_of(x_test, 1), 2}},
                              {.seed = 3});
  const auto first = probe.measure(net);
  REQUIRE(first.size() == 4);  // layers x labels x one decoder family, in that order
  const std::size_t layers[] = {0, 0, 2, 2};
  const char* labels[] = {"x0", "x1", "x0", "x1"};
  for (std::size_t i = 0; i < 4; ++i) {
    INFO(i << ": layer " << first[i].layer << " " << first[i].label << " " << first[i].info.bits
           << " bits");
    CHECK(first[i].layer == layers[i]);
    CHECK(first[i].label == labels[i]);
    CHECK(first[i].units == 2);
    CHECK(first[i].decoder == DecoderFamily::linear);
    // A sign is a bit; the linear decoder gets most of it from a clean coordinate.
    CHECK((first[i].info.bits > 0.6) == (i != 3));
  }
  CHECK(std::abs(first[3].info.bits) < 0.01);
  const auto again = probe.measure(net);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(again[i].info.iterations <= 1);
    CHECK(again[i].info.bits == Approx(first[i].info.bits).margin(1e-4));
  }
}

TEST_CASE("LayerProbe's shared feature layout gives what one decoder per label gives",
          "[info][probe]") {
  using Net = Sequential<float, Input<3>, Dense<8>, Tanh>;
  Net net{Rng{4}};
  Engine engine = Rng{17}.engine(Stream::data);
  auto draw = [&](Index n) {
    Matrix<float> x(3, n);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(engine.normal());
    std::vector<Label> a(static_cast<std::size_t>(n)), b(a.size()), c(a.size());
    for (Index j = 0; j < n; ++j) {
      const auto k = static_cast<std::size_t>(j);
      a[k] = x(0, j) > 0;
      b[k] = x(1, j) + x(2, j) > 0.5f;
      c[k] = static_cast<Label>((x(2, j) > 0) + (x(0, j) > 1));
    }
    return std::tuple{x, a, b, c};
  };
  const auto [x_train, a_train, b_train, c_train] = draw(500);
  const auto [x_test, a_test, b_test, c_test] = draw(400);
  LayerProbe<Net, 0, 2> probe(
      x_train, x_test,
      {{"a", a_train, a_test, 2}, {"b", b_train, b_test, 2}, {"c", c_train, c_test, 3}},
      {.linear = {.l2 = 1e-3}, .seed = 5});
  // One decoder per (layer, label), each fitted alone, kept warm across measurements like the
  // probe's.
  std::vector<LinearDecoder<float>> alone(6, LinearDecoder<float>({.l2 = 1e-3}));
  const std::vector<Label>* train_labels[] = {&a_train, &b_train, &c_train};
  const std::vector<Label>* test_labels[] = {&a_test, &b_test, &c_test};
  for (int round = 0; round < 2; ++round) {
    const auto measured = probe.measure(net);
    REQUIRE(measured.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
      const bool input_layer = i < 3;
      net.forward(x_train);
      const Matrix<float> z_train = input_layer ? x_train : Matrix<float>(net.output<2>());
      net.forward(x_test);
      const Matrix<float> z_test = input_layer ? x_test : Matrix<float>(net.output<2>());
      const UsableInformation expected = usable_information(
          z_train, *train_labels[i % 3], z_test, *test_labels[i % 3], alone[i], {.seed = 5});
      INFO("round " << round << ", measurement " << i);
      CHECK(measured[i].info.bits == expected.bits);
      CHECK(measured[i].info.iterations == expected.iterations);
    }
    net.layer<1>().weight().value *= 1.5f;  // the representation moves: warm starts next round
  }
}

TEST_CASE("decoders refuse labels that do not match their features", "[info][decoder]") {
  const Matrix<float> z = Matrix<float>::Random(3, 40);
  LinearDecoder<float> decoder;
  const LinearFeatures<float> features = decoder.prepare(z);
  const std::vector<Label> short_labels(39), bad_label(40, 2);
  CHECK_THROWS_WITH(decoder.fit(features, short_labels, 2, 0),
                    Contains("39 labels for 40 samples; expected one label per sample"));
  CHECK_THROWS_WITH(decoder.fit(z, bad_label, 2, 0),
                    Contains("has label 2 at sample 0, out of range for 2 classes"));
  MlpDecoder<float> mlp;
  CHECK_THROWS_WITH(mlp.fit(z, short_labels, 2, 0),
                    Contains("MlpDecoder::fit: 39 labels for 40 samples"));
}

TEST_CASE("LayerProbe refuses labels that do not match its samples", "[info][probe]") {
  using Net = Sequential<float, Input<2>, Dense<2>, Tanh>;
  const Matrix<float> x = Matrix<float>::Zero(2, 10);
  const std::vector<Label> ten(10), nine(9);
  CHECK_THROWS_WITH(
      (LayerProbe<Net, 2>(x, x, {{"y", ten, nine, 2}})),
      Contains("label 'y' has 10 training and 9 held-out values; expected 10 and 10"));
  CHECK_THROWS_WITH((LayerProbe<Net, 2>(x, x, {})), Contains("no labels"));
  std::vector<Label> three = ten;
  three[4] = 3;
  CHECK_THROWS_WITH((LayerProbe<Net, 2>(x, x, {{"y", ten, three, 2}})),
                    Contains("label 'y' (held-out split) has label 3 at sample 4") &&
                        Contains("out of range for 2 classes"));
  LayerProbe<Net, 2> counted(x, x, {{"y", ten, three}});
  CHECK(counted.labels()[0].classes == 4);
  CHECK_THROWS_WITH(decoder_family_named("svm"),
                    Contains("expected linear, mlp, authors or authors-linear"));
}

TEST_CASE("LayerProbe names the layer whose output is not finite", "[info][probe]") {
  using Net = Sequential<float, Input<2>, Dense<3>, Relu, Dense<2>, Tanh>;
  Net net{Rng{1}};
  Matrix<float> x(2, 20);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) - 3.0f;
  std::vector<Label> y(20);
  for (std::size_t j = 0; j < y.size(); ++j) y[j] = static_cast<Label>(j % 2);
  LayerProbe<Net, 2, 4> probe(x, x, {{"y", y, y, 2}});
  CHECK(probe.measure(net).size() == 2);
  net.layer<3>().weight().value(1, 2) = std::numeric_limits<float>::infinity();  // a diverged net
  CHECK_THROWS_AS(probe.measure(net), NonFiniteValue);
  CHECK_THROWS_WITH(probe.measure(net),
                    Contains("LayerProbe: layer 4's output on the probe's training samples"));
}
