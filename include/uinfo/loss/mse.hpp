// Mean squared error, averaged over every output and sample (PyTorch's MSELoss convention), or,
// with a loss mask, over the scored ones: sum(m (z - y)²) / sum(m).
#pragma once

#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/masked.hpp"

namespace uinfo {

struct MeanSquaredError {
  template <class S>
  static double value(ConstMatrixRef<S> predictions, ConstMatrixRef<S> targets) {
    check(predictions, targets);
    return (predictions - targets).template cast<double>().squaredNorm() /
           static_cast<double>(predictions.size());
  }

  // Also writes d(loss)/d(predictions) = 2 (predictions - targets) / size.
  template <class S>
  static double value_and_gradient(ConstMatrixRef<S> predictions, ConstMatrixRef<S> targets,
                                   MatrixView<S> gradient) {
    check(predictions, targets);
    if (gradient.rows() != predictions.rows() || gradient.cols() != predictions.cols()) {
      throw InvalidArgument(
          "uinfo::MeanSquaredError: the gradient output has the wrong shape; "
          "expected that of the predictions");
    }
    gradient = (predictions - targets) * (S(2) / static_cast<S>(predictions.size()));
    return (predictions - targets).template cast<double>().squaredNorm() /
           static_cast<double>(predictions.size());
  }

  template <class S>
  static double value(ConstMatrixRef<S> predictions, const MaskedTargets<S>& targets) {
    return masked_mean(predictions, targets, check(predictions, targets));
  }

  // Also writes d(loss)/d(predictions) = 2 m (predictions - targets) / sum(m); 0 where unscored.
  template <class S>
  static double value_and_gradient(ConstMatrixRef<S> predictions, const MaskedTargets<S>& targets,
                                   MatrixView<S> gradient) {
    const double total = check(predictions, targets);
    if (gradient.rows() != predictions.rows() || gradient.cols() != predictions.cols()) {
      throw InvalidArgument(
          "uinfo::MeanSquaredError: the gradient output has the wrong shape; "
          "expected that of the predictions");
    }
    if (total == 0) {
      gradient.setZero();
      return 0;
    }
    gradient =
        (predictions - targets.values).cwiseProduct(targets.mask) * static_cast<S>(2 / total);
    return masked_mean(predictions, targets, total);
  }

 private:
  template <class S>
  static double masked_mean(const ConstMatrixRef<S>& predictions, const MaskedTargets<S>& targets,
                            double total) {
    if (total == 0) return 0;
    return ((predictions - targets.values).array().square() * targets.mask.array())
               .template cast<double>()
               .sum() /
           total;
  }

  // Checks shapes and values; returns the mask's total weight.
  template <class S>
  static double check(const ConstMatrixRef<S>& predictions, const MaskedTargets<S>& targets) {
    check(predictions, ConstMatrixRef<S>(targets.values));
    require_mask(targets.mask, predictions.rows(), predictions.cols(), "MeanSquaredError");
    return static_cast<double>(targets.mask.template cast<double>().sum());
  }

  template <class S>
  static void check(const ConstMatrixRef<S>& predictions, const ConstMatrixRef<S>& targets) {
    if (predictions.rows() != targets.rows() || predictions.cols() != targets.cols()) {
      throw InvalidArgument("uinfo::MeanSquaredError: targets are " +
                            std::to_string(targets.rows()) + " x " +
                            std::to_string(targets.cols()) + " but predictions are " +
                            std::to_string(predictions.rows()) + " x " +
                            std::to_string(predictions.cols()) + "; expected equal shapes");
    }
    require_finite(targets, "MSE targets");
  }
};

}  // namespace uinfo
