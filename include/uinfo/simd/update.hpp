// The fused, vectorised loop behind every optimizer: one pass reads each weight, its gradient
// and its optimizer state, and writes the new weight and state.
#pragma once

#include <tuple>

#include <xsimd/xsimd.hpp>

#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

// For each i: op(w[i], g[i], states[i]...), with w and the states passed by reference to be
// updated in place. op's call operator is a template, valid for scalars and xsimd batches.
template <class S, class Op, class... States>
void update_scalar(Index n, S* w, const S* g, Op op, States*... states) {
  for (Index i = 0; i < n; ++i) op(w[i], g[i], states[i]...);
}

template <class S, class Op, class... States>
void update(Index n, S* w, const S* g, Op op, States*... states) {
  Index i = 0;
#ifndef UINFO_NO_SIMD
  using Batch = xsimd::batch<S>;
  for (; i + Index(Batch::size) <= n; i += Batch::size) {
    Batch weight = Batch::load_unaligned(w + i);
    std::tuple state{Batch::load_unaligned(states + i)...};
    std::apply([&](auto&... s) { op(weight, Batch::load_unaligned(g + i), s...); }, state);
    weight.store_unaligned(w + i);
    std::apply([&](auto&... s) { (s.store_unaligned(states + i), ...); }, state);
  }
#endif
  update_scalar(n - i, w + i, g + i, op, (states + i)...);
}

}  // namespace uinfo::simd
