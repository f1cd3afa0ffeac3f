// BatchNorm (Ioffe & Szegedy 2015): y = gamma * (x - mean) / sqrt(variance + eps) + beta, per
// feature for flat inputs and per channel for images, as PyTorch's BatchNorm1d and BatchNorm2d
// (momentum 0.1, eps 1e-5).
//
// In Mode::train the mean and (biased) variance are the batch's, and the running mean and
// (unbiased) variance move 10% of the way towards them; in Mode::eval the running statistics
// are used. A training batch that gives a channel a single value has no variance: like PyTorch,
// forward() then refuses it, and fit() never makes one (a one-sample last minibatch joins the
// one before it; see min_train_batch). gamma and beta are trained; the running statistics are
// ParameterRole::statistic blocks, saved and loaded with the network but left alone by optimizers
// and gradient checks.
//
// An HWC batch is, read as a channels x (pixels * batch) matrix, one column per pixel of every
// image (a flat batch is features x batch already), so both cases are per-row statistics of
// that matrix.
#pragma once

#include <array>
#include <string>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/shape.hpp"

namespace uinfo {

template <Scalar S, Shape In>
class BatchNormLayer {
 public:
  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Index out_size = In.size();
  static constexpr Shape out_shape = In;
  static constexpr double momentum = 0.1;
  static constexpr double epsilon = 1e-5;
  // Samples a training batch needs for every channel to have a variance: one image has several
  // pixels, one flat sample a single value per feature. fit() never makes a smaller batch.
  static constexpr Index min_train_batch = In.pixels() > 1 ? 1 : 2;

  // A flat input's size may be dynamic; an image's is known at compile time.
  BatchNormLayer(const Rng&, std::size_t, Index inputs = in_size, Index = out_size)
      : channels_(require_positive_size(inputs, "BatchNorm") / In.pixels()),
        gamma_(channels_, 1, ParameterRole::weight),
        beta_(channels_, 1, ParameterRole::bias),
        running_mean_(channels_, 1, ParameterRole::statistic),
        running_variance_(channels_, 1, ParameterRole::statistic),
        batch_mean_(channels_),
        batch_variance_(channels_),
        inverse_std_(channels_),
        scale_(channels_),
        dy_mean_(channels_),
        dy_xhat_mean_(channels_) {
    gamma_.value.setOnes();
    running_variance_.value.setOnes();
  }

  std::string name() const { return "BatchNorm<" + size_name(In, channels_) + ">"; }

  void forward(ConstMatrixView<S> x, Mode mode) {
    const Index values = In.pixels() * x.cols();  // per channel
    const ConstMatrixView<S> xc(x.data(), channels_, values);
    auto normalized = normalized_.reshape(channels_, values);
    if (mode == Mode::train) {
      if (values < 2) {
        throw InvalidArgument("uinfo: " + name() +
                              " in train mode got a batch of 1 sample, which gives each feature "
                              "one value and no variance; expected a batch of 2 or more samples "
                              "(Mode::eval normalises with the running statistics instead)");
      }
      batch_mean_ = xc.rowwise().mean();
      normalized.noalias() = xc.colwise() - batch_mean_;
      batch_variance_ = normalized.rowwise().squaredNorm() / static_cast<S>(values);
      inverse_std_ = (batch_variance_.array() + S(epsilon)).rsqrt();
      constexpr S keep = S(1 - momentum), take = S(momentum);
      const S unbiased = static_cast<S>(values) / static_cast<S>(values - 1);
      running_mean_.value.col(0) = keep * running_mean_.value.col(0) + take * batch_mean_;
      running_variance_.value.col(0) =
          keep * running_variance_.value.col(0) + (take * unbiased) * batch_variance_;
    } else {
      normalized.noalias() = xc.colwise() - running_mean_.value.col(0);
      inverse_std_ = (running_variance_.value.col(0).array() + S(epsilon)).rsqrt();
    }
    normalized.array().colwise() *= inverse_std_.array();
    MatrixView<S> yc(output_.reshape(features(), x.cols()).data(), channels_, values);
    yc.array() = (normalized.array().colwise() * gamma_.value.col(0).array()).colwise() +
                 beta_.value.col(0).array();
    mode_ = mode;
  }

  // In eval mode the statistics are constants; in train mode the gradient also flows through the
  // batch mean and variance: dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)).
  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    const auto normalized = std::as_const(normalized_).view();
    const ConstMatrixView<S> dyc(dy.data(), channels_, normalized.cols());
    beta_.gradient.noalias() = dyc.rowwise().sum();
    gamma_.gradient.noalias() = dyc.cwiseProduct(normalized).rowwise().sum();
    if (!dx) return;
    MatrixView<S> dxc(dx->data(), channels_, normalized.cols());
    scale_ = gamma_.value.col(0).cwiseProduct(inverse_std_);
    if (mode_ == Mode::eval) {
      dxc.array() = dyc.array().colwise() * scale_.array();
      return;
    }
    const S per_value = S(1) / static_cast<S>(normalized.cols());
    dy_mean_ = per_value * beta_.gradient.col(0);
    dy_xhat_mean_ = per_value * gamma_.gradient.col(0);
    dxc.array() = ((dyc.array().colwise() - dy_mean_.array()) -
                   normalized.array().colwise() * dy_xhat_mean_.array())
                      .colwise() *
                  scale_.array();
  }

  ConstMatrixView<S> output() const { return output_.view(); }
  std::array<Parameter<S>*, 4> parameters() {
    return {&gamma_, &beta_, &running_mean_, &running_variance_};
  }
  std::array<const Parameter<S>*, 4> parameters() const {
    return {&gamma_, &beta_, &running_mean_, &running_variance_};
  }

  Parameter<S>& gamma() { return gamma_; }
  Parameter<S>& beta() { return beta_; }
  const Parameter<S>& gamma() const { return gamma_; }
  const Parameter<S>& beta() const { return beta_; }
  const Parameter<S>& running_mean() const { return running_mean_; }
  const Parameter<S>& running_variance() const { return running_variance_; }

 private:
  Index features() const { return channels_ * In.pixels(); }

  Index channels_;             // features of a flat input
  Parameter<S> gamma_, beta_;  // channels x 1: the learned scale and shift
  Parameter<S> running_mean_;  // channels x 1, statistic
  Parameter<S> running_variance_;
  Buffer<S> normalized_;  // xhat of the last forward pass, channels x (pixels * batch)
  Buffer<S> output_;
  // Per channel, sized once so that no pass allocates (Eigen would put a broadcast expression
  // such as `c * vector` into a heap temporary): 1 / std of the last forward pass, which backward
  // needs, and the terms that the passes combine.
  Vector<S> batch_mean_, batch_variance_, inverse_std_;
  Vector<S> scale_, dy_mean_, dy_xhat_mean_;  // gamma / std, mean(dy), mean(dy * xhat)
  Mode mode_ = Mode::eval;  // of the last forward pass, which backward differentiates
};

struct BatchNorm {
  template <class S, Shape In>
  using shaped_layer = BatchNormLayer<S, In>;
};

}  // namespace uinfo
