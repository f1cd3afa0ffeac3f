// Helpers shared by uinfo's Google Benchmark programs: random inputs and throughput counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::bench {

// A rows x cols matrix of N(0, stddev^2) values, reproducible from the seed.
inline Matrix<float> random_matrix(Index rows, Index cols, std::uint64_t seed, double stddev = 1) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Matrix<float> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(stddev * engine.normal());
  return m;
}

// items_per_second counts `items` per iteration (samples or elements); flops adds a GFLOP/s
// counter (the rate of `flops` floating-point operations per iteration).
inline void set_rates(benchmark::State& state, double items, double flops = 0) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(items));
  if (flops > 0) {
    state.counters["GFLOP/s"] = benchmark::Counter(
        flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  }
}

}  // namespace uinfo::bench
