// Binning estimator of the information plane (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018): a
// baseline to compare decoder-based usable information with.
//
// Each unit of a representation T (units x samples) is discretised into bins; a sample's tuple of
// bin indices is one discrete symbol. With every input distinct and a deterministic network,
// I(X;T) = H(T), and I(T;Y) = H(T) - H(T|Y), both from plug-in (empirical-frequency) entropies.
// The numbers depend on the binning far more than on the network: read them as a comparison
// between layers and epochs at one binning, not as absolute information.
//
// This header also holds the class numbering shared with kde.hpp and knn.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

namespace detail {

// Labels renumbered as dense class ids 0..classes-1 (in increasing label order, so the result
// does not depend on sample order), with each class's size. Labels need not be contiguous.
struct Classes {
  std::vector<Index> id;    // per sample
  std::vector<Index> size;  // per class
};

inline Classes dense_classes(std::span<const Label> labels) {
  std::vector<Label> distinct(labels.begin(), labels.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  Classes classes{std::vector<Index>(labels.size()), std::vector<Index>(distinct.size(), 0)};
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto position = std::lower_bound(distinct.begin(), distinct.end(), labels[i]);
    classes.id[i] = position - distinct.begin();
    ++classes.size[static_cast<std::size_t>(classes.id[i])];
  }
  return classes;
}

inline double nats_to_bits(double nats) {
  return nats / std::numbers::ln2;
}

}  // namespace detail

struct BinningOptions {
  // Equal-width bins spanning the observed [min, max] of the whole layer (all units share one
  // grid, as in Saxe et al.); used when bin_width is 0. The maximum falls in the last bin.
  Index bins = 30;
  // If > 0, bins of this fixed width with edges at integer multiples of it (..., -w, 0, w, ...):
  // the grid then does not move with the data, so layers and epochs are binned alike.
  double bin_width = 0;
};

struct BinningResult {
  double i_xt_bits = 0;  // I(X;T) = H(T)
  double i_xt_nats = 0;
  double i_ty_bits = 0;  // I(T;Y) = H(T) - H(T|Y)
  double i_ty_nats = 0;
  Index occupied_bins = 0;  // distinct bin tuples; equal to the sample count means H(T) = log n
};

