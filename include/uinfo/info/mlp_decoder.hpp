// The MLP decoder: a ReLU network with one or two hidden layers on standardised features, trained
// by Adam on minibatches with early stopping on a validation split carved from the training
// samples.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "uinfo/data/dataset.hpp"
#include "uinfo/info/decoder_base.hpp"
#include "uinfo/info/entropy.hpp"
#include "uinfo/info/preprocess.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/adam.hpp"
#include "uinfo/train/fit.hpp"

namespace uinfo {

namespace detail {
template <class Net>
void log_softmax_of(Net& net, const Matrix<typename Net::scalar_type>& features,
                    MatrixView<typename Net::scalar_type> out) {
  SoftmaxCrossEntropy::log_probabilities<typename Net::scalar_type>(net.forward(features), out);
}
}  // namespace detail

// A ReLU MLP with one or two hidden layers, trained by Adam on minibatches with early stopping:
// a validation split carved from the training samples picks the epoch whose weights are kept,
// and, if several widths are offered, the width.
//
// Warm starts keep the weights as they act on the standardised features, not on the raw ones: a
// layer early in training can widen its units' spread a thousandfold between two probes (Fashion-
// MNIST's 8-unit layer in the first eighth of an epoch), and weights carried over to act on the
// raw values as before would then make logits a thousand times too large, confidently wrong, and
// too far for Adam's steps to come back from within the patience. A warm start is also only taken
// if it predicts the validation split better than the labels' marginal, where a fresh start
// begins: so the fit never ends worse there than a fresh one would start.
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
    // Widths to choose from by the validation loss (every hidden layer takes the same); empty:
    // the widths of `hidden`, whose length still gives the depth.
    std::vector<Index> width_choices{};
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
    for (const Index w : options_.width_choices) {
      require_option(w >= 1, "MlpDecoder: width_choices must be positive widths");
    }
    require_option(options_.validation_fraction > 0 && options_.validation_fraction < 1,
                   "MlpDecoder: validation_fraction must lie in (0, 1)");
  }

  // "mlp(64)", or "mlp(64-32)"; with width choices, the width the last fit chose.
  std::string name() const {
    std::string widths;
    for (const Index w : widths_of(chosen_)) {
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
    const std::size_t candidates = std::max<std::size_t>(1, options_.width_choices.size());
    const bool warm = options_.warm_start && nets_.size() == candidates &&
                      map_.inputs() == z.rows() && classes_ == classes;
    nets_.resize(candidates);
    DecoderFit kept;
    double kept_loss = std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < candidates; ++c) {
      Network next = make_network(widths_of(c), map.outputs(), classes, rng);
      double loss = 0;
      const DecoderFit fitted = std::visit(
          [&](auto& fresh) -> DecoderFit {
            using Net = std::decay_t<decltype(fresh)>;
            if constexpr (std::is_same_v<Net, std::monostate>) {
              return {};
            } else {
              start_at_marginal(fresh, train.labels, classes);
              const Net* previous = warm ? std::get_if<Net>(&nets_[c]) : nullptr;
              if (previous) start_warm(*previous, map, validation, fresh);
              return train_with_early_stopping(fresh, train, validation, rng, loss);
            }
          },
          next);
      nets_[c] = std::move(next);
      if (loss < kept_loss) {
        kept_loss = loss;
        kept = fitted;
        chosen_ = c;
      }
    }
    map_ = std::move(map);
    classes_ = classes;
    return kept;
  }

  void log_probabilities(const Matrix<S>& z, MatrixView<S> out) {
    detail::require_fitted(chosen_ < nets_.size(), "MlpDecoder");
    std::visit(
        [&](auto& net) {
          if constexpr (std::is_same_v<std::decay_t<decltype(net)>, std::monostate>) {
            detail::require_fitted(false, "MlpDecoder");
          } else {
            detail::log_softmax_of(net, map_(z), out);
          }
        },
        nets_[chosen_]);
  }

 private:
  // The hidden widths of candidate c.
  std::vector<Index> widths_of(std::size_t c) const {
    if (options_.width_choices.empty()) return options_.hidden;
    return std::vector<Index>(options_.hidden.size(), options_.width_choices[c]);
  }

  static Network make_network(const std::vector<Index>& widths, Index inputs, Index classes,
                              const Rng& rng) {
    if (widths.size() == 1) {
      return OneHidden(rng, typename OneHidden::RuntimeSizes{inputs, widths[0], classes});
    }
    return TwoHidden(rng, typename TwoHidden::RuntimeSizes{inputs, widths[0], widths[1], classes});
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

  // Replaces `fresh` (started at the marginal) by the previous fit, in the new features'
  // coordinates, if that predicts the validation split better. Per-feature maps keep the weights
  // as they are (they act on standardised units); whitening, whose axes are not the units,
  // carries them over to compute the same function of the raw values.
  template <class Net>
  void start_warm(const Net& previous, const FeatureMap<S>& map, const Dataset<S>& validation,
                  Net& fresh) const {
    Net warm = fresh;
    if (options_.preprocess == Preprocess::whiten) {
      detail::carry_over(previous, map_, warm, map);
    } else {
      warm = previous;
    }
    const auto loss = [&](Net& net) {
      return evaluate(net, SoftmaxCrossEntropy{}, validation, 4096).loss;
    };
    if (loss(warm) < loss(fresh)) fresh = std::move(warm);
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

  // Trains `net` with early stopping and keeps its best epoch; `best_loss` gets that epoch's
  // validation loss.
  template <class Net>
  DecoderFit train_with_early_stopping(Net& net, const Dataset<S>& train,
                                       const Dataset<S>& validation, const Rng& rng,
                                       double& best_loss) {
    net.for_each_parameter([](auto& p) { p.state = {}; });  // fresh Adam moments for this fit
    Adam adam{{.lr = options_.learning_rate, .weight_decay = options_.weight_decay}};
    Net best = net;
    best_loss = evaluate(net, SoftmaxCrossEntropy{}, validation, 4096).loss;
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
    return {.iterations = epochs,
            .train_loss_nats = evaluate(net, SoftmaxCrossEntropy{}, train, 4096).loss,
            .l2 = options_.weight_decay,
            .selection = "fixed",
            .kept_epoch = best_epoch};
  }

  Options options_;
  FeatureMap<S> map_;
  Index classes_ = 0;
  std::vector<Network> nets_;  // one per width candidate, kept for warm starts
  std::size_t chosen_ = 0;     // the candidate the last fit kept
};

}  // namespace uinfo
