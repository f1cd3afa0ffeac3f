// uinfo-checkerboard: the paper's headline experiment. A small network learns the checkerboard
// task's reach direction with SGD; after every epoch (and several times within the first, where
// things move fast) every hidden layer is probed for the dominant colour, which the output does
// not need, and for the direction, which it does. Seeds run in parallel, one network per thread.
#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "common/cli.hpp"
#include "common/json.hpp"
#include "common/plot.hpp"

namespace {

using uinfo::dynamic;
using uinfo::Index;

struct Settings {
  int depth = 3;       // hidden layers; the last one is the bottleneck
  int width = 64;      // units of the hidden layers before the bottleneck
  int bottleneck = 4;  // units of the last hidden layer (tanh)
  std::string activation = "relu";
  std::string init = "lecun_uniform";
  double lr = 0.05;
  long batch = 32;
  double momentum = 0;
  double weight_decay = 0;
  int epochs = 40;
  int seeds = 5;
  std::uint64_t first_seed = 1;
  double noise = 0.1;
  long trials = 10000;       // 90% training, 10% validation
  long probe_trials = 2000;  // in each of the decoders' training and test splits
  std::string decoder = "linear";
  int threads = 0;
  std::string out = "results/checkerboard";
  bool quiet = false;
};

struct Row {
  std::uint64_t seed;
  double epoch;
  int layer;  // hidden layer, from 1; the last is the bottleneck
  Index units;
  std::string label, decoder;
  uinfo::UsableInformation info;
  double task_accuracy;  // of the network's direction output, on the validation trials
};

// Hidden layer l (from 1) is the activation at layer index 2l.
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

// Calls f(integral_constant<layer index>) for every hidden layer's output, from the input side.
template <class Net, class F>
void each_hidden(F&& f) {
  [&]<std::size_t... L>(std::index_sequence<L...>) {
    (f(std::integral_constant<std::size_t, 2 * (L + 1)>{}), ...);
  }
  (std::make_index_sequence<hidden_layers<Net>>{});
}

uinfo::Init init_named(const std::string& name) {
  if (name == "he_normal") return uinfo::he_normal;
  if (name == "glorot_uniform") return uinfo::glorot_uniform;
  return uinfo::lecun_uniform;  // PyTorch's default for nn.Linear
}

// Each seed draws its own trials: training, validation, and the decoders' two probe splits.
struct Data {
  uinfo::Checkerboard train, validation, probe_train, probe_test;
};

Data make_data(const Settings& s, std::uint64_t seed) {
  uinfo::Engine engine = uinfo::Rng{seed}.engine(uinfo::Stream::data);
  const Index validation = s.trials / 10;
  auto draw = [&](Index trials) {
    return uinfo::make_checkerboard({.trials = trials, .noise = s.noise}, engine);
  };
  // A braced list evaluates left to right, so the draws come in this order.
  return Data{draw(s.trials - validation), draw(validation), draw(s.probe_trials),
              draw(s.probe_trials)};
}

// Probes every hidden layer for colour and direction with each decoder. A decoder persists for
// its (layer, label): each probe starts from the previous one's weights.
template <class Net>
class Prober {
 public:
  Prober(const Settings& s, const Data& data, std::uint64_t seed)
      : settings_(s),
        data_(data),
        seed_(seed),
        validation_(data.validation.with_labels(data.validation.direction)) {}

  void probe(Net& net, double epoch, std::vector<Row>& rows) {
    const double task_accuracy =
        uinfo::evaluate(net, uinfo::SoftmaxCrossEntropy{}, validation_).accuracy;
    std::vector<uinfo::Matrix<float>> train_z, test_z;
    net.forward(data_.probe_train.x);
    each_hidden<Net>([&](auto k) { train_z.emplace_back(net.template output<k>()); });
    net.forward(data_.probe_test.x);
    each_hidden<Net>([&](auto k) { test_z.emplace_back(net.template output<k>()); });
    const std::tuple<const char*, const std::vector<uinfo::Label>*,
                     const std::vector<uinfo::Label>*>
        labels[] = {{"colour", &data_.probe_train.colour, &data_.probe_test.colour},
                    {"direction", &data_.probe_train.direction, &data_.probe_test.direction}};
    for (std::size_t layer = 0; layer < train_z.size(); ++layer) {
      for (const auto& [label, train_y, test_y] : labels) {
        for (const std::string& decoder : decoder_names()) {
          auto& d = decoder_for(static_cast<int>(layer), label, decoder);
          const auto info = std::visit(
              [&](auto& probe) {
                return uinfo::usable_information(train_z[layer], *train_y, test_z[layer], *test_y,
                                                 probe, {.classes = 2, .seed = seed_});
              },
              d);
          rows.push_back({seed_, epoch, static_cast<int>(layer) + 1, train_z[layer].rows(), label,
                          decoder, info, task_accuracy});
        }
      }
    }
  }

