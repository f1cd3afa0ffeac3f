// uinfo-fashion: the paper's coarse-label experiment on Fashion-MNIST (or CIFAR-10, CIFAR-100). A
// network (an MLP, All-CNN or ResNet-8) learns a coarse grouping of the classes (e.g. clothing,
// footwear, bags) with SGD; before training, a few times within the first epoch and after every
// epoch, every hidden layer is probed for the fine labels, which the task does not need, and for
// the coarse labels, which it does. Seeds run in parallel, one network per thread.
#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/command.hpp"
#include "common/curves.hpp"
#include "common/fashion_runs.hpp"
#include "common/outcome.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"
#include "common/seed_runs.hpp"

namespace {

using uinfo::probing::Curve;
using uinfo::probing::Row;

struct Settings {
  std::string model = "mlp";
  long widen = 1;
  long width = 64;
  std::string dataset = "fashion";
  std::string grouping;  // empty: the data set's first
  bool augment = false;
  uinfo::cli::Regime regime{.lr = 0.05, .batch = 32, .epochs = 20};
  uinfo::cli::Seeds seeds{.count = 3, .first = 1};
  std::string decoder = "linear";
  std::string decoder_l2 = "auto";
  bool corrected = false;
  std::string probe_features = "means";
  long map_limit = 4096;
  long train_samples = 0;  // 0: the whole training split
  long probe_samples = 10000;
  std::string data;  // empty: the data set's default directory
  int threads = 0;
  uinfo::cli::Output output;  // empty dir: results/DATASET[-MODEL]
};

// Probes before the first step, at 1/8, 1/4 and 1/2 of the first epoch, and after every epoch.
constexpr double early_probes[] = {0.125, 0.25, 0.5};

// "clothing / footwear / bags": a grouping's names are not gnuplot text, whose _ is a subscript.
std::string group_names(const uinfo::LabelGrouping& grouping) {
  std::string names;
  for (const auto& g : grouping.groups) names += (names.empty() ? "" : " / ") + g;
  return names;
}

// All seeds, in parallel; rows reach info.csv in seed order as the seeds finish.
template <class Model>
std::vector<Row> run_all(const Settings& s, const std::string& recorded, const fashion::Data& data,
                         const std::filesystem::path& dir, uinfo::probing::Timing& timing) {
  const fashion::RunSettings run{
      .width = s.width,
      .regime = s.regime,
      .augment = s.augment,
      .decoders = uinfo::probing::decoder_families(s.decoder),
      .decoder_l2 = *uinfo::probing::decoder_l2_named(s.decoder_l2),
      .corrected = s.corrected,
      .reading = {fashion::probe_features_named(s.probe_features), s.map_limit}};
  const fashion::Phase phases[] = {{.epochs = s.regime.epochs}};
  return uinfo::probing::run_seeds({s.seeds.count, s.seeds.first, s.regime.epochs, s.threads,
                                    s.output.quiet, recorded, s.output.resume},
                                   dir, timing,
                                   [&](std::uint64_t seed, const std::function<void()>& epoch_done,
                                       uinfo::probing::Timing& seed_timing) {
                                     return fashion::train_and_probe<Model>(
                                         run, data, seed, phases, early_probes, epoch_done,
                                         seed_timing);
                                   });
}

// A number for a plot's labels and ranges.
std::string decimals(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

// Tics for an epoch axis on a square-root scale, which spreads out the first epoch, where the
// probes are closest together and the representations move fastest.
std::string epoch_tics(int epochs) {
  std::string tics = "'0' 0, '1/4' 0.25";
  for (const int e : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}) {
    if (e <= epochs) tics += ", '" + std::to_string(e) + "' " + std::to_string(e);
  }
  return tics;
}

// info.png: a grid of labels (fine above, coarse below) x hidden layers, seeds thin and the mean
// thick. The layers of a row share a y range fitted to that label's curves, so that a change of a
// tenth of a bit shows; the panel titles give H(Y), the most a decoder could find.
void plot(const Settings& s, const uinfo::LabelGrouping& grouping, const std::vector<Row>& rows,
          const std::filesystem::path& dir) {
  const uinfo::probing::CurveData data(rows, dir);
  int layers = 0;
  // (decoder, label): the lowest and highest bits
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> range;
  std::map<std::string, double> h_bits;
  std::map<int, long> units;
  for (const Row& r : rows) {
    layers = std::max(layers, r.m.layer);
    units[r.m.layer] = r.m.units;
    h_bits[r.m.label] = r.m.info.h_bits;
    auto [it, fresh] = range.try_emplace({r.m.decoder, r.m.label}, r.m.info.bits, r.m.info.bits);
    it->second.first = std::min(it->second.first, r.m.info.bits);
    it->second.second = std::max(it->second.second, r.m.info.bits);
  }
  const auto families = uinfo::probing::decoder_families(s.decoder);
  for (const uinfo::DecoderFamily family : families) {
    const std::string decoder = to_string(family);
    std::string script = "set datafile separator whitespace\nset key off\nset grid\n";
    script += "set nonlinear x via sqrt(x) inverse x * x\nset xtics (" +
              epoch_tics(s.regime.epochs) + ")\n";
    script += "set multiplot layout 2," + std::to_string(layers) + " title '" +
              "uinfo-fashion: usable information (" + decoder + " decoder) while learning " +
              group_names(grouping) + "; " + std::to_string(s.seeds.count) +
              " seeds thin, mean thick; lr " + uinfo::shortest(s.regime.lr) + ", batch " +
              std::to_string(s.regime.batch) + ", momentum " + uinfo::shortest(s.regime.momentum) +
              ", weight decay " + uinfo::shortest(s.regime.weight_decay) + "'\n";
    for (const std::string& label : {std::string("fine"), std::string("coarse")}) {
      const auto [low, high] = range.at({decoder, label});
      const double pad = 0.08 * std::max(high - low, 0.05);
      for (int layer = 1; layer <= layers; ++layer) {
        script += "set title '" + label + " label (H = " + decimals(h_bits.at(label), 2) +
                  " bits), hidden layer " + std::to_string(layer) + " (" +
                  std::to_string(units.at(layer)) + " features)'\n";
        script += "set xlabel 'epoch (square-root scale)'\nset ylabel 'bits'\nset yrange [" +
                  decimals(low - pad, 3) + ":" + decimals(high + pad, 3) + "]\n";
        script +=
            "plot " +
            data.lines(Curve{decoder, label, layer}, label == "fine" ? "#d62728" : "#1f77b4") +
            "\n";
      }
    }
    script += "unset multiplot\n";
    uinfo::plot::render_png(
        dir / (family == families.front() ? "info.png" : "info_" + decoder + ".png"), script,
        420 * layers + 100, 760);
  }
}

// One line per curve of the last hidden layer: where it ended and where it peaked.
void print_last_layer(const std::vector<Row>& rows) {
  int last = 0;
  for (const Row& r : rows) last = std::max(last, r.m.layer);
  for (const auto& [curve, points] : uinfo::probing::by_curve(rows)) {
    const auto& [decoder, label, layer] = curve;
    if (layer != last) continue;
    const auto summary = uinfo::probing::summary_of(points);
    std::printf(
        "  hidden layer %d, %s decoder, %-6s: %.3f bits at the end (sd %.3f), peak %.3f "
        "at epoch %g\n",
        layer, decoder.c_str(), label.c_str(), summary.final_mean, summary.final_sd,
        summary.peak_mean, summary.peak_epoch);
  }
}

// Each seed's coarse accuracy on the held-out probe images at the end of training, in seed order.
std::vector<double> final_task_accuracy(const std::vector<Row>& rows) {
  std::map<std::uint64_t, std::pair<double, double>> last;  // seed: epoch and accuracy
  for (const Row& r : rows) {
    auto& [epoch, accuracy] = last.try_emplace(r.seed, r.m.epoch, r.m.task_accuracy).first->second;
    if (r.m.epoch >= epoch) {
      epoch = r.m.epoch;
      accuracy = r.m.task_accuracy;
    }
  }
  std::vector<double> accuracies;
  for (const auto& [seed, point] : last) accuracies.push_back(point.second);
  return accuracies;
}

// What the run trained and probed on, as loaded (the settings say what was asked for).
uinfo::record::Json data_json(const fashion::Data& data) {
  return {{"image_shape", uinfo::to_string(data.shape)},
          {"coarse_classes", data.coarse_classes},
          {"train_samples", data.train_x.cols()},
          {"probe_train_samples", data.probe_train_x.cols()},
          {"probe_test_samples", data.probe_test_x.cols()},
          {"probe_source", "test split"}};
}

}  // namespace

