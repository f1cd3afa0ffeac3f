// How features are rescaled before a decoder sees them, always with statistics of the training
// split alone (the test split is only transformed). Part of the decoder: it refits the map on
// every fit and carries its weights over to the new coordinates on a warm start.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/simd/gemm.hpp"

namespace uinfo {

enum class Preprocess {
  none,
  standardize,  // each feature minus its mean, over its standard deviation
  // Centred and mapped so that the training covariance becomes the identity (see whiten());
  // units with (almost) no variance of their own are dropped. An
  // invertible linear map changes nothing a linear decoder can decode, but on correlated features
  // L-BFGS converges in a quarter of the iterations (82 -> 22 on the peers' probe data).
  whiten,
};

inline std::string to_string(Preprocess p) {
  switch (p) {
    case Preprocess::none:
      return "none";
    case Preprocess::standardize:
      return "standardize";
    case Preprocess::whiten:
      return "whiten";
  }
  return "unknown";
}

// The map z -> A (z - mean) that a Preprocess asks for, fitted to training features (units x
// samples) and applied to any split. A decoder keeps it with its weights.
template <Scalar S>
class FeatureMap {
 public:
  FeatureMap() = default;
  FeatureMap(const Matrix<S>& train, Preprocess how) {
    const Index d = train.rows(), n = train.cols();
    // Statistics in double, a sample at a time: no double copy of the samples.
    Vector<double> sum = Vector<double>::Zero(d);
    for (Index j = 0; j < n; ++j) sum += train.col(j).template cast<double>();
    mean_ = sum / static_cast<double>(n);
    if (how == Preprocess::none) {
      map_ = unmap_ = Matrix<double>::Identity(d, d);
      mean_.setZero();
    } else if (how == Preprocess::standardize) {
      Vector<double> squares = Vector<double>::Zero(d);
      for (Index j = 0; j < n; ++j)
        squares += (train.col(j).template cast<double>() - mean_).cwiseAbs2();
      const Vector<double> variance = squares / static_cast<double>(n);
      require_finite_statistics(variance, how);
      const Vector<double> deviation = variance.cwiseSqrt();
      const Vector<double> scale = (deviation.array() > 1e-12).select(deviation, 1.0);
      map_ = scale.cwiseInverse().asDiagonal();
      unmap_ = scale.asDiagonal();
    } else {
      Matrix<double> c = covariance(train);
      require_finite_statistics(c.diagonal(), how);  // the variances
      whiten(std::move(c));
    }
  }

  Index inputs() const { return map_.cols(); }
  Index outputs() const { return map_.rows(); }  // whitening drops directions without variance
  const Vector<double>& mean() const { return mean_; }
  const Matrix<double>& matrix() const { return map_; }  // A, outputs x inputs

  // A (z - mean), in S: the map is computed in double, but applied as one product in the
  // precision of the features themselves, by the tiled product when it has a vector of outputs
  // (Eigen's would pack both operands first).
  Matrix<S> operator()(const Matrix<S>& z) const {
    const Matrix<S> map = map_.template cast<S>();
    Matrix<S> mapped(map.rows(), z.cols());
    for_each_centred_block(z, [&](Index first, const Matrix<S>& centred) {
      auto out = mapped.middleCols(first, centred.cols());
      if (simd::tiles_rows<S>(map.rows())) {
        simd::multiply<S>(MatrixView<S>(out.data(), out.rows(), out.cols()),
                          ConstMatrixView<S>(map.data(), map.rows(), map.cols()),
                          ConstMatrixView<S>(centred.data(), centred.rows(), centred.cols()),
                          nullptr);
      } else {
        out.noalias() = map * centred;
      }
    });
    return mapped;
  }

  // Calls f(first, centred) with z - mean in S, a block of samples from column `first` at a time:
  // a block stays in cache where a centred copy of all of z would not.
  template <class F>
  void for_each_centred_block(const Matrix<S>& z, F&& f) const {
    constexpr Index block = 256;
    const Vector<S> mean = mean_.template cast<S>();
    Matrix<S> centred;
    for (Index first = 0; first < z.cols(); first += block) {
      centred = z.middleCols(first, std::min(block, z.cols() - first)).colwise() - mean;
      f(first, std::as_const(centred));
    }
  }