 private:
  using AnyDecoder = std::variant<uinfo::LinearDecoder<float>, uinfo::MlpDecoder<float>>;

  std::vector<std::string> decoder_names() const {
    if (settings_.decoder == "both") return {"linear", "mlp"};
    return {settings_.decoder};
  }

  AnyDecoder& decoder_for(int layer, const std::string& label, const std::string& name) {
    const auto key = std::tuple{layer, label, name};
    auto found = decoders_.find(key);
    if (found == decoders_.end()) {
      found = decoders_
                  .emplace(key, name == "mlp" ? AnyDecoder{uinfo::MlpDecoder<float>{}}
                                              : AnyDecoder{uinfo::LinearDecoder<float>{}})
                  .first;
    }
    return found->second;
  }

  const Settings& settings_;
  const Data& data_;
  std::uint64_t seed_;
  uinfo::Dataset<float> validation_;
  std::map<std::tuple<int, std::string, std::string>, AnyDecoder> decoders_;
};

// One seed: train on direction, probing before the first step, at 1/8, 1/4 and 1/2 of the first
// epoch, at 1/2 of the second, and after every epoch.
template <class Net>
std::vector<Row> run_seed(const Settings& s, std::uint64_t seed,
                          const std::function<void()>& epoch_done) {
  const Data data = make_data(s, seed);
  const uinfo::Rng rng{seed};
  typename Net::RuntimeSizes sizes{};
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) sizes[i] = s.width;
  sizes.back() = s.bottleneck;
  Net net{rng, sizes};
  const uinfo::Init init = init_named(s.init);
  std::uint64_t dense_index = 1;  // Dense layers sit at 1, 3, 5, ...: re-draw from their streams
  net.for_each_parameter([&](uinfo::Parameter<float>& p) {
    if (p.role != uinfo::ParameterRole::weight) return;
    uinfo::Engine engine = rng.engine(uinfo::Stream::init, dense_index);
    uinfo::initialize(p.value, init, engine);
    dense_index += 2;
  });
  uinfo::Sgd sgd{{.lr = s.lr, .momentum = s.momentum, .weight_decay = s.weight_decay}};

  struct Probing {
    Prober<Net> prober;
    std::vector<Index> early_steps;
    Index steps_per_epoch;
    const std::function<void()>& epoch_done;
    std::vector<Row> rows;
    void on_train_begin(Net& n) { prober.probe(n, 0.0, rows); }
    void on_step_end(const uinfo::StepInfo& step, Net& n) {
      const Index done = step.global_step + 1;
      if (std::find(early_steps.begin(), early_steps.end(), done) == early_steps.end()) return;
      prober.probe(n, static_cast<double>(done) / static_cast<double>(steps_per_epoch), rows);
    }
    void on_epoch_end(const uinfo::EpochRecord& record, Net& n) {
      prober.probe(n, record.epoch + 1.0, rows);
      epoch_done();
    }
  };
  const Index steps = (data.train.size() + s.batch - 1) / s.batch;
  Probing probing{Prober<Net>(s, data, seed),
                  {steps / 8, steps / 4, steps / 2, steps + steps / 2},
                  steps,
                  epoch_done,
                  {}};
  uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{}, data.train.with_labels(data.train.direction),
             {.epochs = s.epochs, .batch_size = s.batch, .rng = rng}, probing);
  return std::move(probing.rows);
}

const char* csv_columns[] = {"seed",       "epoch",        "layer",   "units",
                             "label",      "decoder",      "bits",    "standard_error_bits",
                             "accuracy",   "h_bits",       "n_train", "n_test",
                             "iterations", "task_accuracy"};

