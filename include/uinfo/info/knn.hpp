// k-nearest-neighbour estimate of I(Z;Y) for a continuous representation Z and discrete labels Y
// (Ross 2014, "Mutual information between discrete and continuous data sets", PLoS ONE 9(2)):
// a baseline to compare decoder-based usable information with.
//
//   I = psi(N) - <psi(N_y)> + psi(k) - <psi(m_i)>
//
// For sample i of class y, the distance to its k-th nearest neighbour among the other samples of
// class y is a radius; m_i counts the samples of any class, other than i, within that radius
// (inclusive, so the k neighbours count and m_i >= k); N_y is the size of i's class and N the
// sample count. Averages run over samples.
//
// Choices:
// - Distances are Euclidean, as in Ross's reference code. (The estimator holds for any metric,
//   since the same ball is used for both counts.) Ties count as inside the radius, so repeated
//   points (dead ReLUs, saturated tanh) give a radius of 0 and m_i = the number of other copies.
// - A class with k or fewer samples has no k-th neighbour: its samples are left out entirely (from
//   N, the N_y, and every m_i) and counted in KnnResult::excluded_samples. Ross's reference code
//   instead lowers k for that class. If no class has more than k samples, InvalidArgument.
//
// Cost: O(N^2 units) time by brute force, squared distances formed by one GEMM per block of 256
// samples, and O(N * 256) memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/info/binning.hpp"  // the shared input checks and class numbering
#include "uinfo/info/kde.hpp"      // centred_columns, for_each_distance_block
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

// The digamma function psi(x) = d/dx log Gamma(x), for x > 0. The recurrence
// psi(x) = psi(x + 1) - 1/x moves x to at least 10, where the asymptotic series
// log x - 1/(2x) - sum_k B_2k / (2k x^2k), cut after x^-14, is exact to double rounding (the first
// omitted term is below 5e-17); results agree with tabulated values to a few 1e-16.
inline double digamma(double x) {
  if (!(x > 0) || !std::isfinite(x)) {
    throw InvalidArgument("uinfo::digamma: x is " + std::to_string(x) +
                          "; expected a finite x > 0");
  }
  double result = 0;
  for (; x < 10; x += 1) result -= 1 / x;
  const double r = 1 / (x * x);
  // B_2k / (2k) for k = 1..7: 1/12, -1/120, 1/252, -1/240, 1/132, -691/32760, 1/12.
  const double series =
      r * (1.0 / 12 - r * (1.0 / 120 -
                           r * (1.0 / 252 -
                                r * (1.0 / 240 - r * (1.0 / 132 - r * (691.0 / 32760 - r / 12))))));
  return result + std::log(x) - 0.5 / x - series;
}

struct KnnOptions {
  Index k = 3;  // neighbours within the class; Ross and Kraskov et al. suggest small k (3)
  // Samples whose distances to all others are formed at once; bounds memory at N x block doubles.
  Index block_size = 256;
};

struct KnnResult {
  double nats = 0;  // the estimate of I(Z;Y); can be slightly negative when Z and Y are independent
  double bits = 0;
  Index used_samples = 0;      // N
  Index excluded_samples = 0;  // in classes of k or fewer samples
};

namespace detail {

template <class S>
KnnResult knn_information(const ConstMatrixRef<S>& z, std::span<const Label> labels,
                          const KnnOptions& options) {
  const std::string function = "knn_information";
  require_labelled_samples(z, labels, 0, function);
  if (options.k < 1) {
    throw InvalidArgument("uinfo::" + function + ": k is " + std::to_string(options.k) +
                          "; expected at least 1 neighbour");
  }
  if (options.block_size < 1) {
    throw InvalidArgument("uinfo::" + function + ": block_size is " +
                          std::to_string(options.block_size) + "; expected at least 1");
  }

  // Keep the classes with more than k samples, and order the kept samples by class so that each
  // class is one contiguous range [class_begin[y], class_begin[y + 1]) of the distance columns.
  const Classes classes = dense_classes(labels);
  const std::size_t class_count = classes.size.size();
  std::vector<Index> class_begin(class_count + 1, 0);
  for (std::size_t y = 0; y < class_count; ++y) {
    const bool kept = classes.size[y] > options.k;
    class_begin[y + 1] = class_begin[y] + (kept ? classes.size[y] : 0);
  }
  const Index used = class_begin[class_count];
  if (used == 0) {
    throw InvalidArgument(
        "uinfo::" + function + ": no class has more than k = " + std::to_string(options.k) +
        " samples (the largest has " +
        std::to_string(*std::max_element(classes.size.begin(), classes.size.end())) +
        "); expected at least one class with k + 1 samples or more");
  }
  std::vector<Index> order(static_cast<std::size_t>(used));
  std::vector<Index> class_of(static_cast<std::size_t>(used));  // class of each kept position
  {
    std::vector<Index> next(class_begin.begin(), class_begin.end() - 1);
    for (std::size_t j = 0; j < labels.size(); ++j) {
      const auto y = static_cast<std::size_t>(classes.id[j]);
      if (classes.size[y] <= options.k) continue;
      const auto position = static_cast<std::size_t>(next[y]++);
      order[position] = static_cast<Index>(j);
      class_of[position] = static_cast<Index>(y);
    }
  }
  const Matrix<double> x = centred_columns(z, order);

  // Radii are compared as squared distances (monotone), read from the same computed distance
  // column as the counts, so the k neighbours always fall inside their own radius.
  double sum_psi_class = 0, sum_psi_m = 0;
  std::vector<double> within;
  for_each_distance_block(x, options.block_size, [&](Index first, auto& distances) {
    for (Index c = 0; c < distances.cols(); ++c) {
      const Index i = first + c;
      const auto y = static_cast<std::size_t>(class_of[static_cast<std::size_t>(i)]);
      const Index begin = class_begin[y], size = class_begin[y + 1] - begin;
      const auto column = distances.col(c);
      within.assign(column.data() + begin, column.data() + begin + size);
      within[static_cast<std::size_t>(i - begin)] = std::numeric_limits<double>::infinity();
      std::nth_element(within.begin(), within.begin() + (options.k - 1), within.end());
      const double radius = within[static_cast<std::size_t>(options.k - 1)];
      const Index m = (column.array() <= radius).count() - 1;  // not i itself (distance 0)
      sum_psi_m += digamma(static_cast<double>(m));
      sum_psi_class += digamma(static_cast<double>(size));
    }
  });

  const double n = static_cast<double>(used);
  const double nats =
      digamma(n) - sum_psi_class / n + digamma(static_cast<double>(options.k)) - sum_psi_m / n;
  return {.nats = nats,
          .bits = nats_to_bits(nats),
          .used_samples = used,
          .excluded_samples = static_cast<Index>(labels.size()) - used};
}

}  // namespace detail

// Ross's k-nearest-neighbour estimate of I(Z;Y) for representation `z` (units x samples, any Eigen
// matrix or view of float or double); `labels` holds one non-negative class label per sample.
// Throws InvalidArgument for an empty representation, a label count that differs from the sample
// count, a negative label, k < 1 or no class larger than k, and NonFiniteValue for a NaN or
// infinity.
template <class Derived>
requires Scalar<typename Derived::Scalar> KnnResult
knn_information(const Eigen::MatrixBase<Derived>& z, std::span<const Label> labels,
                const KnnOptions& options = {}) {
  using S = typename Derived::Scalar;
  return detail::knn_information<S>(ConstMatrixRef<S>(z), labels, options);
}

}  // namespace uinfo
