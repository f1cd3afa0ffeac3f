// uinfo-decision: a recurrent rate network of excitatory and inhibitory units (Dale's law) learns a
// perceptual decision, and its usable information about the stimulus and about its own choice is
// read out step by step through a trial, separately in the E and the I units.
//
// The task is the random-dot motion task of the decision-making literature: after a fixation
// period, two noisy input channels carry evidence for left and right (their difference is the
// coherence, random in sign and strength), for a random duration; then the network must report
// the side with more evidence on one of two outputs ("racers") for the decision period. Trials of
// different durations share a batch (padded, never scored); every step of a trial is scored
// (racers at 0 before the decision), as in Kleinman et al.'s multi-area checkerboard task.
#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "common/command.hpp"
#include "common/outcome.hpp"
#include "common/parallel.hpp"
#include "common/plot.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"

namespace {

using uinfo::Index;
using S = float;
constexpr Index units = 100;  // 80 E + 20 I
using Net = uinfo::Sequential<S, uinfo::Input<2>, uinfo::LeakyRnn<units>, uinfo::Dense<2>>;

constexpr std::array<double, 5> strengths{0.032, 0.064, 0.128, 0.256, 0.512};

// The task's timing, in steps of dt = 10 ms (alpha = dt / tau = 0.2 with tau = 50 ms).
struct DecisionTask {
  Index fixation = 10, min_stimulus = 20, max_stimulus = 60, decision = 20;

  Index inputs() const { return 2; }
  Index outputs() const { return 2; }

  // One trial's condition: the signed coherence (> 0: evidence for right) and its stimulus steps.
  struct Trial {
    double coherence;
    Index stimulus;
  };

  Trial draw_trial(uinfo::Engine& engine) const {
    const double strength = strengths[engine.below(strengths.size())];
    const Index stimulus =
        min_stimulus + static_cast<Index>(engine.below(
                           static_cast<std::uint64_t>(max_stimulus - min_stimulus + 1)));
    return {engine.uniform() < 0.5 ? -strength : strength, stimulus};
  }

  // Writes trial b: inputs 0.5 (1 -+ coherence) on the left and right channels during the
  // stimulus (the layer adds the noise), the correct racer at 1 during the decision period.
  void write(const Trial& trial, Index b, uinfo::SequenceBatch<S>& batch) const {
    const Index length = fixation + trial.stimulus + decision;
    batch.lengths()[static_cast<std::size_t>(b)] = length;
    const Index correct = trial.coherence > 0 ? 1 : 0;
    for (Index t = 0; t < length; ++t) {
      const Index column = batch.column(t, b);
      if (t >= fixation && t < fixation + trial.stimulus) {
        batch.x()(0, column) = static_cast<S>(0.5 * (1 - trial.coherence));
        batch.x()(1, column) = static_cast<S>(0.5 * (1 + trial.coherence));
      }
      if (t >= fixation + trial.stimulus) batch.target_values()(correct, column) = 1;
      batch.mask().col(column).setOnes();
    }
  }

