// A network's trainable parameters (or their gradients) as one flat vector, for optimizers such
// as L-BFGS that work on a single vector. The order is that of for_each_parameter; statistics
// (ParameterRole::statistic) are left out, as in parameter_count().
#pragma once

#include <type_traits>

#include "uinfo/core/tensor.hpp"

namespace uinfo {

// Copies the parameter values (or, with `gradients`, the gradients) into `out`.
template <class Net>
void copy_parameters_to(const Net& net, Vector<double>& out, bool gradients = false) {
  out.resize(net.parameter_count());
  Index offset = 0;
  net.for_each_parameter([&](const auto& p) {
    if (!p.trainable()) return;
    const auto& block = gradients ? p.gradient : p.value;
    out.segment(offset, block.size()) = block.reshaped().template cast<double>();
    offset += block.size();
  });
}

template <class Net>
void copy_parameters_from(Net& net, const Vector<double>& values) {
  Index offset = 0;
  net.for_each_parameter([&](auto& p) {
    if (!p.trainable()) return;
    using S = typename std::decay_t<decltype(p.value)>::Scalar;
    p.value.reshaped() = values.segment(offset, p.size()).template cast<S>();
    offset += p.size();
  });
}

}  // namespace uinfo
