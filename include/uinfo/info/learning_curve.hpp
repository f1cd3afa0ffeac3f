// Loss-data curves and the finite-sample correction. A decoder fitted to m samples predicts held-
// out labels worse than the same family fitted to unlimited data, by an excess cross-entropy that
// shrinks as m grows: about tr(H^-1 J) / 2m nats for a regular model fitted by (penalised) maximum
// likelihood (Takeuchi 1976; p / 2m when the model holds), so the plain estimate falls short of the
// information the family can read by about that much. usable_information_curve() refits the
// decoder to random subsets of the training split (nested, several draws per size) and scores
// every fit on the same test samples; the curve CE(m) = CE_inf + b / m through the larger sizes
// (least squares; by default n / 2 and n, so CE_inf = 2 CE(n) - CE(n / 2), Richardson's
// extrapolation) gives CE at m -> infinity, and H(Y) - CE_inf is the corrected estimate. Smaller
// sizes are left out of it: a decoder whose penalty is chosen for m samples is far from the 1 / m
// regime there (its loss saturates at H(Y)), and including n / 4 left twice the bias on the
// test cases of benchmarks/accuracy.py. With many parameters per sample (10 classes, p / n near
// 0.5) the correction still falls short, by about a fifth of the plain estimate's shortfall, and
// its standard error does not cover that remainder.
//
// Its standard error has two parts: the test samples' (the extrapolation is a fixed linear
// combination of the sizes' estimates, so its pointwise values give it exactly) and the training
// subsets' (the spread of each size's draws). The plain estimate stays the default: the corrected
// one answers "how much would this family read with unlimited decoder data", which a probe set
// that is small for its layer's width cannot show, at the price of a larger standard error.
//
//   const auto curve = usable_information_curve(z_train, y_train, z_test, y_test,
//                                               LinearDecoder<float>{});
//   curve.points[i].n_train, .mean_bits; curve.corrected.bits, .standard_error_bits
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/info/uncertainty.hpp"
#include "uinfo/info/usable_information.hpp"

