// Adam (Kingma & Ba 2015) as in torch.optim.Adam; with decoupled weight decay it is AdamW.
//   d = g + wd * w (coupled);  m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2
//   w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
#pragma once

#include <cmath>

#include "uinfo/optim/common.hpp"
#include "uinfo/simd/update.hpp"

namespace uinfo {

struct AdamOptions {
  Schedule lr = 0.001;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0;
  WeightDecay decay = WeightDecay::coupled;
  double clip_norm = 0;  // rescale the global gradient norm to at most this; 0 turns it off
};

class Adam : public ScheduleClock {
 public:
  explicit Adam(AdamOptions options) : ScheduleClock(options.lr), options_(std::move(options)) {
    require_option(options_.beta1 >= 0 && options_.beta1 < 1, "Adam: beta1 must lie in [0, 1)");
    require_option(options_.beta2 >= 0 && options_.beta2 < 1, "Adam: beta2 must lie in [0, 1)");
    require_option(options_.epsilon > 0, "Adam: epsilon must be > 0");
    require_option(options_.weight_decay >= 0, "Adam: weight_decay must be >= 0");
    require_option(options_.clip_norm >= 0, "Adam: clip_norm must be >= 0");
  }

  template <class Net>
  void step(Net& net) {
    net.for_each_parameter(
        updates<typename Net::scalar_type>(clip_factor(net, options_.clip_norm)));
  }

  // This step's update of single parameter blocks (see BlockUpdates), with every gradient scaled
  // by gradient_scale; fusable() says whether it may run during the backward pass.
  template <Scalar S>
  class Updates : public BlockUpdates<Updates<S>> {
   public:
    Updates(const AdamOptions& options, double lr, double gradient_scale)
        : options_(options), lr_(lr), scale_(static_cast<S>(gradient_scale)) {}

    template <class F>
    void with(Parameter<S>& p, F&& f) const {
      const double lr = lr_;
      const S scale = scale_;
      const S b1 = static_cast<S>(options_.beta1);
      const S b2 = static_cast<S>(options_.beta2);
      const S eps = static_cast<S>(options_.epsilon);
      auto& [m, v] = p.state.moments;
      if (m.size() != p.size()) m.setZero(p.value.rows(), p.value.cols());
      if (v.size() != p.size()) v.setZero(p.value.rows(), p.value.cols());
      const auto t = static_cast<double>(++p.state.steps);
      const S step_size = static_cast<S>(lr / (1 - std::pow(options_.beta1, t)));
      const S inverse_root_correction =
          static_cast<S>(1 / std::sqrt(1 - std::pow(options_.beta2, t)));
      const S wd = p.weight_decay ? static_cast<S>(options_.weight_decay) : S(0);
      const S coupled = options_.decay == WeightDecay::coupled ? wd : S(0);
      const S shrink = options_.decay == WeightDecay::decoupled ? S(1 - lr * wd) : S(1);
      f(simd::BoundUpdate(
          p.value.data(), p.plastic_data(),
          [=](auto& w, auto g, auto& m1, auto& m2) {
            const auto d = scale * g + coupled * w;
            m1 = b1 * m1 + (S(1) - b1) * d;
            m2 = b2 * m2 + (S(1) - b2) * d * d;
            w = shrink * w - step_size * m1 / (xsimd::sqrt(m2) * inverse_root_correction + eps);
          },
          m.data(), v.data()));
    }

   private:
    const AdamOptions& options_;
    double lr_;
    S scale_;
  };

  template <Scalar S>
  Updates<S> updates(double gradient_scale = 1) const {
    return {options_, learning_rate(), gradient_scale};
  }
  // Clipping scales every gradient by their global norm, which needs all of them first.
  bool fusable() const { return options_.clip_norm == 0; }

  const AdamOptions& options() const { return options_; }

 private:
  AdamOptions options_;
};

}  // namespace uinfo
