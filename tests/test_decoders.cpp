// The decoders' choices made from the data, against answers known in advance: the L2 penalty of
// the linear decoder (evidence, approximate leave-one-out, k-fold cross-validation) against the
// penalty that predicts held-out samples best, the leave-one-out shortcut against refitting, the
// finite-sample correction against Shannon's I(Z;Y), the MLP decoder's warm start on a layer that
// moved, its width, and the authors' decoder protocol.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "uinfo/data/synthetic.hpp"
#include "uinfo/info/layer_probe.hpp"
#include "uinfo/info/learning_curve.hpp"
#include "uinfo/info/usable_information.hpp"
#include "uinfo/layers/relu.hpp"

#include "mixture.hpp"

using namespace uinfo;
using namespace uinfo::testing;
using Catch::Contains;

namespace {

// The held-out estimate of a decoder with a fixed penalty.
double bits_with_l2(const Sample& train, const Sample& test, double l2) {
  LinearDecoder<float> decoder({.l2 = l2});
  return usable_information(train.z, train.y, test.z, test.y, decoder).bits;
}

// The best held-out estimate over the penalty grid 10^(k / 4): the oracle a criterion aims at.
double best_on_grid(const Sample& train, const Sample& test) {
  double best = -1e9;
  for (int k = -28; k <= 4; ++k)
    best = std::max(best, bits_with_l2(train, test, std::pow(10.0, k / 4.0)));
  return best;
}

}  // namespace

TEST_CASE("the objective over a shuffled layout and a subset of panels is that of those samples",
          "[info][l2]") {
  for (const Index classes : {Index{2}, Index{5}}) {
    INFO(classes << " classes");
    Engine engine = Rng{31}.engine(Stream::data);
    const Mixture m = random_mixture(7, classes, 0.5, engine);
    const Sample s = draw(m, 100, engine);  // 7 panels of 16, the last one padded
    std::vector<Index> order(100);
    for (Index j = 0; j < 100; ++j) order[static_cast<std::size_t>(j)] = (j * 37) % 100;
    simd::SamplePanels<float> panels;
    panels.assign(s.z, order);
    simd::SoftmaxRegression<float> problem(panels, s.y, classes);
    const Matrix<float> w =
        0.3f * Matrix<float>::Ones(classes, 7).cwiseProduct(Matrix<float>::Random(classes, 7));
    const Matrix<float> b = Matrix<float>::Random(classes, 1);
    // The expected loss of the samples in panels 1, 2 and 6 (layout positions 16..47, 96..99).
    std::vector<Index> chosen;
    for (Index j = 16; j < 48; ++j) chosen.push_back(order[static_cast<std::size_t>(j)]);
    for (Index j = 96; j < 100; ++j) chosen.push_back(order[static_cast<std::size_t>(j)]);
    const auto [x, y] = detail::take_samples(s.z, s.y, chosen);
    Matrix<float> logits = w * x;
    logits.colwise() += b.col(0);
    Matrix<float> gradient(classes, x.cols());
    const double expected = SoftmaxCrossEntropy::value_and_gradient<float>(
        logits, y, MatrixView<float>(gradient.data(), classes, x.cols()));
    const std::vector<Index> subset{1, 2, 6};
    problem.use_panels(subset);
    CHECK(problem.samples() == 36);
    Matrix<float> dw, db;
    CHECK(problem.loss_and_gradient(w, b, dw, db) == Approx(expected).epsilon(1e-5));
    CHECK((dw - gradient * x.transpose()).cwiseAbs().maxCoeff() < 1e-5);
    problem.use_panels({});
    CHECK(problem.samples() == 100);
  }
}

TEST_CASE("approximate leave-one-out is within 1e-3 nats of refitting without each sample",
          "[info][l2]") {
  Engine engine = Rng{32}.engine(Stream::data);
  const Mixture m = random_mixture(5, 2, 0.4, engine);
  const Sample s = draw(m, 200, engine);
  for (const double l2 : {1e-3, 3e-2}) {
    LinearDecoder<double> full({.l2 = l2, .lbfgs = {.gradient_tolerance = 1e-10}});
    const LinearFeatures<double> features = full.prepare(s.z.cast<double>());
    full.fit(features, s.y, 2, 0);
    const auto& dense = full.network()->layer<1>();
    const Vector<double> beta =
        (dense.weight().value.row(1) - dense.weight().value.row(0)).transpose();
    const double loo = detail::binary_leave_one_out_loss<double>(
        features.x, s.y, beta, dense.bias().value(1, 0) - dense.bias().value(0, 0), l2);
    double refitted = 0;
    for (Index i = 0; i < 200; ++i) {
      Matrix<double> x(features.x.rows(), 199);
      std::vector<Label> y;
      for (Index j = 0, k = 0; j < 200; ++j) {
        if (j == i) continue;
        x.col(k++) = features.x.col(j);
        y.push_back(s.y[static_cast<std::size_t>(j)]);
      }
      // The same sum penalty n l2 / 2 on 199 samples' sum of losses.
      LinearDecoder<double> without({.l2 = l2 * 200 / 199,
                                     .preprocess = Preprocess::none,
                                     .lbfgs = {.gradient_tolerance = 1e-10}});
      without.fit(x, y, 2, 0);
      Matrix<double> log_p(2, 1);
      without.log_probabilities(features.x.col(i), MatrixView<double>(log_p.data(), 2, 1));
      refitted -= log_p(s.y[static_cast<std::size_t>(i)], 0) / 200;
    }
    INFO("l2 " << l2 << ": approximate " << loo << ", refitted " << refitted);
    CHECK(std::abs(loo - refitted) < 1e-3);
  }
}

