// Dense storage conventions shared by every uinfo component.
//
// Samples are columns: a batch is a (features x batch) column-major matrix, so a Dense layer's
// forward pass is a single GEMM W * X and one sample is one contiguous column.
#pragma once

#include <concepts>

#include "uinfo/core/external.hpp"

namespace uinfo {

using Index = Eigen::Index;

template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

// Views over contiguous column-major storage; layers exchange these, never copies.
template <class Scalar>
using MatrixView = Eigen::Map<Matrix<Scalar>>;

template <class Scalar>
using ConstMatrixView = Eigen::Map<const Matrix<Scalar>>;

// What public entry points accept: any Eigen expression with unit inner stride, without a copy.
template <class Scalar>
using ConstMatrixRef = Eigen::Ref<const Matrix<Scalar>>;

template <class T>
concept Scalar = std::same_as<T, float> || std::same_as<T, double>;

// Whether a forward pass is part of training (dropout active) or evaluation.
enum class Mode { train, eval };

}  // namespace uinfo
