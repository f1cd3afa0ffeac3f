// uinfo-checkerboard-rnn: the multi-area checkerboard circuit of Kleinman, Chandrasekaran & Kao
// (2021). A recurrent rate network of several areas, its units obeying Dale's law, learns the
// time-resolved checkerboard task as the authors trained it; then each area is probed for the
// direction the network chose and the colour of the target it chose. The published result: the
// colour is filtered out from area to area while the direction is kept, so the output area holds
// a minimal sufficient representation. Seeds run in parallel, one network per thread.
#include <uinfo/uinfo.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/command.hpp"
#include "common/multi_area_analysis.hpp"
#include "common/multi_area_training.hpp"
#include "common/outcome.hpp"
#include "common/parallel.hpp"
#include "common/plot.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"

namespace {

using multi_area::Index;

struct Settings {
  long areas = 3;
  long units = 300;
  double excitatory = 0.8;
  bool no_dale = false;
  double feedforward = 0.1, feedback = 0.05, feedforward_inhibitory = 0;
  multi_area::TrainingOptions training;
  multi_area::AnalysisOptions analysis;
  std::string decoders = "linear,mlp";
  long probe_every = 500;
  long probe_trials = 1000;
  std::string analyse = "best";
  uinfo::cli::Seeds seeds{8, 0};
  int threads = 0;
  uinfo::cli::Output output{"results/checkerboard-rnn"};
};

// Where this program departs from the authors' code, for run.json (the README explains each).
std::vector<std::string> departures(const Settings& s) {
  std::vector<std::string> d = {
      "random streams are uinfo's (xoshiro256**), not numpy's: same distributions, other draws",
      "float32 throughout in C++, not Theano; relu'(0) = 0 (Theano's is 0.5)",
      "the analysis trials' conditions are drawn at random, as the authors' code did (not 100 "
      "per condition as their text says); labels from the network's own choices",
      "configuration information uses the configuration itself (the authors' script paired "
      "rates with colour-ordered labels)"};
  if (s.training.lr != 5e-5) d.push_back("learning rate " + uinfo::shortest(s.training.lr));
  if (s.training.max_updates < 56000) {
    d.push_back("at most " + std::to_string(s.training.max_updates) +
                " updates per seed (the authors' slowest seed took 56,000)");
  }
  if (s.analyse != "best") d.push_back("the final network is analysed, not the best-cost one");
  return d;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) items.push_back(item);
  return items;
}

struct InfoRow {
  Index update;
  std::string window;
  Index area;  // from 1
  std::string label, decoder;
  multi_area::Estimate estimate;
};

struct SeedResult {
  multi_area::TrainingRecord training;
  Index analysed_update = 0;
  std::vector<InfoRow> info;
  std::vector<multi_area::BehaviourPoint> behaviour;
  double decided = 0, correct = 0;  // fractions of the analysis trials
  double analysis_seconds = 0;
};

// Usable information of every area about every label in `samples`, per decoder.
void measure(const multi_area::Simulation& sim, const multi_area::AreaSamples& samples,
             const std::vector<std::string>& labels, const std::vector<std::string>& decoders,
             const multi_area::AnalysisOptions& o, Index update, const std::string& window,
             std::vector<InfoRow>& rows) {
  for (const std::string& label : labels) {
    const auto y = multi_area::labels_of(sim, samples, label);
    for (std::size_t a = 0; a < samples.areas.size(); ++a) {
      for (const std::string& decoder : decoders) {
        rows.push_back({update, window, static_cast<Index>(a) + 1, label, decoder,
                        multi_area::decode(samples.areas[a], y, decoder, o)});
      }
    }
  }
}

// Moves the progress bar by some units of work, with a note beside it.
using Advance = std::function<void(long, const std::string&)>;

