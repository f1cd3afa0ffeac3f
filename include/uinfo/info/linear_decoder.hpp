// The linear decoder: multinomial logistic regression, softmax(W z + b), on features mapped by a
// FeatureMap (whitened by default), fitted by full-batch L-BFGS with an L2 penalty on W that is
// chosen from the training data (l2_selection.hpp) unless it is given.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/scratch.hpp"
#include "uinfo/info/decoder_base.hpp"
#include "uinfo/info/l2_selection.hpp"
#include "uinfo/info/preprocess.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/net/parameter_vector.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/lbfgs.hpp"
#include "uinfo/simd/softmax_regression.hpp"

namespace uinfo {

// What a linear decoder trains on, prepared once per representation: the feature map fitted to
// the training features, the mapped features, and the same laid out for the fused objective in a
// shuffled order (cross-validation folds are runs of its panels). Decoders of the same
// representation for different labels share it.
template <Scalar S>
struct LinearFeatures {
  FeatureMap<S> map;
  Matrix<S> x;  // map(z), features x samples, in z's order
  simd::SamplePanels<S> mapped;
};

// Multinomial logistic regression fitted to convergence by full-batch L-BFGS on the mean
// cross-entropy plus (l2 / 2) ||W||^2: the convex problem scikit-learn's LogisticRegression(C)
// solves, with l2 = 1 / (C n). Without a fixed l2, the penalty is chosen on the training samples
// by approximate leave-one-out (two classes) or k-fold cross-validation, and reported with the fit.
//
// The network's weights act on the mapped features A (z - mean); to score other samples, the map
// is folded into them (W A), which costs classes x outputs x inputs instead of outputs x inputs x
// samples.
template <Scalar S = float>
class LinearDecoder {
 public:
  using scalar_type = S;
  using Network = Sequential<S, Input<dynamic>, Dense<dynamic>>;
  struct Options {
    std::optional<double> l2{};  // a fixed penalty; empty: chosen from the data by `search`
    L2Search search{};
    Preprocess preprocess = Preprocess::whiten;
    LbfgsOptions lbfgs{};
    bool warm_start = true;  // also: the next search starts at the penalty this one chose
  };

  LinearDecoder() = default;
  explicit LinearDecoder(Options options) : options_(std::move(options)) {
    if (options_.l2) {
      require_option(*options_.l2 >= 0, "LinearDecoder: l2 is " + std::to_string(*options_.l2) +
                                            "; expected at least 0");
    } else {
      detail::require_search(options_.search);
    }
  }

  std::string name() const { return "linear"; }
  const std::optional<Network>& network() const { return net_; }

  // Fits the feature map to z and lays out the mapped features in `features`, in the storage it
  // already has: a probe of the same layer does not allocate (and page-fault in) them again. The
  // seed orders the layout (the folds of cross-validation).
  void prepare(const Matrix<S>& z, LinearFeatures<S>& features, std::uint64_t seed = 0) const {
    features.map = FeatureMap<S>(z, options_.preprocess);
    features.x = features.map(z);
    const std::vector<Index> order = detail::shuffled_indices(z.cols(), seed);
    features.mapped.assign(features.x, order);
  }
  LinearFeatures<S> prepare(const Matrix<S>& z, std::uint64_t seed = 0) const {
    LinearFeatures<S> features;
    prepare(z, features, seed);
    return features;
  }

  DecoderFit fit(const Matrix<S>& z, std::span<const Label> labels, Index classes,
                 std::uint64_t seed) {
    prepare(z, features_.value, seed);
    return fit(features_.value, labels, classes, seed);
  }

