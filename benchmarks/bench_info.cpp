// Usable-information estimates: the cost of one linear-decoder estimate on the peers' probe data
// (10,000 x 100 training samples, 2,000 test samples, 10 classes: the workload of
// /work/shared/peers/probes.py, whose scikit-learn LogisticRegression fits it in about 0.35 s),
// what a warm start saves when the same layer is probed again a little later in training, and one
// measurement of the checkerboard experiment's probes (every hidden layer, colour and direction,
// 2,000 + 2,000 samples) between two epochs of training.
//
// The peers' files are read from $UINFO_PROBE_DATA (a directory holding probe_train_X.f32 etc.,
// as written by gen_probe_data.py); without it, a Gaussian mixture of the same shape stands in.
// Items: training samples per second of fit; counters: held-out cross-entropy (nats) and
// L-BFGS iterations, to compare at equal cross-entropy.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "uinfo/data/checkerboard.hpp"
#include "uinfo/info/layer_probe.hpp"
#include "uinfo/info/usable_information.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/tanh.hpp"
#include "uinfo/optim/sgd.hpp"

namespace uinfo::bench {
namespace {

struct ProbeData {
  Matrix<float> z_train, z_test;
  std::vector<Label> y_train, y_test;
};

template <class T>
std::vector<T> read_raw(const std::filesystem::path& path, std::size_t count) {
  std::vector<T> values(count);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(count * sizeof(T)));
  if (!in) throw IoError("bench_info: cannot read " + path.string());
  return values;
}

// Row-major samples x features on disk is column-major features x samples in memory.
Matrix<float> read_features(const std::filesystem::path& path, Index samples) {
  const auto values = read_raw<float>(path, static_cast<std::size_t>(samples * 100));
  return Eigen::Map<const Matrix<float>>(values.data(), 100, samples);
}

ProbeData synthetic_probe_data() {
  Engine engine = Rng{20240601}.engine(Stream::data);
  const Matrix<float> means = random_matrix(100, 10, 7, 0.25);
  auto draw = [&](Index n, Matrix<float>& z, std::vector<Label>& y) {
    z = random_matrix(100, n, engine(), 1.0);
    y.resize(static_cast<std::size_t>(n));
    for (Index j = 0; j < n; ++j) {
      y[static_cast<std::size_t>(j)] = static_cast<Label>(engine.below(10));
      z.col(j) += means.col(y[static_cast<std::size_t>(j)]);
    }
  };
  ProbeData data;
  draw(10000, data.z_train, data.y_train);
  draw(2000, data.z_test, data.y_test);
  return data;
}

const ProbeData& probe_data() {
  static const ProbeData data = [] {
    const char* directory = std::getenv("UINFO_PROBE_DATA");
    if (!directory) return synthetic_probe_data();
    const std::filesystem::path d = directory;
    const auto y_train = read_raw<Label>(d / "probe_train_y.i32", 10000);
    const auto y_test = read_raw<Label>(d / "probe_test_y.i32", 2000);
    return ProbeData{read_features(d / "probe_train_X.f32", 10000),
                     read_features(d / "probe_test_X.f32", 2000), y_train, y_test};
  }();
  return data;
}

void report(benchmark::State& state, const UsableInformation& info) {
  set_rates(state, static_cast<double>(info.n_train));
  state.counters["ce_nats"] = info.ce_bits / bits_per_nat;
  state.counters["iterations"] = info.iterations;
}

// A fresh decoder every time: the fit from zero, as scikit-learn does it. l2 = 1 / (C n) with
// C = 1e4, n = 10,000: the objective of the peers' LogisticRegression(C=1e4).
void BM_LinearDecoderFromScratch(benchmark::State& state) {
  const ProbeData& data = probe_data();
  UsableInformation info;
  for (auto _ : state) {
    LinearDecoder<float> decoder({.l2 = 1e-8});
    info = usable_information(data.z_train, data.y_train, data.z_test, data.y_test, decoder,
                              {.classes = 10});
    benchmark::DoNotOptimize(info.bits);
  }
  report(state, info);
}
BENCHMARK(BM_LinearDecoderFromScratch)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same estimate with the penalty chosen by 5-fold cross-validation (the default for more
// than two classes): what a user gets without choosing one. Counter l2: the penalty chosen.
void BM_LinearDecoderCrossValidated(benchmark::State& state) {
  const ProbeData& data = probe_data();
  UsableInformation info;
  for (auto _ : state) {
    LinearDecoder<float> decoder;
    info = usable_information(data.z_train, data.y_train, data.z_test, data.y_test, decoder,
                              {.classes = 10});
    benchmark::DoNotOptimize(info.bits);
  }
  report(state, info);
  state.counters["l2"] = info.l2;
}
BENCHMARK(BM_LinearDecoderCrossValidated)->Unit(benchmark::kMillisecond)->UseRealTime();

// Probing a representation that moved a little since the last probe (as between two epochs):
// from zero (arg 0) against from the previous weights (arg 1).
void BM_LinearDecoderReprobe(benchmark::State& state) {
  const ProbeData& data = probe_data();
  const bool warm = state.range(0) != 0;
  const Matrix<float> moved =
      data.z_train + 0.05f * random_matrix(data.z_train.rows(), data.z_train.cols(), 99);
  LinearDecoder<float> previous({.l2 = 1e-8});
  usable_information(data.z_train, data.y_train, data.z_test, data.y_test, previous,
                     {.classes = 10});
  UsableInformation info;
  for (auto _ : state) {
    state.PauseTiming();
    LinearDecoder<float> decoder = warm ? previous : LinearDecoder<float>({.l2 = 1e-8});
    state.ResumeTiming();
    info =
        usable_information(moved, data.y_train, data.z_test, data.y_test, decoder, {.classes = 10});
    benchmark::DoNotOptimize(info.bits);
  }
  report(state, info);
}
BENCHMARK(BM_LinearDecoderReprobe)
    ->ArgName("warm")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One evaluation of the linear decoder's objective (loss and gradient) on 2,000 samples: a binary
// label on a 64-unit layer (the checkerboard probes) and 10 classes on 100 features (the peers'
// probe data). Items: samples per second; GFLOP/s counts the 4 flops per (sample, class, feature)
// of the logits and the weight gradient.
void BM_SoftmaxRegression(benchmark::State& state) {
  const Index features = state.range(0), classes = state.range(1), samples = 2000;
  const Matrix<float> x = random_matrix(features, samples, 3);
  const Matrix<float> w = random_matrix(classes, features, 4, 0.1);
  const Matrix<float> b = random_matrix(classes, 1, 5);
  std::vector<Label> labels(static_cast<std::size_t>(samples));
  for (std::size_t j = 0; j < labels.size(); ++j) labels[j] = static_cast<Label>(j % classes);
  const simd::SamplePanels<float> panels(x);
  simd::SoftmaxRegression<float> problem(panels, labels, classes);
  Matrix<float> dw, db;
  for (auto _ : state) benchmark::DoNotOptimize(problem.loss_and_gradient(w, b, dw, db));
  set_rates(state, static_cast<double>(samples),
            4.0 * static_cast<double>(samples * classes * features));
}
BENCHMARK(BM_SoftmaxRegression)->ArgNames({"features", "classes"})->Args({64, 2})->Args({100, 10});

// Fitting the whitening map of a 64-unit layer to 2,000 samples: covariance and pivoted Cholesky.
void BM_WhiteningMap(benchmark::State& state) {
  const Matrix<float> z = random_matrix(64, 2000, 6);
  for (auto _ : state) {
    const FeatureMap<float> map(z, Preprocess::whiten);
    benchmark::DoNotOptimize(map.outputs());
  }
}
BENCHMARK(BM_WhiteningMap)->Unit(benchmark::kMicrosecond);

// Experiment 1's network and probes (uinfo-checkerboard's defaults): the net trains one epoch
// between two measurements (not timed), so each warm start starts from a representation that
// moved as much as it does in the experiment. Arg chosen:0 is the fixed penalty 1e-3 the
// experiment used before, chosen:1 the penalty chosen from the data (approximate leave-one-out,
// the default). Items: probe fits per second.
void BM_CheckerboardLayerProbe(benchmark::State& state) {
  using Net =
      Sequential<float, Input<4>, Dense<64>, Relu, Dense<64>, Relu, Dense<4>, Tanh, Dense<2>>;
  Engine engine = Rng{1}.engine(Stream::data);
  const Checkerboard train = make_checkerboard({.trials = 9000}, engine);
  const Checkerboard probe_train = make_checkerboard({.trials = 2000}, engine);
  const Checkerboard probe_test = make_checkerboard({.trials = 2000}, engine);
  Net net{Rng{1}};
  LayerProbe<Net, 2, 4, 6> probe(
      probe_train.x, probe_test.x,
      {{"colour", probe_train.colour, probe_test.colour, 2},
       {"direction", probe_train.direction, probe_test.direction, 2}},
      {.linear = {.l2 = state.range(0) ? std::nullopt : std::optional<double>(1e-3),
                  .lbfgs = {.gradient_tolerance = 1e-4}},
       .seed = 1});
  Sgd sgd{{.lr = 0.05}};
  int epoch = 0;
  std::size_t fits = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fit(net, sgd, SoftmaxCrossEntropy{}, train.with_labels(train.direction),
        {.epochs = 1, .batch_size = 32, .rng = Rng{static_cast<std::uint64_t>(++epoch)}});
    state.ResumeTiming();
    fits += probe.measure(net).size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(fits));
}
BENCHMARK(BM_CheckerboardLayerProbe)
    ->ArgName("chosen")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(40);

}  // namespace
}  // namespace uinfo::bench

BENCHMARK_MAIN();
