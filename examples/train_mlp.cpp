// uinfo-train-mlp: trains a small MLP on a synthetic task (interleaved spirals or noisy XOR) and
// records its learning curve. A first look at uinfo: compile-time networks, SGD with momentum,
// seeded and bit-for-bit reproducible runs, CSV/JSON records and a PNG of the curves.
#include <uinfo/uinfo.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/command.hpp"
#include "common/outcome.hpp"
#include "common/plot.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"

namespace {

struct Settings {
  std::string task = "spiral";
  long samples = 3000;
  double noise = 0.2;
  int width = 64;
  uinfo::cli::Regime regime{.lr = 0.05, .batch = 32, .momentum = 0.9, .epochs = 30};
  std::uint64_t seed = 1;
  uinfo::cli::Output output{.dir = "results/train-mlp"};
};

// Two ReLU hidden layers of the chosen width; three outputs serve both tasks (XOR uses two).
template <int Width>
using Mlp = uinfo::Sequential<float, uinfo::Input<2>, uinfo::Dense<Width>, uinfo::Relu,
                              uinfo::Dense<Width>, uinfo::Relu, uinfo::Dense<3>>;

uinfo::Dataset<float> make_task(const Settings& s, uinfo::Engine& engine) {
  if (s.task == "xor") return uinfo::make_xor<float>(s.samples, s.noise, engine);
  return uinfo::make_spiral<float>(s.samples, 3, s.noise, engine);
}

template <int Width>
double train(const Settings& s, const std::filesystem::path& dir) {
  const uinfo::Rng rng{s.seed};
  uinfo::Engine data_engine = rng.engine(uinfo::Stream::data);
  const auto train_set = make_task(s, data_engine);
  const auto test_set = make_task(s, data_engine);

  Mlp<Width> net{rng};
  const uinfo::cli::Regime& r = s.regime;
  uinfo::Sgd sgd{{.lr = r.lr, .momentum = r.momentum, .weight_decay = r.weight_decay}};
  uinfo::EpochCsv csv{dir / "epochs.csv"};
  uinfo::ProgressBar bar{r.epochs, "training", !s.output.quiet};
  const auto history =
      uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{}, train_set,
                 {.epochs = r.epochs, .batch_size = r.batch, .rng = rng, .validation = &test_set},
                 csv, uinfo::on_epoch_end([&](const uinfo::EpochRecord& r, auto&) {
                   char note[64];
                   std::snprintf(note, sizeof note, "loss %.3f  test accuracy %.3f", r.train_loss,
                                 r.validation_accuracy);
                   bar.advance(1, note);
                 }));
  bar.finish();
  uinfo::save(net, dir / "network.bin");
  return history.empty() ? 0.0 : history.back().validation_accuracy;
}

void plot(const std::filesystem::path& dir, const Settings& s) {
  char title[160];
  std::snprintf(title, sizeof title,
                "set title 'uinfo-train-mlp: %s, width %d, lr %g, batch %ld, seed %llu'\n",
                s.task.c_str(), s.width, s.regime.lr, s.regime.batch,
                static_cast<unsigned long long>(s.seed));
  uinfo::plot::render_png(
      dir / "accuracy.png",
      std::string(title) +
          "set datafile separator ','\n"
          "set key center right\n"
          "set xlabel 'epoch'\nset ylabel 'accuracy'\nset y2label 'loss (nats)'\n"
          "set ytics nomirror\nset y2tics\nset grid\n"
          "plot 'epochs.csv' using 1:3 with lines lw 2 title 'train accuracy', \\\n"
          "     '' using 1:5 with lines lw 2 title 'test accuracy', \\\n"
          "     '' using 1:2 axes x1y2 with lines dt 2 title 'train loss', \\\n"
          "     '' using 1:4 axes x1y2 with lines dt 2 title 'test loss'\n");
}

}  // namespace

int main(int argc, char** argv) try {
  Settings s;
  uinfo::cli::Command command{
      "uinfo-train-mlp",
      "Trains a 2-hidden-layer ReLU MLP with SGD on a synthetic 2-D task and\n"
      "writes OUT/epochs.csv, OUT/run.json, OUT/accuracy.png and OUT/network.bin."};
  command.setting("--task", s.task, "spiral (3 interleaved arms) or xor");
  command.setting("--samples", s.samples, "training samples (the test set has as many)");
  command.setting("--noise", s.noise,
                  "spiral: angle jitter in radians; xor: jitter around the corners");
  command.setting("--width", s.width, "hidden width: 16, 32, 64 or 128");
  uinfo::cli::add_options(command, s.regime);
  command.setting("--seed", s.seed, "fixes the data, the initial weights and the batch order");
  uinfo::cli::add_options(command, s.output);
  command.parse(argc, argv);
  if (s.task != "spiral" && s.task != "xor") command.fail("--task must be spiral or xor");
  if (s.samples < 1) command.fail("--samples must be at least 1");
  uinfo::cli::check(command, s.regime);
  if (s.width != 16 && s.width != 32 && s.width != 64 && s.width != 128)
    command.fail("--width must be 16, 32, 64 or 128 (networks are compiled per width)");

  const std::filesystem::path dir = s.output.dir;
  uinfo::program::prepare_output_directory(dir);
  uinfo::program::running();
  const auto start = std::chrono::steady_clock::now();
  double accuracy = 0;
  switch (s.width) {
    case 16:
      accuracy = train<16>(s, dir);
      break;
    case 32:
      accuracy = train<32>(s, dir);
      break;
    case 64:
      accuracy = train<64>(s, dir);
      break;
    case 128:
      accuracy = train<128>(s, dir);
      break;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  uinfo::record::Json record = command.record();
  record["test_accuracy"] = accuracy;
  record["wall_seconds"] = seconds;
  uinfo::record::write(record, dir / "run.json");
  plot(dir, s);
  std::printf("test accuracy %.4f after %d epochs (%.2f s); results in %s/\n", accuracy,
              s.regime.epochs, seconds, dir.string().c_str());
  return 0;
} catch (...) {
  return uinfo::program::failed("uinfo-train-mlp");
}
