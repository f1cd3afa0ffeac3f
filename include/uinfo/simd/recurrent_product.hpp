// The products a recurrent layer makes at every step with its n x n recurrent weights W:
// y += W r (forward) and y = Wᵀ g (backpropagation through time), with r and g one step's
// n x trials block. The weights are fixed for a whole pass, so prepare() may lay them out once.
#pragma once

#include "uinfo/core/product.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::simd {

template <Scalar S>
class RecurrentProduct {
 public:
  // Takes (a copy of) the weights of the coming pass; no allocation once sized.
  void prepare(const Matrix<S>& w) { w_ = w; }

  // y += W r
  void accumulate(MatrixView<S> y, ConstMatrixView<S> r) {
    forward_.template accumulate<Op::plain, Op::plain>(y, view(), r);
  }

  // y = Wᵀ g
  void assign_transposed(MatrixView<S> y, ConstMatrixView<S> g) {
    backward_.template assign<Op::transposed, Op::plain>(y, view(), g);
  }

 private:
  ConstMatrixView<S> view() const { return {w_.data(), w_.rows(), w_.cols()}; }

  Matrix<S> w_;
  Product<S> forward_, backward_;
};

}  // namespace uinfo::simd
