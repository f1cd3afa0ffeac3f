// Softmax cross-entropy on logits, in nats, computed through log-sum-exp so that large logits
// neither overflow nor lose the log-probabilities the estimators need.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/masked.hpp"
#include "uinfo/simd/log_softmax.hpp"

namespace uinfo {

// Throws unless every label lies in [0, classes); `where` names the labels in the message.
inline void require_labels_in_range(std::span<const Label> labels, Index classes,
                                    const std::string& where) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw InvalidArgument("uinfo: " + where + " has label " + std::to_string(labels[i]) +
                            " at sample " + std::to_string(i) + ", out of range for " +
                            std::to_string(classes) + " classes (expected 0.." +
                            std::to_string(classes - 1) + ")");
    }
  }
}

struct SoftmaxCrossEntropy {
  // log p(k | sample) for every class k (rows) and sample (columns); `out` must not overlap
  // `logits`.
  template <class S>
  static void log_probabilities(ConstMatrixRef<S> logits, MatrixView<S> out) {
    require_output_shape(logits, out.rows(), out.cols(), "log_probabilities");
    simd::log_softmax<S>(logits, out);
  }

  // -log p(label | sample) for each sample, in nats.
  template <class S>
  static void per_sample_loss(ConstMatrixRef<S> logits, std::span<const Label> labels,
                              std::span<S> out) {
    check(logits, labels);
    if (static_cast<Index>(out.size()) != logits.cols()) {
      throw InvalidArgument("uinfo::SoftmaxCrossEntropy::per_sample_loss: the output has " +
                            std::to_string(out.size()) + " entries; expected one per sample (" +
                            std::to_string(logits.cols()) + ")");
    }
    for (Index j = 0; j < logits.cols(); ++j)
      out[j] = sample_loss(logits.col(j).array(), labels[j]);
  }

  // Mean loss over the batch in nats (accumulated and returned in double: optimizers such as
  // L-BFGS compare losses that differ in the seventh digit).
  template <class S>
  static double value(ConstMatrixRef<S> logits, std::span<const Label> labels) {
    check(logits, labels);
    double total = 0;
    for (Index j = 0; j < logits.cols(); ++j)
      total += sample_loss(logits.col(j).array(), labels[j]);
    return total / static_cast<double>(logits.cols());
  }

  // Mean loss over the batch in nats, and its gradient with respect to the logits:
  // (softmax - onehot) / batch. Whole-matrix array operations, so that the exponentials run
  // vectorised over all classes and samples at once rather than column by column.
  template <class S>
  static double value_and_gradient(ConstMatrixRef<S> logits, std::span<const Label> labels,
                                   MatrixView<S> gradient) {
    check(logits, labels);
    require_output_shape(logits, gradient.rows(), gradient.cols(), "value_and_gradient");
    const Index n = logits.cols();
    const S inverse_batch = S(1) / static_cast<S>(n);
    double total = 0;
    // Columns in blocks, so the per-block row vectors stay on the stack (no allocation).
    constexpr Index block = 256;
    for (Index first = 0; first < n; first += block) {
      const Index cols = std::min(block, n - first);
      const auto z = logits.middleCols(first, cols).array();
      auto g = gradient.middleCols(first, cols).array();
      const Eigen::Array<S, 1, Eigen::Dynamic, Eigen::RowMajor, 1, block> max =
          z.colwise().maxCoeff();
      g = (z.rowwise() - max).exp();
      const Eigen::Array<S, 1, Eigen::Dynamic, Eigen::RowMajor, 1, block> sum = g.colwise().sum();
      g.rowwise() *= inverse_batch / sum;
      for (Index j = 0; j < cols; ++j) {
        const Label y = labels[static_cast<std::size_t>(first + j)];
        total += static_cast<double>(max(j) + std::log(sum(j)) - z(y, j));
        g(y, j) -= inverse_batch;
      }
    }
    return total / static_cast<double>(n);
  }

  // Per-step classification of a sequence batch: the mean over scored columns (mask weights) of
  // -log p(label), and its gradient; unscored columns get none.
  template <class S>
  static double value(ConstMatrixRef<S> logits, const MaskedLabels<S>& targets) {
    const double total = check_masked(logits, targets);
    double sum = 0;
    for (Index j = 0; j < logits.cols(); ++j) {
      const S m = targets.mask[static_cast<std::size_t>(j)];
      if (m != S(0)) sum += m * sample_loss(logits.col(j).array(), targets.labels[j]);
    }
    return total > 0 ? sum / total : 0;
  }

  template <class S>
  static double value_and_gradient(ConstMatrixRef<S> logits, const MaskedLabels<S>& targets,
                                   MatrixView<S> gradient) {
    require_output_shape(logits, gradient.rows(), gradient.cols(), "value_and_gradient");
    const double total = check_masked(logits, targets);
    double sum = 0;
    for (Index j = 0; j < logits.cols(); ++j) {
      const S m = targets.mask[static_cast<std::size_t>(j)];
      auto g = gradient.col(j);
      if (m == S(0) || total == 0) {
        g.setZero();
        continue;
      }
      const auto z = logits.col(j).array();
      const Label y = targets.labels[static_cast<std::size_t>(j)];
      const S max = z.maxCoeff();
      g = (z - max).exp().matrix();
      const S norm = g.sum();
      sum += m * (max + std::log(norm) - z(y));
      g *= static_cast<S>(m / total) / norm;
      g(y) -= static_cast<S>(m / total);
    }
    return total > 0 ? sum / total : 0;
  }

 private:
  // Checks the labels and mask; returns the mask's total weight.
  template <class S>
  static double check_masked(const ConstMatrixRef<S>& logits, const MaskedLabels<S>& targets) {
    check(logits, targets.labels);
    if (static_cast<Index>(targets.mask.size()) != logits.cols()) {
      throw InvalidArgument("uinfo::SoftmaxCrossEntropy: " + std::to_string(targets.mask.size()) +
                            " mask values for " + std::to_string(logits.cols()) +
                            " columns; expected one per column");
    }
    const Eigen::Map<const Vector<S>> mask(targets.mask.data(),
                                           static_cast<Index>(targets.mask.size()));
    require_mask(mask, logits.cols(), 1, "SoftmaxCrossEntropy");
    return static_cast<double>(mask.sum());
  }

  template <class S>
  static void require_output_shape(const ConstMatrixRef<S>& logits, Index rows, Index cols,
                                   const char* function) {
    if (rows != logits.rows() || cols != logits.cols()) {
      throw InvalidArgument(std::string("uinfo::SoftmaxCrossEntropy::") + function +
                            ": the output is " + std::to_string(rows) + " x " +
                            std::to_string(cols) + "; expected " + std::to_string(logits.rows()) +
                            " x " + std::to_string(logits.cols()) + " like the logits");
    }
  }

  template <class S>
  static void check(const ConstMatrixRef<S>& logits, std::span<const Label> labels) {
    if (static_cast<Index>(labels.size()) != logits.cols()) {
      throw InvalidArgument("uinfo::SoftmaxCrossEntropy: " + std::to_string(labels.size()) +
                            " labels for a batch of " + std::to_string(logits.cols()) +
                            " samples; expected one label per sample");
    }
    require_labels_in_range(labels, logits.rows(), "the batch");
  }

  template <class Column>
  static auto sample_loss(const Column& z, Label label) {
    return simd::log_sum_exp(z) - z(label);
  }
};

}  // namespace uinfo
