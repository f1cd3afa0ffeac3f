// Stochastic gradient descent with optional (Nesterov) momentum, weight decay and clipping,
// following PyTorch's torch.optim.SGD (dampening 0):
//   d = g + wd * w (coupled decay);  v = momentum * v + d;
//   w -= lr * (nesterov ? d + momentum * v : v)        (v = d when momentum is 0)
// With decoupled decay, w -= lr * wd * w replaces the wd * w term in d.
#pragma once

#include "uinfo/optim/common.hpp"
#include "uinfo/simd/update.hpp"

namespace uinfo {

struct SgdOptions {
  Schedule lr = 0.01;
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;
  WeightDecay decay = WeightDecay::coupled;
  double clip_norm = 0;  // rescale the global gradient norm to at most this; 0 turns it off
};

class Sgd : public ScheduleClock {
 public:
  explicit Sgd(SgdOptions options) : ScheduleClock(options.lr), options_(std::move(options)) {
    require_option(options_.momentum >= 0 && options_.momentum < 1,
                   "Sgd: momentum must lie in [0, 1)");
    require_option(!options_.nesterov || options_.momentum > 0, "Sgd: Nesterov needs momentum > 0");
    require_option(options_.weight_decay >= 0, "Sgd: weight_decay must be >= 0");
    require_option(options_.clip_norm >= 0, "Sgd: clip_norm must be >= 0");
  }

  template <class Net>
  void step(Net& net) {
    using S = typename Net::scalar_type;
    const S scale = static_cast<S>(clip_factor(net, options_.clip_norm));
    const S lr = static_cast<S>(learning_rate());
    const S mu = static_cast<S>(options_.momentum);
    const bool nesterov = options_.nesterov;
    net.for_each_parameter([&](Parameter<S>& p) {
      if (!p.trainable()) return;
      const S wd = p.weight_decay ? static_cast<S>(options_.weight_decay) : S(0);
      const S coupled = options_.decay == WeightDecay::coupled ? wd : S(0);
      const S shrink = options_.decay == WeightDecay::decoupled ? S(1) - lr * wd : S(1);
      ++p.state.steps;
      if (options_.momentum == 0) {
        simd::update(p.size(), p.value.data(), p.gradient.data(),
                     [=](auto& w, auto g) { w = shrink * w - lr * (scale * g + coupled * w); });
        return;
      }
      auto& velocity = p.state.moments[0];
      if (velocity.size() != p.size()) velocity.setZero(p.value.rows(), p.value.cols());
      simd::update(
          p.size(), p.value.data(), p.gradient.data(),
          [=](auto& w, auto g, auto& v) {
            const auto d = scale * g + coupled * w;
            v = mu * v + d;
            w = shrink * w - lr * (nesterov ? d + mu * v : v);
          },
          velocity.data());
    });
  }

  const SgdOptions& options() const { return options_; }

 private:
  SgdOptions options_;
};

}  // namespace uinfo
