// The fused, vectorised loop behind every optimizer: one pass reads each weight, its gradient
// and its optimizer state, and writes the new weight and state.
//
// An optimizer's elementwise rule, bound to one parameter block (BoundUpdate), takes its gradient
// either from memory or one vector at a time from the kernel that computes it (see gemm.hpp), so
// that a weight gradient can go from registers straight into the update without being stored.
// A block may have fixed elements (Parameter::plastic): they and their state keep their values,
// whatever the rule (weight decay included) would do to them.
#pragma once

#include <algorithm>
#include <array>
#include <tuple>
#include <type_traits>

#include "uinfo/core/external.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

// For each i whose plastic[i] is not 0 (every i if plastic is null): op(w[i], g[i], states[i]...),
// with w and the states passed by reference to be updated in place. op's call operator is a
// template, valid for scalars and xsimd batches.
template <class S, class Op, class... States>
void update_scalar(Index n, S* w, const S* g, std::type_identity_t<const S*> plastic, Op op,
                   States*... states) {
  for (Index i = 0; i < n; ++i) {
    if (!plastic || plastic[i] != S(0)) op(w[i], g[i], states[i]...);
  }
}

// The lanes of a vector that lie before lane `first`: a mask for the vector that ends a block
// whose length is not a multiple of the vector width, placed to overlap the vector before it.
template <class S>
xsimd::batch_bool<S> lanes_before(Index first) {
  using Batch = xsimd::batch<S>;
  static constexpr auto lane = [] {
    std::array<S, Batch::size> index{};
    for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<S>(i);
    return index;
  }();
  return Batch::load_unaligned(lane.data()) < Batch(static_cast<S>(first));
}

// op(w, g, states...) bound to a block's weights w and state arrays for one step. `plastic` is
// null, or holds one value per element, 0 where the element is fixed.
template <class S, class Op, class... States>
class BoundUpdate {
 public:
  using Batch = xsimd::batch<S>;

  BoundUpdate(S* w, const S* plastic, Op op, States*... states)
      : w_(w), plastic_(plastic), op_(op), states_(states...) {}

  // Elements [i, i + Batch::size) will be updated soon.
  void prefetch(Index i) const {
    __builtin_prefetch(w_ + i, 1);
    std::apply([&](auto*... s) { (__builtin_prefetch(s + i, 1), ...); }, states_);
  }

  // Elements [i, i + Batch::size), whose gradient is g.
  void apply(Index i, Batch g) const {
    if (plastic_) {
      apply(i, g, xsimd::batch_bool<S>(false));
      return;
    }
    Batch weight = Batch::load_unaligned(w_ + i);
    auto state = load(i);
    std::apply([&](auto&... s) { op_(weight, g, s...); }, state);
    store(i, weight, state);
  }

  // The same, except that the lanes set in `keep` are left as they are: they belong to a vector
  // this block has already been through (see lanes_before).
  void apply(Index i, Batch g, xsimd::batch_bool<S> keep) const {
    if (plastic_) keep = keep || Batch::load_unaligned(plastic_ + i) == Batch(S(0));
    const Batch old_weight = Batch::load_unaligned(w_ + i);
    const auto old_state = load(i);
    Batch weight = old_weight;
    auto state = old_state;
    std::apply([&](auto&... s) { op_(weight, g, s...); }, state);
    auto kept = [&](const Batch& old, const Batch& fresh) {
      return xsimd::select(keep, old, fresh);
    };
    store(
        i, kept(old_weight, weight), [&]<std::size_t... K>(std::index_sequence<K...>) {
          return std::tuple{kept(std::get<K>(old_state), std::get<K>(state))...};
        }(std::index_sequence_for<States...>{}));
  }

  // Elements [0, n) from a gradient in memory. Every element goes through the vector op when
  // n >= Batch::size (the last vector overlapping the one before), so the result does not depend
  // on where a block's elements fall relative to the vector boundaries: a block updated from
  // memory comes out bit for bit as one updated vector by vector by a fused kernel.
  void apply_all(Index n, const S* g) const {
#ifndef UINFO_NO_SIMD
    constexpr Index width = Batch::size;
    if (n >= width) {
      Index i = 0;
      for (; i + width <= n; i += width) apply(i, Batch::load_unaligned(g + i));
      if (i < n)
        apply(n - width, Batch::load_unaligned(g + n - width), lanes_before<S>(i - n + width));
      return;
    }
#endif
    std::apply([&](auto*... s) { update_scalar(n, w_, g, plastic_, op_, s...); }, states_);
  }

 private:
  auto load(Index i) const {
    return std::apply([&](auto*... s) { return std::tuple{Batch::load_unaligned(s + i)...}; },
                      states_);
  }
  template <class State>
  void store(Index i, const Batch& weight, const State& state) const {
    weight.store_unaligned(w_ + i);
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (std::get<K>(state).store_unaligned(std::get<K>(states_) + i), ...);
    }
    (std::index_sequence_for<States...>{});
  }

  S* w_;
  const S* plastic_;
  Op op_;
  std::tuple<States*...> states_;
};

template <class S, class Op, class... States>
void update(Index n, S* w, const S* g, Op op, States*... states) {
  BoundUpdate<S, Op, States...>(w, nullptr, op, states...).apply_all(n, g);
}

}  // namespace uinfo::simd
