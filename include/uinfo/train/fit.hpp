// fit(): epochs of shuffled minibatches, with optional validation and callbacks.
//
//   auto history = fit(net, sgd, SoftmaxCrossEntropy{}, train,
//                      {.epochs = 30, .batch_size = 32, .rng = Rng{seed}, .validation = &valid},
//                      on_epoch_end([](const EpochRecord& r, auto&) { ... }));
//
// After the first step at the largest batch size, a step allocates nothing: the batch, every
// activation and every gradient live in buffers that only grow.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/denormals.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/train/callbacks.hpp"
#include "uinfo/train/checkpoint.hpp"
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
  // Checkpoints every so many updates or epochs, and resuming from one (see FitProgress).
  CheckpointOptions checkpoint{};
};

// Where fit() is, beside the network and the optimizer: what its checkpoints hold. A run resumed
// from one continues with the same batches, the same random streams and the same sums, so it ends
// with the weights and the history an uninterrupted run has, bit for bit (the seconds aside).
struct FitProgress {
  static constexpr const char* checkpoint_kind = "uinfo::fit";
  Index samples = 0;  // the run's training samples and batch size, which a resumed run must share
  Index batch_size = 0;
  bool shuffle = true;
  int epoch = 0;   // the epoch under way
  Index step = 0;  // its next step; 0: its sample order is not drawn yet
  Index global_step = 0;
  Engine shuffler{0};
  std::vector<Index> order{};  // the epoch's sample order
  double loss_sum = 0;         // over the epoch's steps so far
  Index correct = 0;
  Index seen = 0;
  std::vector<EpochRecord> history{};

  template <class Archive>
  void fields(Archive& a) {
    a(samples, batch_size, shuffle, epoch, step, global_step, shuffler, order, loss_sum, correct,
      seen, history);
  }
};

namespace detail {
// The fewest samples a training batch may hold for layer L: its min_train_batch if it declares
// one (BatchNorm on flat features needs 2 to have a variance), else 1.
template <class L>
constexpr Index layer_min_train_batch() {
  if constexpr (requires { L::min_train_batch; }) {
    return L::min_train_batch;
  } else {
    return 1;
  }
}
template <class Net>
constexpr Index min_train_batch() {
  return []<std::size_t... K>(std::index_sequence<K...>) {
    Index most = 1;
    ((most = std::max(most, layer_min_train_batch<typename Net::template layer_type<K>>())), ...);
    return most;
  }
  (std::make_index_sequence<Net::depth>{});
}
}  // namespace detail

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

