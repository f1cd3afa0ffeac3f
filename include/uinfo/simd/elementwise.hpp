// Elementwise kernels, written once for scalars and xsimd batches.
//
// An op is a function object whose call operator is a template, valid both for `Scalar` and for
// `xsimd::batch<Scalar>`; the same op then runs vectorised (`map`, `zip`) or one element at a
// time (`map_scalar`, `zip_scalar`), and the tests check that the two agree; `transform` takes
// any number of inputs.
// Define UINFO_NO_SIMD to make the vectorised entry points use the scalar loops.
#pragma once

#include <cmath>

#include "uinfo/core/external.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

// Scalar counterparts of xsimd's batch-only operations, so ops can be written once.
template <class T>
T select(bool condition, T if_true, T if_false) {
  return condition ? if_true : if_false;
}
using xsimd::select;

// out[i] = op(in[i]...) for any number of inputs, one element at a time.
template <class S, class Op, class... In>
void transform_scalar(S* out, Index n, Op op, const In*... in) {
  for (Index i = 0; i < n; ++i) out[i] = op(in[i]...);
}

// The same, vectorised (out may be one of the inputs).
template <class S, class Op, class... In>
void transform(S* out, Index n, Op op, const In*... in) {
#ifdef UINFO_NO_SIMD
  transform_scalar(out, n, op, in...);
#else
  using Batch = xsimd::batch<S>;
  constexpr Index width = Batch::size;
  Index i = 0;
  for (; i + width <= n; i += width) op(Batch::load_unaligned(in + i)...).store_unaligned(out + i);
  transform_scalar(out + i, n - i, op, (in + i)...);
#endif
}

// out[i] = op(in[i])
template <class S, class Op>
void map_scalar(const S* in, S* out, Index n, Op op) {
  transform_scalar(out, n, op, in);
}
template <class S, class Op>
void map(const S* in, S* out, Index n, Op op) {
  transform(out, n, op, in);
}

// out[i] = op(a[i], b[i])
template <class S, class Op>
void zip_scalar(const S* a, const S* b, S* out, Index n, Op op) {
  transform_scalar(out, n, op, a, b);
}
template <class S, class Op>
void zip(const S* a, const S* b, S* out, Index n, Op op) {
  transform(out, n, op, a, b);
}

// out[i] = in[i]; returns whether every value was finite.
template <class S>
bool copy_finite_scalar(const S* in, S* out, Index n) {
  bool finite = true;
  for (Index i = 0; i < n; ++i) {
    out[i] = in[i];
    finite = finite && std::isfinite(in[i]);
  }
  return finite;
}

// The same, vectorised. The check rides on the copy's loads, so the values are read once
// (checking first, then copying, read a batch from memory twice). The tail is a call, not a
// loop continuing from the vector loop's index: GCC 12 mistook that loop for one running past
// an array of known length (-Waggressive-loop-optimizations).
template <class S>
bool copy_finite(const S* in, S* out, Index n) {
#ifdef UINFO_NO_SIMD
  return copy_finite_scalar(in, out, n);
#else
  using Batch = xsimd::batch<S>;
  constexpr Index width = Batch::size;
  bool finite = true;
  Index i = 0;
  for (; i + width <= n; i += width) {
    const Batch v = Batch::load_unaligned(in + i);
    v.store_unaligned(out + i);
    finite = xsimd::all(xsimd::isfinite(v)) && finite;
  }
  return copy_finite_scalar(in + i, out + i, n - i) && finite;
#endif
}

}  // namespace uinfo::simd