SeedResult run_seed(const Settings& s, std::uint64_t seed, const uinfo::MultiAreaCircuit& circuit,
                    const std::filesystem::path& dir, const Advance& advance) {
  SeedResult result;
  multi_area::Net net = multi_area::make_network(circuit, s.training, seed);
  long validations = 0;
  result.training = multi_area::train(
      net, s.training, dir / "checkpoints" / ("seed-" + std::to_string(seed) + ".bin"),
      [&](const multi_area::Validation& v, multi_area::Net& n) {
        ++validations;
        advance(1, "seed " + std::to_string(seed) + ": " + std::to_string(v.update) + " updates, " +
                       std::to_string(static_cast<int>(v.performance)) + "%");
        if (s.probe_every <= 0 || v.update % s.probe_every != 0) return;
        const auto sim = multi_area::simulate(n, circuit, s.analysis, s.probe_trials);
        measure(sim, sim.fixed, {"direction", "colour"}, {"linear"}, s.analysis, v.update, "fixed",
                result.info);
      });
  advance(s.training.max_updates / s.training.validate_every + 1 - validations, "");

  const auto start = std::chrono::steady_clock::now();
  if (s.analyse == "best") {
    uinfo::copy_parameters_from(net, result.training.best_parameters);
    result.analysed_update = result.training.best_update;
  } else {
    result.analysed_update = result.training.updates;
  }
  const auto sim = multi_area::simulate(net, circuit, s.analysis, s.analysis.trials);
  measure(sim, sim.reaction, {"direction", "colour", "configuration"}, split_list(s.decoders),
          s.analysis, result.analysed_update, "reaction", result.info);
  result.behaviour = multi_area::behaviour(sim);
  for (const auto& p : result.behaviour) {
    result.decided += static_cast<double>(p.decided) / static_cast<double>(sim.trials.size());
    result.correct += static_cast<double>(p.correct) / static_cast<double>(sim.trials.size());
  }
  result.analysis_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  advance(1, "seed " + std::to_string(seed) + " analysed");
  return result;
}

// Mean and sample sd over seeds of the final estimates, per (area, label, decoder).
struct Summary {
  std::vector<double> bits, accuracy;
};
using SummaryKey = std::tuple<Index, std::string, std::string>;

std::map<SummaryKey, Summary> summarise(const std::vector<SeedResult>& results) {
  std::map<SummaryKey, Summary> summary;
  for (const auto& r : results) {
    for (const auto& row : r.info) {
      if (row.window != "reaction") continue;
      auto& entry = summary[{row.area, row.label, row.decoder}];
      entry.bits.push_back(row.estimate.bits);
      entry.accuracy.push_back(row.estimate.accuracy);
    }
  }
  return summary;
}

// The published per-area values (3 areas, 8 seeds; the authors' saved result arrays): mean and
// sample sd of their MLP decoder's bits, and of their linear variant's.
struct Published {
  const char* label;
  const char* decoder;
  double mean[3], sd[3];
};
constexpr Published published[] = {
    {"direction", "authors", {0.813, 0.853, 0.971}, {0.080, 0.059, 0.019}},
    {"colour", "authors", {0.788, 0.420, 0.002}, {0.072, 0.026, 0.001}},
    {"direction", "authors-linear", {0.838, 0.854, 0.967}, {0.069, 0.065, 0.022}},
    {"colour", "authors-linear", {0.686, 0.235, 0.003}, {0.183, 0.092, 0.001}},
};

// info.csv, training.csv and behaviour.csv, a seed's rows as soon as it and every seed before it
// have finished: the files do not depend on the thread count, and an interrupted run keeps the
// seeds it completed.
class SeedTables {
 public:
  explicit SeedTables(const std::filesystem::path& dir)
      : info_(dir / "info.csv", {"seed", "update", "window", "area", "label", "decoder", "bits",
                                 "accuracy", "n", "n_train", "n_test"}),
        training_(dir / "training.csv", {"seed", "update", "loss", "cost", "performance", "best"}),
        behaviour_(dir / "behaviour.csv",
                   {"seed", "coherence_toward_right", "trials", "right_fraction",
                    "correct_fraction", "decided_fraction", "rt_mean_ms", "rt_sd_ms"}) {}

  void write(std::uint64_t seed, const SeedResult& r) {
    for (const auto& row : r.info) {
      const auto& e = row.estimate;
      info_.row(seed, row.update, row.window, row.area, row.label, row.decoder, e.bits, e.accuracy,
                e.n_train + e.n_test, e.n_train, e.n_test);
    }
    for (const auto& v : r.training.validations)
      training_.row(seed, v.update, v.loss, v.cost, v.performance, v.best);
    for (const auto& p : r.behaviour) {
      const auto n = static_cast<double>(p.trials);
      behaviour_.row(seed, p.coherence, p.trials, p.right / n, p.correct / n, p.decided / n,
                     p.rt_mean(), p.rt_sd());
    }
  }

