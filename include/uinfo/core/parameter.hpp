// A block of trainable numbers, its gradient, and the optimizer state that belongs to it.
//
// Optimizer state lives here, beside the values, rather than in a table keyed by address inside
// the optimizer: it survives reallocation and is saved and loaded with the network.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "uinfo/core/tensor.hpp"

namespace uinfo {

// Weights and biases are trained. A statistic (BatchNorm's running mean and variance) is
// computed by its layer's forward pass and kept with the parameters only so that save() and
// load() carry it: optimizers, weight decay, gradient checks and parameter vectors pass it by,
// and its gradient stays zero.
enum class ParameterRole { weight, bias, statistic };

template <class Scalar>
struct OptimizerState {
  // Moment estimates (momentum's velocity; Adam's first and second moments), sized on first use.
  std::array<Matrix<Scalar>, 2> moments;
  std::int64_t steps = 0;
};

template <class Scalar>
struct Parameter {
  Parameter(Index rows, Index cols, ParameterRole parameter_role)
      : value(Matrix<Scalar>::Zero(rows, cols)),
        gradient(Matrix<Scalar>::Zero(rows, cols)),
        role(parameter_role) {}

  Matrix<Scalar> value;
  Matrix<Scalar> gradient;  // of the loss, written by the last backward pass
  ParameterRole role;
  bool weight_decay = true;  // set false to exempt this block (e.g. biases) from weight decay
  // Empty: every element learns. Otherwise one value per element, 1 where it learns and 0 where
  // it is fixed (an absent connection, a non-plastic weight): optimizers leave a fixed element and
  // its state as they are, weight decay included, and its layer gives it no gradient.
  Matrix<Scalar> plastic;
  OptimizerState<Scalar> state;

  Index size() const { return value.size(); }
  const Scalar* plastic_data() const { return plastic.size() ? plastic.data() : nullptr; }
  bool trainable() const { return role != ParameterRole::statistic; }
  std::string_view name() const {
    switch (role) {
      case ParameterRole::weight:
        return "weight";
      case ParameterRole::bias:
        return "bias";
      case ParameterRole::statistic:
        return "statistic";
    }
    return "unknown";
  }
};

}  // namespace uinfo