  DecoderFit fit(const LinearFeatures<S>& features, std::span<const Label> labels, Index classes,
                 std::uint64_t seed) {
    detail::require_fit_labels(labels, features.mapped.samples(), classes, "LinearDecoder");
    const FeatureMap<S>& map = features.map;
    simd::SoftmaxRegression<S> problem(features.mapped, labels, classes);
    Network next(Rng{seed}, typename Network::RuntimeSizes{map.outputs(), classes});
    if (options_.warm_start && net_ && map_.inputs() == map.inputs() &&
        net_->layer_size(1) == classes) {
      detail::carry_over(*net_, map_, next, map);
    } else {
      next.for_each_parameter([](auto& p) { p.value.setZero(); });  // the uniform prediction
      last_l2_.reset();
    }
    net_ = std::move(next);
    map_ = map;
    Vector<double> w;
    copy_parameters_to(*net_, w);
    DecoderFit result;
    if (options_.l2) {
      result.l2 = *options_.l2;
      result.iterations = solve(problem, result.l2, w);
    } else if (uses(L2Choice::evidence, classes)) {
      result = choose_by_evidence(problem, features.x, labels, w);
    } else if (uses(L2Choice::leave_one_out, classes)) {
      result = choose_by_leave_one_out(problem, features.x, labels, w);
    } else if (features.mapped.count() >= 2) {
      result = choose_by_cross_validation(problem, features.mapped.count(), w);
    } else {  // a single panel of samples cannot be split into folds
      result.l2 = options_.search.largest;
      result.selection = "largest (too few samples for folds)";
      result.iterations = solve(problem, result.l2, w);
    }
    if (options_.warm_start && !options_.l2) last_l2_ = result.l2;
    copy_parameters_from(*net_, w);
    auto& dense = net_->template layer<1>();
    result.train_loss_nats = problem.loss_and_gradient(
        dense.weight().value, dense.bias().value, dense.weight().gradient, dense.bias().gradient);
    return result;
  }

  void log_probabilities(const Matrix<S>& z, MatrixView<S> out) {
    detail::require_fitted(net_.has_value(), "LinearDecoder");
    const auto& dense = net_->template layer<1>();
    const Matrix<S> w = dense.weight().value * map_.matrix().template cast<S>();
    Matrix<S> logits(w.rows(), z.cols());
    // A row at a time: a product with a few rows runs as dot products over the samples, where a
    // general product would first pack all of them.
    map_.for_each_centred_block(z, [&](Index first, const Matrix<S>& centred) {
      for (Index c = 0; c < w.rows(); ++c) {
        logits.row(c).segment(first, centred.cols()).noalias() = w.row(c) * centred;
      }
    });
    logits.colwise() += dense.bias().value.col(0);
    SoftmaxCrossEntropy::log_probabilities<S>(logits, out);
  }

 private:
  // Whether the search uses a two-class criterion (evidence: also the automatic choice for two
  // classes); those refuse other labels.
  bool uses(L2Choice criterion, Index classes) const {
    const L2Choice choice = options_.search.choice;
    if (choice == criterion && classes != 2) {
      throw InvalidArgument("uinfo::LinearDecoder::fit: the L2 penalty's " + to_string(criterion) +
                            " criterion serves two classes, and the labels name " +
                            std::to_string(classes) + "; use cross_validation");
    }
    return choice == criterion ||
           (criterion == L2Choice::evidence && choice == L2Choice::automatic && classes == 2);
  }

  // Where a search starts: the last one's answer, or the option's start.
  L2Search search_from_last() const {
    L2Search search = options_.search;
    if (last_l2_) search.start = *last_l2_;
    return search;
  }

  // L-BFGS on the objective at penalty l2 over the problem's samples, from and into w (the
  // network's parameters as one vector); returns the iterations.
  int solve(simd::SoftmaxRegression<S>& problem, double l2, Vector<double>& w,
            const LbfgsOptions* lbfgs = nullptr) {
    auto& dense = net_->template layer<1>();
    auto objective = [&](const Vector<double>& v, Vector<double>& gradient) {
      copy_parameters_from(*net_, v);
      const double loss = problem.loss_and_gradient(dense.weight().value, dense.bias().value,
                                                    dense.weight().gradient, dense.bias().gradient);
      const double penalty = detail::add_weight_penalty(*net_, l2);
      copy_parameters_to(*net_, gradient, /*gradients=*/true);
      return loss + penalty;
    };
    return minimize_lbfgs(objective, w, lbfgs ? *lbfgs : options_.lbfgs).iterations;
  }

  // Approximate leave-one-out along a path of penalties: each is fitted from the one before, and
  // the fit at the best is kept.
  DecoderFit choose_by_leave_one_out(simd::SoftmaxRegression<S>& problem, const Matrix<S>& x,
                                     std::span<const Label> labels, Vector<double>& w) {
    DecoderFit result{.selection = "loo"};
    const auto& dense = net_->template layer<1>();
    Vector<double> best_w = w;
    double best_loss = std::numeric_limits<double>::infinity();
    const auto criterion = [&](double l2) {
      result.iterations += solve(problem, l2, w);
      copy_parameters_from(*net_, w);
      const Matrix<S>& weight = dense.weight().value;
      const double loss = detail::binary_leave_one_out_loss<S>(
          x, labels, (weight.row(1) - weight.row(0)).transpose().template cast<double>(),
          static_cast<double>(dense.bias().value(1, 0) - dense.bias().value(0, 0)), l2);
      if (loss < best_loss) {
        best_loss = loss;
        best_w = w;
      }
      return loss;
    };
    result.l2 = detail::minimize_on_log_grid(criterion, search_from_last()).best;
    w = best_w;
    return result;
  }