  void draw(uinfo::Engine& engine, Index trials, uinfo::SequenceBatch<S>& batch) const {
    batch.reset(2, 2, fixation + max_stimulus + decision, trials);
    for (Index b = 0; b < trials; ++b) write(draw_trial(engine), b, batch);
  }
};

struct Settings {
  long updates = 3000;
  long batch = 20;
  double lr = 1e-3;
  double clip = 1;
  double input_noise = 0.1;
  double recurrent_noise = 0.05;
  long analysis_trials = 2000;
  long probe_every = 2;  // steps between probes in the analysis trials
  uinfo::cli::Seeds seeds{.count = 2, .first = 1};
  int threads = 0;
  uinfo::cli::Output output{.dir = "results/decision"};
};

struct Row {  // one usable-information measurement
  std::uint64_t seed;
  Index step;
  std::string population, label;
  double bits, accuracy;
};

struct SeedResult {
  std::vector<std::array<double, 3>> training;  // update, loss, validation accuracy
  std::vector<Row> info;
  std::vector<std::array<double, 2>> psychometric;  // coherence, fraction of right choices
  Index updates = 0;
};

// The network's choice at a trial's last step: the larger racer.
Index choice(const uinfo::ConstMatrixView<S>& z, Index column) {
  return z(1, column) > z(0, column) ? 1 : 0;
}

double validation_accuracy(Net& net, const DecisionTask& task, uinfo::Engine engine) {
  uinfo::SequenceBatch<S> batch;
  task.draw(engine, 500, batch);
  const auto z = net.forward(batch.x(), batch.timeline());
  Index correct = 0;
  for (Index b = 0; b < batch.trials(); ++b) {
    const Index last = batch.column(batch.lengths()[static_cast<std::size_t>(b)] - 1, b);
    correct += choice(z, last) == (batch.target_values()(1, last) > 0 ? 1 : 0);
  }
  return static_cast<double>(correct) / static_cast<double>(batch.trials());
}

// Trains one network and analyses it: training curve, psychometric curve, and the usable
// information (linear decoder, half the trials to fit, half held out) about the stimulus side and
// the network's choice in the E and I units at every `probe_every`-th step of fixed-timing trials.
SeedResult run_seed(const Settings& s, std::uint64_t seed, const std::function<void()>& tick) {
  const DecisionTask task;
  Net net{uinfo::Rng{seed}};
  const uinfo::MultiAreaCircuit circuit(
      {.areas = 1, .units = units, .inputs = 2, .outputs = 2, .spectral_radius = 1.0});
  uinfo::Engine init = uinfo::Rng{seed}.engine(uinfo::Stream::user);
  circuit.build(net.layer<1>(), net.layer<2>(), init);
  auto options = net.layer<1>().options();
  options.recurrent_noise = s.recurrent_noise;
  options.input_noise = {s.input_noise, s.input_noise};
  net.layer<1>().configure(options);

  SeedResult result;
  uinfo::Adam adam{{.lr = s.lr}};
  const uinfo::Engine validation = uinfo::Rng{seed}.engine(uinfo::Stream::user, 1);
  result.updates = uinfo::fit_task(
      net, adam, uinfo::MeanSquaredError{}, task,
      {.updates = s.updates,
       .batch_size = s.batch,
       .rng = uinfo::Rng{seed},
       .clip_norm = s.clip,
       .weight_penalty = {.coefficient = 1e-3}},
      uinfo::every_n_updates(
          std::max(1L, s.updates / 20), [&](const uinfo::UpdateInfo& info, Net& n) {
            result.training.push_back({static_cast<double>(info.update + 1), info.loss,
                                       validation_accuracy(n, task, validation)});
            tick();
          }));

  // Analysis trials: fixed timing (a 40-step stimulus), all coherences.
  DecisionTask fixed = task;
  fixed.min_stimulus = fixed.max_stimulus = 40;
  uinfo::Engine engine = uinfo::Rng{seed}.engine(uinfo::Stream::user, 2);
  uinfo::SequenceBatch<S> batch;
  const Index n = s.analysis_trials;
  batch.reset(2, 2, fixed.fixation + 40 + fixed.decision, n);
  std::vector<DecisionTask::Trial> trials;
  for (Index b = 0; b < n; ++b) {
    trials.push_back(fixed.draw_trial(engine));
    fixed.write(trials.back(), b, batch);
  }
  const auto z = net.forward(batch.x(), batch.timeline());
  const uinfo::Matrix<S> rates = net.output<1>();
  std::vector<uinfo::Label> side(static_cast<std::size_t>(n)), chosen(side.size());
  const Index last = batch.steps() - 1;
  for (Index b = 0; b < n; ++b) {
    side[static_cast<std::size_t>(b)] = trials[static_cast<std::size_t>(b)].coherence > 0;
    chosen[static_cast<std::size_t>(b)] =
        static_cast<uinfo::Label>(choice(z, batch.column(last, b)));
  }
  for (const double c : strengths) {
    for (const double sign : {-1.0, 1.0}) {
      long right = 0, count = 0;
      for (Index b = 0; b < n; ++b) {
        if (trials[static_cast<std::size_t>(b)].coherence != sign * c) continue;
        ++count;
        right += chosen[static_cast<std::size_t>(b)];
      }
      if (count) result.psychometric.push_back({sign * c, static_cast<double>(right) / count});
    }
  }
  std::sort(result.psychometric.begin(), result.psychometric.end());

  const Index half = n / 2;
  const std::array<std::pair<const char*, std::pair<Index, Index>>, 2> populations{
      {{"E", {0, 80}}, {"I", {80, 20}}}};
  for (Index t = 0; t <= last; t += s.probe_every) {
    for (const auto& [population, range] : populations) {
      const auto block = rates.middleCols(t * n, n).middleRows(range.first, range.second);
      const uinfo::Matrix<S> train = block.leftCols(half), test = block.rightCols(n - half);
      for (const auto& [label, values] :
           {std::pair{"stimulus", &side}, std::pair{"choice", &chosen}}) {
        const std::span<const uinfo::Label> all(*values);
        uinfo::LinearDecoder<S> decoder;
        const auto info = uinfo::usable_information(
            train, all.first(static_cast<std::size_t>(half)), test,
            all.subspan(static_cast<std::size_t>(half)), decoder, {.classes = 2, .seed = seed});
        result.info.push_back({seed, t, population, label, info.bits, info.accuracy});
      }
    }
  }
  tick();
  return result;
}

void plot(const Settings& s, const DecisionTask& task, const std::filesystem::path& dir) {
  const std::string onset = std::to_string(task.fixation);
  const std::string offset = std::to_string(task.fixation + 40);
  std::string script = "set datafile separator ','\nset key top left\nset grid\n";
  script +=
      "set multiplot layout 1,2 title 'uinfo-decision: usable information through the "
      "trial, " +
      std::to_string(s.seeds.count) + " networks (linear decoder)'\n";
  script += "set xlabel 'step of the trial (10 ms)'\nset ylabel 'bits'\nset yrange [-0.05:1.05]\n";
  script += "set arrow from " + onset + ",graph 0 to " + onset + ",graph 1 nohead dt 2\n";
  script += "set arrow from " + offset + ",graph 0 to " + offset + ",graph 1 nohead dt 2\n";
  for (const std::string label : {"stimulus", "choice"}) {
    script += "set title 'the " + label + " (stimulus between the dashed lines)'\n";
    script += "plot for [p in 'E I'] 'info.csv' using ((strcol(4) eq p && strcol(5) eq '" + label +
              "') ? $2 : 1/0):6 with points pt 7 ps 0.5 title p.' units'\n";
  }
  script += "unset multiplot\n";
  uinfo::plot::render_png(dir / "info.png", script, 1100, 450);
  std::string curve = "set datafile separator ','\nset key off\nset grid\n";
  curve += "set title 'psychometric curve (each network)'\n";
  curve += "set xlabel 'signed coherence (> 0: evidence for right)'\n";
  curve += "set ylabel 'fraction of right choices'\nset yrange [-0.05:1.05]\n";
  curve += "plot 'psychometric.csv' using 2:3 with points pt 7\n";
  uinfo::plot::render_png(dir / "psychometric.png", curve, 600, 450);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Command cli(
      "uinfo-decision",
      "A recurrent rate network of 80 excitatory and 20 inhibitory units (Dale's law) learns a\n"
      "perceptual decision (evidence on two noisy channels, then a report on two racers), by\n"
      "backpropagation through time with Adam on fresh trials every update. Then, step by step\n"
      "through fixed-timing trials, the usable information (linear decoder) about the stimulus\n"
      "side and the network's own choice in its E and its I units. Writes OUT/training.csv,\n"
      "info.csv, psychometric.csv, run.json, info.png and psychometric.png.");
  cli.setting("--updates", s.updates, "training updates (each on fresh trials)");
  cli.setting("--batch", s.batch, "trials per update");
  cli.setting("--lr", s.lr, "Adam learning rate");
  cli.setting("--clip", s.clip, "global gradient-norm clip (0: none)");
  cli.setting("--input-noise", s.input_noise, "input noise sigma per channel (continuous time)");
  cli.setting("--recurrent-noise", s.recurrent_noise, "recurrent noise sigma (continuous time)");
  cli.setting("--analysis-trials", s.analysis_trials, "fixed-timing trials analysed");
  cli.setting("--probe-every", s.probe_every, "steps between probes in the analysis trials");
  uinfo::cli::add_options(cli, s.seeds, "networks trained (seeds run in parallel)");
  cli.option("--threads", s.threads, "threads (0: one per core); the files do not depend on it");
  uinfo::cli::add_options(cli, s.output);
  cli.parse(argc, argv);
  uinfo::cli::check(cli, s.seeds);
  if (s.updates < 1 || s.batch < 1 || !(s.lr > 0) || !(s.clip >= 0) || !(s.input_noise >= 0) ||
      !(s.recurrent_noise >= 0) || s.analysis_trials < 20 || s.probe_every < 1) {
    cli.fail(
        "--updates, --batch, --probe-every must be at least 1, --analysis-trials at least "
        "20, --lr positive, --clip and the noise levels at least 0");
  }

  const std::filesystem::path dir = s.output.dir;
  uinfo::program::prepare_output_directory(dir);
  uinfo::program::running();
  const auto start = std::chrono::steady_clock::now();
  uinfo::ProgressBar bar(static_cast<long>(s.seeds.count) * 21, "training and probing",
                         !s.output.quiet);
  std::mutex bar_mutex;
  auto tick = [&] {
    const std::lock_guard lock(bar_mutex);
    bar.advance();
  };
  std::ofstream training(dir / "training.csv"), info(dir / "info.csv"),
      psychometric(dir / "psychometric.csv");
  training << "seed,update,loss,validation_accuracy\n";
  info << "seed,step,time_ms,population,label,bits,accuracy\n";
  psychometric << "seed,coherence,right_choices\n";
  uinfo::record::Json summary = uinfo::record::Json::array();
  try {
    uinfo::parallel::for_each_job_in_order(
        static_cast<std::size_t>(s.seeds.count), s.threads,
        [&](std::size_t i) { return run_seed(s, s.seeds.first + i, tick); },
        [&](std::size_t i, SeedResult r) {
          const std::uint64_t seed = s.seeds.first + i;
          for (const auto& [update, loss, accuracy] : r.training)
            training << seed << ',' << update << ',' << loss << ',' << accuracy << '\n';
          for (const Row& row : r.info) {
            info << row.seed << ',' << row.step << ',' << 10 * (row.step + 1) << ','
                 << row.population << ',' << row.label << ',' << row.bits << ',' << row.accuracy
                 << '\n';
          }
          for (const auto& [coherence, right] : r.psychometric)
            psychometric << seed << ',' << coherence << ',' << right << '\n';
          summary.push_back({{"seed", seed},
                             {"updates", r.updates},
                             {"final_validation_accuracy", r.training.back()[2]}});
        });
  } catch (...) {
    return uinfo::program::failed("uinfo-decision");
  }
  training.close();
  info.close();
  psychometric.close();
  bar.finish();
  plot(s, DecisionTask{}, dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uinfo::record::Json run = cli.record();
  run["seeds"] = summary;
  run["wall_seconds"] = seconds;
  uinfo::record::write(run, dir / "run.json");
  std::printf("%d networks in %.1f s; results in %s/\n", s.seeds.count, seconds,
              dir.string().c_str());
  return 0;
}
