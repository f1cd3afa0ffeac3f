// Binary cross-entropy on logits (PyTorch's BCEWithLogitsLoss, mean reduction): for a logit z and
// a target t in [0, 1], softplus(z) - t z, averaged over every output and sample, in nats. Written
// with softplus(z) = max(z, 0) + log1p(exp(-|z|)), which neither overflows nor loses small losses.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

struct BinaryCrossEntropyWithLogits {
  template <class S>
  static double value(ConstMatrixRef<S> logits, ConstMatrixRef<S> targets) {
    check(logits, targets);
    double total = 0;
    for (Index i = 0; i < logits.size(); ++i) {
      total += sample_loss(logits.data()[i], targets.data()[i]);
    }
    return total / static_cast<double>(logits.size());
  }

  // Also writes d(loss)/d(logits) = (sigmoid(z) - t) / size.
  template <class S>
  static double value_and_gradient(ConstMatrixRef<S> logits, ConstMatrixRef<S> targets,
                                   MatrixView<S> gradient) {
    check(logits, targets);
    if (gradient.rows() != logits.rows() || gradient.cols() != logits.cols()) {
      throw InvalidArgument("uinfo::BinaryCrossEntropyWithLogits: the gradient output is " +
                            std::to_string(gradient.rows()) + " x " +
                            std::to_string(gradient.cols()) + "; expected the logits' shape, " +
                            std::to_string(logits.rows()) + " x " + std::to_string(logits.cols()));
    }
    const double scale = 1 / static_cast<double>(logits.size());
    double total = 0;
    for (Index i = 0; i < logits.size(); ++i) {
      const double z = logits.data()[i], t = targets.data()[i];
      total += sample_loss(z, t);
      gradient.data()[i] = static_cast<S>((sigmoid(z) - t) * scale);
    }
    return total * scale;
  }

  static double sigmoid(double z) {
    const double e = std::exp(-std::abs(z));  // <= 1
    return (z >= 0 ? 1 : e) / (1 + e);
  }

  static double sample_loss(double z, double t) {
    return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - t * z;
  }

 private:
  template <class S>
  static void check(const ConstMatrixRef<S>& logits, const ConstMatrixRef<S>& targets) {
    if (logits.rows() != targets.rows() || logits.cols() != targets.cols()) {
      throw InvalidArgument("uinfo::BinaryCrossEntropyWithLogits: targets are " +
                            std::to_string(targets.rows()) + " x " +
                            std::to_string(targets.cols()) + " but logits are " +
                            std::to_string(logits.rows()) + " x " + std::to_string(logits.cols()) +
                            "; expected equal shapes");
    }
    require_finite(targets, "BinaryCrossEntropyWithLogits targets");
  }
};

}  // namespace uinfo
