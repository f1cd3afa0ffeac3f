// fit_task(): training on a task that draws fresh trials for every update, as recurrent networks
// of computational neuroscience are trained (a new batch of trials per update, no epochs).
//
//   auto updates = fit_task(net, adam, MeanSquaredError{}, task,
//                           {.updates = 20000, .batch_size = 20, .rng = Rng{seed},
//                            .clip_norm = 0.1, .weight_penalty = {.coefficient = 1}},
//                           every_n_updates(500, [&](const UpdateInfo& info, auto& net) {
//                             return validate(net);   // Control::stop ends training
//                           }));
//
// Each update: draw `batch_size` trials (the rng's data stream), run the network through them
// (BPTT, truncated if asked), add the penalties (WeightPenalty on the raw weights, and what the
// layers report, e.g. LeakyRnn's rate penalty and Omega), clip the global gradient norm, step.
// A gradient or loss that is not finite, or a gradient norm above `max_gradient_norm`, goes to
// the callbacks' on_bad_gradient(norm, net), which may replace the gradients (Control::proceed: the
// step is taken from them, unclipped) or stop; without such a callback it is uinfo::Diverged.
// Steps allocate nothing after the first at the longest trial length.
#pragma once

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/denormals.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/data/sequence.hpp"
#include "uinfo/loss/weight_penalty.hpp"
#include "uinfo/optim/common.hpp"
#include "uinfo/train/callbacks.hpp"

namespace uinfo {

struct TaskFitOptions {
  Index updates = 1000;
  Index batch_size = 20;  // trials per update
  Rng rng{0};             // its data stream draws the trials
  Index truncation = 0;   // truncated BPTT over this many steps (0: full)
  double clip_norm = 0;   // rescale the global gradient norm to at most this (0: never)
  double max_gradient_norm = std::numeric_limits<double>::infinity();  // above: a bad gradient
  WeightPenalty weight_penalty{};
  bool flush_denormals = true;  // treat subnormal floats as zero while training (fast)
};

struct UpdateInfo {
  Index update;          // counting from 0: this many updates had been made before this one
  double loss;           // the batch's loss, before the update
  double penalty;        // the weight penalty plus the layers' penalties
  double gradient_norm;  // the global norm before clipping (of the replaced gradients if bad)
  bool bad_gradient;     // on_bad_gradient was called for this update
  double learning_rate;
  double seconds;  // since training began
};

namespace detail {
template <class F>
struct EveryNUpdates {
  Index period;
  F f;
  template <class Net>
  Control on_update_end(const UpdateInfo& info, Net& net) {
    if ((info.update + 1) % period != 0) return Control::proceed;
    if constexpr (std::is_same_v<decltype(f(info, net)), Control>) {
      return f(info, net);
    } else {
      f(info, net);
      return Control::proceed;
    }
  }
};
}  // namespace detail

// A callback that runs f(info, net) after every `period`-th update (after updates period,
// 2 period, ...); f may return Control::stop.
template <class F>
detail::EveryNUpdates<F> every_n_updates(Index period, F f) {
  if (period <= 0) throw InvalidArgument("uinfo::every_n_updates: the period must be positive");
  return {period, std::move(f)};
}

template <class Net, class Optimizer, class Loss, class Task, class... Callbacks>
Index fit_task(Net& net, Optimizer& optimizer, const Loss& loss, const Task& task,
               const TaskFitOptions& options, Callbacks&&... callbacks) {
  using S = typename Net::scalar_type;
  static_assert(TrialTask<Task, S>,
                "uinfo::fit_task: the task must draw trials: inputs(), outputs() and "
                "draw(Engine&, Index trials, SequenceBatch<S>&)");
  using Clock = std::chrono::steady_clock;
  if (options.updates < 0 || options.batch_size <= 0 || options.truncation < 0 ||
      !(options.clip_norm >= 0) || !(options.max_gradient_norm > 0)) {
    throw InvalidArgument("uinfo::fit_task: updates " + std::to_string(options.updates) +
                          ", batch_size " + std::to_string(options.batch_size) + ", truncation " +
                          std::to_string(options.truncation) + ", clip_norm " +
                          std::to_string(options.clip_norm) + ", max_gradient_norm " +
                          std::to_string(options.max_gradient_norm) +
                          "; expected updates >= 0, batch_size > 0, truncation >= 0, "
                          "clip_norm >= 0 and max_gradient_norm > 0");
  }
  const Index inputs = net.layer_size(0), outputs = net.layer_size(Net::depth - 1);
  if (task.inputs() != inputs || task.outputs() != outputs) {
    throw InvalidArgument("uinfo::fit_task: the task has " + std::to_string(task.inputs()) +
                          " inputs and " + std::to_string(task.outputs()) +
                          " outputs; the network " + std::to_string(inputs) + " and " +
                          std::to_string(outputs));
  }
  const FlushDenormals flush(options.flush_denormals);
  const auto start = Clock::now();
  Engine trials = options.rng.engine(Stream::data);
  SequenceBatch<S> batch;
  Buffer<S> output_gradient;

  bool stop = detail::notify_all(
      [&](auto& c) -> decltype(c.on_train_begin(net)) { return c.on_train_begin(net); },
      callbacks...);
  std::string batch_name = "uinfo::fit_task: the task's batch for update ";
  const std::size_t batch_name_prefix = batch_name.size();
  Index update = 0;
  for (; update < options.updates && !stop; ++update) {
    task.draw(trials, options.batch_size, batch);
    batch_name.resize(batch_name_prefix);
    batch_name += std::to_string(update);  // short enough to need no allocation
    batch.validate(inputs, outputs, batch_name);
    Timeline time = batch.timeline();
    time.truncation = options.truncation;
    const auto output = net.forward(batch.x(), time, Mode::train);
    const double batch_loss = loss.template value_and_gradient<S>(
        output, batch.targets(), output_gradient.reshape(output.rows(), output.cols()));
    net.backward(std::as_const(output_gradient).view(), InputGradient::skip);
    options.weight_penalty.add_gradient(net);
    const double penalty = options.weight_penalty.value(net) + net.penalty();

    double norm = gradient_norm(net);
    const bool bad =
        !std::isfinite(batch_loss) || !std::isfinite(norm) || norm > options.max_gradient_norm;
    double scale = 1;
    if (bad) {
      bool handled = false;
      const bool stop_now = detail::notify_all(
          [&](auto& c) -> decltype(c.on_bad_gradient(norm, net)) {
            handled = true;
            return c.on_bad_gradient(norm, net);
          },
          callbacks...);
      if (!handled) {
        throw Diverged("uinfo::fit_task: at update " + std::to_string(update) + " the loss is " +
                       std::to_string(batch_loss) + " and the gradient norm " +
                       std::to_string(norm) +
                       "; lower the learning rate, clip gradients, or handle on_bad_gradient "
                       "(the weights are those before this update)");
      }
      if (stop_now) break;
      norm = gradient_norm(net);
    } else if (options.clip_norm > 0 && norm > options.clip_norm) {
      scale = options.clip_norm / norm;
    }
    optimizer.set_epoch(static_cast<double>(update));  // schedules count updates here
    net.for_each_parameter(optimizer.template updates<S>(scale));

    const UpdateInfo info{update,
                          batch_loss,
                          penalty,
                          norm,
                          bad,
                          optimizer.learning_rate(),
                          std::chrono::duration<double>(Clock::now() - start).count()};
    stop = detail::notify_all(
        [&](auto& c) -> decltype(c.on_update_end(info, net)) { return c.on_update_end(info, net); },
        callbacks...);
  }
  return update;
}

}  // namespace uinfo
