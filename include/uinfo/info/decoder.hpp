// Decoders: the predictive families V of V-information (Xu et al. 2020). Each is a plain uinfo
// network, trained by uinfo's optimizers on a representation Z (features x samples) to predict a
// label; usable_information() then scores it on held-out samples.
//
// A decoder is a feature map (see preprocess.hpp), fitted to the training features, followed by a
// network. It keeps both between fits: when the same layer is probed
// again later in training, the map is refitted and the previous weights are carried over to the
// new coordinates (warm start), so the fit starts where the last one ended.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/scratch.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/info/entropy.hpp"
#include "uinfo/info/preprocess.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/parameter_vector.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/adam.hpp"
#include "uinfo/optim/lbfgs.hpp"
#include "uinfo/simd/softmax_regression.hpp"
#include "uinfo/train/fit.hpp"

namespace uinfo {

struct DecoderFit {
  int iterations;          // L-BFGS iterations or training epochs
  double train_loss_nats;  // mean cross-entropy on the data it was fitted to
};

template <class D>
concept Decoder = requires(D& decoder, const Matrix<typename D::scalar_type>& z,
                           std::span<const Label> labels, Index classes, std::uint64_t seed,
                           MatrixView<typename D::scalar_type> out) {
  { decoder.name() } -> std::convertible_to<std::string>;
  { decoder.fit(z, labels, classes, seed) } -> std::same_as<DecoderFit>;
  decoder.log_probabilities(z, out);  // classes x samples, natural log
};

namespace detail {
// Adds (l2 / 2) ||W||^2 over weight blocks (not biases, as scikit-learn) to a loss and l2 W to
// the gradients; returns the penalty.
template <class Net>
double add_weight_penalty(Net& net, double l2) {
  double penalty = 0;
  net.for_each_parameter([&](auto& p) {
    if (p.role != ParameterRole::weight || l2 == 0) return;
    using S = typename std::decay_t<decltype(p.value)>::Scalar;
    penalty += 0.5 * l2 * static_cast<double>(p.value.squaredNorm());
    p.gradient += static_cast<S>(l2) * p.value;
  });
  return penalty;
}

template <class Net>
void log_softmax_of(Net& net, const Matrix<typename Net::scalar_type>& features,
                    MatrixView<typename Net::scalar_type> out) {
  SoftmaxCrossEntropy::log_probabilities<typename Net::scalar_type>(net.forward(features), out);
}

// Moves a warm start into the coordinates of `map`: every parameter of `previous` is copied into
// `next` (built for map.outputs() inputs), the first Dense layer's through FeatureMap::carry_over.
template <class Net, class S>
void carry_over(const Net& previous, const FeatureMap<S>& previous_map, Net& next,
                const FeatureMap<S>& map) {
  std::vector<const Parameter<S>*> from;
  std::vector<Parameter<S>*> to;
  previous.for_each_parameter([&](const Parameter<S>& p) { from.push_back(&p); });
  next.for_each_parameter([&](Parameter<S>& p) { to.push_back(&p); });
  for (std::size_t i = 2; i < from.size(); ++i) to[i]->value = from[i]->value;  // after layer 1
  const auto& first = previous.template layer<1>();
  auto& next_first = next.template layer<1>();
  map.carry_over(previous_map, first.weight().value, first.bias().value, next_first.weight().value,
                 next_first.bias().value);
}

// A fit's labels: one per sample, each in [0, classes).
inline void require_fit_labels(std::span<const Label> labels, Index samples, Index classes,
                               const std::string& decoder) {
  if (std::ssize(labels) != samples) {
    throw InvalidArgument("uinfo::" + decoder + "::fit: " + std::to_string(labels.size()) +
                          " labels for " + std::to_string(samples) +
                          " samples; expected one label per sample");
  }
  require_labels_in_range(labels, classes, decoder + "::fit: the labels");
}

inline void require_fitted(bool fitted, const char* decoder) {
  if (!fitted) {
    throw InvalidArgument(std::string("uinfo::") + decoder +
                          "::log_probabilities: the decoder has not been fitted");
  }
}
}  // namespace detail

// What a linear decoder trains on, prepared once per representation: the feature map fitted to
// the training features, and the mapped features laid out for the fused objective. Decoders of the
// same representation for different labels can share it.
template <Scalar S>
struct LinearFeatures {
  FeatureMap<S> map;
  simd::SamplePanels<S> mapped;
};

// Multinomial logistic regression, softmax(W z + b), fitted to convergence by full-batch L-BFGS
// on the mean cross-entropy plus (l2 / 2) ||W||^2: the convex problem scikit-learn's
// LogisticRegression(C) solves, with l2 = 1 / (C n).
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
    double l2 = 1e-5;
    Preprocess preprocess = Preprocess::whiten;
    LbfgsOptions lbfgs{};
    bool warm_start = true;
  };

  LinearDecoder() = default;
  explicit LinearDecoder(Options options) : options_(std::move(options)) {}

  std::string name() const { return "linear"; }
  const std::optional<Network>& network() const { return net_; }

  // Fits the feature map to z and lays out the mapped features in `features`, in the storage it
  // already has: a probe of the same layer does not allocate (and page-fault in) the panels again.
  void prepare(const Matrix<S>& z, LinearFeatures<S>& features) const {
    features.map = FeatureMap<S>(z, options_.preprocess);
    features.mapped.assign(features.map(z));
  }
  LinearFeatures<S> prepare(const Matrix<S>& z) const {
    LinearFeatures<S> features;
    prepare(z, features);
    return features;
  }

  DecoderFit fit(const Matrix<S>& z, std::span<const Label> labels, Index classes,
                 std::uint64_t seed) {
    prepare(z, features_.value);
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
    }
    net_ = std::move(next);
    map_ = map;
    auto& dense = net_->template layer<1>();
    const auto loss_and_gradient = [&] {
      return problem.loss_and_gradient(dense.weight().value, dense.bias().value,
                                       dense.weight().gradient, dense.bias().gradient);
    };
    auto objective = [&](const Vector<double>& w, Vector<double>& gradient) {
      copy_parameters_from(*net_, w);
      const double loss = loss_and_gradient();
      const double penalty = detail::add_weight_penalty(*net_, options_.l2);
      copy_parameters_to(*net_, gradient, /*gradients=*/true);
      return loss + penalty;
    };
    Vector<double> w;
    copy_parameters_to(*net_, w);
    const LbfgsResult result = minimize_lbfgs(objective, w, options_.lbfgs);
    copy_parameters_from(*net_, w);
    return {result.iterations, loss_and_gradient()};
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
  Options options_;
  FeatureMap<S> map_;
  std::optional<Network> net_;
  Scratch<LinearFeatures<S>> features_;  // fit(z)'s, kept for their storage
};