TEST_CASE(
    "every criterion chooses a penalty that predicts held-out samples nearly as well as the "
    "best one",
    "[info][l2]") {
  // 64 features and 500 samples: barely penalised, the decoder overfits by 0.3 bits.
  Engine engine = Rng{33}.engine(Stream::data);
  const Mixture binary = random_mixture(64, 2, 0.2, engine);
  const Sample train = draw(binary, 500, engine), test = draw(binary, 5000, engine);
  const double oracle = best_on_grid(train, test);
  const double unpenalised = bits_with_l2(train, test, 1e-7);
  INFO("best on the grid " << oracle << ", l2 1e-7 " << unpenalised);
  CHECK(unpenalised < oracle - 0.1);
  for (const L2Choice choice : {L2Choice::automatic, L2Choice::evidence, L2Choice::leave_one_out,
                                L2Choice::cross_validation}) {
    LinearDecoder<float> decoder({.search = {.choice = choice}});
    const auto info = usable_information(train.z, train.y, test.z, test.y, decoder);
    INFO(to_string(choice) << ": l2 " << info.l2 << " (" << info.l2_selection << "), "
                           << info.bits);
    CHECK(info.bits > oracle - 0.015);
    CHECK(info.l2 > 1e-3);
  }
  CHECK(LinearDecoder<float>{}.name() == "linear");
  // Ten classes: cross-validation; the two-class criteria refuse.
  const Mixture ten = random_mixture(30, 10, 0.35, engine);
  const Sample train10 = draw(ten, 600, engine), test10 = draw(ten, 5000, engine);
  LinearDecoder<float> decoder;
  const auto info = usable_information(train10.z, train10.y, test10.z, test10.y, decoder);
  const double oracle10 = best_on_grid(train10, test10);
  INFO("10 classes: chosen l2 " << info.l2 << ", " << info.bits << "; best " << oracle10);
  CHECK(info.l2_selection == "5-fold");
  CHECK(info.bits > oracle10 - 0.02);
  LinearDecoder<float> evidence({.search = {.choice = L2Choice::evidence}});
  CHECK_THROWS_WITH(usable_information(train10.z, train10.y, test10.z, test10.y, evidence),
                    Contains("evidence criterion serves two classes") && Contains("10"));
  CHECK_THROWS_WITH(LinearDecoder<float>({.search = {.folds = 1}}), Contains("folds is 1"));
}

TEST_CASE("the grid search walks to the minimum and refines it by a parabola", "[info][l2]") {
  // A criterion with its minimum at 10^-2.2, between grid points 10^-2 and 10^-2.5.
  int calls = 0;
  const auto criterion = [&](double l2) {
    ++calls;
    const double x = std::log10(l2) + 2.2;
    return x * x;
  };
  const auto minimum = detail::minimize_on_log_grid(criterion, {.start = 1e-5});
  CHECK(minimum.best == Approx(1e-2));
  CHECK(std::log10(minimum.refined) == Approx(-2.2).margin(1e-9));  // exact for a parabola
  CHECK(minimum.evaluations == calls);
  CHECK(calls == 9);  // 1e-5 and its lower neighbour, then up to 10^-1.5
  // Still falling at the bound: the bound.
  const auto at_bound =
      detail::minimize_on_log_grid([](double l2) { return -l2; }, {.largest = 10, .start = 1});
  CHECK(at_bound.best == Approx(10));
}

