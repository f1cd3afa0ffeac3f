// Targets with a loss mask: which outputs of which steps are scored. Sequence tasks score only
// some steps (a decision period, not the fixation before it) and never a trial's padding.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

using Label = int;

// A target value per output and column, and a mask of the same shape: 1 where the output is
// scored, 0 where not (other non-negative values weight it).
template <Scalar S>
struct MaskedTargets {
  ConstMatrixView<S> values;
  ConstMatrixView<S> mask;
};

// A class label per column, and a mask per column: 1 where the column is scored, 0 where not.
template <Scalar S>
struct MaskedLabels {
  std::span<const Label> labels;
  std::span<const S> mask;
};

// Throws unless the mask fits `rows` x `cols` outputs with finite, non-negative weights; builds
// strings only for a message.
template <class Derived>
void require_mask(const Eigen::DenseBase<Derived>& mask, Index rows, Index cols,
                  std::string_view where) {
  if (mask.rows() != rows || mask.cols() != cols) {
    throw InvalidArgument("uinfo: " + std::string(where) + ": the loss mask is " +
                          std::to_string(mask.rows()) + " x " + std::to_string(mask.cols()) +
                          "; expected " + std::to_string(rows) + " x " + std::to_string(cols) +
                          " like the outputs");
  }
  if (!all_finite(mask)) require_finite(mask, std::string(where) + " loss mask");
  if ((mask.derived().array() < 0).any()) {
    throw InvalidArgument("uinfo: " + std::string(where) + ": the loss mask has a negative weight");
  }
}

}  // namespace uinfo
