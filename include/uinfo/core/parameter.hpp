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

enum class ParameterRole { weight, bias };

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
  OptimizerState<Scalar> state;

  Index size() const { return value.size(); }
  std::string_view name() const { return role == ParameterRole::weight ? "weight" : "bias"; }
};

}  // namespace uinfo
