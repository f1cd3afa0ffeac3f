// Per-channel normalisation of images: each channel minus its mean, over its standard deviation,
// with statistics of the training images alone applied to every split, so that the test images
// are transformed exactly as the training images were and tell the network nothing new.
//
// Images are columns in HWC order (pixels.hpp): feature r belongs to channel r % channels. The
// deviation is the population one (divided by the count, as NumPy's x.std()), the convention of
// the published per-channel constants.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

struct ChannelStatistics {
  std::vector<double> mean;       // one per channel
  std::vector<double> deviation;  // one per channel, positive

  Index channels() const { return static_cast<Index>(mean.size()); }
};

namespace detail {
inline void require_channels(Index rows, Index channels, const std::string& who) {
  if (channels < 1) {
    throw InvalidArgument(who + ": channels is " + std::to_string(channels) +
                          "; expected at least 1");
  }
  if (rows % channels != 0) {
    throw InvalidArgument(who + ": the images have " + std::to_string(rows) +
                          " features, not a multiple of " + std::to_string(channels) +
                          " channels; expected HWC images of (height * width * channels)");
  }
}
}  // namespace detail

// The mean and deviation of each of `channels` channels over every pixel of every training image
// (features x images). Throws NonFiniteValue for a NaN or an infinity, and InvalidArgument for an
// empty matrix or a channel that is constant: normalising it would divide by zero.
template <Scalar S>
ChannelStatistics channel_statistics(const Matrix<S>& train, Index channels) {
  const std::string who = "uinfo::channel_statistics";
  detail::require_channels(train.rows(), channels, who);
  if (train.size() == 0) {
    throw InvalidArgument(who + ": the images are " + std::to_string(train.rows()) + " x " +
                          std::to_string(train.cols()) + "; expected at least one pixel");
  }
  require_finite(train, "the training images given to " + who);
  // Sums per feature walk the columns contiguously; channels are folded in afterwards. Two passes
  // (mean, then squared deviations from it) keep the variance accurate for large means.
  const auto c = static_cast<std::size_t>(channels);
  const auto channel = [c](Index r) { return static_cast<std::size_t>(r) % c; };
  const double count = static_cast<double>(train.size() / channels);
  ChannelStatistics stats{std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
  Vector<double> sum = Vector<double>::Zero(train.rows());
  for (Index j = 0; j < train.cols(); ++j) sum += train.col(j).template cast<double>();
  for (Index r = 0; r < train.rows(); ++r) stats.mean[channel(r)] += sum(r);
  for (auto& mean : stats.mean) mean /= count;
  Vector<double> mean(train.rows());
  for (Index r = 0; r < train.rows(); ++r) mean(r) = stats.mean[channel(r)];
  Vector<double> squares = Vector<double>::Zero(train.rows());
  for (Index j = 0; j < train.cols(); ++j) {
    squares += (train.col(j).template cast<double>() - mean).array().square().matrix();
  }
  for (Index r = 0; r < train.rows(); ++r) stats.deviation[channel(r)] += squares(r);
  for (std::size_t k = 0; k < c; ++k) {
    stats.deviation[k] = std::sqrt(stats.deviation[k] / count);
    // A constant channel's two-pass deviation is 0 or a rounding error of its mean.
    if (!(stats.deviation[k] > 1e-10 * std::abs(stats.mean[k]))) {
      throw InvalidArgument(
          who + ": channel " + std::to_string(k) + " has standard deviation 0 (every value is " +
          std::to_string(stats.mean[k]) + "): normalising it would divide by zero");
    }
  }
  return stats;
}

// Normalises images (features x images, HWC) in place with statistics of the training images:
// x -> (x - mean) / deviation of the pixel's channel. Throws InvalidArgument when the statistics
// do not fit the images and NonFiniteValue for a NaN or an infinity.
template <Scalar S>
void normalize_channels(Matrix<S>& x, const ChannelStatistics& stats) {
  const std::string who = "uinfo::normalize_channels";
  if (stats.deviation.size() != stats.mean.size()) {
    throw InvalidArgument(who + ": the statistics have " + std::to_string(stats.mean.size()) +
                          " means but " + std::to_string(stats.deviation.size()) +
                          " deviations; expected one of each per channel");
  }
  detail::require_channels(x.rows(), stats.channels(), who);
  for (std::size_t k = 0; k < stats.mean.size(); ++k) {
    if (!std::isfinite(stats.mean[k]) || !(stats.deviation[k] > 0) ||
        !std::isfinite(stats.deviation[k])) {
      throw InvalidArgument(who + ": channel " + std::to_string(k) + " has mean " +
                            std::to_string(stats.mean[k]) + " and deviation " +
                            std::to_string(stats.deviation[k]) +
                            "; expected a finite mean and a finite, positive deviation");
    }
  }
  require_finite(x, "the images given to " + who);
  const auto c = static_cast<std::size_t>(stats.channels());
  Vector<S> shift(x.rows());
  Vector<S> scale(x.rows());
  for (Index r = 0; r < x.rows(); ++r) {
    shift(r) = static_cast<S>(stats.mean[static_cast<std::size_t>(r) % c]);
    scale(r) = static_cast<S>(1.0 / stats.deviation[static_cast<std::size_t>(r) % c]);
  }
  x.array().colwise() -= shift.array();
  x.array().colwise() *= scale.array();
}

}  // namespace uinfo
