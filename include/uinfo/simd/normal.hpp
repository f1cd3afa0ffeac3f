// Gaussian noise added to a block of values, from a seeded engine: what noisy recurrent networks
// draw at every step (N x trials values per step, millions per update).
#pragma once

#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

// x[i] += stddev * N(0, 1) for i < n, the draws taken from `engine` in order.
template <class S>
void add_normal(Engine& engine, S* x, Index n, S stddev) {
  for (Index i = 0; i < n; ++i) x[i] += stddev * engine.normal<S>();
}

}  // namespace uinfo::simd
