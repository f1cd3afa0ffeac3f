// Features of a recurrent layer for a probe: chosen units' activity averaged over a window of
// steps that each trial sets for itself (e.g. the 400 ms around its reaction time), one column per
// window, ready for a decoder.
//
//   std::vector<StepWindow> windows = ...;                  // {trial, first step, end step}
//   Matrix<float> z = window_means<float>(net.output<1>(), net.timeline<1>(), area_units, windows);
#pragma once

#include <span>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/timeline.hpp"

namespace uinfo {

// Steps [first, last) of one trial of a batch.
struct StepWindow {
  Index trial = 0;
  Index first = 0, last = 0;
};

// out(i, j) = mean over the steps of windows[j] of unit units[i]'s activity in `sequence` (units x
// steps * trials, time-major, as a recurrent layer's output over `time`). Each window must lie
// within its trial's real steps and hold at least one step.
template <class Sequence, Scalar S>
void window_means(const Sequence& sequence, const Timeline& time, std::span<const Index> units,
                  std::span<const StepWindow> windows, MatrixView<S> out) {
  const std::string where = "uinfo::window_means";
  require_timeline(time, sequence.cols(), where);
  if (out.rows() != std::ssize(units) || out.cols() != std::ssize(windows)) {
    throw InvalidArgument(where + ": the output is " + std::to_string(out.rows()) + " x " +
                          std::to_string(out.cols()) + "; expected " +
                          std::to_string(units.size()) + " units x " +
                          std::to_string(windows.size()) + " windows");
  }
  for (const Index unit : units) {
    if (unit < 0 || unit >= sequence.rows()) {
      throw InvalidArgument(where + ": unit " + std::to_string(unit) + " of a layer with " +
                            std::to_string(sequence.rows()) + " units");
    }
  }
  for (Index j = 0; j < std::ssize(windows); ++j) {
    const StepWindow& w = windows[static_cast<std::size_t>(j)];
    if (w.trial < 0 || w.trial >= time.trials || w.first < 0 || w.last <= w.first ||
        w.last > time.length(w.trial)) {
      throw InvalidArgument(where + ": window " + std::to_string(j) + " is steps [" +
                            std::to_string(w.first) + ", " + std::to_string(w.last) +
                            ") of trial " + std::to_string(w.trial) + "; expected a trial of the " +
                            std::to_string(time.trials) + " and at least one of its real steps");
    }
    auto column = out.col(j);
    column.setZero();
    for (Index t = w.first; t < w.last; ++t) {
      const Index source = t * time.trials + w.trial;
      for (Index i = 0; i < std::ssize(units); ++i) {
        column(i) += static_cast<S>(sequence(units[static_cast<std::size_t>(i)], source));
      }
    }
    column /= static_cast<S>(w.last - w.first);
  }
}

// The same, into a new units x windows matrix.
template <Scalar S, class Sequence>
Matrix<S> window_means(const Sequence& sequence, const Timeline& time, std::span<const Index> units,
                       std::span<const StepWindow> windows) {
  Matrix<S> out(std::ssize(units), std::ssize(windows));
  window_means(sequence, time, units, windows, MatrixView<S>(out.data(), out.rows(), out.cols()));
  return out;
}

}  // namespace uinfo
