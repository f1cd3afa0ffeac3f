// Register-tiled matrix products for Dense layers with at least one vector of outputs.
//
// Both products a Dense layer trains with have a left operand whose columns are contiguous and at
// least a vector long: its weights in y = W x + b, and the output gradient in dW = dy xᵀ. Loading
// vectors of those columns and multiplying them by broadcast elements of the right operand needs
// no packing, unlike a general GEMM (Eigen repacks the 784 x 256 weights of the benchmark's first
// layer on every step), and keeps a tile of the result in registers until it is finished. There
// it goes to a consumer, one vector at a time: stored (Store), or fed to an optimizer's update
// (BoundUpdate in update.hpp) so that a weight gradient is never written to memory.
//
// A result whose rows are not a multiple of the vector width ends with a vector that overlaps the
// one before it; the consumer is told which lanes it has already been given. Every element is
// summed over k in the same order whatever tile it falls in, so results do not depend on the
// tiling, nor on whether they are stored or consumed.
#pragma once

#include <algorithm>

#include "uinfo/core/external.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/simd/update.hpp"

namespace uinfo::simd {

// Whether the tiled products below take a result with this many rows: at least one vector.
template <class S>
constexpr bool tiles_rows(Index rows) {
#ifdef UINFO_NO_SIMD
  (void)rows;
  return false;
#else
  return rows >= static_cast<Index>(xsimd::batch<S>::size);
#endif
}

// Whether multiply_narrow takes a result with this many rows from sums over k terms: fewer rows
// than a vector, at least a vector of terms.
template <class S>
constexpr bool narrow_rows(Index rows, Index k) {
#ifdef UINFO_NO_SIMD
  (void)rows;
  (void)k;
  return false;
#else
  return rows < static_cast<Index>(xsimd::batch<S>::size) &&
         k >= static_cast<Index>(xsimd::batch<S>::size);
#endif
}

// A consumer that stores the result's vectors at out (column-major, contiguous).
template <class S>
struct Store {
  using Batch = xsimd::batch<S>;
  S* out;
  void prefetch(Index i) const { __builtin_prefetch(out + i, 1); }
  void apply(Index i, Batch value) const { value.store_unaligned(out + i); }
  void apply(Index i, Batch value, xsimd::batch_bool<S> keep) const {
    xsimd::select(keep, Batch::load_unaligned(out + i), value).store_unaligned(out + i);
  }
  // The n values computed elsewhere (by a product that does not tile); in place, nothing to do.
  void apply_all(Index n, const S* values) const {
    if (values != out) std::copy(values, values + n, out);
  }
};

namespace detail {

// The operands of one product: a (m x k, contiguous columns) times b or bᵀ, from an initial
// column (a vector of m values added to every column of the result) or from zero.
template <class S>
struct Operands {
  Index m, n, k;
  const S* a;
  const S* b;
  Index ldb;
  const S* init;  // may be null
};

// acc[v][c] += sum over p < k of a(row + v W + lane, p) * op(b)(p, c), p in order, where b
// points at the block's first column of op(b), with leading dimension ldb.
template <int MB, int NC, Op OpB, class S>
inline void accumulate_tile(const Operands<S>& o, Index row, const S* b, Index ldb,
                            xsimd::batch<S> (&acc)[MB][NC]) {
  using Batch = xsimd::batch<S>;
  constexpr Index width = Batch::size;
  for (Index p = 0; p < o.k; ++p) {
    const S* a = o.a + p * o.m + row;  // offset only inside the sum: an empty one may have no a
    Batch left[MB];
#pragma GCC unroll 8
    for (int v = 0; v < MB; ++v) left[v] = Batch::load_unaligned(a + v * width);
#pragma GCC unroll 8
    for (int c = 0; c < NC; ++c) {
      const Batch right(OpB == Op::plain ? b[c * ldb + p] : b[p * ldb + c]);
#pragma GCC unroll 8
      for (int v = 0; v < MB; ++v) acc[v][c] = xsimd::fma(left[v], right, acc[v][c]);
    }
  }
}

// The shortest sum during which a tile prefetches its consumer's lines.
inline constexpr Index min_sum_to_prefetch = 8;

// One tile: MB vectors of rows from `row`, NC columns from `column` (b and ldb as above);
// `keep`, if not null, marks the lanes of the (single) vector that the consumer has already been
// given.
template <int MB, int NC, Op OpB, class S, class Consume>
inline void tile(const Operands<S>& o, Index row, Index column, const S* b, Index ldb,
                 Consume& consume, const xsimd::batch_bool<S>* keep = nullptr) {
  using Batch = xsimd::batch<S>;
  constexpr Index width = Batch::size;
  Batch acc[MB][NC];
  for (int v = 0; v < MB; ++v) {
    const Batch start = o.init ? Batch::load_unaligned(o.init + row + v * width) : Batch(S(0));
    for (int c = 0; c < NC; ++c) acc[v][c] = start;
  }
  // The consumer's lines (for an update: weights and optimizer state, which for a 784 x 256
  // layer live in L2) are fetched while the sums run. A short sum has nothing to hide the fetch
  // behind: MLP step at batch 32 4% faster, at batch 1 4% slower unless skipped there.
  if (o.k >= min_sum_to_prefetch) {
    for (int c = 0; c < NC; ++c)
      for (int v = 0; v < MB; ++v) consume.prefetch((column + c) * o.m + row + v * width);
  }
  accumulate_tile<MB, NC, OpB>(o, row, b, ldb, acc);
  for (int c = 0; c < NC; ++c) {
    for (int v = 0; v < MB; ++v) {
      const Index i = (column + c) * o.m + row + v * width;
      if (keep) {
        consume.apply(i, acc[v][c], *keep);
      } else {
        consume.apply(i, acc[v][c]);
      }
    }
  }
}

// The longest sum for which a block of bᵀ is packed (see column_block): its panel sits on the
// stack.
inline constexpr Index packed_sum_limit = 512;

// Columns [column, column + NC) of the result, all rows. Narrower column blocks take taller
// tiles, so that enough independent accumulators hide the latency of the multiply-adds.
// A block of bᵀ is copied into a contiguous panel first: read in place, each p takes its NC
// values from another cache line, for every row strip again; packed, the strips read one
// panel sequentially (12% faster at k = 256, the same sums).
template <int NC, Op OpB, class S, class Consume>
void column_block(const Operands<S>& o, Index column, Consume& consume) {
  constexpr int MB = NC >= 8 ? 2 : NC >= 2 ? 4 : 8;
  constexpr Index width = xsimd::batch<S>::size;
  // An empty sum reads no b, whose data may then be null (a matrix without rows): no offset.
  const S* b = o.k == 0 ? o.b : OpB == Op::plain ? o.b + column * o.ldb : o.b + column;
  Index ldb = o.ldb;
  alignas(64) S panel[OpB == Op::transposed ? NC * packed_sum_limit : 1];
  if constexpr (OpB == Op::transposed) {
    if (o.k <= packed_sum_limit) {
      for (Index p = 0; p < o.k; ++p) {
        for (int c = 0; c < NC; ++c) panel[p * NC + c] = b[p * ldb + c];
      }
      b = panel;
      ldb = NC;
    }
  }
  const Index vectors = o.m / width;
  Index v = 0;
  for (; v + MB <= vectors; v += MB) tile<MB, NC, OpB>(o, v * width, column, b, ldb, consume);
  for (; v < vectors; ++v) tile<1, NC, OpB>(o, v * width, column, b, ldb, consume);
  if (const Index done = o.m % width; done != 0) {
    const auto keep = lanes_before<S>(width - done);
    tile<1, NC, OpB>(o, o.m - width, column, b, ldb, consume, &keep);
  }
}

template <Op OpB, class S, class Consume>
void tiled_product(const Operands<S>& o, Consume& consume) {
  Index column = 0;
  for (; column + 8 <= o.n; column += 8) column_block<8, OpB>(o, column, consume);
  if (o.n - column >= 4) {
    column_block<4, OpB>(o, column, consume);
    column += 4;
  }
  if (o.n - column >= 2) {
    column_block<2, OpB>(o, column, consume);
    column += 2;
  }
  if (o.n - column >= 1) column_block<1, OpB>(o, column, consume);
}

}  // namespace detail

// c = a b + bias 1ᵀ (bias: c.rows() values, or null for none), for tiles_rows<S>(c.rows()).
template <class S>
void multiply(MatrixView<S> c, ConstMatrixView<S> a, ConstMatrixView<S> b, const S* bias) {
  const Store<S> store{c.data()};
  detail::tiled_product<Op::plain>(
      detail::Operands<S>{c.rows(), c.cols(), a.cols(), a.data(), b.data(), b.rows(), bias}, store);
}

// Hands every vector of g = a bᵀ (a: m x k, b: n x k; g: m x n, column-major) to
// consume.apply(index of its first element, value[, lanes already given]) as soon as it is
// computed, for tiles_rows<S>(m); consume.prefetch(index) announces a vector a little before.
template <class S, class Consume>
void multiply_transposed(ConstMatrixView<S> a, ConstMatrixView<S> b, Consume& consume) {
  detail::tiled_product<Op::transposed>(
      detail::Operands<S>{a.rows(), b.rows(), a.cols(), a.data(), b.data(), b.rows(), nullptr},
      consume);
}

// c = a b + bias 1ᵀ (bias: M values, or null) for a result of M < one vector of rows (a readout
// of a few outputs at every step of a sequence), from aᵀ (k x M, so that each row of a is
// contiguous): each element is a dot product over k, vectorised along k with one accumulator per
// output and column of a tile of G columns and summed across lanes at the end; the k % width last
// terms are added one by one. Eigen's GEMM would pack all of b for these few rows.
template <int M, class S>
void multiply_narrow(MatrixView<S> c, ConstMatrixView<S> a_transposed, ConstMatrixView<S> b,
                     const S* bias) {
  using Batch = xsimd::batch<S>;
  constexpr Index width = Batch::size;
  constexpr int G = M <= 2 ? 4 : M <= 4 ? 2 : 1;  // at most 8 accumulators
  const Index k = b.rows(), full = k - k % width, n = b.cols();
  auto columns = [&]<int NC>(Index j) {
    Batch acc[M][NC];
    for (int o = 0; o < M; ++o)
      for (int q = 0; q < NC; ++q) acc[o][q] = Batch(S(0));
    for (Index p = 0; p < full; p += width) {
      Batch x[NC];
      for (int q = 0; q < NC; ++q) x[q] = Batch::load_unaligned(b.data() + (j + q) * k + p);
      for (int o = 0; o < M; ++o) {
        const Batch w = Batch::load_unaligned(a_transposed.data() + o * k + p);
        for (int q = 0; q < NC; ++q) acc[o][q] = xsimd::fma(w, x[q], acc[o][q]);
      }
    }
    for (int q = 0; q < NC; ++q) {
      for (int o = 0; o < M; ++o) {
        S sum = xsimd::hadd(acc[o][q]);
        for (Index p = full; p < k; ++p) sum += a_transposed(p, o) * b(p, j + q);
        c(o, j + q) = bias ? bias[o] + sum : sum;
      }
    }
  };
  Index j = 0;
  for (; j + G <= n; j += G) columns.template operator()<G>(j);
  for (; j < n; ++j) columns.template operator()<1>(j);
}

}  // namespace uinfo::simd
