// Sequences: batches of trials that unfold in time, fixed datasets of them, and tasks that draw
// fresh trials for every update.
//
// A batch of `trials` trials over `steps` steps stores its inputs as one (inputs x steps * trials)
// matrix, time-major (column t * trials + b is trial b at step t; core/timeline.hpp), its targets
// and loss mask as (outputs x steps * trials) matrices, and each trial's length. Steps beyond a
// trial's length are padding: zero inputs, targets and mask.
#pragma once

#include <algorithm>
#include <concepts>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/timeline.hpp"
#include "uinfo/loss/masked.hpp"

namespace uinfo {

template <Scalar S>
class SequenceBatch {
 public:
  // Sizes the batch for `trials` trials of `steps` steps, every value 0 and every trial `steps`
  // long; allocates nothing once the largest batch has been seen.
  void reset(Index inputs, Index outputs, Index steps, Index trials) {
    if (inputs <= 0 || outputs <= 0 || steps <= 0 || trials <= 0) {
      throw InvalidArgument("uinfo::SequenceBatch: " + std::to_string(trials) + " trials of " +
                            std::to_string(steps) + " steps with " + std::to_string(inputs) +
                            " inputs and " + std::to_string(outputs) +
                            " outputs; expected positive sizes");
    }
    steps_ = steps;
    trials_ = trials;
    x_.reshape(inputs, steps * trials).setZero();
    targets_.reshape(outputs, steps * trials).setZero();
    mask_.reshape(outputs, steps * trials).setZero();
    lengths_.assign(static_cast<std::size_t>(trials), steps);
  }

  Index steps() const { return steps_; }
  Index trials() const { return trials_; }
  Index inputs() const { return x_.rows(); }
  Index outputs() const { return targets_.rows(); }
  // The column of trial b at step t.
  Index column(Index t, Index b) const { return t * trials_ + b; }

  MatrixView<S> x() { return x_.view(); }
  MatrixView<S> target_values() { return targets_.view(); }
  MatrixView<S> mask() { return mask_.view(); }
  std::span<Index> lengths() { return lengths_; }
  ConstMatrixView<S> x() const { return x_.view(); }
  ConstMatrixView<S> target_values() const { return targets_.view(); }
  ConstMatrixView<S> mask() const { return mask_.view(); }
  std::span<const Index> lengths() const { return lengths_; }

  Timeline timeline() const { return {steps_, trials_, lengths_, 0}; }
  MaskedTargets<S> targets() const { return {targets_.view(), mask_.view()}; }

  // Throws unless the batch fits a network with `inputs` inputs and `outputs` outputs: shapes,
  // lengths in 1..steps, finite values, a mask of non-negative weights that scores no padding.
  void validate(Index inputs, Index outputs, const std::string& name) const {
    auto fail = [&](const std::string& what) {
      throw InvalidArgument("uinfo: " + name + " " + what);
    };
    if (trials_ == 0) fail("is empty; expected at least one trial");
    if (x_.rows() != inputs) {
      fail("has " + std::to_string(x_.rows()) + " inputs per step; the network expects " +
           std::to_string(inputs));
    }
    if (targets_.rows() != outputs) {
      fail("has " + std::to_string(targets_.rows()) + " targets per step; the network has " +
           std::to_string(outputs) + " outputs");
    }
    require_timeline(timeline(), x_.cols(), name);
    // Names built only for a message: validating a batch allocates nothing.
    if (!all_finite(x_.view())) require_finite(x_.view(), name + " inputs");
    if (!all_finite(targets_.view())) require_finite(targets_.view(), name + " targets");
    require_mask(mask_.view(), outputs, x_.cols(), name);
    for (Index b = 0; b < trials_; ++b) {
      for (Index t = lengths_[static_cast<std::size_t>(b)]; t < steps_; ++t) {
        if ((mask_.view().col(column(t, b)).array() != 0).any()) {
          fail("scores step " + std::to_string(t) + " of trial " + std::to_string(b) +
               ", beyond its length " + std::to_string(lengths_[static_cast<std::size_t>(b)]) +
               "; padding must have mask 0");
        }
      }
    }
  }

  // Copies trials `indices` of `from` into this batch, padded to the longest of them.
  void gather(const SequenceBatch& from, std::span<const Index> indices) {
    Index steps = 1;
    for (const Index i : indices)
      steps = std::max(steps, from.lengths_[static_cast<std::size_t>(i)]);
    const auto n = static_cast<Index>(indices.size());
    reset(from.inputs(), from.outputs(), steps, n);
    for (Index b = 0; b < n; ++b) {
      const Index source = indices[static_cast<std::size_t>(b)];
      const Index length = from.lengths_[static_cast<std::size_t>(source)];
      lengths_[static_cast<std::size_t>(b)] = length;
      for (Index t = 0; t < length; ++t) {
        x_.view().col(column(t, b)) = from.x_.view().col(from.column(t, source));
        targets_.view().col(column(t, b)) = from.targets_.view().col(from.column(t, source));
        mask_.view().col(column(t, b)) = from.mask_.view().col(from.column(t, source));
      }
    }
  }

 private:
  Buffer<S> x_, targets_, mask_;
  std::vector<Index> lengths_;
  Index steps_ = 0, trials_ = 0;
};

// A fixed set of trials, trained on in epochs by fit() like any dataset: each minibatch is padded
// to its longest trial.
template <Scalar S>
struct SequenceDataset {
  SequenceBatch<S> trials;

  Index size() const { return trials.trials(); }
  void validate(Index inputs, Index outputs, const std::string& name) const {
    trials.validate(inputs, outputs, name);
  }

  class Batch {
   public:
    void gather(const SequenceDataset& data, std::span<const Index> indices) {
      batch_.gather(data.trials, indices);
    }
    ConstMatrixView<S> x() const { return batch_.x(); }
    MaskedTargets<S> targets() const { return batch_.targets(); }
    Timeline timeline() const { return batch_.timeline(); }

   private:
    SequenceBatch<S> batch_;
  };
};

// A task draws fresh trials (inputs, targets, masks, lengths) from an engine into a batch, so
// that every update sees new ones and a seed fixes them all.
template <class T, class S>
concept TrialTask = requires(const T& task, Engine& engine, Index trials, SequenceBatch<S>& batch) {
  { task.inputs() } -> std::convertible_to<Index>;
  { task.outputs() } -> std::convertible_to<Index>;
  task.draw(engine, trials, batch);
};

}  // namespace uinfo
