// Entropy of discrete labels, and the label marginal that a decoder ignoring its input learns.
#pragma once

#include <cmath>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

inline constexpr double bits_per_nat = 1.0 / std::numbers::ln2;

// How many times each class 0..classes-1 occurs.
inline std::vector<Index> class_counts(std::span<const Label> labels, Index classes) {
  require_labels_in_range(labels, classes, "the labels");
  std::vector<Index> counts(static_cast<std::size_t>(classes), 0);
  for (const Label y : labels) ++counts[static_cast<std::size_t>(y)];
  return counts;
}

// 1 + the largest label: the number of classes when it is not given.
inline Index class_count(std::span<const Label> labels) {
  Label largest = -1;
  for (const Label y : labels) largest = std::max(largest, y);
  return static_cast<Index>(largest) + 1;
}

// The same over a decoder's two splits: a class may occur in one only.
inline Index class_count(std::span<const Label> train, std::span<const Label> test) {
  return std::max(class_count(train), class_count(test));
}

enum class EntropyEstimator {
  plug_in,       // -sum p log p with empirical frequencies (biased low by about (m - 1) / 2n)
  miller_madow,  // plug-in + (m - 1) / 2n, m = number of classes seen (Miller 1955)
};

// The entropy of the labels' distribution, in nats.
inline double entropy(std::span<const Label> labels, Index classes,
                      EntropyEstimator estimator = EntropyEstimator::plug_in) {
  if (labels.empty()) throw InvalidArgument("uinfo::entropy: no labels; expected at least one");
  const auto counts = class_counts(labels, classes);
  const double n = static_cast<double>(labels.size());
  double h = 0;
  Index seen = 0;
  for (const Index c : counts) {
    if (c == 0) continue;
    ++seen;
    const double p = static_cast<double>(c) / n;
    h -= p * std::log(p);
  }
  if (estimator == EntropyEstimator::miller_madow) h += static_cast<double>(seen - 1) / (2 * n);
  return h;
}

// The class probabilities that a decoder trained on no input at all converges to: the training
// labels' frequencies, with `pseudo_count` added to every class so that a class absent from
// training does not get probability 0 (Krichevsky-Trofimov: 0.5).
inline std::vector<double> label_marginal(std::span<const Label> labels, Index classes,
                                          double pseudo_count = 0.5) {
  const auto counts = class_counts(labels, classes);
  const double total =
      static_cast<double>(labels.size()) + pseudo_count * static_cast<double>(classes);
  std::vector<double> p(counts.size());
  for (std::size_t k = 0; k < counts.size(); ++k) {
    p[k] = (static_cast<double>(counts[k]) + pseudo_count) / total;
  }
  return p;
}

}  // namespace uinfo
