// Error bars on usable information, from three sources of variation:
//  - which samples train and which test: k-fold cross-validation over one labelled set;
//  - which samples test: a bootstrap over the test samples' pointwise values;
//  - how the decoder was initialised and fed: the spread over decoder seeds.
// Each takes its decoder as a prototype and fits copies, so the caller's decoder is untouched.
// A copy of a fitted, warm-starting prototype starts from its weights: pass an unfitted one, or
// cross-validation folds start from weights that have seen their test samples and seeds differ
// only in the validation split and minibatch order.
//
//   auto cv = cross_validated_usable_information(z, labels, LinearDecoder<float>{}, 5);
//   auto interval = bootstrap_interval(usable_information(...), 2000, 0.95, seed);
//   auto spread = seed_spread(z_train, y_train, z_test, y_test, MlpDecoder<float>{}, seeds);
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/info/usable_information.hpp"

namespace uinfo {

struct CrossValidatedUsableInformation {
  std::vector<UsableInformation> folds;  // fold f is the test split of folds[f]
  double mean_bits = 0;
  // Standard deviation over folds / sqrt(k). The folds share training samples, so this tends to
  // understate the uncertainty (Bengio & Grandvalet 2004): read it as a lower bound.
  double standard_error_bits = 0;
};

struct BootstrapInterval {
  double lower_bits = 0, upper_bits = 0;  // the percentile interval
  double standard_deviation_bits = 0;     // of the replicates' means
  double confidence = 0;
};

struct SeedSpread {
  std::vector<double> bits;  // one per seed, in the order given
  double mean_bits = 0;
  double standard_deviation_bits = 0;  // sample standard deviation (n - 1)
};

// Mean and sample standard deviation (n - 1; 0 for a single value), e.g. over seeds.
struct MeanAndDeviation {
  double mean, deviation;  // the deviation divides by n - 1
};

inline MeanAndDeviation mean_and_deviation(std::span<const double> values) {
  const double n = static_cast<double>(values.size());
  double mean = 0;
  for (const double v : values) mean += v;
  mean /= n;
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / std::max(1.0, n - 1))};
}

namespace detail {

// The q-quantile of sorted values, interpolating linearly between order statistics.
inline double quantile_of_sorted(std::span<const double> sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(position);
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

}  // namespace detail

// k-fold cross-validation: the samples are shuffled (options.seed), cut into `folds` near-equal
// folds, and each fold is the test split once for a fresh copy of `decoder` trained on the others.
template <Decoder D>
CrossValidatedUsableInformation cross_validated_usable_information(
    const Matrix<typename D::scalar_type>& z, std::span<const Label> labels, const D& decoder,
    Index folds, UsableInformationOptions options = {}) {
  const Index n = z.cols();
  // Every fold uses the classes of the whole set, even if its training split lacks the last one.
  options.classes = detail::require_labelled_samples(z, labels, options.classes,
                                                     "cross_validated_usable_information");
  require_option(folds >= 2 && folds <= n, "cross_validated_usable_information: folds is " +
                                               std::to_string(folds) + " for " + std::to_string(n) +
                                               " samples; expected 2.." + std::to_string(n));
  const std::vector<Index> order = detail::shuffled_indices(n, options.seed);
  CrossValidatedUsableInformation result;
  std::vector<double> bits;
  for (Index f = 0; f < folds; ++f) {
    const auto first = static_cast<std::ptrdiff_t>(f * n / folds);
    const auto last = static_cast<std::ptrdiff_t>((f + 1) * n / folds);
    std::vector<Index> train(order.begin(), order.begin() + first);
    train.insert(train.end(), order.begin() + last, order.end());
    const std::span<const Index> test(order.begin() + first, order.begin() + last);
    const auto [z_train, y_train] = detail::take_samples(z, labels, std::span<const Index>(train));
    const auto [z_test, y_test] = detail::take_samples(z, labels, test);
    D fold_decoder = decoder;
    result.folds.push_back(
        usable_information(z_train, y_train, z_test, y_test, fold_decoder, options));
    bits.push_back(result.folds.back().bits);
  }
  const auto [mean, deviation] = mean_and_deviation(bits);
  result.mean_bits = mean;
  result.standard_error_bits = deviation / std::sqrt(static_cast<double>(folds));
  return result;
}

// The percentile bootstrap over test samples: `replicates` resamples, with replacement, of the
// pointwise values whose mean is info.bits. It holds the trained decoder and the training marginal
// fixed, so it measures only the test set's sampling noise.
inline BootstrapInterval bootstrap_interval(const UsableInformation& info, int replicates = 1000,
                                            double confidence = 0.95, std::uint64_t seed = 0) {
  const auto& values = info.pointwise_bits;
  require_option(!values.empty(), "bootstrap_interval: the estimate has no pointwise values");
  require_option(replicates >= 1, "bootstrap_interval: replicates is " +
                                      std::to_string(replicates) + "; expected at least 1");
  require_option(confidence > 0 && confidence < 1, "bootstrap_interval: confidence is " +
                                                       std::to_string(confidence) +
                                                       "; expected a value in (0, 1)");
  Engine engine = Rng{seed}.engine(Stream::data);
  std::vector<double> means(static_cast<std::size_t>(replicates));
  for (double& mean : means) {
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) sum += values[engine.below(values.size())];
    mean = sum / static_cast<double>(values.size());
  }
  std::sort(means.begin(), means.end());
  const double tail = (1 - confidence) / 2;
  return {detail::quantile_of_sorted(means, tail), detail::quantile_of_sorted(means, 1 - tail),
          mean_and_deviation(means).deviation, confidence};
}

// Usable information on one split, fitted by a fresh copy of `decoder` for each seed
// (options.seed): the spread that initialisation, validation split and minibatch order cause.
template <Decoder D>
SeedSpread seed_spread(const Matrix<typename D::scalar_type>& z_train,
                       std::span<const Label> y_train,
                       const Matrix<typename D::scalar_type>& z_test, std::span<const Label> y_test,
                       const D& decoder, std::span<const std::uint64_t> seeds,
                       UsableInformationOptions options = {}) {
  require_option(seeds.size() >= 2, "seed_spread: " + std::to_string(seeds.size()) +
                                        " seeds; expected at least 2 for a spread");
  SeedSpread result;
  for (const std::uint64_t seed : seeds) {
    options.seed = seed;
    D seeded = decoder;
    result.bits.push_back(
        usable_information(z_train, y_train, z_test, y_test, seeded, options).bits);
  }
  const auto [mean, deviation] = mean_and_deviation(result.bits);
  result.mean_bits = mean;
  result.standard_deviation_bits = deviation;
  return result;
}

}  // namespace uinfo
