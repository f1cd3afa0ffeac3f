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
#include "common/cli.hpp"
#include "common/curves.hpp"
#include "common/json.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"
#include "common/seed_runs.hpp"

namespace {

using uinfo::probing::Curve;
using uinfo::probing::Measurement;
using uinfo::probing::Row;

struct Settings {
  checkerboard::NetworkSettings network;
  double lr = 0.05;
  long batch = 32;
  double momentum = 0;
  double weight_decay = 0;
  int epochs = 40;
  int seeds = 5;
  std::uint64_t first_seed = 1;
  std::string out = "results/checkerboard";
  bool quiet = false;
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
  const checkerboard::Phase phases[] = {{.epochs = s.epochs,
                                         .lr = s.lr,
                                         .batch = s.batch,
                                         .momentum = s.momentum,
                                         .weight_decay = s.weight_decay}};
  return checkerboard::train_and_probe(net, data, probe, phases, seed, early_probes, epoch_done,
                                       &timing);
}

// All seeds, in parallel; rows reach info.csv in seed order as the seeds finish.
template <class Net>
std::vector<Row> run_all(const Settings& s, const std::filesystem::path& dir,
                         uinfo::probing::Timing& timing) {
  return uinfo::probing::run_seeds({s.seeds, s.first_seed, s.epochs, s.network.threads, s.quiet},
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
  for (const std::string& decoder : {std::string("linear"), std::string("mlp")}) {
    if (s.network.decoder != decoder && s.network.decoder != "both") continue;
    std::string script = "set datafile separator whitespace\nset key off\nset grid\n";
    script += "set multiplot layout 2," + std::to_string(s.network.depth) + " title '" +
              "uinfo-checkerboard: usable information (" + decoder + " decoder), " +
              std::to_string(s.seeds) + " seeds thin, mean thick; lr " + uinfo::shortest(s.lr) +
              ", batch " + std::to_string(s.batch) + ", bottleneck " +
              std::to_string(s.network.bottleneck) + "'\n";
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
        dir / (decoder == "linear" || s.network.decoder != "both" ? "info.png" : "info_mlp.png"),
        script, 420 * s.network.depth + 100, 760);
  }
}

std::vector<Row> run(const Settings& s, const std::filesystem::path& dir,
                     uinfo::probing::Timing& timing) {
  return checkerboard::with_network(s.network,
                                    [&]<class Net>() { return run_all<Net>(s, dir, timing); });
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Parser cli{
      "uinfo-checkerboard",
      "Experiment 1: trains a small network on the checkerboard task's reach direction with SGD\n"
      "and measures, during training, the usable information about the dominant colour (not\n"
      "needed at the output) and the direction in every hidden layer, over several seeds in\n"
      "parallel. Writes OUT/info.csv (one row per measurement), OUT/info_mean.csv, OUT/run.json\n"
      "and OUT/info.png (colour and direction information vs epoch per layer)."};
  checkerboard::add_options(cli, s.network);
  cli.option("--lr", s.lr, "SGD learning rate")
      .option("--batch", s.batch, "minibatch size")
      .option("--momentum", s.momentum, "SGD momentum")
      .option("--weight-decay", s.weight_decay, "L2 weight decay (coupled, as PyTorch's SGD)")
      .option("--epochs", s.epochs, "training epochs")
      .option("--seeds", s.seeds, "number of seeds (networks, data draws and batch orders)")
      .option("--first-seed", s.first_seed, "the seeds are first-seed, first-seed + 1, ...")
      .option("--out", s.out, "output directory")
      .option("--quiet", s.quiet, "no progress bar");
  cli.parse(argc, argv);
  checkerboard::check_options(cli, s.network);
  if (s.epochs < 1 || s.seeds < 1 || s.batch < 1)
    cli.fail("--epochs, --seeds and --batch must be at least 1");

  const std::filesystem::path dir = s.out;
  std::filesystem::create_directories(dir);
  const auto ceiling = uinfo::checkerboard_ceiling(s.network.noise);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Row> rows;
  uinfo::probing::Timing timing;  // summed over seeds
  try {
    rows = run(s, dir, timing);
  } catch (const uinfo::Error& e) {
    std::fprintf(stderr, "uinfo-checkerboard: %s\n", e.what());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uinfo::json::Object summary = uinfo::probing::summarise(rows, dir);
  plot(s, rows, dir, ceiling.bits);

  uinfo::json::Object settings = checkerboard::to_json(s.network);
  settings.add("lr", s.lr)
      .add("batch", s.batch)
      .add("momentum", s.momentum)
      .add("weight_decay", s.weight_decay)
      .add("epochs", s.epochs)
      .add("seeds", s.seeds)
      .add("first_seed", s.first_seed);
  uinfo::json::Object noise_ceiling;
  noise_ceiling.add("direction_accuracy", ceiling.accuracy).add("direction_bits", ceiling.bits);
  uinfo::json::Object run_record;
  run_record.add("program", "uinfo-checkerboard")
      .add("uinfo_version", UINFO_VERSION_STRING)
      .add("settings", settings)
      .add("noise_ceiling", noise_ceiling)
      .add("summary", summary)
      .add("wall_seconds", seconds)
      .add("seed_seconds", timing.total_seconds)
      .add("probe_seconds", timing.probe_seconds);
  run_record.write(dir / "run.json");
  std::printf(
      "%d seeds x %d epochs in %.1f s (%.0f%% of the seeds' time probing); noise ceiling %.3f "
      "bits (accuracy %.3f); results in %s/\n",
      s.seeds, s.epochs, seconds, 100 * timing.probe_share(), ceiling.bits, ceiling.accuracy,
      dir.string().c_str());
  return 0;
}