namespace uinfo {

struct CurveOptions {
  // Training-set sizes as fractions of the training split: increasing, the last 1.
  std::vector<double> fractions{0.125, 0.25, 0.5, 1};
  // Sizes from this fraction on are extrapolated (the smaller ones are far from the asymptotic
  // regime: a regularised decoder's loss saturates at H(Y) there).
  double extrapolate_from = 0.5;
  int repeats = 3;                  // random subsets per size below the whole split
  UsableInformationOptions info{};  // classes, H(Y) reference, seed (subsets and fits)
};

// The fits at one training-set size, one per draw of the subset.
struct CurvePoint {
  Index n_train = 0;
  std::vector<UsableInformation> fits{};
  double mean_bits = 0;
  double standard_error_bits = 0;  // of mean_bits: the draws' spread and the test samples'
};

struct FiniteSampleCorrection {
  double bits = 0;  // H(Y) - CE_inf
  double standard_error_bits = 0;
  double plain_bits = 0;           // the fit to the whole training split
  double excess_bits_times_n = 0;  // b in CE(m) = CE_inf + b / m, bits x samples
};

struct UsableInformationCurve {
  std::vector<CurvePoint> points;  // by increasing n_train; the last is the whole split
  FiniteSampleCorrection corrected;
  std::string decoder;
};

namespace detail {

inline void require_curve(const CurveOptions& o) {
  const auto& f = o.fractions;
  require_option(!f.empty() && f.back() == 1 && f.front() > 0,
                 "CurveOptions: fractions must be positive and end at 1");
  for (std::size_t i = 1; i < f.size(); ++i) {
    require_option(f[i] > f[i - 1], "CurveOptions: fractions must increase strictly");
  }
  require_option(o.repeats >= 1, "CurveOptions: repeats must be at least 1");
}

// The weights a_j of the least-squares intercept of y_j on x_j: intercept = sum_j a_j y_j.
inline std::vector<double> intercept_weights(std::span<const double> x) {
  const double count = static_cast<double>(x.size());
  double mean = 0;
  for (const double v : x) mean += v / count;
  double spread = 0;
  for (const double v : x) spread += (v - mean) * (v - mean);
  std::vector<double> a;
  for (const double v : x) a.push_back(1 / count - (spread > 0 ? mean * (v - mean) / spread : 0));
  return a;
}

}  // namespace detail

// The estimate at every fraction of the training split (subsets drawn with options.info.seed,
// each size's r-th draw a subset of the next size's), each by a fresh copy of `prototype`, and the
// extrapolation to unlimited training samples.
template <Decoder D>
UsableInformationCurve usable_information_curve(const Matrix<typename D::scalar_type>& z_train,
                                                std::span<const Label> y_train,
                                                const Matrix<typename D::scalar_type>& z_test,
                                                std::span<const Label> y_test, const D& prototype,
                                                CurveOptions options = {}) {
  detail::require_curve(options);
  options.info.classes =
      detail::checked_classes(z_train, y_train, z_test, y_test, options.info.classes);
  const Index n = z_train.cols();
  UsableInformationCurve curve;
  curve.decoder = prototype.name();
  std::vector<std::vector<Index>> orders;
  for (int r = 0; r < options.repeats; ++r) {
    orders.push_back(
        detail::shuffled_indices(n, options.info.seed + static_cast<std::uint64_t>(r)));
  }
  for (const double fraction : options.fractions) {
    const Index size = std::clamp<Index>(
        static_cast<Index>(std::llround(fraction * static_cast<double>(n))), 2, n);
    if (!curve.points.empty() && size <= curve.points.back().n_train) continue;
    CurvePoint point{.n_train = size};
    const int draws = size == n ? 1 : options.repeats;
    std::vector<double> bits;
    for (int r = 0; r < draws; ++r) {
      D decoder = prototype;
      if (size == n) {
        point.fits.push_back(
            usable_information(z_train, y_train, z_test, y_test, decoder, options.info));
      } else {
        const auto [z, y] =
            detail::take_samples(z_train, y_train,
                                 std::span<const Index>(orders[static_cast<std::size_t>(r)])
                                     .first(static_cast<std::size_t>(size)));
        point.fits.push_back(usable_information(z, y, z_test, y_test, decoder, options.info));
      }
      bits.push_back(point.fits.back().bits);
    }
    const auto [mean, deviation] = mean_and_deviation(bits);
    point.mean_bits = mean;
    // The draws share the test samples, so their spread is the training subsets' alone; the
    // test samples add their own standard error once.
    const double test_error = point.fits.front().standard_error_bits;
    point.standard_error_bits =
        std::sqrt(deviation * deviation / static_cast<double>(draws) + test_error * test_error);
    curve.points.push_back(std::move(point));
  }

  // The extrapolation from the sizes at or beyond options.extrapolate_from (at least the last
  // two): bits(m) = I_inf - b / m, whose intercept in x = 1 / m is a fixed combination of them.
  std::vector<const CurvePoint*> used;
  for (const CurvePoint& p : curve.points) {
    if (static_cast<double>(p.n_train) >= options.extrapolate_from * static_cast<double>(n) - 0.5)
      used.push_back(&p);
  }
  while (used.size() < 2 && used.size() < curve.points.size()) {
    used.insert(used.begin(), &curve.points[curve.points.size() - used.size() - 1]);
  }
  std::vector<double> x;
  for (const CurvePoint* p : used) x.push_back(1 / static_cast<double>(p->n_train));
  const std::vector<double> a = detail::intercept_weights(x);
  FiniteSampleCorrection& c = curve.corrected;
  c.plain_bits = curve.points.back().mean_bits;
  const std::size_t n_test = y_test.size();
  std::vector<double> pointwise(n_test, 0.0);
  double training_variance = 0;
  for (std::size_t j = 0; j < used.size(); ++j) {
    const CurvePoint& p = *used[j];
    c.bits += a[j] * p.mean_bits;
    const double draws = static_cast<double>(p.fits.size());
    for (const UsableInformation& fit : p.fits) {
      for (std::size_t i = 0; i < n_test; ++i) pointwise[i] += a[j] * fit.pointwise_bits[i] / draws;
    }
    std::vector<double> bits;
    for (const UsableInformation& fit : p.fits) bits.push_back(fit.bits);
    const double spread = mean_and_deviation(bits).deviation;
    training_variance += a[j] * a[j] * spread * spread / draws;
  }
  const double test_variance =
      std::pow(mean_and_deviation(pointwise).deviation, 2) / static_cast<double>(n_test);
  c.standard_error_bits = std::sqrt(test_variance + training_variance);
  c.excess_bits_times_n = (c.bits - c.plain_bits) * static_cast<double>(n);
  return curve;
}

// The plain estimate and the corrected one from the default curve.
template <Decoder D>
FiniteSampleCorrection corrected_usable_information(const Matrix<typename D::scalar_type>& z_train,
                                                    std::span<const Label> y_train,
                                                    const Matrix<typename D::scalar_type>& z_test,
                                                    std::span<const Label> y_test,
                                                    const D& prototype,
                                                    const CurveOptions& options = {}) {
  return usable_information_curve(z_train, y_train, z_test, y_test, prototype, options).corrected;
}

}  // namespace uinfo
