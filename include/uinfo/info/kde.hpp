// Pairwise-distance (KDE) upper bound on the information plane (Kolchinsky & Tracey 2017, as used
// by Saxe et al. 2018): a baseline to compare decoder-based usable information with.
//
// A deterministic network's T carries infinite information about distinct inputs; adding Gaussian
// noise of variance sigma^2 to every unit makes T a mixture of n Gaussians, one per sample, and
// the KL-divergence pairwise bound on the mixture's entropy gives
//
//   I(X;T) <= -(1/n) sum_i log (1/n) sum_j exp(-||t_i - t_j||^2 / (2 sigma^2)),
//
// which lies in [0, log n]. I(T;Y) is reported as this bound minus sum_y p(y) times the same bound
// within class y, as Saxe et al. do. That difference of two bounds is an estimate, not a bound.
//
// Cost: O(n^2 units) time for the squared distances (one GEMM per block of samples) and O(n * 256)
// memory, since distances are formed 256 samples at a time: 10 MB of doubles at n = 5000.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/info/binning.hpp"  // the shared input checks and class numbering
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

struct KdeOptions {
  // sigma^2 of the Gaussian noise assumed added to every unit. The bounds scale with it: compare
  // layers and epochs at one variance.
  double noise_variance = 1e-3;
  // Samples whose distances to all others are formed at once; bounds memory at n x block doubles.
  Index block_size = 256;
};

struct KdeResult {
  double i_xt_nats = 0;  // the upper bound on I(X;T)
  double i_xt_bits = 0;
  double i_ty_nats = 0;  // the bound minus the class-conditional bounds
  double i_ty_bits = 0;
};

namespace detail {

// Samples (columns of `t`, in double) whose positions are listed, centred on their mean: distances
// do not change, but ||a||^2 + ||b||^2 - 2 a.b then loses less to cancellation when the
// representation sits far from the origin (e.g. saturated or large ReLU activations).
template <class S>
Matrix<double> centred_columns(const ConstMatrixRef<S>& t, std::span<const Index> columns) {
  Matrix<double> x(t.rows(), static_cast<Index>(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j)
    x.col(static_cast<Index>(j)) = t.col(columns[j]).template cast<double>();
  x.colwise() -= x.rowwise().mean();
  return x;
}

// Calls visit(first, distances) for consecutive blocks of samples: `distances` is n x block, the
// squared Euclidean distances from every sample (rows) to samples first, first + 1, ... (columns),
// computed as ||a||^2 + ||b||^2 - 2 a.b with one GEMM per block, clamped at 0, and exactly 0 from
// a sample to itself.
template <class Visit>
void for_each_distance_block(const Matrix<double>& x, Index block_size, Visit&& visit) {
  const Index n = x.cols();
  const Vector<double> squared_norm = x.colwise().squaredNorm().transpose();
  Matrix<double> buffer(n, std::min(block_size, n));
  for (Index first = 0; first < n; first += block_size) {
    const Index width = std::min(block_size, n - first);
    auto distances = buffer.leftCols(width);
    distances.noalias() = x.transpose() * x.middleCols(first, width);
    for (Index c = 0; c < width; ++c) {
      distances.col(c) =
          (squared_norm.array() + squared_norm(first + c) - 2 * distances.col(c).array()).max(0.0);
      distances(first + c, c) = 0;
    }
    visit(first, distances);
  }
}

// -(1/n) sum_i log (1/n) sum_j exp(-||x_i - x_j||^2 / (2 variance)), in nats. The j = i term is
// exp(0) = 1 and every term is at most 1, so each inner sum lies in [1, n]: no overflow, and the
// log-sum-exp needs no running maximum.
inline double pairwise_kl_bound(const Matrix<double>& x, double variance, Index block_size) {
  const Index n = x.cols();
  double sum_log = 0;
  for_each_distance_block(x, block_size, [&](Index, auto& distances) {
    const auto kernel = (distances.array() * (-0.5 / variance)).exp();
    sum_log += kernel.colwise().sum().log().sum();
  });
  return std::log(static_cast<double>(n)) - sum_log / static_cast<double>(n);
}

template <class S>
KdeResult kde_information(const ConstMatrixRef<S>& t, std::span<const Label> labels,
                          const KdeOptions& options) {
  const std::string function = "kde_information";
  require_labelled_samples(t, labels, 0, function);
  if (!(options.noise_variance > 0 && std::isfinite(options.noise_variance))) {
    throw InvalidArgument("uinfo::" + function + ": noise_variance is " +
                          std::to_string(options.noise_variance) + "; expected a finite value > 0");
  }
  if (options.block_size < 1) {
    throw InvalidArgument("uinfo::" + function + ": block_size is " +
                          std::to_string(options.block_size) + "; expected at least 1");
  }

  const Index n = t.cols();
  const Classes classes = dense_classes(labels);
  std::vector<Index> all(static_cast<std::size_t>(n));
  std::vector<std::vector<Index>> members(classes.size.size());
  for (Index j = 0; j < n; ++j) {
    all[static_cast<std::size_t>(j)] = j;
    members[static_cast<std::size_t>(classes.id[static_cast<std::size_t>(j)])].push_back(j);
  }
  const double bound =
      pairwise_kl_bound(centred_columns(t, all), options.noise_variance, options.block_size);
  double conditional = 0;
  for (const auto& in_class : members) {
    const double weight = static_cast<double>(in_class.size()) / static_cast<double>(n);
    conditional += weight * pairwise_kl_bound(centred_columns(t, in_class), options.noise_variance,
                                              options.block_size);
  }

  const double i_ty = bound - conditional;
  return {.i_xt_nats = bound,
          .i_xt_bits = nats_to_bits(bound),
          .i_ty_nats = i_ty,
          .i_ty_bits = nats_to_bits(i_ty)};
}

}  // namespace detail

// The pairwise-distance bound on I(X;T) and the matching estimate of I(T;Y) for representation
// `t` (units x samples, any Eigen matrix or view of float or double) with Gaussian noise of
// variance options.noise_variance; `labels` holds one non-negative class label per sample. Throws
// InvalidArgument for an empty representation, a label count that differs from the sample count,
// a negative label or a bad option, and NonFiniteValue for a NaN or infinity.
template <class Derived>
requires Scalar<typename Derived::Scalar> KdeResult
kde_information(const Eigen::MatrixBase<Derived>& t, std::span<const Label> labels,
                const KdeOptions& options = {}) {
  using S = typename Derived::Scalar;
  return detail::kde_information<S>(ConstMatrixRef<S>(t), labels, options);
}

}  // namespace uinfo
