// What fit() tells callbacks, and how a callback asks training to stop.
//
// A callback is any object with some of these members (each may return void or Control):
//   on_train_begin(Net&)                      before the first step
//   on_step_end(const StepInfo&, Net&)        after every optimizer step
//   on_epoch_end(const EpochRecord&, Net&)    after every epoch (and its validation)
// The network is passed so that a callback can run it and read any layer's output.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "uinfo/core/tensor.hpp"

namespace uinfo {

enum class Control { proceed, stop };

struct StepInfo {
  int epoch;             // counting from 0
  Index step;            // within the epoch, from 0
  Index global_step;     // since training began, from 0
  Index batch_size;      // this step's (the last batch of an epoch may be smaller)
  double loss;           // this batch's mean loss, before the update
  double learning_rate;  // used for this step
};

struct EpochRecord {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  int epoch;                      // counting from 0; the record is made at the epoch's end
  double train_loss;              // mean over the epoch's batches, weighted by batch size
  double train_accuracy = none;   // from the training batches as they were seen
  double validation_loss = none;  // when FitOptions::validation is set
  double validation_accuracy = none;
  double learning_rate;  // at the epoch's last step
  double seconds;        // wall time of the epoch, validation included

  // Every member, for checkpoints (train/checkpoint.hpp).
  template <class Archive>
  void fields(Archive& a) {
    a(epoch, train_loss, train_accuracy, validation_loss, validation_accuracy, learning_rate,
      seconds);
  }
};

namespace detail {
// Runs call(callback) when that is well-formed (call is a generic lambda whose return type names
// the member, so a missing member just does not match); returns whether the callback said stop.
template <class Callback, class Call>
bool notify(Callback& callback, Call call) {
  if constexpr (std::is_invocable_v<Call&, Callback&>) {
    if constexpr (std::is_same_v<std::invoke_result_t<Call&, Callback&>, Control>) {
      return call(callback) == Control::stop;
    } else {
      call(callback);
    }
  }
  return false;
}

// Calls `call` on every callback that has the member, all of them even after one said stop;
// returns whether any said stop.
template <class Call, class... Callbacks>
bool notify_all([[maybe_unused]] Call call, Callbacks&... callbacks) {
  bool stop = false;
  ((stop = notify(callbacks, call) || stop), ...);
  return stop;
}
}  // namespace detail

// Adapters so a lambda can serve as a callback: fit(..., on_epoch_end([&](auto& record, auto& net)
// {...}))
template <class F>
struct OnEpochEnd {
  F f;
  template <class Net>
  auto on_epoch_end(const EpochRecord& record, Net& net) {
    return f(record, net);
  }
};
template <class F>
OnEpochEnd<F> on_epoch_end(F f) {
  return {std::move(f)};
}

template <class F>
struct OnStepEnd {
  F f;
  template <class Net>
  auto on_step_end(const StepInfo& info, Net& net) {
    return f(info, net);
  }
};
template <class F>
OnStepEnd<F> on_step_end(F f) {
  return {std::move(f)};
}

}  // namespace uinfo