 private:
  uinfo::CsvWriter info_, training_, behaviour_;
};

// areas.csv: the final values per area, label and decoder, over seeds.
void write_areas(const std::vector<SeedResult>& results, const std::filesystem::path& dir) {
  uinfo::CsvWriter areas(dir / "areas.csv", {"area", "label", "decoder", "bits_mean", "bits_sd",
                                             "accuracy_mean", "seeds"});
  for (const auto& [key, v] : summarise(results)) {
    const auto bits = uinfo::mean_and_deviation(v.bits);
    const auto accuracy = uinfo::mean_and_deviation(v.accuracy);
    areas.row(std::get<0>(key), std::get<1>(key), std::get<2>(key), bits.mean, bits.deviation,
              accuracy.mean, v.bits.size());
  }
}

uinfo::record::Json run_record(const std::vector<SeedResult>& results, const Settings& s,
                               const uinfo::cli::Command& cli, double seconds) {
  uinfo::record::Json record = cli.record();
  record["departures"] = departures(s);
  uinfo::record::Json seeds = uinfo::record::Json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    seeds.push_back({{"seed", s.seeds.first + i},
                     {"updates", r.training.updates},
                     {"stopped_at_performance", r.training.stopped_at_performance},
                     {"analysed_update", r.analysed_update},
                     {"performance_at_best_cost", r.training.best_performance},
                     {"final_performance", r.training.validations.back().performance},
                     {"bad_gradients", r.training.bad_gradients},
                     {"decided_fraction", r.decided},
                     {"correct_fraction", r.correct},
                     {"training_seconds", r.training.seconds},
                     {"analysis_seconds", r.analysis_seconds}});
  }
  record["seeds"] = seeds;
  uinfo::record::Json summary = uinfo::record::Json::object();
  for (const auto& [key, v] : summarise(results)) {
    const auto bits = uinfo::mean_and_deviation(v.bits);
    summary["area" + std::to_string(std::get<0>(key)) + "/" + std::get<1>(key) + "/" +
            std::get<2>(key)] = {
        {"bits_mean", bits.mean}, {"bits_sd", bits.deviation}, {"bits", v.bits}};
  }
  record["summary"] = summary;
  uinfo::record::Json paper = uinfo::record::Json::object();
  for (const auto& p : published) {
    for (int a = 0; a < 3; ++a) {
      paper["area" + std::to_string(a + 1) + "/" + p.label + "/" + p.decoder] = {
          {"bits_mean", p.mean[a]}, {"bits_sd", p.sd[a]}};
    }
  }
  record["published"] = paper;
  record["wall_seconds"] = seconds;
  return record;
}

