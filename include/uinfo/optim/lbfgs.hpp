// L-BFGS (Nocedal 1980; Liu & Nocedal 1989) for smooth full-batch objectives such as a decoder's
// regularised cross-entropy: the two-loop recursion over the last `history` steps, with a
// backtracking line search on the Armijo condition. Works in double on a flat vector.
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

struct LbfgsOptions {
  int max_iterations = 500;
  int history = 10;
  double gradient_tolerance = 1e-5;  // stop when max |gradient| falls below this
  double relative_decrease =
      1e-10;  // ... or when an iteration lowers f by less than this, relatively
};

struct LbfgsResult {
  double value;
  int iterations;
  int evaluations;
  bool converged;  // by one of the tolerances, not by running out of iterations
};

// Minimises f starting from x (updated in place). f(x, gradient) returns f(x) and writes its
// gradient.
template <class Objective>
LbfgsResult minimize_lbfgs(Objective&& f, Vector<double>& x, const LbfgsOptions& options = {}) {
  struct Pair {
    Vector<double> s, y;
    double rho;
  };
  std::deque<Pair> memory;
  Vector<double> g(x.size()), g_new(x.size()), direction(x.size()), x_new(x.size());
  double value = f(x, g);
  int evaluations = 1;
  if (!std::isfinite(value))
    throw Diverged("uinfo::minimize_lbfgs: the objective is not finite at the start");
  std::vector<double> alpha;
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    if (g.lpNorm<Eigen::Infinity>() <= options.gradient_tolerance) {
      return {value, iteration, evaluations, true};
    }
    // Two-loop recursion: direction = -H g, with H the L-BFGS inverse-Hessian estimate.
    direction = -g;
    alpha.assign(memory.size(), 0.0);
    for (std::size_t i = memory.size(); i-- > 0;) {
      alpha[i] = memory[i].rho * memory[i].s.dot(direction);
      direction -= alpha[i] * memory[i].y;
    }
    if (!memory.empty()) {
      const auto& last = memory.back();
      direction *= last.s.dot(last.y) / last.y.squaredNorm();
    } else {
      direction /= std::max(1.0, g.norm());  // first step: a unit-length steepest descent
    }
    for (std::size_t i = 0; i < memory.size(); ++i) {
      const double beta = memory[i].rho * memory[i].y.dot(direction);
      direction += (alpha[i] - beta) * memory[i].s;
    }
    double slope = g.dot(direction);
    if (slope >= 0) {  // not a descent direction (numerical trouble): restart from steepest descent
      memory.clear();
      direction = -g / std::max(1.0, g.norm());
      slope = g.dot(direction);
    }
    // Backtracking until the Armijo condition holds.
    double step = 1.0, value_new = 0;
    for (int tries = 0;; ++tries) {
      x_new = x + step * direction;
      value_new = f(x_new, g_new);
      ++evaluations;
      if (std::isfinite(value_new) && value_new <= value + 1e-4 * step * slope) break;
      if (tries == 30) return {value, iteration, evaluations, true};  // no progress possible
      step *= 0.5;
    }
    Pair pair{x_new - x, g_new - g, 0};
    const double curvature = pair.s.dot(pair.y);
    if (curvature > 1e-12 * pair.y.squaredNorm()) {  // keep H positive definite
      pair.rho = 1 / curvature;
      memory.push_back(std::move(pair));
      if (static_cast<int>(memory.size()) > options.history) memory.pop_front();
    }
    const double decrease = value - value_new;
    x.swap(x_new);
    g.swap(g_new);
    value = value_new;
    if (decrease <= options.relative_decrease * std::max(1.0, std::abs(value))) {
      return {value, iteration + 1, evaluations, true};
    }
  }
  return {value, options.max_iterations, evaluations, false};
}

}  // namespace uinfo
