// Counting correct predictions: a sample is correct when its largest output is its label.
// Only labelled data has an accuracy; `labelled` says whether a target type is labels.
#pragma once

#include <span>
#include <type_traits>

#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

template <class Targets>
inline constexpr bool labelled = std::is_convertible_v<Targets, std::span<const Label>>;

template <class S>
Index count_correct(ConstMatrixRef<S> outputs, std::span<const Label> labels) {
  Index correct = 0;
  for (Index j = 0; j < outputs.cols(); ++j) {
    Index predicted = 0;
    outputs.col(j).maxCoeff(&predicted);
    correct += predicted == labels[static_cast<std::size_t>(j)];
  }
  return correct;
}

}  // namespace uinfo
