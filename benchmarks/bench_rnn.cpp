// Training of recurrent networks through time: the workloads of the PyTorch peers
// (/work/shared/peers/torch_multiarea_rnn.py and torch_rnn.py). Items: trials (sequences).
//
// BM_MultiAreaUpdate: one update of the multi-area rate network of Kleinman et al. as fit_task()
// makes it: 300 ReLU units in 3 areas (MultiAreaCircuit: Dale's law, masks, its initialisation),
// alpha 0.2, recurrent noise sigma 0.05 and input noise 0.1 on channels 2-3, fresh random trials
// of 280 steps for every update (inputs N(0, 0.5²), targets U(0, 1), every step scored), masked
// MSE plus the mean-square penalty on every weight block, full BPTT, global-norm clip 0.1, Adam
// lr 5e-5.
//
// BM_ElmanTrainStep: one training step of a 4-100 tanh Elman RNN over 50 steps with a readout of
// the last step to 2 classes, softmax cross-entropy, plain SGD lr 0.01 (PyTorch's nn.RNN case),
// on 16,384 random N(0, 1) sequences with random labels, cycled through in consecutive batches.
#include <benchmark/benchmark.h>

#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "bench_util.hpp"
#include "uinfo/uinfo.hpp"

namespace uinfo::bench {
namespace {

// The peer's random trials: inputs N(0, 0.5²), targets U(0, 1), every step of every trial scored.
struct RandomTrials {
  Index steps = 280;
  Index inputs() const { return 4; }
  Index outputs() const { return 2; }
  void draw(Engine& engine, Index trials, SequenceBatch<float>& batch) const {
    batch.reset(inputs(), outputs(), steps, trials);
    auto x = batch.x();
    simd::add_normal(engine, x.data(), x.size(), 0.5f);
    auto targets = batch.target_values();
    for (Index i = 0; i < targets.size(); ++i) targets.data()[i] = engine.uniform<float>();
    batch.mask().setOnes();
  }
};

using MultiAreaNet = Sequential<float, Input<4>, LeakyRnn<300>, Dense<2>>;

// Google Benchmark's iterations are fit_task()'s updates: its callbacks ask for the next one.
struct TimeUpdates {
  benchmark::State& state;
  Control on_train_begin(MultiAreaNet&) {
    return state.KeepRunning() ? Control::proceed : Control::stop;
  }
  Control on_update_end(const UpdateInfo&, MultiAreaNet&) {
    return state.KeepRunning() ? Control::proceed : Control::stop;
  }
};

void BM_MultiAreaUpdate(benchmark::State& state) {
  const Index batch = state.range(0);
  MultiAreaNet net{Rng{1}};
  const MultiAreaCircuit circuit({});
  Engine init = Rng{1}.engine(Stream::user);
  circuit.build(net.layer<1>(), net.layer<2>(), init);
  auto& rnn = net.layer<1>();
  auto options = rnn.options();
  options.recurrent_noise = 0.05;
  options.input_noise = {0, 0, 0.1, 0.1};
  rnn.configure(options);
  Adam adam({.lr = 5e-5});
  const RandomTrials task;
  TaskFitOptions fit{.updates = 2,
                     .batch_size = batch,
                     .rng = Rng{2},
                     .clip_norm = 0.1,
                     .weight_penalty = {.coefficient = 1, .mean_per_block = true}};
  fit_task(net, adam, MeanSquaredError{}, task, fit);  // sizes every buffer
  fit.updates = std::numeric_limits<Index>::max();
  fit_task(net, adam, MeanSquaredError{}, task, fit, TimeUpdates{state});
  // The multiply-adds executed per trial and step: the three recurrent products on the kept
  // blocks of the effective weights, and the input and readout weights' three products each.
  simd::RecurrentProduct<float> recurrent;
  recurrent.prepare(rnn.effective_recurrent_weight());
  const auto per_column = static_cast<double>(recurrent.multiply_adds_per_column() +
                                              3 * rnn.units() * (task.inputs() + task.outputs()));
  set_rates(state, static_cast<double>(batch),
            2 * per_column * static_cast<double>(task.steps * batch));
}

BENCHMARK(BM_MultiAreaUpdate)
    ->Name("BM_MultiAreaUpdate/multiarea_rnn_train")
    ->ArgNames({"batch"})
    ->Arg(20)
    ->UseRealTime();

// 16,384 random sequences of 50 steps of 4 inputs and their labels, stored batch by batch
// time-major (column t * batch + b of a batch's block: trial b at step t), as the peer slices them.
struct Sequences {
  static constexpr Index count = 16384, steps = 50, inputs = 4;
  Matrix<float> x;
  std::vector<Label> labels;
  explicit Sequences(Index batch) : x(inputs, count * steps), labels(count) {
    Engine engine = Rng{0}.engine(Stream::data);
    const Index batches = count / batch;
    for (Index k = 0; k < batches; ++k)
      for (Index b = 0; b < batch; ++b)
        for (Index t = 0; t < steps; ++t)
          for (Index c = 0; c < inputs; ++c)
            x(c, (k * steps + t) * batch + b) = engine.normal<float>();
    for (auto& label : labels) label = static_cast<Label>(engine.below(2));
  }
};

void BM_ElmanTrainStep(benchmark::State& state) {
  using Net = Sequential<float, Input<4>, ElmanRnn<100>, LastStep, Dense<2>>;
  const Index batch = state.range(0);
  const Sequences data(batch);
  const Index batches = Sequences::count / batch, columns = Sequences::steps * batch;
  const FlushDenormals flush(true);
  Net net{Rng{1}};
  Sgd sgd({.lr = 0.01});
  Buffer<float> output_gradient;
  Index next = 0;
  for (auto _ : state) {
    const Index k = next;
    next = (next + 1) % batches;
    const auto output = net.forward(data.x.middleCols(k * columns, columns),
                                    Timeline{Sequences::steps, batch, {}, 0}, Mode::train);
    const auto labels =
        std::span(data.labels)
            .subspan(static_cast<std::size_t>(k * batch), static_cast<std::size_t>(batch));
    const double loss = SoftmaxCrossEntropy::value_and_gradient<float>(
        output, labels, output_gradient.reshape(output.rows(), batch));
    benchmark::DoNotOptimize(loss);
    backward_and_step(net, sgd, std::as_const(output_gradient).view());
  }
  // Multiply-adds executed per trial and step: the recurrent and input weights' three products
  // each (a 100-row block layout computes 112 rows).
  simd::RecurrentProduct<float> recurrent;
  recurrent.prepare(net.layer<1>().effective_recurrent_weight());
  const auto per_column =
      static_cast<double>(recurrent.multiply_adds_per_column() + 3 * 100 * Sequences::inputs);
  set_rates(state, static_cast<double>(batch), 2 * per_column * static_cast<double>(columns));
}

BENCHMARK(BM_ElmanTrainStep)
    ->Name("BM_ElmanTrainStep/rnn_train")
    ->ArgNames({"batch"})
    ->Args({32})
    ->Args({256})
    ->UseRealTime();

}  // namespace
}  // namespace uinfo::bench

BENCHMARK_MAIN();
