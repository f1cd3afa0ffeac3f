// Log-softmax down the columns of a classes x samples matrix, vectorised across samples. A
// decoder's logits have a few classes per column, fewer than a vector holds, so a column at a time
// computes its exponentials and its logarithm one value at a time; here a block of `width`
// samples is transposed so that a vector holds one class of all of them, and transposed back.
// (xsimd 8's gather and scatter take a scalar path on AVX-512, slower than these copies.)
#pragma once

#include <cmath>

#include "uinfo/core/external.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/simd/math.hpp"

namespace uinfo::simd {

// log sum_c exp(z_c) of one column (an Eigen array), through its max so that large values do not
// overflow.
template <class Column>
auto log_sum_exp(const Column& z) {
  const auto max = z.maxCoeff();
  return max + std::log((z - max).exp().sum());
}

// out(k, j) = z(k, j) - log sum_c exp(z(c, j)), through the column's max so that large logits
// do not overflow. `out` (contiguous) must not overlap `z`.
template <Scalar S>
void log_softmax(ConstMatrixRef<S> z, MatrixView<S> out) {
  const Index classes = z.rows(), n = z.cols();
  Index j = 0;
#ifndef UINFO_NO_SIMD
  using Batch = xsimd::batch<S>;
  constexpr Index width = Batch::size;
  Matrix<S> block(width, classes);  // column c: class c of the block's samples
  const auto row = [&](Index c) { return Batch::load_unaligned(block.col(c).data()); };
  for (; j + width <= n; j += width) {
    block = z.middleCols(j, width).transpose();
    Batch max = row(0);
    for (Index c = 1; c < classes; ++c) max = xsimd::max(max, row(c));
    Batch sum(S(0));
    for (Index c = 0; c < classes; ++c) sum += simd::exp(row(c) - max);
    const Batch log_sum = max + xsimd::log(sum);
    for (Index c = 0; c < classes; ++c) (row(c) - log_sum).store_unaligned(block.col(c).data());
    out.middleCols(j, width) = block.transpose();
  }
#endif
  for (; j < n; ++j) out.col(j).array() = z.col(j).array() - log_sum_exp(z.col(j).array());
}

}  // namespace uinfo::simd