int main(int argc, char** argv) try {
  Settings s;
  uinfo::cli::Command command{
      "uinfo-fashion",
      "Trains a network on coarse labels of Fashion-MNIST, CIFAR-10 or CIFAR-100 (groups of their\n"
      "classes) with SGD and measures, during training, the usable information about the fine\n"
      "labels (not needed by the task) and the coarse labels in every hidden layer, over several\n"
      "seeds in parallel. A convolutional layer is read as the mean of each channel over its\n"
      "pixels (--probe-features means), or as its whole map where that is small (map).\n"
      "The probe images come from the official test split, never from the network's training\n"
      "images: half of them train the decoders, the other half is held out to measure the\n"
      "information and the network's coarse accuracy. Writes OUT/info.csv (one row per\n"
      "measurement), OUT/info_mean.csv, OUT/run.json and OUT/info.png (fine and coarse\n"
      "information vs epoch per layer)."};
  command.setting("--model", s.model, "network: " + fashion::model_help());
  command.setting("--widen", s.widen, "allcnn and resnet8: 1, or 2 for twice the channels");
  command.setting("--width", s.width, "mlp: units of the last hidden layer");
  command.setting("--dataset", s.dataset, "fashion, cifar10 or cifar100 (the binary versions)");
  command.setting("--grouping", s.grouping,
                  "coarse labels (default: the first): fashion: garment_kind (clothing, footwear, "
                  "bags) or tops (upper-body garments against the rest); cifar10: "
                  "vehicles_animals or kinds (road vehicles, air and sea vehicles, mammals, other "
                  "animals); cifar100: superclass (its 20)");
  uinfo::cli::add_options(command, s.regime);
  command.setting("--augment", s.augment,
                  "random crops (zero padding of 4 pixels) and horizontal flips of the training "
                  "images");
  uinfo::cli::add_options(command, s.seeds, "number of seeds (initial weights and batch orders)");
  command.setting("--decoder", s.decoder, uinfo::probing::decoder_choices);
  command.setting("--decoder-l2", s.decoder_l2,
                  "linear decoder: L2 penalty (l2 / 2) |W|^2 on whitened features, added to the "
                  "mean cross-entropy (scikit-learn's C = 1 / (l2 n)), or auto: chosen from the "
                  "probe's training images at every probe (5-fold cross-validation)");
  command.setting("--corrected", s.corrected,
                  "also the finite-sample-corrected estimate of every probe (corrected_bits in "
                  "info.csv; four more fits each: slow)");
  command.setting("--probe-features", s.probe_features,
                  "what a convolutional layer is probed with: means (of each channel over its "
                  "pixels) or map (the flattened map, where it has at most --map-limit values)");
  command.setting("--map-limit", s.map_limit, "the largest map --probe-features map reads whole");
  command.setting("--train-samples", s.train_samples,
                  "training images, class-balanced; 0: all of the training split (60000 or "
                  "50000)");
  command.setting("--probe-samples", s.probe_samples,
                  "test-split images for the probes, class-balanced, halved into decoder "
                  "training and held out");
  command.setting(
      "--data-dir", s.data,
      "directory of the data set's files (default: " + std::string(uinfo::fashion_mnist_directory) +
          " for fashion, data for CIFAR: its binary batches, or the directory they "
          "were unpacked in)");
  command.option("--threads", s.threads, "worker threads; 0: one per core");
  uinfo::cli::add_options(command, s.output);
  uinfo::cli::add_resume_option(command, s.output);
  command.parse(argc, argv);
  if (!fashion::is_model(s.model)) command.fail("--model must be one of " + fashion::model_help());
  const fashion::DataSet* dataset = fashion::data_set_named(s.dataset);
  if (!dataset) command.fail("--dataset must be one of " + fashion::data_set_names());
  if (s.grouping.empty()) s.grouping = dataset->groupings.front().name;
  const uinfo::LabelGrouping* grouping = fashion::grouping_named(*dataset, s.grouping);
  if (!grouping) {
    command.fail("--grouping must be one of " + fashion::grouping_names(*dataset) + " for " +
                 s.dataset);
  }
  if (s.widen != 1 && s.widen != 2) command.fail("--widen must be 1 or 2");
  if (s.widen != 1 && s.model == "mlp") command.fail("--widen applies to allcnn and resnet8 only");
  if (s.probe_features != "means" && s.probe_features != "map")
    command.fail("--probe-features must be means or map");
  if (s.map_limit < 1) command.fail("--map-limit must be at least 1");
  if (s.data.empty()) s.data = dataset->default_directory;
  if (s.output.dir.empty())
    s.output.dir = "results/" + s.dataset + (s.model == "mlp" ? "" : "-" + s.model);
  if (!uinfo::probing::is_decoder_choice(s.decoder))
    command.fail(std::string("--decoder must be one of ") + uinfo::probing::decoder_choices);
  if (s.width < 1) command.fail("--width must be at least 1");
  uinfo::cli::check(command, s.regime);
  uinfo::cli::check(command, s.seeds);
  if (!uinfo::probing::decoder_l2_named(s.decoder_l2))
    command.fail("--decoder-l2 must be auto or a penalty >= 0");
  if (s.train_samples != 0 && s.train_samples < 10)
    command.fail("--train-samples must be 0 (all) or at least 10");
  if (s.probe_samples < 20 || s.probe_samples > 10000)
    command.fail("--probe-samples must lie in [20, 10000], the size of the test split");

  const auto start = std::chrono::steady_clock::now();
  uinfo::probing::Timing timing;  // summed over seeds
  const std::filesystem::path dir = s.output.dir;
  const fashion::Data data = fashion::load_data({.data_set = s.dataset,
                                                 .directory = s.data,
                                                 .grouping = s.grouping,
                                                 .train_samples = s.train_samples,
                                                 .probe_samples = s.probe_samples});
  uinfo::program::prepare_output_directory(dir);
  uinfo::program::running();
  const std::vector<Row> rows =
      fashion::with_model(s.model, s.widen, data.shape, [&]<class Model>() {
        return run_all<Model>(s, command.settings().dump(), data, dir, timing);
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uinfo::record::Json record = command.record();
  record["data"] = data_json(data);
  record["summary"] = uinfo::probing::summarise(rows, dir);
  plot(s, *grouping, rows, dir);
  record["final_task_accuracy"] = final_task_accuracy(rows);
  record["wall_seconds"] = seconds;
  record["seed_seconds"] = timing.total_seconds;
  record["probe_seconds"] = timing.probe_seconds;
  uinfo::record::write(record, dir / "run.json");
  std::printf(
      "%d seeds x %d epochs in %.1f s (%.0f%% of the seeds' time probing); results in %s/\n",
      s.seeds.count, s.regime.epochs, seconds, 100 * timing.probe_share(), dir.string().c_str());
  print_last_layer(rows);
  return 0;
} catch (...) {
  return uinfo::program::failed("uinfo-fashion");
}