// Minibatches: all of batch_size samples but the last, which takes the rest. A rest too small for
// the network to train on (one sample, with BatchNorm on flat features: PyTorch raises there, and
// its users drop the batch) joins the batch before it instead, so every sample is still used in
// every epoch and no layer ever sees a batch it cannot train on.
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
  options.checkpoint.validate("uinfo::fit");
  const Index inputs = net.layer_size(0), outputs = net.layer_size(Net::depth - 1);
  train.validate(inputs, outputs, "the training set");
  if (options.validation) {
    options.validation->validate(inputs, outputs, "the validation set");
  }
  const Index n = train.size();
  constexpr Index min_batch = detail::min_train_batch<Net>();
  if (options.batch_size < min_batch || n < min_batch) {
    throw InvalidArgument(
        "uinfo::fit: " +
        (options.batch_size < min_batch ? "batch_size is " + std::to_string(options.batch_size)
                                        : "the training set has " + std::to_string(n) + " sample") +
        " but the network needs " + std::to_string(min_batch) +
        " samples in every training batch (BatchNorm on flat features has no variance over one)");
  }
  const Index remainder = n % options.batch_size;
  const Index steps_per_epoch = n / options.batch_size + (remainder >= min_batch ? 1 : 0);

  FitProgress progress{.samples = n,
                       .batch_size = options.batch_size,
                       .shuffle = options.shuffle,
                       .shuffler = options.rng.engine(Stream::shuffle)};
  const CheckpointOptions& checkpoint = options.checkpoint;
  if (checkpoint.resume && std::filesystem::exists(checkpoint.path)) {
    load_checkpoint(checkpoint.path, net, optimizer, progress);
    if (progress.samples != n || progress.batch_size != options.batch_size ||
        progress.shuffle != options.shuffle) {
      throw InvalidArgument(
          "uinfo::fit: the checkpoint '" + checkpoint.path.string() + "' is of a run of " +
          std::to_string(progress.samples) + " samples in batches of " +
          std::to_string(progress.batch_size) + (progress.shuffle ? ", shuffled" : ", in order") +
          "; this run has " + std::to_string(n) + " in batches of " +
          std::to_string(options.batch_size) + (options.shuffle ? ", shuffled" : ", in order"));
    }
  }
  std::pair<int, Index> saved{-1, 0};  // the (epoch, step) of the last checkpoint written
  const auto save = [&] {
    save_checkpoint(checkpoint.path, net, optimizer, progress);
    saved = {progress.epoch, progress.step};
  };

  const FlushDenormals flush(options.flush_denormals);
  typename Data::Batch batch;
  Buffer<S> output_gradient;
  auto& order = progress.order;
  progress.history.reserve(static_cast<std::size_t>(options.epochs));

  bool stop = detail::notify_all(
      [&](auto& c) -> decltype(c.on_train_begin(net)) { return c.on_train_begin(net); },
      callbacks...);
  while (progress.epoch < options.epochs && !stop) {
    const int epoch = progress.epoch;
    const auto start = Clock::now();
    if (progress.step == 0) {
      order.resize(static_cast<std::size_t>(n));
      std::iota(order.begin(), order.end(), Index{0});
      if (options.shuffle) progress.shuffler.shuffle(std::span(order));
      progress.loss_sum = 0;
      progress.correct = 0;
      progress.seen = 0;  // fewer than n at the end if a callback stopped early
    }
    while (progress.step < steps_per_epoch && !stop) {
      const Index step = progress.step;
      const Index first = step * options.batch_size;
      const Index size = step + 1 == steps_per_epoch ? n - first : options.batch_size;
      batch.gather(train, std::span<const Index>(order).subspan(static_cast<std::size_t>(first),
                                                                static_cast<std::size_t>(size)));
      optimizer.set_epoch(epoch + static_cast<double>(step) / static_cast<double>(steps_per_epoch));
      const auto output = forward_batch(net, batch, Mode::train);
      const double batch_loss = loss.template value_and_gradient<S>(
          output, batch.targets(), output_gradient.reshape(output.rows(), size));
      if (!std::isfinite(batch_loss)) {
        throw Diverged("uinfo::fit: training diverged at epoch " + std::to_string(epoch) +
                       ", step " + std::to_string(step) + ": the loss is " + shortest(batch_loss) +
                       " at learning rate " + shortest(optimizer.learning_rate()) +
                       "; lower the learning rate or clip gradients (the weights are those "
                       "before this step)");
      }
      if constexpr (labelled<decltype(batch.targets())>) {
        progress.correct += count_correct<S>(output, batch.targets());
      }
      backward_and_step(net, optimizer, std::as_const(output_gradient).view(),
                        options.fuse_updates);
      progress.loss_sum += (batch_loss + net.penalty()) * static_cast<double>(size);
      progress.seen += size;
      const StepInfo info{epoch, step,       progress.global_step,
                          size,  batch_loss, optimizer.learning_rate()};
      ++progress.step;
      ++progress.global_step;
      stop = detail::notify_all([&](auto& c) -> decltype(c.on_step_end(
                                                 info, net)) { return c.on_step_end(info, net); },
                                callbacks...) ||
             stop;
      if (checkpoint.every_steps > 0 && progress.global_step % checkpoint.every_steps == 0) save();
    }
    const auto seen = static_cast<double>(progress.seen);
    EpochRecord record{.epoch = epoch,
                       .train_loss = progress.loss_sum / seen,
                       .learning_rate = optimizer.learning_rate(),
                       .seconds = 0};
    if constexpr (labelled<decltype(batch.targets())>) {
      record.train_accuracy = static_cast<double>(progress.correct) / seen;
    }
    if (options.validation) {
      const Evaluation validation = evaluate(net, loss, *options.validation, options.batch_size);
      record.validation_loss = validation.loss;
      record.validation_accuracy = validation.accuracy;
    }
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    progress.history.push_back(record);
    stop = detail::notify_all(
               [&](auto& c) -> decltype(c.on_epoch_end(record, net)) {
                 return c.on_epoch_end(record, net);
               },
               callbacks...) ||
           stop;
    ++progress.epoch;
    progress.step = 0;
    if (checkpoint.every_epochs > 0 && progress.epoch % checkpoint.every_epochs == 0) save();
  }
  // A finished run leaves a checkpoint of its end, so resuming it again returns at once.
  if (checkpoint.enabled() && progress.epoch == options.epochs &&
      saved != std::pair{progress.epoch, progress.step}) {
    save();
  }
  return progress.history;
}

}  // namespace uinfo
