// An L2 penalty on a network's weights, computed on the weights as trained (raw, before any
// Dale's-law or positivity constraint), as part of the loss rather than as an optimizer's weight
// decay: its gradient then counts in a global-norm clip, as in the training of the multi-area
// networks of Kleinman et al. (coefficient 1, the mean of squares of each weight block).
#pragma once

#include "uinfo/core/parameter.hpp"

namespace uinfo {

struct WeightPenalty {
  double coefficient = 0;
  bool mean_per_block = true;  // coefficient * mean(W²) of each block; false: coefficient * sum(W²)

  // The penalty of every weight block (biases, initial states and statistics are not weights).
  template <class Net>
  double value(const Net& net) const {
    double sum = 0;
    if (coefficient == 0) return 0;
    net.for_each_parameter([&](const auto& p) {
      if (p.role == ParameterRole::weight) {
        sum += static_cast<double>(p.value.squaredNorm()) / scale(p.size());
      }
    });
    return coefficient * sum;
  }

  // Adds the penalty's gradient to every weight block's gradient.
  template <class Net>
  void add_gradient(Net& net) const {
    if (coefficient == 0) return;
    net.for_each_parameter([&](auto& p) {
      if (p.role == ParameterRole::weight) {
        using S = typename std::decay_t<decltype(p.value)>::Scalar;
        p.gradient += static_cast<S>(2 * coefficient / scale(p.size())) * p.value;
      }
    });
  }

 private:
  double scale(Index size) const { return mean_per_block ? static_cast<double>(size) : 1.0; }
};

}  // namespace uinfo
