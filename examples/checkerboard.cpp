// uinfo-checkerboard: the paper's headline experiment. A small network learns the checkerboard
// task's reach direction with SGD; after every epoch (and several times within the first, where
// things move fast) every hidden layer is probed for the dominant colour, which the output does
// not need, and for the direction, which it does. Seeds run in parallel, one network per thread.
#include <uinfo/uinfo.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/checkerboard_runs.hpp"
#include "common/command.hpp"
#include "common/curves.hpp"
#include "common/outcome.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"
#include "common/seed_runs.hpp"

namespace {

using uinfo::probing::Curve;
using uinfo::probing::Measurement;
using uinfo::probing::Row;

struct Settings {
  checkerboard::NetworkSettings network;
  uinfo::cli::Regime regime{.lr = 0.05, .batch = 32, .epochs = 40};
  uinfo::cli::Seeds seeds{.count = 5, .first = 1};
  uinfo::cli::Output output{.dir = "results/checkerboard"};
};

// Probes before the first step, at 1/8, 1/4 and 1/2 of the first epoch, at 1.5 epochs, and after
// every epoch.
constexpr double early_probes[] = {0.125, 0.25, 0.5, 1.5};

template <class Net>
std::vector<Measurement> run_seed(const Settings& s, std::uint64_t seed,
                                  const std::function<void()>& epoch_done,
                                  uinfo::probing::Timing& timing) {
  const checkerboard::Data data = checkerboard::make_data(s.network, seed);
  Net net = checkerboard::make_network<Net>(s.network, seed);
  auto probe = checkerboard::make_probe<checkerboard::AllHiddenProbe<Net>>(s.network, data, seed);
  const checkerboard::Phase phases[] = {checkerboard::phase_of(s.regime)};
  return checkerboard::train_and_probe(net, data, probe, phases, seed, early_probes, epoch_done,
                                       &timing);
}

// All seeds, in parallel; rows reach info.csv in seed order as the seeds finish.
template <class Net>
std::vector<Row> run_all(const Settings& s, const std::string& recorded,
                         const std::filesystem::path& dir, uinfo::probing::Timing& timing) {
  return uinfo::probing::run_seeds({s.seeds.count, s.seeds.first, s.regime.epochs,
                                    s.network.threads, s.output.quiet, recorded, s.output.resume},
                                   dir, timing,
                                   [&](std::uint64_t seed, const std::function<void()>& epoch_done,
                                       uinfo::probing::Timing& seed_timing) {
                                     return run_seed<Net>(s, seed, epoch_done, seed_timing);
                                   });
}

// info.png is a grid of labels x hidden layers, seeds thin and the mean thick.
void plot(const Settings& s, const std::vector<Row>& rows, const std::filesystem::path& dir,
          double ceiling_bits) {
  const uinfo::probing::CurveData data(rows, dir);
  const auto families = uinfo::probing::decoder_families(s.network.decoder);
  for (const uinfo::DecoderFamily family : families) {
    const std::string decoder = to_string(family);
    std::string script = "set datafile separator whitespace\nset key off\nset grid\n";
    script += "set multiplot layout 2," + std::to_string(s.network.depth) + " title '" +
              "uinfo-checkerboard: usable information (" + decoder + " decoder), " +
              std::to_string(s.seeds.count) + " seeds thin, mean thick; lr " +
              uinfo::shortest(s.regime.lr) + ", batch " + std::to_string(s.regime.batch) +
              ", bottleneck " + std::to_string(s.network.bottleneck) + "'\n";
    for (const std::string& label : {std::string("colour"), std::string("direction")}) {
      for (int layer = 1; layer <= s.network.depth; ++layer) {
        const Curve curve{decoder, label, layer};
        const bool last = layer == s.network.depth;
        script += "set title '" + label + ", hidden layer " + std::to_string(layer) +
                  (last ? " (bottleneck)" : "") + "'\n";
        script += "set xlabel 'epoch'\nset ylabel 'bits'\nset yrange [-0.05:1.05]\n";
        script += "set xtics nomirror\n";
        script += "plot " + uinfo::shortest(ceiling_bits) + " with lines dt 2 lc rgb '#888888', " +
                  data.lines(curve, label == "colour" ? "#d62728" : "#1f77b4") + "\n";
      }
    }
    script += "unset multiplot\n";
    uinfo::plot::render_png(
        dir / (family == families.front() ? "info.png" : "info_" + decoder + ".png"), script,
        420 * s.network.depth + 100, 760);
  }
}

std::vector<Row> run(const Settings& s, const std::string& recorded,
                     const std::filesystem::path& dir, uinfo::probing::Timing& timing) {
  return checkerboard::with_network(
      s.network, [&]<class Net>() { return run_all<Net>(s, recorded, dir, timing); });
}

}  // namespace

int main(int argc, char** argv) try {
  Settings s;
  uinfo::cli::Command command{
      "uinfo-checkerboard",
      "Experiment 1: trains a small network on the checkerboard task's reach direction with SGD\n"
      "and measures, during training, the usable information about the dominant colour (not\n"
      "needed at the output) and the direction in every hidden layer, over several seeds in\n"
      "parallel. Writes OUT/info.csv (one row per measurement), OUT/info_mean.csv, OUT/run.json\n"
      "and OUT/info.png (colour and direction information vs epoch per layer)."};
  checkerboard::add_options(command, s.network);
  uinfo::cli::add_options(command, s.regime);
  uinfo::cli::add_options(command, s.seeds,
                          "number of seeds (networks, data draws and batch orders)");
  uinfo::cli::add_options(command, s.output);
  uinfo::cli::add_resume_option(command, s.output);
  command.parse(argc, argv);
  checkerboard::check_options(command, s.network);
  uinfo::cli::check(command, s.regime);
  uinfo::cli::check(command, s.seeds);

  const std::filesystem::path dir = s.output.dir;
  uinfo::program::prepare_output_directory(dir);
  uinfo::program::running();
  const auto ceiling = uinfo::checkerboard_ceiling(s.network.noise);
  const auto start = std::chrono::steady_clock::now();
  uinfo::probing::Timing timing;  // summed over seeds
  const std::vector<Row> rows = run(s, command.settings().dump(), dir, timing);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uinfo::record::Json record = command.record();
  record["noise_ceiling"] = {{"direction_accuracy", ceiling.accuracy},
                             {"direction_bits", ceiling.bits}};
  record["summary"] = uinfo::probing::summarise(rows, dir);
  plot(s, rows, dir, ceiling.bits);
  record["wall_seconds"] = seconds;
  record["seed_seconds"] = timing.total_seconds;
  record["probe_seconds"] = timing.probe_seconds;
  uinfo::record::write(record, dir / "run.json");
  std::printf(
      "%d seeds x %d epochs in %.1f s (%.0f%% of the seeds' time probing); noise ceiling %.3f "
      "bits (accuracy %.3f); results in %s/\n",
      s.seeds.count, s.regime.epochs, seconds, 100 * timing.probe_share(), ceiling.bits,
      ceiling.accuracy, dir.string().c_str());
  return 0;
} catch (...) {
  return uinfo::program::failed("uinfo-checkerboard");
}
