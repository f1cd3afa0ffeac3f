// The multi-area checkerboard network trained as its authors trained it (Kleinman, Chandrasekaran
// & Kao 2021; their pycog fork, read line by line): 20 fresh trials per update, masked MSE plus
// L2 on the raw weights, Pascanu's Omega, Adam, a global-norm clip, pycog's guard against NaN and
// huge gradients, validation on 2,900 fresh trials every 500 updates with their performance rule,
// a checkpoint at every new best validation cost, and a stop once performance exceeds 65%.
#pragma once

#include <uinfo/uinfo.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace multi_area {

using uinfo::Index;

// Four inputs, the recurrent areas, two racing outputs read from the last area's E units.
using Net =
    uinfo::Sequential<float, uinfo::Input<4>, uinfo::LeakyRnn<uinfo::dynamic>, uinfo::Dense<2>>;

struct TrainingOptions {
  double lr = 5e-5;
  Index batch = 20;
  double clip_norm = 0.1;
  double weight_l2 = 1;  // times the mean square of each raw weight block
  double omega = 2;      // Pascanu's vanishing-gradient regulariser
  double alpha = 0.2;    // dt / tau = 10 / 50 ms
  double recurrent_noise = 0.05;
  double input_noise = 0.1;
  Index validate_every = 500;
  Index validation_trials = 2900;
  double stop_performance = 65;  // percent; stop once a validation exceeds it
  Index max_updates = 60000;
  Index patience = 50000;  // updates without a new best validation cost
  // The trials and the noise come from these seeds, the same for every network: the reference's
  // eight networks saw one stream of trials and differed only in their initial weights.
  std::uint64_t trial_seed = 11, validation_seed = 22;
};

// One validation: loss (masked MSE over the 2,900 trials) plus the weight penalty is the cost
// that picks the best network; performance is the reference's percentage.
struct Validation {
  Index update;
  double loss, cost, performance;
  bool best;
};

struct TrainingRecord {
  std::vector<Validation> validations;
  Index updates = 0;
  Index best_update = 0;
  double best_cost = std::numeric_limits<double>::infinity(), best_performance = 0;
  uinfo::Vector<double> best_parameters;  // the network at its best validation cost
  Index bad_gradients = 0;
  bool stopped_at_performance = false;
  double seconds = 0;
};

inline constexpr Index chunk_trials = 100;  // trials per forward pass outside training

// The network of `circuit` with the seed's initial weights, noisy as in training.
inline Net make_network(const uinfo::MultiAreaCircuit& circuit, const TrainingOptions& o,
                        std::uint64_t seed) {
  Net net{uinfo::Rng{o.trial_seed}, {circuit.units()}};  // its noise stream: shared by all seeds
  net.layer<1>().configure(
      {.alpha = o.alpha, .recurrent_noise = o.recurrent_noise, .vanishing_gradient = o.omega});
  uinfo::Engine init = uinfo::Rng{seed}.engine(uinfo::Stream::init);
  circuit.build(net.layer<1>(), net.layer<2>(), init);
  return net;
}

// Runs `net` (in evaluation mode, with its own noise) on `batch` in place of training's trials;
// the layer's noise engine is swapped for `noise` meanwhile, so the training's stream goes on as
// if nothing had run.
inline uinfo::ConstMatrixView<float> run_with_noise(Net& net, uinfo::Engine& noise,
                                                    const uinfo::SequenceBatch<float>& batch) {
  uinfo::Engine& layer_noise = *net.layer<1>().engines()[0];
  std::swap(layer_noise, noise);
  const auto z = net.forward(batch.x(), batch.timeline(), uinfo::Mode::eval);
  std::swap(layer_noise, noise);
  return z;
}

// The reference's validation: fresh trials of a fixed condition layout from the validation seed's
// stream at every call.
class Validator {
 public:
  explicit Validator(const TrainingOptions& o)
      : task_({.input_noise = o.input_noise}),
        conditions_(uinfo::TimedCheckerboard::validation_conditions(o.validation_trials)),
        trials_(uinfo::Rng{o.validation_seed}.engine(uinfo::Stream::data)),
        noise_(uinfo::Rng{o.validation_seed}.engine(uinfo::Stream::noise)),
        penalty_{o.weight_l2, true} {}