TEST_CASE("the finite-sample correction recovers most of what a small training split loses",
          "[info][curve]") {
  // 10 classes in 30-D from 800 samples: the plain estimate falls short of Shannon's value by
  // a tenth of a bit or more; the extrapolation to unlimited samples recovers most of it.
  Engine engine = Rng{34}.engine(Stream::data);
  const Mixture m = random_mixture(30, 10, 0.3, engine);
  const Sample train = draw(m, 800, engine), test = draw(m, 5000, engine);
  const double shannon = shannon_bits_on(m, test);
  const auto curve = usable_information_curve(train.z, train.y, test.z, test.y,
                                              LinearDecoder<float>{}, {.info = {.seed = 3}});
  REQUIRE(curve.points.size() == 4);
  CHECK(curve.points.front().n_train == 100);
  CHECK(curve.points.back().n_train == 800);
  CHECK(curve.points.front().fits.size() == 3);
  CHECK(curve.points.back().fits.size() == 1);
  for (std::size_t i = 1; i < curve.points.size(); ++i) {
    CHECK(curve.points[i].mean_bits > curve.points[i - 1].mean_bits);
  }
  const auto& c = curve.corrected;
  // With the default sizes, Richardson's extrapolation from n / 2 and n.
  CHECK(c.bits == Approx(2 * curve.points[3].mean_bits - curve.points[2].mean_bits).margin(1e-12));
  CHECK(c.plain_bits == curve.points.back().mean_bits);
  INFO("Shannon " << shannon << ", plain " << c.plain_bits << ", corrected " << c.bits << " +- "
                  << c.standard_error_bits);
  CHECK(shannon - c.plain_bits > 0.1);
  CHECK(std::abs(c.bits - shannon) < 0.4 * (shannon - c.plain_bits));
  CHECK(c.standard_error_bits > curve.points.back().fits.front().standard_error_bits);
  CHECK(c.standard_error_bits < 0.05);
  CHECK_THROWS_WITH(usable_information_curve(train.z, train.y, test.z, test.y,
                                             LinearDecoder<float>{}, {.fractions = {0.5, 0.9}}),
                    Contains("end at 1"));
}

TEST_CASE("a warm MLP decoder on a layer that moved reads no less than a fresh one would start at",
          "[info][decoder]") {
  // The layer's units first vary by 0.001, then by 1 (1000 times more) with the labels' relation
  // to them reversed: the previous weights, carried over to the raw values as they were, gave
  // logits a thousand times too large and wrong (-1.5 bits on Fashion-MNIST's 8-unit layer).
  Engine engine = Rng{35}.engine(Stream::data);
  const auto before = make_xor<float>(1500, 0.2, engine);
  const auto after_train = make_xor<float>(1500, 0.2, engine);
  const auto after_test = make_xor<float>(1500, 0.2, engine);
  const auto flipped = [](std::vector<Label> y) {
    for (Label& v : y) v = 1 - v;
    return y;
  };
  MlpDecoder<float> warm;
  const Matrix<float> small = 0.001f * before.x;
  usable_information(small, before.labels, small, before.labels, warm);
  const auto moved = usable_information(after_train.x, flipped(after_train.labels), after_test.x,
                                        flipped(after_test.labels), warm);
  MlpDecoder<float> fresh;
  const auto from_scratch = usable_information(after_train.x, flipped(after_train.labels),
                                               after_test.x, flipped(after_test.labels), fresh);
  INFO("warm " << moved.bits << ", fresh " << from_scratch.bits);
  CHECK(moved.bits > 0.9);
  CHECK(moved.bits == Approx(from_scratch.bits).margin(0.05));
  // Probed again without a change, the warm start is kept and stops early.
  const auto again = usable_information(after_train.x, flipped(after_train.labels), after_test.x,
                                        flipped(after_test.labels), warm);
  CHECK(again.bits == Approx(moved.bits).margin(0.02));
  CHECK(again.iterations < moved.iterations);
}

TEST_CASE("the MLP decoder keeps the width with the lowest validation loss", "[info][decoder]") {
  Engine engine = Rng{36}.engine(Stream::data);
  const auto train = make_xor<float>(1500, 0.2, engine), test = make_xor<float>(1500, 0.2, engine);
  MlpDecoder<float> decoder({.width_choices = {1, 32}});
  CHECK(decoder.name() == "mlp(1)");
  const auto info = usable_information(train.x, train.labels, test.x, test.labels, decoder);
  INFO(info.decoder << ": " << info.bits << ", kept epoch " << info.kept_epoch);
  CHECK(info.decoder == "mlp(32)");  // one ReLU unit cannot tell XOR's quadrants apart
  CHECK(info.bits > 0.9);
  CHECK(info.kept_epoch > 0);
  CHECK(info.kept_epoch <= info.iterations);
  CHECK_THROWS_WITH(MlpDecoder<float>({.width_choices = {0}}), Contains("positive widths"));
}

