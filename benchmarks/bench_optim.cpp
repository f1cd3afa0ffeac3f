// One optimizer step over about a million parameters (a 1000 -> 1000 Dense layer: 1,001,000
// weights and biases) with gradients filled in. Items: parameters; bytes: the weights, gradients
// and optimizer state each step reads and writes, so the rate can be set against memory
// bandwidth. The arrays (4 MB each) overflow a core's L2 cache; set the rate against the peers'
// STREAM-triad figures (fma_peak: triad_l2_gbs, triad_dram_gbs).
#include <benchmark/benchmark.h>

#include "bench_util.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/adam.hpp"
#include "uinfo/optim/sgd.hpp"

namespace uinfo::bench {
namespace {

using Net = Sequential<float, Input<1000>, Dense<1000>>;

// Bytes moved per parameter: read w and g, write w, plus read and write each state array.
constexpr double bytes_per_parameter(int state_arrays) {
  return sizeof(float) * (3.0 + 2.0 * state_arrays);
}

// `optimizer` arrives fresh; state_arrays is how many moment arrays per parameter it keeps.
template <class Optimizer>
void BM_OptimizerStep(benchmark::State& state, Optimizer optimizer, int state_arrays) {
  Net net{Rng{1}};
  std::uint64_t seed = 10;
  net.for_each_parameter([&](Parameter<float>& p) {
    p.gradient = random_matrix(p.value.rows(), p.value.cols(), ++seed, 1e-3);
  });
  optimizer.step(net);  // sizes the optimizer state outside the timed loop
  for (auto _ : state) {
    optimizer.step(net);
    benchmark::ClobberMemory();
  }
  const auto parameters = static_cast<double>(net.parameter_count());
  set_rates(state, parameters);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(
                                                   parameters * bytes_per_parameter(state_arrays)));
}

BENCHMARK_CAPTURE(BM_OptimizerStep, Sgd, Sgd({.lr = 0.01}), 0);
BENCHMARK_CAPTURE(BM_OptimizerStep, SgdMomentum, Sgd({.lr = 0.01, .momentum = 0.9}), 1);
BENCHMARK_CAPTURE(BM_OptimizerStep, Nesterov, Sgd({.lr = 0.01, .momentum = 0.9, .nesterov = true}),
                  1);
BENCHMARK_CAPTURE(BM_OptimizerStep, Adam, Adam({.lr = 0.001}), 2);

}  // namespace
}  // namespace uinfo::bench

BENCHMARK_MAIN();