// areas.png: the published figure (bits per area, colour and direction, per decoder);
// training.png: information over training per area (fixed window) and validation performance;
// behaviour.png: psychometric and chronometric curves.
void plot(const std::vector<SeedResult>& results, const Settings& s,
          const std::filesystem::path& dir) {
  const auto decoders = split_list(s.decoders);
  {
    std::ofstream data(dir / "areas.dat");
    for (const std::string& decoder : decoders) {
      for (const char* label : {"colour", "direction"}) {
        data << "# " << decoder << ' ' << label << ": area mean sd\n";
        for (const auto& [key, v] : summarise(results)) {
          if (std::get<1>(key) != label || std::get<2>(key) != decoder) continue;
          const auto bits = uinfo::mean_and_deviation(v.bits);
          data << std::get<0>(key) << ' ' << bits.mean << ' ' << bits.deviation << '\n';
        }
        data << "\n\n";
      }
    }
    // The published values (the authors' decoder) beside each panel, when the anatomy is theirs.
    const bool comparable = s.areas == 3;
    for (const std::string label : {"colour", "direction"}) {
      for (const Published& p : published) {
        if (p.label != label || std::string(p.decoder) != "authors") continue;
        data << "# published " << label << ": area mean sd\n";
        for (int a = 0; a < 3; ++a) data << a + 1 << ' ' << p.mean[a] << ' ' << p.sd[a] << '\n';
        data << "\n\n";
      }
    }
    const std::size_t first_published = 2 * decoders.size();
    std::string script =
        "set datafile separator whitespace\nset grid\nset key top right\nset xtics 1\n"
        "set xlabel 'area'\nset ylabel 'usable information (bits)'\nset yrange [*<-0.05:1.1]\n"
        "set xrange [0.5:" +
        std::to_string(s.areas) + ".5]\n";
    script += "set multiplot layout 1," + std::to_string(decoders.size()) +
              " title 'uinfo-checkerboard-rnn: information per area, mean +- sd over " +
              std::to_string(s.seeds.count) + " seeds'\n";
    for (std::size_t d = 0; d < decoders.size(); ++d) {
      script += "set title '" + decoders[d] + " decoder'\nplot 'areas.dat' index " +
                std::to_string(2 * d) +
                " using 1:2:3 with yerrorlines lw 3 pt 7 lc rgb '#d62728' title 'colour', "
                "'areas.dat' index " +
                std::to_string(2 * d + 1) +
                " using 1:2:3 with yerrorlines lw 3 pt 7 lc rgb '#1f77b4' title 'direction'";
      if (comparable) {
        script += ", 'areas.dat' index " + std::to_string(first_published) +
                  " using 1:2 with linespoints dt 2 pt 6 lc rgb '#d62728' title 'colour, "
                  "published', 'areas.dat' index " +
                  std::to_string(first_published + 1) +
                  " using 1:2 with linespoints dt 2 pt 6 lc rgb '#1f77b4' title 'direction, "
                  "published'";
      }
      script += "\n";
    }
    script += "unset multiplot\n";
    data.close();
    uinfo::plot::render_png(dir / "areas.png", script, 420 * static_cast<int>(decoders.size()) + 80,
                            460);
  }
  {
    // Mean over the seeds that reached each update, per (label, area); then each seed's
    // validation performance.
    std::map<std::tuple<std::string, Index, Index>, std::vector<double>> curves;
    for (const auto& r : results)
      for (const auto& row : r.info)
        if (row.window == "fixed")
          curves[{row.label, row.area, row.update}].push_back(row.estimate.bits);
    std::ofstream data(dir / "training.dat");
    const bool probed = !curves.empty();  // --probe-every 0 leaves the performance panel only
    std::string script =
        "set datafile separator whitespace\nset grid\nset key bottom right\n"
        "set xlabel 'updates'\nset multiplot layout 1," +
        std::string(probed ? "3" : "1") +
        " title 'uinfo-checkerboard-rnn: over training (fixed window, linear decoder, mean over "
        "seeds)'\n";
    int block = 0;
    const char* area_colours[] = {"#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"};
    for (const char* label : {"colour", "direction"}) {
      if (!probed) break;
      script += "set title '" + std::string(label) +
                "'\nset ylabel 'bits'\nset yrange [*<-0.05:1.1]\nplot ";
      for (Index a = 1; a <= s.areas; ++a) {
        data << "# " << label << " area " << a << "\n";
        for (const auto& [key, v] : curves)
          if (std::get<0>(key) == label && std::get<1>(key) == a)
            data << std::get<2>(key) << ' ' << uinfo::mean_and_deviation(v).mean << '\n';
        data << "\n\n";
        script += std::string(a > 1 ? ", " : "") + "'training.dat' index " +
                  std::to_string(block++) + " using 1:2 with lines lw 3 lc rgb '" +
                  area_colours[(a - 1) % 5] + "' title 'area " + std::to_string(a) + "'";
      }
      script += "\n";
    }
    script += "set title 'validation performance'\nset ylabel '%'\nset yrange [0:100]\nplot ";
    for (std::size_t i = 0; i < results.size(); ++i) {
      data << "# performance seed " << s.seeds.first + i << "\n";
      for (const auto& v : results[i].training.validations)
        data << v.update << ' ' << v.performance << '\n';
      data << "\n\n";
      script += std::string(i ? ", " : "") + "'training.dat' index " + std::to_string(block++) +
                " using 1:2 with lines lc rgb '#555555' notitle";
    }
    script += ", " + uinfo::shortest(s.training.stop_performance) +
              " with lines dt 2 lc rgb '#d62728' title 'stop'\nunset multiplot\n";
    data.close();
    uinfo::plot::render_png(dir / "training.png", script, probed ? 1350 : 500, 450);
  }
  {
    std::map<double, std::vector<double>> right, rt;
    for (const auto& r : results) {
      for (const auto& p : r.behaviour) {
        right[p.coherence].push_back(100.0 * static_cast<double>(p.right) /
                                     static_cast<double>(p.trials));
        if (p.decided) rt[p.coherence].push_back(p.rt_mean());
      }
    }
    std::ofstream data(dir / "behaviour.dat");
    data << "# coherence toward the right target, % right (mean, sd over seeds)\n";
    for (const auto& [c, v] : right) {
      const auto m = uinfo::mean_and_deviation(v);
      data << c << ' ' << m.mean << ' ' << m.deviation << '\n';
    }
    data << "\n\n# coherence, reaction time ms (mean, sd over seeds)\n";
    for (const auto& [c, v] : rt) {
      const auto m = uinfo::mean_and_deviation(v);
      data << c << ' ' << m.mean << ' ' << m.deviation << '\n';
    }
    const std::string script =
        "set datafile separator whitespace\nset grid\nset key off\n"
        "set xlabel 'coherence toward the right target'\n"
        "set multiplot layout 1,2 title 'uinfo-checkerboard-rnn: behaviour on the analysis "
        "trials, mean +- sd over seeds'\n"
        "set title 'psychometric curve'\nset ylabel '% right choices'\nset yrange [0:100]\n"
        "plot 'behaviour.dat' index 0 using 1:2:3 with yerrorlines lw 2 pt 7 lc rgb '#1f77b4'\n"
        "set title 'reaction time'\nset ylabel 'ms'\nset autoscale y\n"
        "plot 'behaviour.dat' index 1 using 1:2:3 with yerrorlines lw 2 pt 7 lc rgb '#d62728'\n"
        "unset multiplot\n";
    data.close();
    uinfo::plot::render_png(dir / "behaviour.png", script, 1000, 420);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  Settings s;
  auto& t = s.training;
  auto& a = s.analysis;
  uinfo::cli::Command cli(
      "uinfo-checkerboard-rnn",
      "The multi-area checkerboard circuit (Kleinman, Chandrasekaran & Kao 2021): trains\n"
      "recurrent rate networks of several areas (Dale's law, sparse links between neighbouring\n"
      "areas) on the time-resolved checkerboard task as the authors did, then measures per area\n"
      "the usable information about the direction chosen and the colour of the chosen target.\n"
      "Writes OUT/info.csv, areas.csv, behaviour.csv, training.csv, run.json, areas.png,\n"
      "training.png and behaviour.png, and each seed's best network in OUT/checkpoints/.");
  cli.setting("--areas", s.areas, "recurrent areas, in a chain");
  cli.setting("--units", s.units, "recurrent units in all areas together");
  cli.setting("--excitatory", s.excitatory, "fraction of excitatory units");
  cli.setting("--no-dale", s.no_dale, "no Dale's law: unsigned, unconstrained weights");
  cli.setting("--feedforward", s.feedforward, "E->E link probability to the next area");
  cli.setting("--feedback", s.feedback, "E->E link probability to the previous area");
  cli.setting("--ffi", s.feedforward_inhibitory, "E->I link probability to the next area");
  cli.setting("--lr", t.lr, "Adam learning rate");
  cli.setting("--batch", t.batch, "trials per update");
  cli.setting("--noise", t.recurrent_noise, "recurrent noise sigma in training");
  cli.setting("--input-noise", t.input_noise, "noise sigma on the coherence inputs");
  cli.setting("--omega", t.omega, "weight of Pascanu's vanishing-gradient regulariser");
  cli.setting("--l2", t.weight_l2, "L2 weight, times each raw weight block's mean square");
  cli.setting("--stop-performance", t.stop_performance, "stop once validation exceeds this %");
  cli.setting("--max-updates", t.max_updates, "updates per seed at most");
  cli.setting("--validate-every", t.validate_every, "updates between validations");
  cli.setting("--validation-trials", t.validation_trials, "trials per validation");
  cli.setting("--trial-seed", t.trial_seed, "seed of the training trials and noise (all seeds)");
  cli.setting("--analysis-trials", a.trials, "trials simulated for the final analysis");
  cli.setting("--analysis-noise", a.recurrent_noise, "recurrent noise sigma in the analysis");
  cli.setting("--analyse", s.analyse, "best (lowest validation cost, as the authors) or final");
  cli.setting("--decoder", s.decoders, "comma-separated decoders: linear, mlp");
  cli.setting("--decoder-l2", a.decoder_l2, "L2 of uinfo's linear decoder (whitened rates)");
  cli.setting("--train-fraction", a.train_fraction,
              "share of the analysed trials that uinfo's decoders train on");
  cli.setting("--probe-every", s.probe_every,
              "updates between probes during training (a multiple of --validate-every; 0: none)");
  cli.setting("--probe-trials", s.probe_trials, "trials per probe during training");
  uinfo::cli::add_options(cli, s.seeds, "networks trained (initial weights; in parallel)");
  cli.option("--threads", s.threads, "threads (0: one per core); the files do not depend on it");
  uinfo::cli::add_options(cli, s.output);
  cli.parse(argc, argv);
  uinfo::cli::check(cli, s.seeds);
  if (t.batch < 1 || t.max_updates < 0 || t.validate_every < 1 || t.validation_trials < 29 ||
      a.trials < 100 || s.probe_trials < 100)
    cli.fail(
        "--batch and --validate-every must be at least 1, --validation-trials at least 29, "
        "--analysis-trials and --probe-trials at least 100");
  if (!(t.lr > 0) || !(t.recurrent_noise >= 0) || !(t.input_noise >= 0) ||
      !(a.recurrent_noise >= 0) || !(t.omega >= 0) || !(t.weight_l2 >= 0) ||
      !(a.train_fraction > 0 && a.train_fraction < 1))
    cli.fail(
        "--lr must be positive, noise, --omega and --l2 at least 0, --train-fraction in (0, 1)");
  if (s.probe_every < 0 || (s.probe_every > 0 && s.probe_every % t.validate_every != 0))
    cli.fail("--probe-every must be 0 or a multiple of --validate-every");
  if (s.analyse != "best" && s.analyse != "final") cli.fail("--analyse must be best or final");
  for (const auto& d : split_list(s.decoders))
    if (d != "linear" && d != "mlp") cli.fail("unknown decoder '" + d + "' (linear, mlp)");
  std::optional<uinfo::MultiAreaCircuit> circuit;
  try {
    circuit.emplace(uinfo::MultiAreaOptions{.areas = s.areas,
                                            .units = s.units,
                                            .excitatory_fraction = s.excitatory,
                                            .feedforward = s.feedforward,
                                            .feedback = s.feedback,
                                            .feedforward_inhibitory = s.feedforward_inhibitory,
                                            .dale = !s.no_dale});
  } catch (const uinfo::InvalidArgument& e) {
    cli.fail(e.what());
  }

  const std::filesystem::path dir = s.output.dir;
  uinfo::program::prepare_output_directory(dir / "checkpoints");
  uinfo::program::running();
  const auto start = std::chrono::steady_clock::now();
  std::vector<SeedResult> results;
  {
    SeedTables tables(dir);
    uinfo::ProgressBar bar(s.seeds.count * (t.max_updates / t.validate_every + 2),
                           "training and probing", !s.output.quiet);
    std::mutex mutex;
    const Advance advance = [&](long units, const std::string& note) {
      const std::lock_guard lock(mutex);
      bar.advance(units, note);
    };
    uinfo::parallel::for_each_job_in_order(
        static_cast<std::size_t>(s.seeds.count), s.threads,
        [&](std::size_t i) { return run_seed(s, s.seeds.first + i, *circuit, dir, advance); },
        [&](std::size_t i, SeedResult&& r) {
          tables.write(s.seeds.first + i, r);
          results.push_back(std::move(r));
        });
    bar.finish();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_areas(results, dir);
  uinfo::record::write(run_record(results, s, cli, seconds), dir / "run.json");
  plot(results, s, dir);
  for (const auto& [key, v] : summarise(results)) {
    const auto bits = uinfo::mean_and_deviation(v.bits);
    std::printf("area %ld %-13s %-7s %.3f +- %.3f bits\n", static_cast<long>(std::get<0>(key)),
                std::get<1>(key).c_str(), std::get<2>(key).c_str(), bits.mean, bits.deviation);
  }
  std::printf("%d seeds in %.1f s; results in %s/\n", s.seeds.count, seconds, dir.string().c_str());
  return 0;
} catch (...) {
  return uinfo::program::failed("uinfo-checkerboard-rnn");
}
