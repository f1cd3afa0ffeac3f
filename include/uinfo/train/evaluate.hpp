// Evaluating a network on a whole dataset, in batches, without changing its parameters.
#pragma once

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "uinfo/train/metrics.hpp"

namespace uinfo {

// Runs the network on a dataset's batch, with the batch's timeline if it holds sequences.
template <class Net, class Batch>
ConstMatrixView<typename Net::scalar_type> forward_batch(Net& net, const Batch& batch, Mode mode) {
  if constexpr (requires { batch.timeline(); }) {
    return net.forward(batch.x(), batch.timeline(), mode);
  } else {
    return net.forward(batch.x(), mode);
  }
}

struct Evaluation {
  double loss;      // mean over samples
  double accuracy;  // NaN for unlabelled (regression) data
  Index size;
};

template <class Net, class Loss, class Data>
Evaluation evaluate(Net& net, const Loss& loss, const Data& data, Index batch_size = 256) {
  using S = typename Net::scalar_type;
  data.validate(net.layer_size(0), net.layer_size(Net::depth - 1), "the evaluation set");
  if (batch_size <= 0) throw InvalidArgument("uinfo::evaluate: batch_size must be positive");
  const Index n = data.size();
  std::vector<Index> indices(static_cast<std::size_t>(n));
  std::iota(indices.begin(), indices.end(), Index{0});
  typename Data::Batch batch;
  double loss_sum = 0;
  Index correct = 0;
  for (Index first = 0; first < n; first += batch_size) {
    const Index size = std::min(batch_size, n - first);
    batch.gather(data, std::span<const Index>(indices).subspan(static_cast<std::size_t>(first),
                                                               static_cast<std::size_t>(size)));
    const auto output = forward_batch(net, batch, Mode::eval);
    loss_sum += static_cast<double>(loss.template value<S>(output, batch.targets())) *
                static_cast<double>(size);
    if constexpr (labelled<decltype(batch.targets())>)
      correct += count_correct<S>(output, batch.targets());
  }
  const double accuracy = labelled<decltype(batch.targets())>
                              ? static_cast<double>(correct) / static_cast<double>(n)
                              : std::numeric_limits<double>::quiet_NaN();
  return {loss_sum / static_cast<double>(n), accuracy, n};
}

}  // namespace uinfo