namespace detail {

template <class S>
BinningResult binning_information(const ConstMatrixRef<S>& t, std::span<const Label> labels,
                                  const BinningOptions& options) {
  const std::string function = "binning_information";
  require_labelled_samples(t, labels, 0, function);
  const bool fixed_width = options.bin_width != 0;
  if (fixed_width && !(options.bin_width > 0 && std::isfinite(options.bin_width))) {
    throw InvalidArgument("uinfo::" + function + ": bin_width is " +
                          std::to_string(options.bin_width) +
                          "; expected a finite width > 0, or 0 to use a bin count");
  }
  if (!fixed_width && options.bins < 1) {
    throw InvalidArgument("uinfo::" + function + ": bins is " + std::to_string(options.bins) +
                          "; expected at least 1 bin");
  }

  double low = 0, width = options.bin_width;
  if (!fixed_width) {
    low = static_cast<double>(t.minCoeff());
    width = (static_cast<double>(t.maxCoeff()) - low) / static_cast<double>(options.bins);
  }
  // A bin index as a 64-bit integer; a tiny fixed width could ask for more bins than that holds.
  const auto bin_of = [&](double value, Index unit, Index sample) -> std::int64_t {
    if (!fixed_width) {
      if (width == 0) return 0;  // a constant layer: one bin
      const auto bin = static_cast<std::int64_t>(std::floor((value - low) / width));
      return std::clamp<std::int64_t>(bin, 0, options.bins - 1);
    }
    const double bin = std::floor(value / width);
    if (std::abs(bin) > 0x1p62) {
      throw InvalidArgument("uinfo::" + function + ": bin_width " + std::to_string(width) +
                            " puts value " + std::to_string(value) + " (unit " +
                            std::to_string(unit) + ", sample " + std::to_string(sample) +
                            ") beyond 2^62 bins from 0; expected a wider bin");
    }
    return static_cast<std::int64_t>(bin);
  };

  // Each sample's bin tuple, as bytes, keys a hash map to a symbol id. The map compares whole
  // keys, so distinct tuples never merge; ids count up in sample order, so results are
  // deterministic.
  const Index n = t.cols();
  std::unordered_map<std::string, Index> symbol_of;
  symbol_of.reserve(static_cast<std::size_t>(n));
  std::vector<Index> symbol(static_cast<std::size_t>(n));
  std::string key(static_cast<std::size_t>(t.rows()) * sizeof(std::int64_t), '\0');
  for (Index j = 0; j < n; ++j) {
    for (Index u = 0; u < t.rows(); ++u) {
      const std::int64_t bin = bin_of(static_cast<double>(t(u, j)), u, j);
      std::memcpy(key.data() + u * static_cast<Index>(sizeof bin), &bin, sizeof bin);
    }
    const auto [entry, inserted] = symbol_of.try_emplace(key, static_cast<Index>(symbol_of.size()));
    symbol[static_cast<std::size_t>(j)] = entry->second;
  }

  const Classes classes = dense_classes(labels);
  std::vector<Index> symbol_count(symbol_of.size(), 0);
  std::vector<std::pair<Index, Index>> joint(static_cast<std::size_t>(n));  // (symbol, class)
  for (std::size_t j = 0; j < joint.size(); ++j) {
    ++symbol_count[static_cast<std::size_t>(symbol[j])];
    joint[j] = {symbol[j], classes.id[j]};
  }
  std::sort(joint.begin(), joint.end());

  const double total = static_cast<double>(n);
  double h_t = 0;
  for (const Index count : symbol_count) {
    h_t += static_cast<double>(count) / total * std::log(total / static_cast<double>(count));
  }
  // I(T;Y) = sum over (t, y) of p(t,y) log[p(t,y) / (p(t) p(y))], the ratio formed from integer
  // counts: when every class has the same bin distribution each ratio is exactly 1, so the result
  // is exactly 0 rather than a rounding residue of H(T) - H(T|Y).
  double i_ty = 0;
  for (std::size_t begin = 0; begin < joint.size();) {
    std::size_t end = begin;
    while (end < joint.size() && joint[end] == joint[begin]) ++end;
    const auto joint_count = static_cast<Index>(end - begin);
    const auto [s, y] = joint[begin];
    const Index numerator = joint_count * n;
    const Index denominator =
        symbol_count[static_cast<std::size_t>(s)] * classes.size[static_cast<std::size_t>(y)];
    i_ty += static_cast<double>(joint_count) / total *
            std::log(static_cast<double>(numerator) / static_cast<double>(denominator));
    begin = end;
  }

  return {.i_xt_bits = nats_to_bits(h_t),
          .i_xt_nats = h_t,
          .i_ty_bits = nats_to_bits(i_ty),
          .i_ty_nats = i_ty,
          .occupied_bins = static_cast<Index>(symbol_count.size())};
}

}  // namespace detail

// I(X;T) and I(T;Y) of representation `t` (units x samples, any Eigen matrix or view of float or
// double) by binning; `labels` holds one non-negative class label per sample. Throws
// InvalidArgument for an empty representation, a label count that differs from the sample count,
// a negative label or a bad option, and NonFiniteValue for a NaN or infinity.
template <class Derived>
requires Scalar<typename Derived::Scalar> BinningResult
binning_information(const Eigen::MatrixBase<Derived>& t, std::span<const Label> labels,
                    const BinningOptions& options = {}) {
  using S = typename Derived::Scalar;
  return detail::binning_information<S>(ConstMatrixRef<S>(t), labels, options);
}

}  // namespace uinfo
