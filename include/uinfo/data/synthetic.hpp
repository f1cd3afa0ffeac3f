// Small synthetic classification tasks with known structure, for examples and tests.
#pragma once

#include <cmath>
#include <numbers>

#include "uinfo/core/rng.hpp"
#include "uinfo/data/dataset.hpp"

namespace uinfo {

// XOR: 2-D points near the four corners (+-1, +-1), label 1 when the signs differ.
// `noise` is the standard deviation of the Gaussian jitter around each corner.
template <Scalar S = float>
Dataset<S> make_xor(Index samples, double noise, Engine& engine) {
  Dataset<S> data{Matrix<S>(2, samples), std::vector<Label>(static_cast<std::size_t>(samples))};
  for (Index j = 0; j < samples; ++j) {
    const bool a = engine.below(2), b = engine.below(2);
    data.x(0, j) = static_cast<S>((a ? 1.0 : -1.0) + noise * engine.normal());
    data.x(1, j) = static_cast<S>((b ? 1.0 : -1.0) + noise * engine.normal());
    data.labels[static_cast<std::size_t>(j)] = a != b;
  }
  return data;
}

// Interleaved spirals (the classic CS231n task): `classes` arms in 2-D, each sample's angle
// jittered by `noise` radians. Not linearly separable for classes >= 2.
template <Scalar S = float>
Dataset<S> make_spiral(Index samples, int classes, double noise, Engine& engine) {
  Dataset<S> data{Matrix<S>(2, samples), std::vector<Label>(static_cast<std::size_t>(samples))};
  for (Index j = 0; j < samples; ++j) {
    const auto arm = static_cast<int>(engine.below(static_cast<std::uint64_t>(classes)));
    const double radius = engine.uniform();
    const double angle =
        4.0 * radius + 2.0 * std::numbers::pi * arm / classes + noise * engine.normal();
    data.x(0, j) = static_cast<S>(radius * std::sin(angle));
    data.x(1, j) = static_cast<S>(radius * std::cos(angle));
    data.labels[static_cast<std::size_t>(j)] = arm;
  }
  return data;
}

}  // namespace uinfo
