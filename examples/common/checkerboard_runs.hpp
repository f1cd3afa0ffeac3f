// What the three checkerboard experiments share: the networks, each seed's trials, and a training
// run made of phases (e.g. a perturbation, then the standard regime) that is probed as it goes.
#pragma once

#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/command.hpp"
#include "common/probing.hpp"
#include "common/regime.hpp"

namespace checkerboard {

using uinfo::dynamic;
using uinfo::Index;
using uinfo::probing::Measurement;

// The network, the task and the probes: every experiment takes these flags.
struct NetworkSettings {
  int depth = 3;       // hidden layers; the last one is the bottleneck
  int width = 64;      // units of the hidden layers before the bottleneck
  int bottleneck = 4;  // units of the last hidden layer (tanh)
  std::string activation = "relu";
  std::string init = "lecun_uniform";
  double noise = 0.1;
  long trials = 10000;       // 90% training, 10% validation
  long probe_trials = 2000;  // in each of the decoders' training and test splits
  std::string decoder = "linear";
  // The linear decoder's L2 penalty on whitened features: chosen from the data at every probe
  // (auto), or fixed. With 2,000 probe samples a nearly unregularised fit (1e-5) overfits the
  // 64-wide layers: it reads 0.78 instead of 0.82 bits of direction in layer 2, with spikes of up
  // to 0.3 bits, and takes 5x the iterations; 1e-3 was the fixed value before the choice.
  std::string decoder_l2 = "auto";
  // The authors' decoder protocol's budget and features (their values: 3,000 steps, raw).
  int authors_iterations = 3000;
  bool authors_standardize = false;
  int threads = 0;
};

inline void add_options(uinfo::cli::Command& command, NetworkSettings& s) {
  command.setting("--depth", s.depth, "hidden layers, 1 to 3; the last is the tanh bottleneck");
  command.setting("--width", s.width, "units of each hidden layer before the bottleneck");
  command.setting("--bottleneck", s.bottleneck, "units of the last hidden layer");
  command.setting("--activation", s.activation,
                  "relu or tanh, for the layers before the bottleneck");
  command.setting("--init", s.init,
                  "lecun_uniform (PyTorch's default), he_normal, glorot_uniform, or scaled:G "
                  "(normal, standard deviation G / sqrt(fan-in))");
  command.setting("--noise", s.noise, "standard deviation of the noise on each evidence input");
  command.setting("--trials", s.trials, "training trials per seed (10% of them for validation)");
  command.setting("--probe-trials", s.probe_trials, "trials in each of the decoders' two splits");
  command.setting("--decoder", s.decoder, uinfo::probing::decoder_choices);
  command.setting("--decoder-l2", s.decoder_l2,
                  "L2 penalty of the linear decoder (whitened features), or auto: chosen from the "
                  "probe's training samples at every probe (evidence)");
  command.setting("--authors-iterations", s.authors_iterations,
                  "authors' decoders: full-batch SGD steps (theirs: 3000)");
  command.setting("--authors-standardize", s.authors_standardize,
                  "authors' decoders: standardise each unit first (theirs: raw values)");
  command.option("--threads", s.threads, "worker threads; 0: one per core");
}

// "lecun_uniform", "he_normal", "glorot_uniform" or "scaled:G"; nullopt for anything else.
inline std::optional<uinfo::Init> init_named(const std::string& name) {
  if (name == "lecun_uniform") return uinfo::lecun_uniform;
  if (name == "he_normal") return uinfo::he_normal;
  if (name == "glorot_uniform") return uinfo::glorot_uniform;
  if (name.starts_with("scaled:")) {
    try {
      std::size_t used = 0;
      const double gain = std::stod(name.substr(7), &used);
      if (used == name.size() - 7 && gain > 0) return uinfo::scaled_normal(gain);
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

inline void check_options(const uinfo::cli::Command& command, const NetworkSettings& s) {
  if (s.depth < 1 || s.depth > 3) command.fail("--depth must be 1, 2 or 3");
  if (s.width < 1 || s.bottleneck < 1) command.fail("--width and --bottleneck must be at least 1");
  if (s.activation != "relu" && s.activation != "tanh")
    command.fail("--activation must be relu or tanh");
  if (!init_named(s.init))
    command.fail("--init must be lecun_uniform, he_normal, glorot_uniform or scaled:G with G > 0");
  if (!uinfo::probing::is_decoder_choice(s.decoder))
    command.fail(std::string("--decoder must be one of ") + uinfo::probing::decoder_choices);
  if (!uinfo::probing::decoder_l2_named(s.decoder_l2))
    command.fail("--decoder-l2 must be auto or a penalty >= 0");
  if (s.authors_iterations < 1) command.fail("--authors-iterations must be at least 1");
  if (s.trials < 20 || s.probe_trials < 10)
    command.fail("--trials must be at least 20, --probe-trials at least 10");
}

// Hidden layer l (from 1) is the activation at layer index 2l; the last is the tanh bottleneck.
template <class Act>
using Net1 =
    uinfo::Sequential<float, uinfo::Input<4>, uinfo::Dense<dynamic>, uinfo::Tanh, uinfo::Dense<2>>;
template <class Act>
using Net2 = uinfo::Sequential<float, uinfo::Input<4>, uinfo::Dense<dynamic>, Act,
                               uinfo::Dense<dynamic>, uinfo::Tanh, uinfo::Dense<2>>;
template <class Act>
using Net3 =
    uinfo::Sequential<float, uinfo::Input<4>, uinfo::Dense<dynamic>, Act, uinfo::Dense<dynamic>,
                      Act, uinfo::Dense<dynamic>, uinfo::Tanh, uinfo::Dense<2>>;

template <class Net>
constexpr std::size_t hidden_layers = (Net::depth - 2) / 2;

namespace detail {
template <class Net, std::size_t... L>
uinfo::LayerProbe<Net, 2 * (L + 1)...> hidden_probe(std::index_sequence<L...>);
}  // namespace detail

// Probes of every hidden layer, or of the bottleneck alone.
template <class Net>
using AllHiddenProbe =
    decltype(detail::hidden_probe<Net>(std::make_index_sequence<hidden_layers<Net>>{}));
template <class Net>
using BottleneckProbe = uinfo::LayerProbe<Net, 2 * hidden_layers<Net>>;

// Calls f.template operator()<Net>() with the network type the settings name.
template <class F>
decltype(auto) with_network(const NetworkSettings& s, F&& f) {
  auto pick = [&]<class Act>() -> decltype(auto) {
    if (s.depth == 1) return f.template operator()<Net1<Act>>();
    if (s.depth == 2) return f.template operator()<Net2<Act>>();
    return f.template operator()<Net3<Act>>();
  };
  if (s.activation == "tanh") return pick.template operator()<uinfo::Tanh>();
  return pick.template operator()<uinfo::Relu>();
}

// Each seed draws its own trials: training, validation, and the decoders' two probe splits.
struct Data {
  uinfo::Checkerboard train, validation, probe_train, probe_test;
};

inline Data make_data(const NetworkSettings& s, std::uint64_t seed) {
  uinfo::Engine engine = uinfo::Rng{seed}.engine(uinfo::Stream::data);
  const Index validation = s.trials / 10;
  auto draw = [&](Index trials) {
    return uinfo::make_checkerboard({.trials = trials, .noise = s.noise}, engine);
  };
  // A braced list evaluates left to right, so the draws come in this order.
  return Data{draw(s.trials - validation), draw(validation), draw(s.probe_trials),
              draw(s.probe_trials)};
}

// A network of the settings' widths, its Dense weights drawn with the settings' init.
template <class Net>
Net make_network(const NetworkSettings& s, std::uint64_t seed) {
  const uinfo::Rng rng{seed};
  typename Net::RuntimeSizes sizes{};
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) sizes[i] = s.width;
  sizes.back() = s.bottleneck;
  Net net{rng, sizes};
  const uinfo::Init init = *init_named(s.init);
  std::uint64_t dense_index = 1;  // Dense layers sit at 1, 3, 5, ...: re-draw from their streams
  net.for_each_parameter([&](uinfo::Parameter<float>& p) {
    if (p.role != uinfo::ParameterRole::weight) return;
    uinfo::Engine engine = rng.engine(uinfo::Stream::init, dense_index);
    uinfo::initialize(p.value, init, engine);
    dense_index += 2;
  });
  return net;
}

// Probes colour and direction on the seed's probe splits. The linear decoders stop at a gradient
// of 1e-4 instead of L-BFGS's default 1e-5, which saves 30% of the iterations: over Experiment 1's
// 1,350 probes the estimates move by 8e-5 bits on average and by at most 0.008 bits, a sixth of
// that probe's standard error.
template <class Probe>
Probe make_probe(const NetworkSettings& s, const Data& data, std::uint64_t seed) {
  return Probe(data.probe_train.x, data.probe_test.x,
               {{"colour", data.probe_train.colour, data.probe_test.colour, 2},
                {"direction", data.probe_train.direction, data.probe_test.direction, 2}},
               {.decoders = uinfo::probing::decoder_families(s.decoder),
                .linear = {.l2 = *uinfo::probing::decoder_l2_named(s.decoder_l2),
                           .lbfgs = {.gradient_tolerance = 1e-4}},
                .authors = {.iterations = s.authors_iterations,
                            .preprocess = s.authors_standardize ? uinfo::Preprocess::standardize
                                                                : uinfo::Preprocess::none},
                .seed = seed});
}

enum class Task { direction, colour };

// A stretch of training with one regime.
struct Phase {
  int epochs;
  double lr;
  long batch;
  double momentum = 0;
  double weight_decay = 0;
  Task task = Task::direction;
};

// The regime the command line gave, learning the direction.
inline Phase phase_of(const uinfo::cli::Regime& r) {
  return {.epochs = r.epochs,
          .lr = r.lr,
          .batch = r.batch,
          .momentum = r.momentum,
          .weight_decay = r.weight_decay};
}

// Trains `net` through the phases, probing before the first step, after every epoch, and at the
// fractional epochs listed in `early` (e.g. 0.125 for an eighth of the first epoch), where things
// move fast. `epoch_done` is called after every epoch (for a progress bar); `timing`, if given,
// gains the run's wall time and the part of it spent probing.
template <class Net, class Probe>
std::vector<Measurement> train_and_probe(Net& net, const Data& data, Probe& probe,
                                         std::span<const Phase> phases, std::uint64_t seed,
                                         std::span<const double> early,
                                         const std::function<void()>& epoch_done,
                                         uinfo::probing::Timing* timing = nullptr) {
  uinfo::probing::Timing run;
  const auto validation = data.validation.with_labels(data.validation.direction);
  std::vector<Measurement> rows;
  const std::function<void(double)> measure = [&](double epoch) {
    uinfo::probing::add_wall_time(run.probe_seconds, [&] {
      const double accuracy =
          uinfo::evaluate(net, uinfo::SoftmaxCrossEntropy{}, validation).accuracy;
      uinfo::probing::record(rows, probe, net, epoch, accuracy,
                             [](std::size_t index) { return static_cast<int>(index / 2); });
    });
  };
  uinfo::probing::add_wall_time(run.total_seconds, [&] {
    measure(0.0);
    int epochs_before = 0;
    for (std::size_t p = 0; p < phases.size(); ++p) {
      const Phase& phase = phases[p];
      if (phase.epochs == 0) continue;
      const Index steps = (data.train.size() + phase.batch - 1) / phase.batch;
      const auto& labels = phase.task == Task::direction ? data.train.direction : data.train.colour;
      uinfo::Sgd sgd{
          {.lr = phase.lr, .momentum = phase.momentum, .weight_decay = phase.weight_decay}};
      // Phase 0 shuffles with the seed itself; later phases with streams drawn from it.
      const uinfo::Rng rng{p == 0 ? seed : uinfo::Rng{seed}.engine(uinfo::Stream::user, p)()};
      uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{}, data.train.with_labels(labels),
                 {.epochs = phase.epochs, .batch_size = phase.batch, .rng = rng},
                 uinfo::probing::ProbeSchedule<Net>(measure, early, epochs_before, phase.epochs,
                                                    steps, epoch_done));
      epochs_before += phase.epochs;
    }
  });
  if (timing) *timing += run;
  return rows;
}

}  // namespace checkerboard
