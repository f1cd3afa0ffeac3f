// Helpers shared by the estimators that reorder or split one labelled set of samples (MDL's online
// code, k-fold cross-validation): input checks that name the caller, a seeded order, and gathering
// chosen samples.
#pragma once

#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/info/entropy.hpp"

namespace uinfo::detail {

// Throws unless `z` (units x samples) has samples and units, one label per sample and finite
// values, and every label lies in [0, classes); returns `classes`, or 1 + the largest label when
// `classes` is 0. `where` names the calling function (and the data) in the messages.
template <class Derived>
Index require_labelled_samples(const Eigen::MatrixBase<Derived>& z, std::span<const Label> labels,
                               Index classes, const std::string& where) {
  if (z.cols() == 0) throw InvalidArgument("uinfo::" + where + ": no samples; expected at least 1");
  if (z.rows() == 0) {
    throw InvalidArgument("uinfo::" + where + ": the representation has 0 units for " +
                          std::to_string(z.cols()) + " samples; expected at least one unit (row)");
  }
  if (static_cast<Index>(labels.size()) != z.cols()) {
    throw InvalidArgument("uinfo::" + where + ": the representation has " +
                          std::to_string(z.cols()) + " samples but there are " +
                          std::to_string(labels.size()) + " labels; expected one label per sample");
  }
  require_finite(z, where + ": the representation");
  if (classes <= 0) classes = class_count(labels);
  require_labels_in_range(labels, classes, where + ": the labels");
  return classes;
}

// 0..n-1 in an order fixed by `seed` (its data stream).
inline std::vector<Index> shuffled_indices(Index n, std::uint64_t seed) {
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  Rng{seed}.engine(Stream::data).shuffle(std::span(order));
  return order;
}

// The samples at `indices`, in that order, with their labels.
template <class S>
std::pair<Matrix<S>, std::vector<Label>> take_samples(const Matrix<S>& z,
                                                      std::span<const Label> labels,
                                                      std::span<const Index> indices) {
  std::pair<Matrix<S>, std::vector<Label>> taken{Matrix<S>(z.rows(), std::ssize(indices)),
                                                 std::vector<Label>(indices.size())};
  for (std::size_t j = 0; j < indices.size(); ++j) {
    taken.first.col(static_cast<Index>(j)) = z.col(indices[j]);
    taken.second[j] = labels[static_cast<std::size_t>(indices[j])];
  }
  return taken;
}

}  // namespace uinfo::detail
