// In-memory datasets: samples are columns of `x`. Each dataset type has a Batch that gathers
// chosen samples into reusable storage, so that iterating minibatches allocates nothing after
// the largest batch has been seen.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

// Classification: one integer label per sample.
template <Scalar S>
struct Dataset {
  Matrix<S> x;                // features x samples
  std::vector<Label> labels;  // one per sample, in 0..classes-1

  Index size() const { return x.cols(); }

  // Throws unless the data fits a network with `inputs` inputs and `classes` outputs.
  void validate(Index inputs, Index classes, const std::string& name) const {
    require_shape(x, inputs, name);
    if (static_cast<Index>(labels.size()) != size()) {
      throw InvalidArgument("uinfo: " + name + " has " + std::to_string(size()) + " samples but " +
                            std::to_string(labels.size()) +
                            " labels; expected one label per sample");
    }
    require_labels_in_range(labels, classes, name + " labels");
  }

  class Batch {
   public:
    void gather(const Dataset& data, std::span<const Index> indices) {
      auto x = x_.reshape(data.x.rows(), static_cast<Index>(indices.size()));
      labels_.resize(indices.size());  // within reserved capacity after the largest batch
      for (std::size_t j = 0; j < indices.size(); ++j) {
        x.col(static_cast<Index>(j)) = data.x.col(indices[j]);
        labels_[j] = data.labels[static_cast<std::size_t>(indices[j])];
      }
    }
    ConstMatrixView<S> x() const { return x_.view(); }
    std::span<const Label> targets() const { return labels_; }

   private:
    Buffer<S> x_;
    std::vector<Label> labels_;
  };

  static void require_shape(const Matrix<S>& x, Index inputs, const std::string& name) {
    if (x.cols() == 0) {
      throw InvalidArgument("uinfo: " + name + " is empty; expected at least one sample");
    }
    if (x.rows() != inputs) {
      throw InvalidArgument("uinfo: " + name + " has " + std::to_string(x.rows()) +
                            " features per sample; the network expects " + std::to_string(inputs));
    }
    require_finite(x, name);
  }
};

// Regression: a target vector per sample (e.g. for MeanSquaredError).
template <Scalar S>
struct RegressionDataset {
  Matrix<S> x;        // features x samples
  Matrix<S> targets;  // outputs x samples

  Index size() const { return x.cols(); }

  void validate(Index inputs, Index outputs, const std::string& name) const {
    Dataset<S>::require_shape(x, inputs, name);
    if (targets.rows() != outputs || targets.cols() != size()) {
      throw InvalidArgument("uinfo: " + name + " targets are " + std::to_string(targets.rows()) +
                            " x " + std::to_string(targets.cols()) + "; expected " +
                            std::to_string(outputs) + " x " + std::to_string(size()));
    }
    require_finite(targets, name + " targets");
  }

  class Batch {
   public:
    void gather(const RegressionDataset& data, std::span<const Index> indices) {
      const auto n = static_cast<Index>(indices.size());
      auto x = x_.reshape(data.x.rows(), n);
      auto y = targets_.reshape(data.targets.rows(), n);
      for (Index j = 0; j < n; ++j) {
        x.col(j) = data.x.col(indices[j]);
        y.col(j) = data.targets.col(indices[j]);
      }
    }
    ConstMatrixView<S> x() const { return x_.view(); }
    ConstMatrixView<S> targets() const { return targets_.view(); }

   private:
    Buffer<S> x_;
    Buffer<S> targets_;
  };
};

}  // namespace uinfo