// A ReLU MLP with one or two hidden layers, trained by Adam on minibatches with early stopping:
// a validation split carved from the training samples picks the epoch whose weights are kept.
template <Scalar S = float>
class MlpDecoder {
 public:
  using scalar_type = S;
  using OneHidden = Sequential<S, Input<dynamic>, Dense<dynamic>, Relu, Dense<dynamic>>;
  using TwoHidden =
      Sequential<S, Input<dynamic>, Dense<dynamic>, Relu, Dense<dynamic>, Relu, Dense<dynamic>>;
  using Network = std::variant<std::monostate, OneHidden, TwoHidden>;  // empty until fitted
  struct Options {
    std::vector<Index> hidden{64};  // one or two widths
    // Per feature: an MLP is not invariant to rotations anyway, and whitening from the few
    // samples of MDL's first blocks would throw away directions.
    Preprocess preprocess = Preprocess::standardize;
    double learning_rate = 1e-3;
    double weight_decay = 1e-4;  // coupled L2, as PyTorch's Adam
    Index batch_size = 128;
    int max_epochs = 200;
    int patience = 10;  // epochs without a better validation loss before stopping
    double validation_fraction = 0.2;
    bool warm_start = true;
  };

  MlpDecoder() = default;
  explicit MlpDecoder(Options options) : options_(std::move(options)) {
    require_option(options_.hidden.size() == 1 || options_.hidden.size() == 2,
                   "MlpDecoder: hidden must list one or two widths");
    require_option(options_.validation_fraction > 0 && options_.validation_fraction < 1,
                   "MlpDecoder: validation_fraction must lie in (0, 1)");
  }

  std::string name() const {
    std::string widths;
    for (const Index w : options_.hidden) {
      if (!widths.empty()) widths += '-';
      widths += std::to_string(w);
    }
    return "mlp(" + widths + ")";
  }

