// One full training step of an MLP, as in fit(): forward, softmax cross-entropy value and
// gradient, backward without the input gradient fused with SGD with momentum 0.9
// (backward_and_step). The workload of the
// PyTorch and dlib peers (/work/shared/peers/torch_mlp.py): random N(0, 1) data, 60000 samples,
// uniform random labels over 10 classes, cycled through in consecutive batches.
// Items: training samples.
//
// Arguments: batch size, and ftz (1: subnormals flushed to zero, as fit() does by default; see
// uinfo/core/denormals.hpp). Without flushing, momentum buffers of ReLU units that stop receiving
// gradient decay into subnormals and every update of them takes a slow microcode path. PyTorch's
// buffers do the same on this workload unless torch.set_flush_denormal(True): ftz:0 compares
// like with like, ftz:1 is uinfo's default. The count grows with training time, so batch-1 figures
// depend on the run length (Google Benchmark's final run starts from a fresh net, like the peers).
#include <benchmark/benchmark.h>

#include <array>
#include <span>
#include <utility>

#include "bench_util.hpp"
#include "uinfo/core/denormals.hpp"
#include "uinfo/core/external.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/sgd.hpp"
#include "uinfo/train/fit.hpp"

namespace uinfo::bench {
namespace {

template <Index In, Index H1, Index H2>
using Mlp = Sequential<float, Input<In>, Dense<H1>, Relu, Dense<H2>, Relu, Dense<10>>;

constexpr Index sample_count = 60000;  // MNIST-sized: too many random labels to memorise

// The random training set for nets with In inputs, made once per program.
template <Index In>
const Dataset<float>& random_data() {
  static const Dataset<float> data = [] {
    Dataset<float> d{random_matrix(In, sample_count, 0), {}};
    Engine engine = Rng{0}.engine(Stream::data);
    d.labels.resize(sample_count);
    for (auto& label : d.labels) label = static_cast<Label>(engine.below(10));
    return d;
  }();
  return data;
}

template <Index In, Index H1, Index H2>
void BM_MlpTrainStep(benchmark::State& state) {
  using Net = Mlp<In, H1, H2>;
  const Index batch = state.range(0);
  const FlushDenormals flush(state.range(1) != 0);
  const Dataset<float>& data = random_data<In>();
  const Index batches = sample_count / batch;
  Net net{Rng{1}};
  Sgd sgd({.lr = 0.01, .momentum = 0.9});
  Buffer<float> output_gradient;
  Index next = 0;
  for (auto _ : state) {
    const Index first = next * batch;
    next = (next + 1) % batches;
    const auto output = net.forward(data.x.middleCols(first, batch), Mode::train);
    const auto labels =
        std::span(data.labels)
            .subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(batch));
    const float loss = SoftmaxCrossEntropy::value_and_gradient<float>(
        output, labels, output_gradient.reshape(output.rows(), batch));
    benchmark::DoNotOptimize(loss);
    backward_and_step(net, sgd, std::as_const(output_gradient).view());
  }
  // Forward W x and backward dy x^T for every layer, W^T dy for all but the first (skipped).
  const double multiply_adds = 2.0 * (In * H1 + H1 * H2 + H2 * 10) + H1 * H2 + H2 * 10;
  set_rates(state, static_cast<double>(batch), 2 * multiply_adds * static_cast<double>(batch));
}

BENCHMARK_TEMPLATE(BM_MlpTrainStep, 784, 256, 128)
    ->Name("BM_MlpTrainStep/mlp_train")
    ->ArgNames({"batch", "ftz"})
    ->ArgsProduct({{1, 32, 256}, {0, 1}})
    ->UseRealTime();
// 16-16-16-10 at batch 1: about 2 kFLOP per step, so this times the per-step overhead.
BENCHMARK_TEMPLATE(BM_MlpTrainStep, 16, 16, 16)
    ->Name("BM_MlpTrainStep/mlp_tiny_train")
    ->ArgNames({"batch", "ftz"})
    ->Args({1, 0})
    ->UseRealTime();

// The memory passes that a batch-1 step of the MLP cannot avoid, alone: the forward pass reads
// every weight, the fused SGD-momentum update reads and writes every weight and its velocity, and
// the input gradients of the layers above the first read their weights again. As plain vector
// loops over arrays of the network's sizes (a sum per pass, a constant gradient, no activations
// or loss), they time the floor that this memory traffic sets under the step; compare.sh sets the
// batch-1 step against it. Items: samples (one per pass set), as for the step.
template <Index In, Index H1, Index H2>
void BM_MlpMemoryPasses(benchmark::State& state) {
  using Batch = xsimd::batch<float>;
  constexpr Index width = Batch::size;
  constexpr std::array<Index, 3> sizes{In * H1, H1 * H2, H2 * 10};
  static_assert(sizes[0] % width == 0 && sizes[1] % width == 0 && sizes[2] % width == 0);
  std::array<Matrix<float>, 3> weights, velocities;
  for (std::size_t l = 0; l < sizes.size(); ++l) {
    weights[l] = random_matrix(sizes[l], 1, l, 0.01);
    velocities[l] = Matrix<float>::Zero(sizes[l], 1);
  }
  auto read = [](const Matrix<float>& w) {  // four sums, so that no add waits for the last
    Batch sum[4] = {Batch(0.f), Batch(0.f), Batch(0.f), Batch(0.f)};
    for (Index i = 0; i < w.size(); i += 4 * width) {
      for (Index j = 0; j < 4 && i + j * width < w.size(); ++j)
        sum[j] += Batch::load_unaligned(w.data() + i + j * width);
    }
    return xsimd::hadd(sum[0] + sum[1] + sum[2] + sum[3]);
  };
  const Batch gradient(1e-6f), mu(0.9f), lr(0.01f);
  for (auto _ : state) {
    float sums = 0;
    for (const auto& w : weights) sums += read(w);                            // forward
    for (std::size_t l = 1; l < sizes.size(); ++l) sums += read(weights[l]);  // input gradients
    for (std::size_t l = 0; l < sizes.size(); ++l) {                          // the update
      float* w = weights[l].data();
      float* v = velocities[l].data();
      for (Index i = 0; i < sizes[l]; i += width) {
        const Batch velocity = xsimd::fma(mu, Batch::load_unaligned(v + i), gradient);
        velocity.store_unaligned(v + i);
        xsimd::fnma(lr, velocity, Batch::load_unaligned(w + i)).store_unaligned(w + i);
      }
    }
    benchmark::DoNotOptimize(sums);
    benchmark::ClobberMemory();
  }
  set_rates(state, 1);
}

BENCHMARK_TEMPLATE(BM_MlpMemoryPasses, 784, 256, 128)
    ->Name("BM_MlpMemoryPasses/mlp_train/batch:1")
    ->UseRealTime();

}  // namespace
}  // namespace uinfo::bench

BENCHMARK_MAIN();
