// What every optimizer shares: the schedule clock, weight-decay conventions, gradient clipping.
#pragma once

#include <cmath>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/optim/schedule.hpp"

namespace uinfo {

// Coupled: the L2 term wd * w is added to the gradient before momentum or Adam's moments
// (PyTorch's SGD and Adam). Decoupled: the weight shrinks by lr * wd * w directly (AdamW).
enum class WeightDecay { coupled, decoupled };

// Sets the weight-decay flag of every bias block to false (weights keep theirs).
template <class Net>
void exempt_biases_from_weight_decay(Net& net) {
  net.for_each_parameter([](auto& p) {
    if (p.role == ParameterRole::bias) p.weight_decay = false;
  });
}

// The global L2 norm of all gradients of the elements that learn (fixed ones, see
// Parameter::plastic, are passed by, as are statistics).
template <class Net>
double gradient_norm(const Net& net) {
  double sum = 0;
  net.for_each_parameter([&](const auto& p) {
    if (!p.trainable()) return;
    sum += static_cast<double>(p.plastic.size() ? p.gradient.cwiseProduct(p.plastic).squaredNorm()
                                                : p.gradient.squaredNorm());
  });
  return std::sqrt(sum);
}

// The factor that brings the global gradient norm down to max_norm (1 if already below, or if
// max_norm is 0, meaning no clipping). A non-finite norm means training has diverged.
template <class Net>
double clip_factor(const Net& net, double max_norm) {
  if (max_norm <= 0) return 1.0;
  const double norm = gradient_norm(net);
  if (!std::isfinite(norm)) {
    throw Diverged("uinfo: the gradient norm is " + std::to_string(norm) +
                   "; training has diverged (lower the learning rate)");
  }
  return norm > max_norm ? max_norm / norm : 1.0;
}

// An optimizer's step as updates of single parameter blocks. Derived::with(p, f) binds the step's
// elementwise rule to block p (sizing its state, counting the step) and calls f with the
// simd::BoundUpdate; calling the object on p updates p from its gradient in memory, which is what
// step() does for every block. A fused backward pass (Sequential::backward with updates) instead
// lets a layer feed a gradient to the bound update as it computes it, vector by vector, with the
// same result bit for bit.
template <class Derived>
struct BlockUpdates {
  template <class S>
  void operator()(Parameter<S>& p) const {
    if (!p.trainable()) return;  // statistics (BatchNorm's running moments) are not trained
    static_cast<const Derived&>(*this).with(
        p, [&](const auto& update) { update.apply_all(p.size(), p.gradient.data()); });
  }
};

// The epoch clock and schedule that every optimizer reads its learning rate from.
class ScheduleClock {
 public:
  explicit ScheduleClock(Schedule schedule) : schedule_(std::move(schedule)), lr_(schedule_(0.0)) {}

  // Training time in epochs, fractional within an epoch; fit() sets it before every step.
  void set_epoch(double epoch) {
    epoch_ = epoch;
    lr_ = schedule_(epoch);
  }
  double epoch() const { return epoch_; }
  double learning_rate() const { return lr_; }

 private:
  Schedule schedule_;
  double epoch_ = 0;
  double lr_;
};

inline void require_option(bool ok, const std::string& message) {
  if (!ok) throw InvalidArgument("uinfo: " + message);
}

}  // namespace uinfo
