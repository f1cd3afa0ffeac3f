// uinfo-train-mlp: trains a small MLP on a synthetic task (interleaved spirals or noisy XOR) and
// records its learning curve. A first look at uinfo: compile-time networks, SGD with momentum,
// seeded and bit-for-bit reproducible runs, CSV/JSON records and a PNG of the curves.
#include <uinfo/uinfo.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/cli.hpp"
#include "common/json.hpp"
#include "common/plot.hpp"

namespace {

struct Settings {
  std::string task = "spiral";
  std::string out = "results/train-mlp";
  int width = 64;
  int epochs = 30;
  long batch = 32;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0;
  double noise = 0.2;
  long samples = 3000;
  std::uint64_t seed = 1;
  bool quiet = false;
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
  uinfo::Sgd sgd{{.lr = s.lr, .momentum = s.momentum, .weight_decay = s.weight_decay}};
  uinfo::EpochCsv csv{dir / "epochs.csv"};
  uinfo::ProgressBar bar{s.epochs, "training", !s.quiet};
  const auto history =
      uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{}, train_set,
                 {.epochs = s.epochs, .batch_size = s.batch, .rng = rng, .validation = &test_set},
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
                s.task.c_str(), s.width, s.lr, s.batch, static_cast<unsigned long long>(s.seed));
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

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Parser cli{
      "uinfo-train-mlp",
      "Trains a 2-hidden-layer ReLU MLP with SGD on a synthetic 2-D task and\n"
      "writes OUT/epochs.csv, OUT/run.json, OUT/accuracy.png and OUT/network.bin."};
  cli.option("--task", s.task, "spiral (3 interleaved arms) or xor")
      .option("--samples", s.samples, "training samples (the test set has as many)")
      .option("--noise", s.noise, "spiral: angle jitter in radians; xor: jitter around the corners")
      .option("--width", s.width, "hidden width: 16, 32, 64 or 128")
      .option("--epochs", s.epochs, "training epochs")
      .option("--batch", s.batch, "minibatch size")
      .option("--lr", s.lr, "learning rate")
      .option("--momentum", s.momentum, "SGD momentum")
      .option("--weight-decay", s.weight_decay, "L2 weight decay (coupled, as PyTorch's SGD)")
      .option("--seed", s.seed, "fixes the data, the initial weights and the batch order")
      .option("--out", s.out, "output directory")
      .option("--quiet", s.quiet, "no progress bar");
  cli.parse(argc, argv);
  if (s.task != "spiral" && s.task != "xor") cli.fail("--task must be spiral or xor");
  if (s.samples < 1) cli.fail("--samples must be at least 1");

  const std::filesystem::path dir = s.out;
  std::filesystem::create_directories(dir);
  const auto start = std::chrono::steady_clock::now();
  double accuracy = 0;
  try {
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
      default:
        cli.fail("--width must be 16, 32, 64 or 128 (networks are compiled per width)");
    }
  } catch (const uinfo::Error& e) {
    std::fprintf(stderr, "uinfo-train-mlp: %s\n", e.what());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  uinfo::json::Object settings;
  settings.add("task", s.task)
      .add("samples", s.samples)
      .add("noise", s.noise)
      .add("width", s.width)
      .add("epochs", s.epochs)
      .add("batch", s.batch)
      .add("lr", s.lr)
      .add("momentum", s.momentum)
      .add("weight_decay", s.weight_decay);
  uinfo::json::Object run;
  run.add("program", "uinfo-train-mlp")
      .add("uinfo_version", UINFO_VERSION_STRING)
      .add("seed", s.seed)
      .add("settings", settings)
      .add("test_accuracy", accuracy)
      .add("wall_seconds", seconds);
  run.write(dir / "run.json");
  plot(dir, s);
  std::printf("test accuracy %.4f after %d epochs (%.2f s); results in %s/\n", accuracy, s.epochs,
              seconds, dir.string().c_str());
  return 0;
}