  Validation operator()(Net& net, Index update) {
    uinfo::CheckerboardPerformance performance;
    double squares = 0, scored = 0;
    const std::span<const uinfo::CheckerboardCondition> all(conditions_);
    for (std::size_t first = 0; first < all.size(); first += chunk_trials) {
      const auto part = all.subspan(first, std::min<std::size_t>(chunk_trials, all.size() - first));
      task_.draw(trials_, part, batch_, drawn_);
      const auto z = run_with_noise(net, noise_, batch_);
      const auto mask = batch_.mask().array();
      squares +=
          static_cast<double>((mask * (z.array() - batch_.target_values().array()).square()).sum());
      scored += static_cast<double>(mask.sum());
      performance.add(z, drawn_);
    }
    const double loss = squares / scored;
    return {update, loss, loss + penalty_.value(net), performance.percent(), false};
  }

 private:
  uinfo::TimedCheckerboard task_;
  std::vector<uinfo::CheckerboardCondition> conditions_;
  uinfo::Engine trials_, noise_;
  uinfo::WeightPenalty penalty_;
  uinfo::SequenceBatch<float> batch_;
  std::vector<uinfo::TimedCheckerboardTrial> drawn_;
};

// pycog's guard (its sgd.py): when the gradient norm is not finite or above 1e10, Adam is fed
// zero gradients except 0.02 W for the raw recurrent weights, so the step still moves every
// weight by its momentum and nudges W_rec toward 0.
struct PycogGuard {
  Index* count;
  uinfo::Control on_bad_gradient(double, Net& net) const {
    net.for_each_parameter([](uinfo::Parameter<float>& p) { p.gradient.setZero(); });
    auto& w = net.layer<1>().recurrent_weight();
    w.gradient = 0.02f * w.value;
    ++*count;
    return uinfo::Control::proceed;
  }
};

// Trains `net` until a validation exceeds the stop performance, the patience runs out or
// max_updates are made. After each validation (at 0, validate_every, 2 validate_every, ...
// updates) `on_validation(const Validation&, Net&)` is called, e.g. to probe the network; at
// every new best cost the network is saved to `checkpoint` (if not empty).
template <class OnValidation>
TrainingRecord train(Net& net, const TrainingOptions& o, const std::filesystem::path& checkpoint,
                     OnValidation&& on_validation) {
  const auto start = std::chrono::steady_clock::now();
  TrainingRecord record;
  Validator validate(o);
  const uinfo::TimedCheckerboard task({.input_noise = o.input_noise});
  uinfo::Adam adam{{.lr = o.lr}};
  auto validation = [&](Net& n, Index update) {
    Validation v = validate(n, update);
    v.best = v.cost < record.best_cost;
    if (v.best) {
      record.best_cost = v.cost;
      record.best_update = update;
      record.best_performance = v.performance;
      uinfo::copy_parameters_to(n, record.best_parameters);
      if (!checkpoint.empty()) uinfo::save(n, checkpoint);
    }
    record.validations.push_back(v);
    on_validation(v, n);
    const bool done = v.performance > o.stop_performance;
    record.stopped_at_performance = done;
    return done || update - record.best_update >= o.patience ? uinfo::Control::stop
                                                             : uinfo::Control::proceed;
  };
  struct First {
    decltype(validation)& validate;
    uinfo::Control on_train_begin(Net& n) { return validate(n, 0); }
  } first{validation};
  record.updates = uinfo::fit_task(
      net, adam, uinfo::MeanSquaredError{}, task,
      {.updates = o.max_updates,
       .batch_size = o.batch,
       .rng = uinfo::Rng{o.trial_seed},
       .clip_norm = o.clip_norm,
       .max_gradient_norm = 1e10,
       .weight_penalty = {o.weight_l2, true}},
      first, PycogGuard{&record.bad_gradients},
      uinfo::every_n_updates(o.validate_every, [&](const uinfo::UpdateInfo& info, Net& n) {
        return validation(n, info.update + 1);
      }));
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return record;
}

}  // namespace multi_area