  // Given an affine layer y = W x + b over the features of `previous`, the weights that compute
  // (nearly) the same y from this map's features: what a warm start needs when the map is refitted
  // to a representation that moved. Exact on the span of this map's training features.
  void carry_over(const FeatureMap& previous, const Matrix<S>& weight, const Matrix<S>& bias,
                  Matrix<S>& new_weight, Matrix<S>& new_bias) const {
    const Matrix<double> on_raw = weight.template cast<double>() * previous.map_;  // W A_old
    new_weight = (on_raw * unmap_).template cast<S>();
    new_bias =
        (bias.template cast<double>() + on_raw * (mean_ - previous.mean_)).template cast<S>();
  }

 private:
  void require_finite_statistics(const Vector<double>& variance, Preprocess how) const {
    if (!(mean_.allFinite() && variance.allFinite())) {
      throw NonFiniteValue(
          "uinfo: the features are too large to " + to_string(how) +
          " (their mean or variance overflows a double); has the network's training diverged?");
    }
  }

  // The training features' covariance, accumulated in double over blocks of samples (no double
  // copy of them all).
  Matrix<double> covariance(const Matrix<S>& train) const {
    constexpr Index block = 128;
    const Index d = train.rows(), n = train.cols();
    const double weight = 1.0 / static_cast<double>(n);
    Matrix<double> sum = Matrix<double>::Zero(d, d);
    Matrix<double> centred(d, block);
    for (Index first = 0; first < n; first += block) {
      const Index count = std::min(block, n - first);
      centred.leftCols(count) =
          train.middleCols(first, count).template cast<double>().colwise() - mean_;
      sum.selfadjointView<Eigen::Lower>().rankUpdate(centred.leftCols(count), weight);
    }
    return sum.selfadjointView<Eigen::Lower>();
  }

  // Whitening by a Cholesky factorisation with complete pivoting, C = P L Lᵀ Pᵀ: each step takes
  // the unit with the most variance left unexplained by the units taken before it, and stops when
  // no unit has more than 1e-10 of the largest variance left (dead or redundant units). A = L⁻¹ Pᵀ
  // on the kept units. Any two maps that whiten the same span differ by a rotation, which changes
  // neither a linear decoder's optimum nor its L2 penalty, and this one costs far less than an
  // eigendecomposition onto the principal axes (BM_WhiteningMap, 64 units: 0.54 -> 0.34 ms).
  void whiten(Matrix<double> c) {
    const Index d = c.rows();
    std::vector<Index> unit(static_cast<std::size_t>(d));  // unit[i]: the i-th pivot
    std::iota(unit.begin(), unit.end(), Index{0});
    const double floor = 1e-10 * c.diagonal().maxCoeff();
    Index kept = 0;
    for (; kept < d; ++kept) {
      Index best = 0;
      const double pivot = c.diagonal().tail(d - kept).maxCoeff(&best);
      if (pivot <= floor && kept > 0) break;
      best += kept;
      c.row(kept).swap(c.row(best));
      c.col(kept).swap(c.col(best));
      std::swap(unit[static_cast<std::size_t>(kept)], unit[static_cast<std::size_t>(best)]);
      // If nothing varies (a dead layer), one unit is kept unscaled: every training sample maps to
      // 0 and the decoder to the labels' marginal, where 1 / sqrt(0) would make every value NaN.
      const double root = pivot > std::numeric_limits<double>::min() ? std::sqrt(pivot) : 1.0;
      const Index rest = d - kept - 1;
      c(kept, kept) = root;
      c.col(kept).tail(rest) /= root;
      // The Schur complement: what the remaining units vary by once this one is accounted for.
      c.bottomRightCorner(rest, rest).noalias() -=
          c.col(kept).tail(rest) * c.col(kept).tail(rest).transpose();
    }
    // L (d x kept, rows in pivot order) is the lower trapezoid of c's first columns.
    const Matrix<double> l = c.leftCols(kept).template triangularView<Eigen::Lower>();
    const Matrix<double> inverse = l.topRows(kept).template triangularView<Eigen::Lower>().solve(
        Matrix<double>::Identity(kept, kept));
    map_.setZero(kept, d);
    unmap_.resize(d, kept);
    for (Index i = 0; i < d; ++i) {
      const Index u = unit[static_cast<std::size_t>(i)];
      if (i < kept) map_.col(u) = inverse.col(i);
      unmap_.row(u) = l.row(i);
    }
  }

  Vector<double> mean_;
  Matrix<double> map_;    // outputs x inputs: A
  Matrix<double> unmap_;  // inputs x outputs: a right inverse of A on the training span
};

}  // namespace uinfo