TEST_CASE("the authors' decoder protocol: their split, their network, their formula",
          "[info][authors]") {
  // numpy's RandomState(42).permutation, as scikit-learn's train_test_split(test_size=0.75,
  // random_state=42) uses it (values printed by scikit-learn 1.2).
  const SampleSplit ten = authors_split(10);
  CHECK(ten.test == std::vector<Index>{8, 1, 5, 0, 7, 2, 9, 4});
  CHECK(ten.train == std::vector<Index>{3, 6});
  const SampleSplit many = authors_split(2800);
  CHECK(many.test.size() == 2100);
  CHECK(many.train.size() == 700);
  CHECK(std::vector<Index>(many.test.begin(), many.test.begin() + 3) ==
        std::vector<Index>{1088, 772, 2161});
  CHECK(std::vector<Index>(many.train.begin(), many.train.begin() + 2) ==
        std::vector<Index>{1489, 2564});
  CHECK(authors_bits(std::log(2.0)) == Approx(0.00187).margin(1e-5));  // 1 - 1.44 ln 2

  // Two Gaussian classes in 4-D, split their way: both variants recover Shannon's value, as the
  // Bayes posterior is logistic in z; raw features, so the decoder's name says which.
  Engine engine = Rng{37}.engine(Stream::data);
  const Mixture m = random_mixture(4, 2, 0.6, engine);
  const Sample all = draw(m, 2000, engine);
  const SampleSplit split = authors_split(2000);
  const auto [z_train, y_train] = detail::take_samples(all.z, all.y, split.train);
  const auto [z_test, y_test] = detail::take_samples(all.z, all.y, split.test);
  const double shannon = shannon_bits_on(m, {z_test, y_test});
  for (const bool linear : {false, true}) {
    AuthorsDecoder<float> decoder({.linear = linear});
    const auto info = usable_information(z_train, y_train, z_test, y_test, decoder);
    INFO(info.decoder << ": " << info.bits << " (their formula "
                      << authors_bits(info.ce_bits / bits_per_nat) << "), Shannon " << shannon);
    CHECK(info.decoder == (linear ? "authors-linear" : "authors-mlp"));
    CHECK(info.n_train == 500);
    CHECK(info.iterations == 3000);
    CHECK(std::abs(info.bits - shannon) < 0.05);
    CHECK(authors_bits(info.ce_bits / bits_per_nat) ==
          Approx(1 - 1.44 * info.ce_bits / bits_per_nat));
  }
  // XOR: only the nonlinear variant reads it.
  const auto xor_train = make_xor<float>(500, 0.2, engine),
             xor_test = make_xor<float>(1500, 0.2, engine);
  AuthorsDecoder<float> mlp, linear({.linear = true});
  CHECK(usable_information(xor_train.x, xor_train.labels, xor_test.x, xor_test.labels, mlp).bits >
        0.9);
  CHECK(
      usable_information(xor_train.x, xor_train.labels, xor_test.x, xor_test.labels, linear).bits <
      0.05);
  // Three classes take three logits and the softmax; the probabilities are normalised.
  const Mixture three = random_mixture(3, 3, 1.0, engine);
  const Sample train3 = draw(three, 300, engine), test3 = draw(three, 300, engine);
  AuthorsDecoder<float> softmax({.iterations = 500});
  const auto info3 = usable_information(train3.z, train3.y, test3.z, test3.y, softmax);
  CHECK(info3.bits > 0.3);
  Matrix<float> log_p(3, 300);
  softmax.log_probabilities(test3.z, MatrixView<float>(log_p.data(), 3, 300));
  CHECK((log_p.array().exp().colwise().sum() - 1).abs().maxCoeff() < 1e-5);
}

TEST_CASE("LayerProbe fits the authors' decoder where a family is named", "[info][probe]") {
  using Net = Sequential<float, Input<2>, Dense<8>, Relu, Dense<2>>;
  Engine engine = Rng{38}.engine(Stream::data);
  const auto train = make_xor<float>(300, 0.2, engine), test = make_xor<float>(300, 0.2, engine);
  Net net{Rng{1}};
  LayerProbe<Net, 0> probe(
      train.x, test.x, {{"xor", train.labels, test.labels, 2}},
      {.decoders = {decoder_family_named("authors"), decoder_family_named("authors-linear")},
       .authors = {.iterations = 1000}});
  const auto measured = probe.measure(net);
  REQUIRE(measured.size() == 2);
  CHECK(measured[0].decoder == DecoderFamily::authors);
  CHECK(measured[0].info.decoder == "authors-mlp");
  CHECK(measured[1].info.decoder == "authors-linear");
  CHECK(measured[0].info.bits > 0.8);
  CHECK(measured[1].info.bits < 0.05);
}
