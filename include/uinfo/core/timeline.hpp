// Timeline: how the columns of a batch unfold in time.
//
// A batch of `trials` sequences over `steps` steps is one (features x steps * trials) matrix,
// time-major: column t * trials + b holds trial b at step t. A layer that acts on each column alone
// (Dense, activations, Dropout) then acts at every step at once, as one product over all steps,
// and a recurrent layer finds step t as a contiguous block of `trials` columns. A static batch is
// a timeline of one step.
//
// Trials may be shorter than the batch: trial b's real steps are 0 .. length(b) - 1 and the rest
// is padding, which losses leave unscored (their masks) and recurrent layers never let move a
// gradient.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

struct Timeline {
  Index steps = 1;
  Index trials = 0;
  std::span<const Index> lengths;  // each trial's real steps; empty: every trial has `steps`
  // Backpropagation through time truncated to windows of this many steps: gradients do not flow
  // from step t back to t - 1 when t is a multiple of it (0: full BPTT).
  Index truncation = 0;

  Index columns() const { return steps * trials; }
  Index length(Index trial) const {
    return lengths.empty() ? steps : lengths[static_cast<std::size_t>(trial)];
  }
  // Whether gradients flow from step t to step t - 1 (t > 0).
  bool gradient_crosses(Index t) const { return truncation == 0 || t % truncation != 0; }

  // One step of `columns` samples: what a static batch is.
  static Timeline single_step(Index columns) { return {1, columns, {}, 0}; }
};

// A Timeline that owns its lengths: what a layer (or a network) keeps of a forward pass for the
// backward pass and for readers, safe to copy with its owner. No allocation once grown.
class TimelineCopy {
 public:
  void assign(const Timeline& time) {
    if (time.lengths.data() != lengths_.data()) {
      lengths_.assign(time.lengths.begin(), time.lengths.end());
    }
    time_ = time;
    time_.lengths = {};
  }
  Timeline get() const {
    Timeline time = time_;
    time.lengths = lengths_;
    return time;
  }
  Index steps() const { return time_.steps; }
  Index trials() const { return time_.trials; }
  Index length(Index trial) const {
    return lengths_.empty() ? time_.steps : lengths_[static_cast<std::size_t>(trial)];
  }
  bool padding(Index t, Index trial) const { return t >= length(trial); }
  bool gradient_crosses(Index t) const { return time_.gradient_crosses(t); }
  // The real (unpadded) steps of all trials together.
  Index real_steps() const {
    if (lengths_.empty()) return time_.steps * time_.trials;
    Index sum = 0;
    for (const Index length : lengths_) sum += length;
    return sum;
  }

 private:
  Timeline time_;               // its lengths are lengths_, attached by get()
  std::vector<Index> lengths_;  // a copy: never caller memory
};

// Throws unless the timeline describes a batch of `columns` columns: positive sizes, one length
// per trial, each in 1 .. steps. `where` names the caller in the message.
inline void require_timeline(const Timeline& time, Index columns, std::string_view where) {
  auto fail = [&](const std::string& what) {
    throw InvalidArgument("uinfo: " + std::string(where) + ": " + what);
  };
  if (time.steps <= 0 || time.trials <= 0) {
    fail("the timeline has " + std::to_string(time.steps) + " steps of " +
         std::to_string(time.trials) + " trials; expected at least one of each");
  }
  if (time.columns() != columns) {
    fail("the batch has " + std::to_string(columns) + " columns but the timeline " +
         std::to_string(time.steps) + " steps x " + std::to_string(time.trials) +
         " trials; expected steps * trials columns, time-major");
  }
  if (!time.lengths.empty() && static_cast<Index>(time.lengths.size()) != time.trials) {
    fail(std::to_string(time.lengths.size()) + " trial lengths for " + std::to_string(time.trials) +
         " trials; expected one per trial");
  }
  for (Index b = 0; b < static_cast<Index>(time.lengths.size()); ++b) {
    const Index length = time.length(b);
    if (length < 1 || length > time.steps) {
      fail("trial " + std::to_string(b) + " has length " + std::to_string(length) +
           "; expected 1 to " + std::to_string(time.steps) + " steps (an empty trial has nothing " +
           "to run)");
    }
  }
  if (time.truncation < 0) {
    fail("the BPTT truncation is " + std::to_string(time.truncation) +
         "; expected 0 (none) or a positive number of steps");
  }
}

}  // namespace uinfo
