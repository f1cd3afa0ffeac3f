// Learning-rate schedules: functions of training time in epochs (fractional within an epoch),
// so that a regime can switch mid-training, e.g. Piecewise{{{0, 0.005}, {10, 0.05}}}.
#pragma once

#include <cmath>
#include <concepts>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "uinfo/core/error.hpp"

namespace uinfo {

namespace detail {
inline double require_rate(double lr, const char* where) {
  if (!std::isfinite(lr) || lr < 0) {
    throw InvalidArgument(std::string("uinfo::") + where + ": learning rate " + std::to_string(lr) +
                          " is invalid; expected a finite value >= 0");
  }
  return lr;
}
}  // namespace detail

struct Constant {
  double lr;
  double operator()(double) const { return lr; }
};

// lr * gamma^floor(epoch / every)
struct StepDecay {
  double lr;
  double every;
  double gamma = 0.1;
  double operator()(double epoch) const { return lr * std::pow(gamma, std::floor(epoch / every)); }
};

// lr * gamma^epoch
struct Exponential {
  double lr;
  double gamma;
  double operator()(double epoch) const { return lr * std::pow(gamma, epoch); }
};

// From lr down to min_lr along half a cosine over `epochs`, then min_lr.
struct Cosine {
  double lr;
  double epochs;
  double min_lr = 0;
  double operator()(double epoch) const {
    if (epoch >= epochs) return min_lr;
    return min_lr + 0.5 * (lr - min_lr) * (1 + std::cos(std::numbers::pi * epoch / epochs));
  }
};

// Rates that hold from a starting epoch until the next: {{0, 0.005}, {10, 0.05}} is 0.005 for
// epochs [0, 10) and 0.05 from epoch 10 on.
struct Piecewise {
  std::vector<std::pair<double, double>> pieces;  // (first epoch, rate), by increasing epoch
  double operator()(double epoch) const {
    double lr = pieces.front().second;
    for (const auto& [start, rate] : pieces) {
      if (epoch >= start) lr = rate;
    }
    return lr;
  }
};

// Any schedule above, a plain number, or a callable double(double epoch).
class Schedule {
 public:
  Schedule(double lr) : Schedule(Constant{lr}) {}  // NOLINT: a number is a constant schedule
  Schedule(const Piecewise& piecewise) : rate_(validated(piecewise)) {}  // NOLINT
  template <class F>
  requires(std::is_invocable_r_v<double, F, double> && !std::same_as<F, Schedule>) Schedule(F f)
      : rate_(std::move(f)) {  // NOLINT: schedules convert implicitly
    detail::require_rate(rate_(0.0), "Schedule");
  }

  // The rate at `epoch`; throws if the schedule yields a negative or non-finite rate.
  double operator()(double epoch) const { return detail::require_rate(rate_(epoch), "Schedule"); }

 private:
  static Piecewise validated(const Piecewise& piecewise) {
    if (piecewise.pieces.empty() || piecewise.pieces.front().first != 0) {
      throw InvalidArgument("uinfo::Piecewise: the first piece must start at epoch 0");
    }
    for (std::size_t i = 0; i < piecewise.pieces.size(); ++i) {
      detail::require_rate(piecewise.pieces[i].second, "Piecewise");
      if (i > 0 && piecewise.pieces[i].first <= piecewise.pieces[i - 1].first) {
        throw InvalidArgument("uinfo::Piecewise: pieces must start at increasing epochs");
      }
    }
    return piecewise;
  }

  std::function<double(double)> rate_;
};

// Scales `schedule` linearly from start_factor to 1 over the first `epochs`.
struct Warmup {
  double epochs;
  Schedule after;
  double start_factor = 0.1;
  double operator()(double epoch) const {
    const double factor =
        epoch >= epochs ? 1.0 : start_factor + (1 - start_factor) * epoch / epochs;
    return factor * after(epoch);
  }
};

}  // namespace uinfo
