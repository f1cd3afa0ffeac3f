// How features are rescaled before a decoder sees them, always with statistics of the training
// split alone (the test split is only transformed). Part of the decoder: it refits the map on
// every fit and carries its weights over to the new coordinates on a warm start.
#pragma once

#include <algorithm>
#include <string>
#include <utility>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

// After tensor.hpp, whose guarded include of Eigen/Core keeps GCC's false AVX-512 warnings quiet.
#include <Eigen/Eigenvalues>

namespace uinfo {

enum class Preprocess {
  none,
  standardize,  // each feature minus its mean, over its standard deviation
  // Centred, rotated onto the principal axes and scaled to unit variance, so the training
  // covariance becomes the identity; directions with (almost) no variance are dropped. An
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
    const Index d = train.rows();
    mean_ = train.template cast<double>().rowwise().mean();
    const Matrix<double> centred = train.template cast<double>().colwise() - mean_;
    const Vector<double> variance = centred.array().square().rowwise().mean().matrix();
    if (how != Preprocess::none && !(mean_.allFinite() && variance.allFinite())) {
      throw NonFiniteValue(
          "uinfo: the features are too large to " + to_string(how) +
          " (their mean or variance overflows a double); has the network's training diverged?");
    }
    if (how == Preprocess::none) {
      map_ = unmap_ = Matrix<double>::Identity(d, d);
      mean_.setZero();
    } else if (how == Preprocess::standardize) {
      const Vector<double> deviation = variance.cwiseSqrt();
      const Vector<double> scale = (deviation.array() > 1e-12).select(deviation, 1.0);
      map_ = scale.cwiseInverse().asDiagonal();
      unmap_ = scale.asDiagonal();
    } else {
      Matrix<double> covariance = Matrix<double>::Zero(d, d);
      covariance.selfadjointView<Eigen::Lower>().rankUpdate(
          centred, 1.0 / static_cast<double>(train.cols()));
      const Eigen::SelfAdjointEigenSolver<Matrix<double>> eigen(
          covariance.selfadjointView<Eigen::Lower>());
      const Vector<double>& axis_variance = eigen.eigenvalues();  // increasing
      const double floor = 1e-10 * std::max(axis_variance.maxCoeff(), 1e-300);
      Index dropped = 0;
      while (dropped + 1 < d && axis_variance(dropped) <= floor) ++dropped;
      const Index kept = d - dropped;
      const Vector<double> deviation = axis_variance.tail(kept).cwiseMax(floor).cwiseSqrt();
      map_ =
          deviation.cwiseInverse().asDiagonal() * eigen.eigenvectors().rightCols(kept).transpose();
      unmap_ = eigen.eigenvectors().rightCols(kept) * deviation.asDiagonal();
    }
  }

  Index inputs() const { return map_.cols(); }
  Index outputs() const { return map_.rows(); }  // whitening drops directions without variance

  Matrix<S> operator()(const Matrix<S>& z) const {
    return (map_ * (z.template cast<double>().colwise() - mean_)).template cast<S>();
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
  Vector<double> mean_;
  Matrix<double> map_;    // outputs x inputs: A
  Matrix<double> unmap_;  // inputs x outputs: a right inverse of A on the training span
};

}  // namespace uinfo