void write_row(uinfo::CsvWriter& csv, const Row& r) {
  csv.row(r.seed, r.epoch, r.layer, r.units, r.label, r.decoder, r.info.bits,
          r.info.standard_error_bits, r.info.accuracy, r.info.h_bits, r.info.n_train, r.info.n_test,
          r.info.iterations, r.task_accuracy);
}

// All seeds, in parallel: each thread trains one network at a time. Rows reach info.csv as each
// seed finishes, so an interrupted run keeps the seeds it completed.
template <class Net>
std::vector<Row> run_all(const Settings& s, const std::filesystem::path& dir) {
  uinfo::CsvWriter csv(dir / "info.csv",
                       std::vector<std::string>(std::begin(csv_columns), std::end(csv_columns)));
  uinfo::ProgressBar bar(static_cast<long>(s.seeds) * s.epochs, "training and probing", !s.quiet);
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  std::vector<std::vector<Row>> by_seed(static_cast<std::size_t>(s.seeds));
  std::atomic<int> next{0};
  std::exception_ptr failure;
  auto worker = [&] {
    for (int i = next++; i < s.seeds; i = next++) {
      try {
        auto rows = run_seed<Net>(s, s.first_seed + static_cast<std::uint64_t>(i), epoch_done);
        const std::lock_guard lock(mutex);
        for (const Row& r : rows) write_row(csv, r);
        by_seed[static_cast<std::size_t>(i)] = std::move(rows);
      } catch (...) {
        const std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  const int threads = std::max(
      1, std::min(s.seeds, s.threads > 0 ? s.threads
                                         : static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  bar.finish();
  if (failure) std::rethrow_exception(failure);
  std::vector<Row> all;
  for (auto& rows : by_seed) all.insert(all.end(), rows.begin(), rows.end());
  return all;
}

using Curve = std::tuple<std::string, std::string, int>;  // decoder, label, layer

// Mean and standard deviation over seeds at each probe time, per curve; also written as
// info_mean.csv.
std::map<Curve, std::map<double, std::vector<double>>> by_curve(const std::vector<Row>& rows) {
  std::map<Curve, std::map<double, std::vector<double>>> curves;
  for (const Row& r : rows) curves[{r.decoder, r.label, r.layer}][r.epoch].push_back(r.info.bits);
  return curves;
}

// info_curves.dat holds one gnuplot data block per (curve, seed) then per curve the mean, so the
// script can draw seeds thin and the mean thick; info.png is a grid of labels x hidden layers.
void plot(const Settings& s, const std::vector<Row>& rows, const std::filesystem::path& dir,
          double ceiling_bits) {
  std::map<std::tuple<std::string, std::string, int, std::uint64_t>,
           std::vector<std::pair<double, double>>>
      seeds;
  for (const Row& r : rows)
    seeds[{r.decoder, r.label, r.layer, r.seed}].emplace_back(r.epoch, r.info.bits);
  const auto curves = by_curve(rows);
  std::ofstream data(dir / "info_curves.dat");
  std::map<Curve, std::vector<int>> seed_blocks;
  std::map<Curve, int> mean_block;
  int block = 0;
  for (const auto& [key, points] : seeds) {
    const auto& [decoder, label, layer, seed] = key;
    data << "# " << decoder << ' ' << label << " layer " << layer << " seed " << seed << '\n';
    for (const auto& [epoch, bits] : points) data << epoch << ' ' << bits << '\n';
    data << "\n\n";
    seed_blocks[{decoder, label, layer}].push_back(block++);
  }
  for (const auto& [curve, points] : curves) {
    data << "# mean " << std::get<0>(curve) << ' ' << std::get<1>(curve) << " layer "
         << std::get<2>(curve) << '\n';
    for (const auto& [epoch, values] : points) {
      const auto [mean, sd] = uinfo::mean_and_deviation(values);
      data << epoch << ' ' << mean << ' ' << sd << '\n';
    }
    data << "\n\n";
    mean_block[curve] = block++;
  }
  data.close();
  for (const std::string& decoder : {std::string("linear"), std::string("mlp")}) {
    if (s.decoder != decoder && s.decoder != "both") continue;
    std::string script = "set datafile separator whitespace\nset key off\nset grid\n";
    script += "set multiplot layout 2," + std::to_string(s.depth) + " title '" +
              "uinfo-checkerboard: usable information (" + decoder + " decoder), " +
              std::to_string(s.seeds) + " seeds thin, mean thick; lr " + uinfo::shortest(s.lr) +
              ", batch " + std::to_string(s.batch) + ", bottleneck " +
              std::to_string(s.bottleneck) + "'\n";
    for (const std::string& label : {std::string("colour"), std::string("direction")}) {
      for (int layer = 1; layer <= s.depth; ++layer) {
        const Curve curve{decoder, label, layer};
        const bool last = layer == s.depth;
        script += "set title '" + label + ", hidden layer " + std::to_string(layer) +
                  (last ? " (bottleneck)" : "") + "'\n";
        script += "set xlabel 'epoch'\nset ylabel 'bits'\nset yrange [-0.05:1.05]\n";
        script += "set xtics nomirror\n";
        script += "plot " + uinfo::shortest(ceiling_bits) + " with lines dt 2 lc rgb '#888888'";
        const char* colour = label == "colour" ? "#d62728" : "#1f77b4";
        for (const int b : seed_blocks[curve]) {
          script += ", 'info_curves.dat' index " + std::to_string(b) +
                    " using 1:2 with lines lw 1 lc rgb '" + colour + "'";
        }
        script += ", 'info_curves.dat' index " + std::to_string(mean_block[curve]) +
                  " using 1:2 with lines lw 4 lc rgb '" + colour + "'\n";
      }
    }
    script += "unset multiplot\n";
    uinfo::plot::render_png(
        dir / (decoder == "linear" || s.decoder != "both" ? "info.png" : "info_mlp.png"), script,
        420 * s.depth + 100, 760);
  }
}

}  // namespace

namespace {

template <template <class> class NetOf>
std::vector<Row> run_with_activation(const Settings& s, const std::filesystem::path& dir) {
  if (s.activation == "tanh") return run_all<NetOf<uinfo::Tanh>>(s, dir);
  return run_all<NetOf<uinfo::Relu>>(s, dir);
}

std::vector<Row> run(const Settings& s, const std::filesystem::path& dir) {
  if (s.depth == 1) return run_with_activation<Net1>(s, dir);
  if (s.depth == 2) return run_with_activation<Net2>(s, dir);
  return run_with_activation<Net3>(s, dir);
}

// Per curve: the mean final information, its maximum over training and when that came.
uinfo::json::Object summarise(const std::vector<Row>& rows, const std::filesystem::path& dir) {
  uinfo::CsvWriter csv(dir / "info_mean.csv",
                       {"epoch", "layer", "label", "decoder", "mean_bits", "sd_bits", "seeds"});
  uinfo::json::Object summary;
  for (const auto& [curve, points] : by_curve(rows)) {
    const auto& [decoder, label, layer] = curve;
    double peak = -1e300, peak_epoch = 0, final_mean = 0, final_sd = 0;
    for (const auto& [epoch, values] : points) {
      const auto [mean, sd] = uinfo::mean_and_deviation(values);
      csv.row(epoch, layer, label, decoder, mean, sd, values.size());
      if (mean > peak) {
        peak = mean;
        peak_epoch = epoch;
      }
      final_mean = mean;
      final_sd = sd;
    }
    uinfo::json::Object entry;
    entry.add("final_bits_mean", final_mean)
        .add("final_bits_sd", final_sd)
        .add("peak_bits_mean", peak)
        .add("peak_epoch", peak_epoch);
    summary.add(decoder + "/" + label + "/layer" + std::to_string(layer), entry);
  }
  return summary;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Parser cli{
      "uinfo-checkerboard",
      "Trains a small network on the checkerboard task's reach direction with SGD and measures,\n"
      "during training, the usable information about the dominant colour (not needed at the\n"
      "output) and the direction in every hidden layer, over several seeds in parallel.\n"
      "Writes OUT/info.csv (one row per measurement), OUT/info_mean.csv, OUT/run.json and\n"
      "OUT/info.png (colour and direction information vs epoch per layer)."};
  cli.option("--depth", s.depth, "hidden layers, 1 to 3; the last is the tanh bottleneck")
      .option("--width", s.width, "units of each hidden layer before the bottleneck")
      .option("--bottleneck", s.bottleneck, "units of the last hidden layer")
      .option("--activation", s.activation, "relu or tanh, for the layers before the bottleneck")
      .option("--init", s.init, "lecun_uniform (PyTorch's default), he_normal or glorot_uniform")
      .option("--lr", s.lr, "SGD learning rate")
      .option("--batch", s.batch, "minibatch size")
      .option("--momentum", s.momentum, "SGD momentum")
      .option("--weight-decay", s.weight_decay, "L2 weight decay (coupled, as PyTorch's SGD)")
      .option("--epochs", s.epochs, "training epochs")
      .option("--seeds", s.seeds, "number of seeds (networks, data draws and batch orders)")
      .option("--first-seed", s.first_seed, "the seeds are first-seed, first-seed + 1, ...")
      .option("--noise", s.noise, "standard deviation of the noise on each evidence input")
      .option("--trials", s.trials, "training trials per seed (10% of them for validation)")
      .option("--probe-trials", s.probe_trials, "trials in each of the decoders' two splits")
      .option("--decoder", s.decoder, "linear, mlp or both")
      .option("--threads", s.threads, "worker threads; 0: one per core")
      .option("--out", s.out, "output directory")
      .option("--quiet", s.quiet, "no progress bar");
  cli.parse(argc, argv);
  if (s.depth < 1 || s.depth > 3) cli.fail("--depth must be 1, 2 or 3");
  if (s.width < 1 || s.bottleneck < 1) cli.fail("--width and --bottleneck must be at least 1");
  if (s.activation != "relu" && s.activation != "tanh")
    cli.fail("--activation must be relu or tanh");
  if (s.init != "lecun_uniform" && s.init != "he_normal" && s.init != "glorot_uniform") {
    cli.fail("--init must be lecun_uniform, he_normal or glorot_uniform");
  }
  if (s.decoder != "linear" && s.decoder != "mlp" && s.decoder != "both") {
    cli.fail("--decoder must be linear, mlp or both");
  }
  if (s.epochs < 1 || s.seeds < 1 || s.batch < 1)
    cli.fail("--epochs, --seeds and --batch must be at least 1");
  if (s.trials < 20 || s.probe_trials < 10)
    cli.fail("--trials must be at least 20, --probe-trials at least 10");

  const std::filesystem::path dir = s.out;
  std::filesystem::create_directories(dir);
  const auto ceiling = uinfo::checkerboard_ceiling(s.noise);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Row> rows;
  try {
    rows = run(s, dir);
  } catch (const uinfo::Error& e) {
    std::fprintf(stderr, "uinfo-checkerboard: %s\n", e.what());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uinfo::json::Object summary = summarise(rows, dir);
  plot(s, rows, dir, ceiling.bits);

  uinfo::json::Object settings;
  settings.add("depth", s.depth)
      .add("width", s.width)
      .add("bottleneck", s.bottleneck)
      .add("activation", s.activation)
      .add("init", s.init)
      .add("lr", s.lr)
      .add("batch", s.batch)
      .add("momentum", s.momentum)
      .add("weight_decay", s.weight_decay)
      .add("epochs", s.epochs)
      .add("seeds", s.seeds)
      .add("first_seed", s.first_seed)
      .add("noise", s.noise)
      .add("trials", s.trials)
      .add("probe_trials", s.probe_trials)
      .add("decoder", s.decoder);
  uinfo::json::Object noise_ceiling;
  noise_ceiling.add("direction_accuracy", ceiling.accuracy).add("direction_bits", ceiling.bits);
  uinfo::json::Object run_record;
  run_record.add("program", "uinfo-checkerboard")
      .add("uinfo_version", UINFO_VERSION_STRING)
      .add("settings", settings)
      .add("noise_ceiling", noise_ceiling)
      .add("summary", summary)
      .add("wall_seconds", seconds);
  run_record.write(dir / "run.json");
  std::printf(
      "%d seeds x %d epochs in %.1f s; noise ceiling %.3f bits (accuracy %.3f); results in %s/\n",
      s.seeds, s.epochs, seconds, ceiling.bits, ceiling.accuracy, dir.string().c_str());
  return 0;
}
