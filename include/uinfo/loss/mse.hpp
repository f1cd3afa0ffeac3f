// Mean squared error, averaged over every output and sample (PyTorch's MSELoss convention).
#pragma once

#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

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

 private:
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
