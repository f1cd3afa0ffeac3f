// uinfo-fashion-perturb: the paper's early perturbations for images, as uinfo-checkerboard-perturb
// for the checkerboard. The first K epochs are trained differently, then the coarse task trains
// for a fixed number of epochs, and every hidden layer is probed for the fine and the coarse
// labels throughout. The perturbations:
//   fine_first  K epochs on the fine labels (all classes) before the coarse task, which then gets
//               a new classifier; every other weight carries over;
//   blur        K epochs of the coarse task on blurred images (downsampled 4x and upsampled back:
//               the deficit of Achille, Rovere and Soatto's critical periods) before clean ones.
// K = 0 is the unperturbed run, shared by both kinds. The claim: an early perturbation changes
// the fine information that the final representation keeps.
#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/cli.hpp"
#include "common/fashion_runs.hpp"
#include "common/json.hpp"
#include "common/parallel.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"

namespace {

using uinfo::probing::Measurement;

struct Settings {
  std::string model = "resnet8";
  long widen = 1;
  long width = 64;
  std::string dataset = "fashion";
  std::string grouping;  // empty: the data set's first
  double lr = 0.05;
  long batch = 32;
  double momentum = 0;
  double weight_decay = 0;
  int epochs = 6;  // of the coarse task, after the perturbation
  std::string ks = "0,1,2,5,10";
  std::string kinds = "fine_first,blur";
  bool augment = false;
  int seeds = 3;
  std::uint64_t first_seed = 1;
  std::string decoder = "linear";
  double decoder_l2 = 1e-3;
  std::string probe_features = "means";
  long train_samples = 20000;
  long probe_samples = 10000;
  std::string data;  // empty: the data set's default directory
  int threads = 0;
  std::string out;  // empty: results/DATASET-perturb
  bool quiet = false;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> fields;
  std::stringstream in(text);
  for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
  return fields;
}

// The K values, or empty if one is not a whole number >= 0.
std::vector<int> parse_ks(const std::string& text) {
  std::vector<int> ks;
  for (const std::string& field : split(text)) {
    std::size_t used = 0;
    int k = -1;
    try {
      k = std::stoi(field, &used);
    } catch (const std::exception&) {
    }
    if (k < 0 || used != field.size()) return {};
    ks.push_back(k);
  }
  return ks;
}

struct Job {
  std::string kind;  // "none" for K = 0
  int k;
  std::uint64_t seed;
};

std::vector<Job> all_jobs(const Settings& s) {
  std::vector<Job> jobs;
  for (int i = 0; i < s.seeds; ++i) {
    const std::uint64_t seed = s.first_seed + i;
    for (const int k : parse_ks(s.ks)) {
      if (k == 0) {
        jobs.push_back({"none", 0, seed});
        continue;
      }
      for (const std::string& kind : split(s.kinds)) jobs.push_back({kind, k, seed});
    }
  }
  return jobs;
}

const std::vector<std::string> columns = uinfo::probing::measurement_columns({"kind", "k"});

// Per (kind, K, decoder, hidden layer), over seeds: the fine information when the perturbation
// ends and at the end, the coarse information and the task accuracy at the end.
struct Outcome {
  std::vector<double> fine_after_perturbation{}, final_fine{}, final_coarse{}, final_accuracy{};
};
using Key = std::tuple<std::string, int, std::string, int>;

template <class Model>
std::map<Key, Outcome> run_all(const Settings& s, const fashion::Data& data,
                               const std::filesystem::path& dir) {
  const auto jobs = all_jobs(s);
  long total_epochs = 0;
  for (const Job& job : jobs) total_epochs += s.epochs + job.k;
  const fashion::RunSettings run{.width = s.width,
                                 .lr = s.lr,
                                 .batch = s.batch,
                                 .momentum = s.momentum,
                                 .weight_decay = s.weight_decay,
                                 .augment = s.augment,
                                 .decoders = {uinfo::decoder_family_named(s.decoder)},
                                 .decoder_l2 = s.decoder_l2,
                                 .reading = {fashion::probe_features_named(s.probe_features)}};
  uinfo::CsvWriter csv(dir / "info.csv", columns);
  uinfo::ProgressBar bar(total_epochs, "perturbing", !s.quiet);
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  std::map<Key, Outcome> outcomes;
  uinfo::parallel::for_each_job_in_order(
      jobs.size(), s.threads,
      [&](std::size_t j) {
        const auto phases = fashion::perturbation_phases(jobs[j].kind, jobs[j].k, s.epochs);
        uinfo::probing::Timing timing;
        return fashion::train_and_probe<Model>(run, data, jobs[j].seed, phases, {}, epoch_done,
                                               timing);
      },
      [&](std::size_t j, const std::vector<Measurement>& rows) {
        const Job& job = jobs[j];
        const double last = rows.back().epoch;
        for (const Measurement& m : rows) {
          uinfo::probing::write_measurement(csv, job.seed, m, job.kind, job.k);
          Outcome& o = outcomes[{job.kind, job.k, m.decoder, m.layer}];
          if (m.label == "fine" && m.epoch == job.k)
            o.fine_after_perturbation.push_back(m.info.bits);
          if (m.epoch != last) continue;
          if (m.label == "fine") {
            o.final_fine.push_back(m.info.bits);
            o.final_accuracy.push_back(m.task_accuracy);
          } else {
            o.final_coarse.push_back(m.info.bits);
          }
        }
      });
  bar.finish();
  return outcomes;
}

uinfo::MeanAndDeviation stats(const std::vector<double>& values) {
  return uinfo::mean_and_deviation(values);
}

// Writes summary.csv, prints the last hidden layer's rows, and returns the summary for run.json.
uinfo::json::Object write_summary(const std::map<Key, Outcome>& outcomes,
                                  const std::filesystem::path& dir) {
  int last_layer = 0;
  for (const auto& [key, o] : outcomes) last_layer = std::max(last_layer, std::get<3>(key));
  uinfo::json::Object summary;
  uinfo::CsvWriter csv(dir / "summary.csv",
                       {"kind", "k", "decoder", "layer", "seeds", "fine_after_perturbation_bits",
                        "fine_after_perturbation_sd", "final_fine_bits", "final_fine_sd",
                        "final_coarse_bits", "final_coarse_sd", "final_task_accuracy"});
  std::printf("last hidden layer (%d):\n%-11s %3s %-7s %24s %17s %17s %8s\n", last_layer, "kind",
              "K", "decoder", "fine after perturbation", "final fine", "final coarse", "accuracy");
  for (const auto& [key, o] : outcomes) {
    const auto& [kind, k, decoder, layer] = key;
    const auto after = stats(o.fine_after_perturbation), fine = stats(o.final_fine),
               coarse = stats(o.final_coarse);
    const double accuracy = stats(o.final_accuracy).mean;
    csv.row(kind, k, decoder, layer, o.final_fine.size(), after.mean, after.deviation, fine.mean,
            fine.deviation, coarse.mean, coarse.deviation, accuracy);
    uinfo::json::Object entry;
    entry.add("fine_after_perturbation_bits", after.mean)
        .add("final_fine_bits", fine.mean)
        .add("final_fine_sd", fine.deviation)
        .add("final_coarse_bits", coarse.mean)
        .add("final_task_accuracy", accuracy);
    summary.add(kind + "/" + std::to_string(k) + "/" + decoder + "/layer" + std::to_string(layer),
                entry);
    if (layer != last_layer) continue;
    std::printf("%-11s %3d %-7s %15.3f +- %5.3f %8.3f +- %5.3f %8.3f +- %5.3f %8.3f\n",
                kind.c_str(), k, decoder.c_str(), after.mean, after.deviation, fine.mean,
                fine.deviation, coarse.mean, coarse.deviation, accuracy);
  }
  return summary;
}

// Final fine information vs K per kind, one panel per hidden layer (mean +- sd over seeds; K = 0
// is the unperturbed run), each seed's value as a point.
void plot(const Settings& s, const std::map<Key, Outcome>& outcomes,
          const std::filesystem::path& dir) {
  int layers = 0;
  for (const auto& [key, o] : outcomes) layers = std::max(layers, std::get<3>(key));
  std::ofstream data(dir / "perturb.dat");
  const std::vector<std::string> kinds = split(s.kinds);
  // Blocks by (layer, kind): k, mean, sd, then each seed's value.
  for (int layer = 1; layer <= layers; ++layer) {
    for (const std::string& kind : kinds) {
      data << "# layer " << layer << ", " << kind << ": k, final fine mean, sd, per seed\n";
      for (const auto& [key, o] : outcomes) {
        const auto& [key_kind, k, decoder, key_layer] = key;
        if (key_layer != layer || (key_kind != kind && key_kind != "none")) continue;
        const auto fine = stats(o.final_fine);
        data << k << ' ' << fine.mean << ' ' << fine.deviation;
        for (const double bits : o.final_fine) data << ' ' << bits;
        data << '\n';
      }
      data << "\n\n";
    }
  }
  data.close();
  const char* colours[] = {"#d62728", "#1f77b4", "#2ca02c"};
  std::string script =
      "set key below noenhanced\nset grid\nset xlabel 'K: perturbed epochs'\nset ylabel 'bits'\n"
      "set offsets 0.5, 0.5, 0.05, 0.05\n";
  script += "set multiplot layout 1," + std::to_string(layers) +
            " title 'uinfo-fashion-perturb: final fine information (" + s.model + " on " +
            s.dataset + ", " + s.decoder + " decoder; " + std::to_string(s.seeds) +
            " seeds, mean ± sd; then " + std::to_string(s.epochs) + " epochs at lr " +
            uinfo::shortest(s.lr) + ", batch " + std::to_string(s.batch) + ")'\n";
  for (int layer = 1; layer <= layers; ++layer) {
    script += "set title 'hidden layer " + std::to_string(layer) + "'\n";
    script += "plot ";
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      const int index = (layer - 1) * static_cast<int>(kinds.size()) + static_cast<int>(i);
      // Each kind a little to the side, so that the error bars do not hide each other.
      const std::string shift = uinfo::shortest(0.15 * (static_cast<double>(i) - 0.5));
      script += std::string(i ? ", " : "") + "'perturb.dat' index " + std::to_string(index) +
                " using ($1 + " + shift + "):2:3 with yerrorlines lw 2 pt 7 lc rgb '" +
                colours[i % 3] + "' title '" + kinds[i] + "'";
      for (int seed = 0; seed < s.seeds; ++seed) {
        script += ", '' index " + std::to_string(index) + " using ($1 + " + shift +
                  "):" + std::to_string(4 + seed) + " with points pt 6 ps 0.6 lc rgb '" +
                  colours[i % 3] + "' notitle";
      }
    }
    script += "\n";
  }
  script += "unset multiplot\n";
  uinfo::plot::render_png(dir / "perturb.png", script, 380 * layers + 100, 520);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Parser cli{
      "uinfo-fashion-perturb",
      "The paper's early perturbations on images: trains the first K epochs differently\n"
      "(fine_first: on the fine labels, then a new classifier for the coarse task; blur: on\n"
      "images downsampled 4x and upsampled back), then the coarse task for --epochs, probing\n"
      "every hidden layer for the fine and the coarse labels after every epoch. Writes\n"
      "OUT/info.csv, OUT/summary.csv (final fine information per kind, K and layer, mean and sd\n"
      "over seeds), OUT/run.json and OUT/perturb.png."};
  cli.option("--model", s.model, "network: " + fashion::model_help())
      .option("--widen", s.widen, "allcnn and resnet8: 1, or 2 for twice the channels")
      .option("--width", s.width, "mlp: units of the last hidden layer")
      .option("--dataset", s.dataset, "fashion, cifar10 or cifar100 (the binary versions)")
      .option("--grouping", s.grouping,
              "coarse labels (default: the data set's first; see "
              "uinfo-fashion --help)")
      .option("--lr", s.lr, "SGD learning rate")
      .option("--batch", s.batch, "minibatch size")
      .option("--momentum", s.momentum, "SGD momentum")
      .option("--weight-decay", s.weight_decay, "L2 weight decay (coupled, as PyTorch's SGD)")
      .option("--epochs", s.epochs, "epochs of the coarse task, after the perturbation")
      .option("--ks", s.ks, "perturbed epochs K, comma-separated (0: the unperturbed run)")
      .option("--kinds", s.kinds, "perturbations: fine_first, blur")
      .option("--augment", s.augment, "random crops and horizontal flips of the training images")
      .option("--seeds", s.seeds, "seeds per (kind, K)")
      .option("--first-seed", s.first_seed, "the seeds are first-seed, first-seed + 1, ...")
      .option("--decoder", s.decoder, "linear or mlp")
      .option("--decoder-l2", s.decoder_l2, "L2 penalty of the linear decoder (whitened features)")
      .option("--probe-features", s.probe_features,
              "convolutional layers: means (of each channel) or map (see uinfo-fashion --help)")
      .option("--train-samples", s.train_samples, "training images, class-balanced; 0: all")
      .option("--probe-samples", s.probe_samples,
              "test-split images for the probes, halved into decoder training and held out")
      .option("--data-dir", s.data, "directory of the data set's files (see uinfo-fashion --help)")
      .option("--threads", s.threads, "worker threads; 0: one per core")
      .option("--out", s.out, "output directory (default: results/DATASET-perturb)")
      .option("--quiet", s.quiet, "no progress bar");
  cli.parse(argc, argv);
  if (!fashion::is_model(s.model)) cli.fail("--model must be one of " + fashion::model_help());
  const fashion::DataSet* dataset = fashion::data_set_named(s.dataset);
  if (!dataset) cli.fail("--dataset must be one of " + fashion::data_set_names());
  if (!s.grouping.empty() && !fashion::grouping_named(*dataset, s.grouping))
    cli.fail("--grouping must be one of " + fashion::grouping_names(*dataset));
  if (s.widen != 1 && s.widen != 2) cli.fail("--widen must be 1 or 2");
  if (s.widen != 1 && s.model == "mlp") cli.fail("--widen applies to allcnn and resnet8 only");
  if (parse_ks(s.ks).empty()) cli.fail("--ks must be comma-separated whole numbers >= 0");
  if (split(s.kinds).empty()) cli.fail("--kinds must name at least one perturbation");
  for (const std::string& kind : split(s.kinds)) {
    if (std::find(std::begin(fashion::perturbations), std::end(fashion::perturbations), kind) ==
        std::end(fashion::perturbations))
      cli.fail("--kinds: unknown perturbation '" + kind + "'; expected fine_first or blur");
  }
  if (s.decoder != "linear" && s.decoder != "mlp") cli.fail("--decoder must be linear or mlp");
  if (s.probe_features != "means" && s.probe_features != "map")
    cli.fail("--probe-features must be means or map");
  if (s.epochs < 1 || s.seeds < 1 || s.batch < 1 || s.width < 1 || !(s.lr > 0))
    cli.fail("--epochs, --seeds, --batch and --width must be at least 1, --lr positive");
  if (s.momentum < 0 || s.momentum >= 1 || s.weight_decay < 0 || s.decoder_l2 < 0)
    cli.fail("--momentum must lie in [0, 1), --weight-decay and --decoder-l2 be at least 0");
  if (s.train_samples != 0 && s.train_samples < 10)
    cli.fail("--train-samples must be 0 (all) or at least 10");
  if (s.probe_samples < 20 || s.probe_samples > 10000)
    cli.fail("--probe-samples must lie in [20, 10000], the size of the test split");
  if (s.data.empty()) s.data = dataset->default_directory;
  if (s.out.empty()) s.out = "results/" + s.dataset + "-perturb";

