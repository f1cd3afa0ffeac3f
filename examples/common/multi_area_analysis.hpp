// The multi-area checkerboard network analysed as its authors analysed it: the trained network is
// run on fixed-timing trials with more recurrent noise, from x = 0 and with its weakest weights
// cut; its choices and reaction times are read from its racers; each trial is labelled by the
// network's own choice; each area's rates are averaged over a window around the reaction time; and
// decoders measure, per area, the usable information about the direction chosen, the colour of
// the chosen target and the target configuration.
#pragma once

#include <uinfo/uinfo.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/multi_area_training.hpp"

namespace multi_area {

struct AnalysisOptions {
  Index trials = 2800;
  double recurrent_noise = 0.1;  // the analysis doubles training's
  double input_noise = 0.1;
  double threshold = 0.6;          // racer crossing
  double weight_threshold = 1e-4;  // effective weights below it are cut, as the reference's RNN
  std::uint64_t seed = 1;          // trials and noise, the same for every network
  double decoder_l2 = 1e-3;        // uinfo's linear decoder, on whitened rates
  // uinfo's decoders fit on this share of the samples and are scored on the rest (the authors'
  // protocol has its own 25% / 75% split).
  double train_fraction = 0.5;
  std::uint64_t split_seed = 42, decoder_seed = 0;
};

// The windows, in steps: [crossing - 30, crossing + 10) around the reaction (the reference's
// 400 ms), and, for the probes during training, [onset + 99, onset + 149), the authors'
// over-training window (onset + 1000 to onset + 1490 ms: their code adds the onset twice).
inline constexpr Index reaction_before = 30, reaction_after = 10;
inline constexpr Index fixed_first = 99, fixed_last = 149;

// Each area's window-averaged rates (E then I units, raw), one column per sample, and the
// simulated trial each sample comes from.
struct AreaSamples {
  std::vector<uinfo::Matrix<float>> areas;
  std::vector<Index> trials;
};

struct Simulation {
  std::vector<uinfo::TimedCheckerboardTrial> trials;
  std::vector<uinfo::CheckerboardChoice> choices;
  AreaSamples reaction;  // trials with a crossing, around it
  AreaSamples fixed;     // every trial, in the fixed window
};

// The network as the reference's analysis runs it: x0 = 0 and effective weights below the
// threshold cut (with Dale's law a raw weight below it is one).
inline void prepare_for_analysis(Net& net, bool dale, double threshold) {
  net.layer<1>().initial_state().value.setZero();
  const auto cut = static_cast<float>(threshold);
  net.for_each_parameter([&](uinfo::Parameter<float>& p) {
    if (p.role != uinfo::ParameterRole::weight) return;
    for (float& w : p.value.reshaped()) {
      if ((dale ? w : std::abs(w)) < cut) w = 0;
    }
  });
}

// Runs a copy of `trained` on `trials` analysis trials (the first `trials` of the same stream,
// whatever their number) and collects choices and both windows' features.
inline Simulation simulate(Net net, const uinfo::MultiAreaCircuit& circuit,
                           const AnalysisOptions& o, Index trials) {
  prepare_for_analysis(net, circuit.options().dale, o.weight_threshold);
  auto rnn_options = net.layer<1>().options();
  rnn_options.recurrent_noise = o.recurrent_noise;
  net.layer<1>().configure(rnn_options);
  *net.layer<1>().engines()[0] = uinfo::Rng{o.seed}.engine(uinfo::Stream::noise);
  uinfo::Engine draws = uinfo::Rng{o.seed}.engine(uinfo::Stream::data);
  auto task_options = uinfo::TimedCheckerboardOptions::analysis();
  task_options.input_noise = o.input_noise;
  const uinfo::TimedCheckerboard task(task_options);

  Simulation sim;
  const Index areas = circuit.areas();
  std::vector<std::vector<Index>> units;
  for (Index a = 0; a < areas; ++a) units.push_back(circuit.area_units(a));
  for (AreaSamples* samples : {&sim.reaction, &sim.fixed}) {
    for (Index a = 0; a < areas; ++a)
      samples->areas.emplace_back(std::ssize(units[static_cast<std::size_t>(a)]), trials);
  }
  uinfo::SequenceBatch<float> batch;
  std::vector<uinfo::TimedCheckerboardTrial> drawn;
  std::vector<uinfo::StepWindow> reaction, fixed;
  for (Index first = 0; first < trials; first += chunk_trials) {
    const Index n = std::min(chunk_trials, trials - first);
    task.draw(draws, n, batch, drawn);
    const auto z = net.forward(batch.x(), batch.timeline(), uinfo::Mode::eval);
    reaction.clear();
    fixed.clear();
    for (Index b = 0; b < n; ++b) {
      const auto& trial = drawn[static_cast<std::size_t>(b)];
      const uinfo::CheckerboardChoice c = task.choice(z, n, b, trial, o.threshold);
      sim.trials.push_back(trial);
      sim.choices.push_back(c);
      fixed.push_back({b, trial.board_on + fixed_first, trial.board_on + fixed_last});
      sim.fixed.trials.push_back(first + b);
      if (c.decided()) {
        reaction.push_back(
            {b, c.crossing - reaction_before, std::min(c.crossing + reaction_after, trial.length)});
        sim.reaction.trials.push_back(first + b);
      }
    }
    const auto rates = net.output<1>();
    const uinfo::Timeline time = net.timeline<1>();
    auto collect = [&](AreaSamples& samples, const std::vector<uinfo::StepWindow>& windows) {
      const Index done = std::ssize(samples.trials) - std::ssize(windows);
      for (Index a = 0; a < areas; ++a) {
        auto& m = samples.areas[static_cast<std::size_t>(a)];
        uinfo::window_means(
            rates, time, units[static_cast<std::size_t>(a)], windows,
            uinfo::MatrixView<float>(m.col(done).data(), m.rows(), std::ssize(windows)));
      }
    };
    collect(sim.reaction, reaction);
    collect(sim.fixed, fixed);
  }
  for (auto& m : sim.reaction.areas)
    m.conservativeResize(m.rows(), std::ssize(sim.reaction.trials));
  return sim;
}

// Labels by the network's own choice: the direction reached (1 right), the colour of the target
// chosen (1 green) and the configuration (1 when the left target is green).
inline const char* const label_names[] = {"direction", "colour", "configuration"};

inline std::vector<uinfo::Label> labels_of(const Simulation& sim, const AreaSamples& samples,
                                           const std::string& label) {
  std::vector<uinfo::Label> y;
  for (const Index t : samples.trials) {
    const auto& trial = sim.trials[static_cast<std::size_t>(t)];
    const auto& c = sim.choices[static_cast<std::size_t>(t)];
    if (label == "direction") y.push_back(c.side > 0);
    if (label == "colour") y.push_back(c.chose_green(trial));
    if (label == "configuration") y.push_back(trial.condition.configuration > 0);
  }
  return y;
}

struct Estimate {
  double bits, accuracy;
  Index n_train, n_test;
};

// The usable information in `z` about `y` for one decoder family, on a seeded split of the
// samples (the train fraction to fit, the rest to score).
inline Estimate decode(const uinfo::Matrix<float>& z, const std::vector<uinfo::Label>& y,
                       const std::string& decoder, const AnalysisOptions& o) {
  const Index n = z.cols();
  const auto train = static_cast<Index>(std::ceil(o.train_fraction * static_cast<double>(n)));
  if (train < 2 || n - train < 1) return {std::nan(""), std::nan(""), train, n - train};
  const auto order = uinfo::detail::shuffled_indices(n, o.split_seed);
  const std::span<const Index> all(order);
  const auto training =
      uinfo::detail::take_samples(z, y, all.first(static_cast<std::size_t>(train)));
  const auto held_out =
      uinfo::detail::take_samples(z, y, all.subspan(static_cast<std::size_t>(train)));
  const uinfo::UsableInformationOptions options{.classes = 2, .seed = o.decoder_seed};
  auto estimate = [&](auto&& d) {  // bound here: Clang 14 captures no structured bindings
    const auto& [z_train, y_train] = training;
    const auto& [z_test, y_test] = held_out;
    const auto info = uinfo::usable_information(z_train, y_train, z_test, y_test, d, options);
    return Estimate{info.bits, info.accuracy, info.n_train, info.n_test};
  };
  if (decoder == "mlp") return estimate(uinfo::MlpDecoder<float>{});
  return estimate(uinfo::LinearDecoder<float>({.l2 = o.decoder_l2}));
}

// Choices and reaction times per coherence toward the right target (14 values, each from two
// boards and configurations).
struct BehaviourPoint {
  double coherence = 0;
  Index trials = 0, right = 0, correct = 0, decided = 0;
  double rt_sum = 0, rt_squares = 0;  // over decided trials, ms
  double rt_mean() const { return decided ? rt_sum / static_cast<double>(decided) : std::nan(""); }
  double rt_sd() const {
    if (decided < 2) return std::nan("");
    const double mean = rt_mean();
    return std::sqrt(
        std::max(0.0, (rt_squares - decided * mean * mean) / static_cast<double>(decided - 1)));
  }
};

inline std::vector<BehaviourPoint> behaviour(const Simulation& sim) {
  std::map<int, BehaviourPoint> points;  // key: red minus green squares, toward the right target
  for (std::size_t i = 0; i < sim.trials.size(); ++i) {
    const auto& t = sim.trials[i];
    const auto& c = sim.choices[i];
    const int key = t.condition.configuration * (2 * t.red_squares() - 225);
    BehaviourPoint& p = points[key];
    p.coherence = key / 225.0;
    p.trials += 1;
    p.right += c.side > 0;
    p.correct += c.side == t.correct_side();
    if (c.decided()) {
      p.decided += 1;
      p.rt_sum += c.reaction_ms;
      p.rt_squares += c.reaction_ms * c.reaction_ms;
    }
  }
  std::vector<BehaviourPoint> out;
  for (const auto& [key, p] : points) out.push_back(p);
  return out;
}

}  // namespace multi_area
