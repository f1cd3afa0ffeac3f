// The products a recurrent layer makes with its recurrent weights W (m x n: n units in, m
// values out, e.g. 4 gates per unit): at every step y += W r (forward) and y = Wᵀ g
// (backpropagation through time), with r and g one step's block of trials, and once per pass the
// weight gradient g rᵀ over all steps. The weights are fixed for a whole pass, so prepare() lays
// them out once, W and Wᵀ, as block-sparse matrices (simd/block_sparse.hpp): zeros that fill a
// block's column, as absent connections between areas do, are skipped by all three products.
//
// The weight gradient is computed on the weights' structure: the entries where W is non-zero, or
// where `also_in_gradient` (given to prepare) is. A zero effective weight needs no gradient when
// its constraint's derivative is zero there (a rectified weight at or below zero, an absent
// connection with any positivity); without a positivity a zero weight that learns must be marked
// in also_in_gradient. Entries outside the structure get 0.
#pragma once

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/simd/block_sparse.hpp"

namespace uinfo::simd {

template <Scalar S>
class RecurrentProduct {
 public:
  // Takes the weights of the coming pass; also_in_gradient is empty or W's size. No allocation
  // once sized.
  void prepare(const Matrix<S>& w, const Matrix<S>& also_in_gradient = Matrix<S>()) {
    const Index m = w.rows(), n = w.cols();
    extended_ = also_in_gradient.size() != 0;
    laid_out_ = BlockSparse<S>::fits(m) && BlockSparse<S>::fits(n);
    if (!laid_out_) {  // too narrow for a vector: Eigen's products on a copy
      w_ = w;
      also_ = also_in_gradient;
      return;
    }
    forward_.assign(
        m, n, [&](Index i, Index j) { return w(i, j) != S(0); },
        [&](Index i, Index j) { return w(i, j); });
    transposed_ = w.transpose();
    backward_.assign(
        n, m, [&](Index i, Index j) { return transposed_(i, j) != S(0); },
        [&](Index i, Index j) { return transposed_(i, j); });
    if (extended_) {
      gradient_.assign(
          m, n, [&](Index i, Index j) { return w(i, j) != S(0) || also_in_gradient(i, j) != S(0); },
          [](Index, Index) { return S(0); }, false);
    }
  }

  // y += W r
  void accumulate(MatrixView<S> y, ConstMatrixView<S> r) {
    if (!laid_out_) {
      forward_product_.template accumulate<Op::plain, Op::plain>(y, view(w_), r);
      return;
    }
    forward_.multiply(r.data(), r.rows(), y.data(), y.rows(), y.cols(), true);
  }

  // y = Wᵀ g
  void assign_transposed(MatrixView<S> y, ConstMatrixView<S> g) {
    if (!laid_out_) {
      backward_product_.template assign<Op::transposed, Op::plain>(y, view(w_), g);
      return;
    }
    backward_.multiply(g.data(), g.rows(), y.data(), y.rows(), y.cols(), false);
  }

  // dw = g rᵀ (g: m x k, r: n x k) on the weights' structure, 0 elsewhere; `add`: added to dw.
  void weight_gradient(MatrixView<S> dw, ConstMatrixView<S> g, ConstMatrixView<S> r,
                       bool add = false) {
    if (!laid_out_) {
      dense_gradient_.resize(dw.rows(), dw.cols());
      gradient_product_.template assign<Op::plain, Op::transposed>(
          MatrixView<S>(dense_gradient_.data(), dw.rows(), dw.cols()), g, r);
      for (Index i = 0; i < dw.size(); ++i) {
        const bool kept = w_.data()[i] != S(0) || (extended_ && also_.data()[i] != S(0));
        const S value = kept ? dense_gradient_.data()[i] : S(0);
        dw.data()[i] = add ? dw.data()[i] + value : value;
      }
      return;
    }
    const BlockSparse<S>& layout = extended_ ? gradient_ : forward_;
    auto entries = entries_.reshape(layout.entries() * BlockSparse<S>::width, 1);
    layout.outer_products(g.data(), g.rows(), r.data(), r.rows(), g.cols(), entries.data());
    layout.scatter(entries.data(), dw.data(), add);
  }

  // Multiply-adds of the three products per column of r or g (each lane of a kept block column
  // counts, zero or not): what the kernels execute.
  Index multiply_adds_per_column() const {
    if (!laid_out_) return 3 * w_.size();
    const Index gradient = (extended_ ? gradient_ : forward_).entries();
    return (forward_.entries() + backward_.entries() + gradient) * BlockSparse<S>::width;
  }

 private:
  static ConstMatrixView<S> view(const Matrix<S>& m) { return {m.data(), m.rows(), m.cols()}; }

  bool laid_out_ = false, extended_ = false;
  BlockSparse<S> forward_, backward_, gradient_;
  Matrix<S> transposed_;
  Buffer<S> entries_;  // the weight gradient's entries, as outer_products writes them
  // Below one vector of rows:
  Matrix<S> w_, also_, dense_gradient_;
  Product<S> forward_product_, backward_product_, gradient_product_;
};

}  // namespace uinfo::simd