  fashion::Data data;
  try {  // missing or malformed data is bad input
    data = fashion::load_data({.data_set = s.dataset,
                               .directory = s.data,
                               .grouping = s.grouping,
                               .train_samples = s.train_samples,
                               .probe_samples = s.probe_samples});
  } catch (const uinfo::Error& e) {
    cli.fail(e.what());
  }
  const std::filesystem::path dir = s.out;
  const auto start = std::chrono::steady_clock::now();
  try {
    std::filesystem::create_directories(dir);
    if (s.kinds.find("blur") != std::string::npos) fashion::blur_training_images(data);
    const auto outcomes = fashion::with_model(
        s.model, s.widen, data.shape, [&]<class Model>() { return run_all<Model>(s, data, dir); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uinfo::json::Object summary = write_summary(outcomes, dir);
    plot(s, outcomes, dir);
    uinfo::json::Object settings;
    settings.add("model", s.model)
        .add("widen", s.widen)
        .add("width", s.width)
        .add("dataset", s.dataset)
        .add("grouping", data.grouping)
        .add("lr", s.lr)
        .add("batch", s.batch)
        .add("momentum", s.momentum)
        .add("weight_decay", s.weight_decay)
        .add("epochs", s.epochs)
        .add("ks", s.ks)
        .add("kinds", s.kinds)
        .add("augment", s.augment)
        .add("seeds", s.seeds)
        .add("first_seed", s.first_seed)
        .add("decoder", s.decoder)
        .add("decoder_l2", s.decoder_l2)
        .add("probe_features", s.probe_features)
        .add("train_samples", data.train_x.cols())
        .add("probe_train_samples", data.probe_train_x.cols())
        .add("probe_test_samples", data.probe_test_x.cols())
        .add("data", s.data);
    uinfo::json::Object record;
    record.add("program", "uinfo-fashion-perturb")
        .add("uinfo_version", UINFO_VERSION_STRING)
        .add("settings", settings)
        .add("summary", summary)
        .add("wall_seconds", seconds);
    record.write(dir / "run.json");
    std::printf("%.1f s; results in %s/\n", seconds, dir.string().c_str());
  } catch (const uinfo::Error& e) {
    std::fprintf(stderr, "uinfo-fashion-perturb: %s\n", e.what());
    return 1;
  }
  return 0;
}
