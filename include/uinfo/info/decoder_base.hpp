// What every decoder shares: the result of a fit, the Decoder concept, and the helpers the
// families use to penalise weights, carry a warm start over to refitted features, and check the
// labels they are given.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/info/preprocess.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

struct DecoderFit {
  int iterations = 0;          // L-BFGS iterations (of every fit a penalty search made) or epochs
  double train_loss_nats = 0;  // mean cross-entropy on the data it was fitted to
  // The L2 penalty of the fit that was kept (the linear decoder's, chosen from the data or fixed;
  // the MLP's weight decay) and how it was chosen: "fixed", "loo" (approximate leave-one-out),
  // "5-fold" (k-fold cross-validation).
  double l2 = 0;
  std::string selection = "fixed";
  int kept_epoch = 0;  // the epoch whose weights early stopping kept (0: the start)
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

}  // namespace uinfo
