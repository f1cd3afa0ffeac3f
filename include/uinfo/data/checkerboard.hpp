// The checkerboard perceptual decision task (Kleinman, Achille, Idnani & Kao 2021; after the
// monkeys' task of Chandrasekaran et al. 2017), in its feed-forward form.
//
// Each trial shows two targets, red and green, one on each side, and a 15 x 15 checkerboard with
// R red squares. The subject reaches to the side of the target whose colour dominates the board.
// The network sees four numbers: red and green evidence (the signed coherence 2R/225 - 1 and its
// negative, each with independent Gaussian noise) and the two targets' colours (+1 red, -1 green).
// Only the reach direction is trained; the dominant colour and the target configuration are
// needed on the way but not at the output, so a minimal representation may discard them.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/data/dataset.hpp"

namespace uinfo {

// Red squares out of 225 in the paper's boards; red dominates when R > 112.
inline constexpr std::array<int, 14> checkerboard_red_counts{11,  45,  67,  78,  90,  101, 108,
                                                             117, 124, 135, 147, 158, 180, 214};

struct CheckerboardOptions {
  Index trials = 10000;
  double noise = 0.1;  // standard deviation of the Gaussian noise on each evidence input
};

// Label meanings: colour 1 = red dominates; left_target 1 = the left target is red; direction
// 1 = reach right. Direction is the side of the target with the dominant colour.
struct CheckerboardTrial {
  int red_squares;
  bool left_target_red;
  bool red_dominates() const { return 2 * red_squares > 225; }
  double coherence() const { return 2.0 * red_squares / 225.0 - 1.0; }
  bool reach_right() const { return red_dominates() != left_target_red; }
};

struct Checkerboard {
  Matrix<float> x;                 // 4 x trials: red evidence, green evidence, left, right target
  std::vector<Label> direction;    // 0 left, 1 right: the trained output
  std::vector<Label> colour;       // 0 green, 1 red: the dominant colour
  std::vector<Label> targets;      // 0 left target green, 1 left target red
  std::vector<Label> red_squares;  // index into checkerboard_red_counts (coherence as a class)
  std::vector<double> coherence;   // signed colour coherence

  Index size() const { return x.cols(); }

  // The trials with one of the labels, ready for fit() or a decoder.
  Dataset<float> with_labels(const std::vector<Label>& labels) const { return {x, labels}; }
};

// Trials drawn from `engine`: uniform board, uniform target configuration, noisy evidence.
inline Checkerboard make_checkerboard(const CheckerboardOptions& options, Engine& engine) {
  if (options.trials <= 0) {
    throw InvalidArgument("uinfo::make_checkerboard: trials is " + std::to_string(options.trials) +
                          "; expected at least 1");
  }
  if (!(options.noise >= 0) || !std::isfinite(options.noise)) {
    throw InvalidArgument("uinfo::make_checkerboard: noise must be finite and >= 0");
  }
  const Index n = options.trials;
  const auto count = static_cast<std::size_t>(n);
  Checkerboard task{Matrix<float>(4, n),       std::vector<Label>(count),
                    std::vector<Label>(count), std::vector<Label>(count),
                    std::vector<Label>(count), std::vector<double>(count)};
  for (Index j = 0; j < n; ++j) {
    const auto board = engine.below(checkerboard_red_counts.size());
    const CheckerboardTrial trial{checkerboard_red_counts[board], engine.below(2) == 1};
    const auto i = static_cast<std::size_t>(j);
    task.x(0, j) = static_cast<float>(trial.coherence() + options.noise * engine.normal());
    task.x(1, j) = static_cast<float>(-trial.coherence() + options.noise * engine.normal());
    task.x(2, j) = trial.left_target_red ? 1.0f : -1.0f;
    task.x(3, j) = trial.left_target_red ? -1.0f : 1.0f;
    task.direction[i] = trial.reach_right();
    task.colour[i] = trial.red_dominates();
    task.targets[i] = trial.left_target_red;
    task.red_squares[i] = static_cast<Label>(board);
    task.coherence[i] = trial.coherence();
  }
  return task;
}

// The best any decoder of the inputs can do: the Bayes posterior of the dominant colour (and so,
// the targets being seen without noise, of the direction) given both noisy evidence inputs.
struct CheckerboardCeiling {
  double accuracy;  // of the best direction (or colour) decision
  double bits;      // Shannon I(inputs; direction) = I(inputs; colour), in bits
};

// Exact over the 14 boards, by quadrature over the noise (the two evidence inputs carry the
// coherence through their difference, whose noise has standard deviation noise / sqrt 2).
inline CheckerboardCeiling checkerboard_ceiling(double noise) {
  if (noise <= 0) return {1.0, 1.0};
  const double sd = noise / std::numbers::sqrt2;  // of (red - green) / 2 around the coherence
  std::vector<double> coherences;
  for (const int r : checkerboard_red_counts) coherences.push_back(2.0 * r / 225.0 - 1.0);
  auto density = [&](double e, double c) { return std::exp(-0.5 * (e - c) * (e - c) / (sd * sd)); };
  const double low = -1.0 - 8 * sd, high = 1.0 + 8 * sd;
  const int steps = 20000;
  const double h = (high - low) / steps;
  double accuracy = 0, conditional_entropy = 0, total = 0;
  for (int s = 0; s <= steps; ++s) {
    const double e = low + s * h;
    const double weight = (s == 0 || s == steps) ? 0.5 : 1.0;
    double red = 0, green = 0;
    for (const double c : coherences) (c > 0 ? red : green) += density(e, c);
    const double p = red + green;
    if (p <= 0) continue;
    const double q = red / p;
    accuracy += weight * std::max(red, green);
    double hq = 0;
    if (q > 0) hq -= q * std::log2(q);
    if (q < 1) hq -= (1 - q) * std::log2(1 - q);
    conditional_entropy += weight * p * hq;
    total += weight * p;
  }
  return {accuracy / total,
          1.0 - conditional_entropy / total};  // H(colour) = 1 bit (7 vs 7 boards)
}

}  // namespace uinfo