  // MacKay's fixed point: fit, move the penalty to gamma / (n |W|^2), until it moves by less than
  // a quarter decade (at most 8 fits), keeping the last fit; the largest penalty (the labels'
  // marginal, nearly) if the model without features has the larger evidence there.
  DecoderFit choose_by_evidence(simd::SoftmaxRegression<S>& problem, const Matrix<S>& x,
                                std::span<const Label> labels, Vector<double>& w) {
    const L2Search search = search_from_last();
    DecoderFit result{.l2 = std::clamp(search.start, search.smallest, search.largest),
                      .selection = "evidence"};
    const auto& dense = net_->template layer<1>();
    for (int round = 0;; ++round) {
      result.iterations += solve(problem, result.l2, w);
      if (round == 7) break;
      copy_parameters_from(*net_, w);
      const Matrix<S>& weight = dense.weight().value;
      const detail::EvidenceStep step = detail::binary_evidence_step<S>(
          x, labels, (weight.row(1) - weight.row(0)).transpose().template cast<double>(),
          static_cast<double>(dense.bias().value(1, 0) - dense.bias().value(0, 0)), result.l2);
      const double next = std::clamp(step.next_l2, search.smallest, search.largest);
      if (std::abs(std::log10(next / result.l2)) <= 0.25) {
        if (step.log_evidence_gain < 0 && result.l2 < search.largest) {
          result.l2 = search.largest;
          result.iterations += solve(problem, result.l2, w);
        }
        break;
      }
      result.l2 = next;
    }
    return result;
  }

  // k-fold cross-validation along a path of penalties, the folds being runs of the layout's
  // (shuffled) panels: each fold's fit starts from the fit to all samples at the first penalty,
  // then from its own fit at the penalty before. The decoder is then fitted to all samples at the
  // minimum.
  DecoderFit choose_by_cross_validation(simd::SoftmaxRegression<S>& problem, Index panels,
                                        Vector<double>& w) {
    L2Search search = search_from_last();
    const Index folds = std::min<Index>(search.folds, panels);
    DecoderFit result{.l2 = std::clamp(search.start, search.smallest, search.largest),
                      .selection = std::to_string(folds) + "-fold"};
    result.iterations += solve(problem, result.l2, w);
    struct Fold {
      std::vector<Index> train, test;  // panels
      Vector<double> w;
    };
    std::vector<Fold> fits;
    for (Index f = 0; f < folds; ++f) {
      Fold fold{.train = {}, .test = {}, .w = w};
      const Index first = f * panels / folds, last = (f + 1) * panels / folds;
      for (Index p = 0; p < panels; ++p) {
        (p >= first && p < last ? fold.test : fold.train).push_back(p);
      }
      fits.push_back(std::move(fold));
    }
    LbfgsOptions fold_lbfgs = options_.lbfgs;
    fold_lbfgs.gradient_tolerance = std::max(fold_lbfgs.gradient_tolerance, search.fold_tolerance);
    auto& dense = net_->template layer<1>();
    const auto criterion = [&](double l2) {
      double total = 0;
      Index samples = 0;
      for (Fold& fold : fits) {
        problem.use_panels(fold.train);
        result.iterations += solve(problem, l2, fold.w, &fold_lbfgs);
        problem.use_panels(fold.test);
        copy_parameters_from(*net_, fold.w);
        total += problem.loss_and_gradient(dense.weight().value, dense.bias().value,
                                           dense.weight().gradient, dense.bias().gradient) *
                 static_cast<double>(problem.samples());
        samples += problem.samples();
      }
      return total / static_cast<double>(samples);
    };
    search.start = result.l2;
    const double best = detail::minimize_on_log_grid(criterion, search).refined;
    problem.use_panels({});
    if (best != result.l2) {
      result.l2 = best;
      result.iterations += solve(problem, result.l2, w);
    }
    return result;
  }

  Options options_;
  FeatureMap<S> map_;
  std::optional<Network> net_;
  std::optional<double> last_l2_;        // the last chosen penalty, where the next search starts
  Scratch<LinearFeatures<S>> features_;  // fit(z)'s, kept for their storage
};

}  // namespace uinfo
