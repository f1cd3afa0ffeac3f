// fit(): epochs of shuffled minibatches, with optional validation and callbacks.
//
//   auto history = fit(net, sgd, SoftmaxCrossEntropy{}, train,
//                      {.epochs = 30, .batch_size = 32, .rng = Rng{seed}, .validation = &valid},
//                      on_epoch_end([](const EpochRecord& r, auto&) { ... }));
//
// After the first step at the largest batch size, a step allocates nothing: the batch, every
// activation and every gradient live in buffers that only grow.
#pragma once

#include <chrono>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/denormals.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/train/callbacks.hpp"
#include "uinfo/train/evaluate.hpp"
#include "uinfo/train/metrics.hpp"

namespace uinfo {

template <class Data>
struct FitOptions {
  int epochs = 1;
  Index batch_size = 32;
  Rng rng{0};  // its shuffle stream orders the samples of each epoch
  bool shuffle = true;
  const Data* validation = nullptr;  // evaluated at the end of every epoch when set
  bool flush_denormals = true;       // treat subnormal floats as zero while training (fast)
  // Update the parameters during the backward pass (see backward_and_step): faster, the same
  // weights bit for bit, but weight gradients are then not stored for callbacks to read.
  bool fuse_updates = true;
};

// The backward pass without the input gradient, and the optimizer's step. If `fuse` and the
// optimizer allows it (it offers updates() and fusable(): no clipping by the global gradient
// norm, which needs every gradient first), each layer's parameters are updated as soon as their
// gradients are known (Sequential::backward with updates), which gives the same weights as the
// two passes, bit for bit, with less memory traffic; weight gradients are then not stored.
template <class Net, class Optimizer>
void backward_and_step(Net& net, Optimizer& optimizer,
                       ConstMatrixRef<typename Net::scalar_type> output_gradient,
                       bool fuse = true) {
  using S = typename Net::scalar_type;
  if constexpr (requires { optimizer.template updates<S>(); }) {
    if (fuse && optimizer.fusable()) {
      net.backward(output_gradient, InputGradient::skip, optimizer.template updates<S>());
      return;
    }
  }
  net.backward(output_gradient, InputGradient::skip);
  optimizer.step(net);
}

template <class Net, class Optimizer, class Loss, class Data, class... Callbacks>
std::vector<EpochRecord> fit(Net& net, Optimizer& optimizer, const Loss& loss, const Data& train,
                             const FitOptions<Data>& options, Callbacks&&... callbacks) {
  using S = typename Net::scalar_type;
  using Clock = std::chrono::steady_clock;
  if (options.batch_size <= 0) {
    throw InvalidArgument("uinfo::fit: batch_size is " + std::to_string(options.batch_size) +
                          "; expected a positive number of samples per step");
  }
  if (options.epochs < 0) {
    throw InvalidArgument("uinfo::fit: epochs is " + std::to_string(options.epochs) +
                          "; expected 0 or more");
  }
  const Index inputs = net.layer_size(0), outputs = net.layer_size(Net::depth - 1);
  train.validate(inputs, outputs, "the training set");
  if (options.validation) {
    options.validation->validate(inputs, outputs, "the validation set");
  }

  const FlushDenormals flush(options.flush_denormals);
  const Index n = train.size();
  const Index steps_per_epoch = (n + options.batch_size - 1) / options.batch_size;
  std::vector<Index> order(static_cast<std::size_t>(n));
  Engine shuffler = options.rng.engine(Stream::shuffle);
  typename Data::Batch batch;
  Buffer<S> output_gradient;
  std::vector<EpochRecord> history;
  history.reserve(static_cast<std::size_t>(options.epochs));

  bool stop = detail::notify_all(
      [&](auto& c) -> decltype(c.on_train_begin(net)) { return c.on_train_begin(net); },
      callbacks...);
  Index global_step = 0;
  for (int epoch = 0; epoch < options.epochs && !stop; ++epoch) {
    const auto start = Clock::now();
    std::iota(order.begin(), order.end(), Index{0});
    if (options.shuffle) shuffler.shuffle(std::span(order));
    double loss_sum = 0;
    Index correct = 0;
    Index seen = 0;  // samples in this epoch's steps; fewer than n if a callback stopped early
    for (Index step = 0; step < steps_per_epoch && !stop; ++step, ++global_step) {
      const Index first = step * options.batch_size;
      const Index size = std::min(options.batch_size, n - first);
      batch.gather(train, std::span<const Index>(order).subspan(static_cast<std::size_t>(first),
                                                                static_cast<std::size_t>(size)));
      optimizer.set_epoch(epoch + static_cast<double>(step) / static_cast<double>(steps_per_epoch));
      const auto output = forward_batch(net, batch, Mode::train);
      const double batch_loss = loss.template value_and_gradient<S>(
          output, batch.targets(), output_gradient.reshape(output.rows(), size));
      if (!std::isfinite(batch_loss)) {
        throw Diverged("uinfo::fit: training diverged at epoch " + std::to_string(epoch) +
                       ", step " + std::to_string(step) + ": the loss is " +
                       std::to_string(batch_loss) + " at learning rate " +
                       std::to_string(optimizer.learning_rate()) +
                       "; lower the learning rate or clip gradients (the weights are those "
                       "before this step)");
      }
      if constexpr (labelled<decltype(batch.targets())>) {
        correct += count_correct<S>(output, batch.targets());
      }
      backward_and_step(net, optimizer, std::as_const(output_gradient).view(),
                        options.fuse_updates);
      loss_sum += (batch_loss + net.penalty()) * static_cast<double>(size);
      seen += size;
      const StepInfo info{epoch, step, global_step, size, batch_loss, optimizer.learning_rate()};
      stop = detail::notify_all([&](auto& c) -> decltype(c.on_step_end(
                                                 info, net)) { return c.on_step_end(info, net); },
                                callbacks...) ||
             stop;
    }
    EpochRecord record{.epoch = epoch,
                       .train_loss = loss_sum / static_cast<double>(seen),
                       .learning_rate = optimizer.learning_rate(),
                       .seconds = 0};
    if constexpr (labelled<decltype(batch.targets())>) {
      record.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    }
    if (options.validation) {
      const Evaluation validation = evaluate(net, loss, *options.validation, options.batch_size);
      record.validation_loss = validation.loss;
      record.validation_accuracy = validation.accuracy;
    }
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    history.push_back(record);
    stop = detail::notify_all(
               [&](auto& c) -> decltype(c.on_epoch_end(record, net)) {
                 return c.on_epoch_end(record, net);
               },
               callbacks...) ||
           stop;
  }
  return history;
}

}  // namespace uinfo