  DecoderFit fit(const Matrix<S>& z, std::span<const Label> labels, Index classes,
                 std::uint64_t seed) {
    if (z.cols() < 2) {
      throw InvalidArgument("uinfo::MlpDecoder::fit: " + std::to_string(z.cols()) +
                            " samples; expected at least 2 (one for the validation split)");
    }
    detail::require_fit_labels(labels, z.cols(), classes, "MlpDecoder");
    FeatureMap<S> map(z, options_.preprocess);
    const Rng rng{seed};
    // Named, not structured, bindings: Clang 14 cannot capture those in the lambdas below.
    const auto parts = split(map(z), labels, seed);
    const Dataset<S>& train = parts.first;
    const Dataset<S>& validation = parts.second;
    Network next = make_network(map.outputs(), classes, rng);
    std::visit(
        [&](auto& fresh) {
          using Net = std::decay_t<decltype(fresh)>;
          if constexpr (!std::is_same_v<Net, std::monostate>) {
            const Net* previous = std::get_if<Net>(&net_);
            if (options_.warm_start && previous && map_.inputs() == z.rows() &&
                previous->layer_size(Net::depth - 1) == classes) {
              detail::carry_over(*previous, map_, fresh, map);
            } else {
              start_at_marginal(fresh, train.labels, classes);
            }
          }
        },
        next);
    net_ = std::move(next);
    map_ = std::move(map);
    return std::visit(
        [&](auto& net) -> DecoderFit {
          if constexpr (std::is_same_v<std::decay_t<decltype(net)>, std::monostate>) {
            return {0, 0};
          } else {
            return train_with_early_stopping(net, train, validation, rng);
          }
        },
        net_);
  }

  void log_probabilities(const Matrix<S>& z, MatrixView<S> out) {
    std::visit(
        [&](auto& net) {
          if constexpr (std::is_same_v<std::decay_t<decltype(net)>, std::monostate>) {
            detail::require_fitted(false, "MlpDecoder");
          } else {
            detail::log_softmax_of(net, map_(z), out);
          }
        },
        net_);
  }

 private:
  Network make_network(Index inputs, Index classes, const Rng& rng) const {
    if (options_.hidden.size() == 1) {
      return OneHidden(rng, typename OneHidden::RuntimeSizes{inputs, options_.hidden[0], classes});
    }
    return TwoHidden(rng, typename TwoHidden::RuntimeSizes{inputs, options_.hidden[0],
                                                           options_.hidden[1], classes});
  }

  // The output layer starts at zero weights and log-marginal biases: the fit begins at the best
  // prediction that ignores Z, so early stopping can only keep an improvement on it (a random
  // start could be worse than the marginal and report negative information for no reason).
  template <class Net>
  static void start_at_marginal(Net& net, std::span<const Label> labels, Index classes) {
    auto& output = net.template layer<Net::depth - 1>();
    output.weight().value.setZero();
    const auto marginal = label_marginal(labels, classes);
    for (Index k = 0; k < classes; ++k) {
      output.bias().value(k, 0) = static_cast<S>(std::log(marginal[static_cast<std::size_t>(k)]));
    }
  }

  // A seeded random validation split of the training samples: (training part, validation part).
  std::pair<Dataset<S>, Dataset<S>> split(const Matrix<S>& z, std::span<const Label> labels,
                                          std::uint64_t seed) const {
    const Index n = z.cols();
    const Index held_out = std::clamp<Index>(
        static_cast<Index>(options_.validation_fraction * static_cast<double>(n)), 1, n - 1);
    const auto order = detail::shuffled_indices(n, seed);
    const std::span<const Index> all(order);
    auto part = [&](std::span<const Index> indices) {
      auto [x, y] = detail::take_samples(z, labels, indices);
      return Dataset<S>{std::move(x), std::move(y)};
    };
    return {part(all.subspan(static_cast<std::size_t>(held_out))),
            part(all.first(static_cast<std::size_t>(held_out)))};
  }

  template <class Net>
  DecoderFit train_with_early_stopping(Net& net, const Dataset<S>& train,
                                       const Dataset<S>& validation, const Rng& rng) {
    net.for_each_parameter([](auto& p) { p.state = {}; });  // fresh Adam moments for this fit
    Adam adam{{.lr = options_.learning_rate, .weight_decay = options_.weight_decay}};
    Net best = net;
    double best_loss = evaluate(net, SoftmaxCrossEntropy{}, validation, 4096).loss;
    int best_epoch = 0, epochs = 0;
    uinfo::fit(net, adam, SoftmaxCrossEntropy{}, train,
               {.epochs = options_.max_epochs,
                .batch_size = options_.batch_size,
                .rng = rng,
                .validation = &validation},
               on_epoch_end([&](const EpochRecord& record, Net& current) {
                 epochs = record.epoch + 1;
                 if (record.validation_loss < best_loss) {
                   best_loss = record.validation_loss;
                   best_epoch = epochs;
                   best = current;
                 }
                 return epochs - best_epoch >= options_.patience ? Control::stop : Control::proceed;
               }));
    net = std::move(best);
    return {epochs, evaluate(net, SoftmaxCrossEntropy{}, train, 4096).loss};
  }

  Options options_;
  FeatureMap<S> map_;
  Network net_;
};

}  // namespace uinfo
