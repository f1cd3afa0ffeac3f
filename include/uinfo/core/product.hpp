// Matrix products that allocate nothing in steady state.
//
// Eigen's GEMM packs blocks of its operands into a workspace that it places on the stack up to
// 128 KiB and otherwise mallocs on every call, which for a 784-wide layer means every training
// step. A Product keeps that workspace between calls, sized for the largest shape seen, and runs
// Eigen's own kernel on it. Vector and tiny products take Eigen's usual paths, which do not
// allocate.
#pragma once

#include <memory>

#include "uinfo/core/scratch.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

// Whether an operand enters the product as stored or transposed.
enum class Op { plain, transposed };

template <Scalar S>
class Product {
 public:
  // c += op(a) * op(b), with a, b and c column-major.
  template <Op OpA, Op OpB>
  void accumulate(MatrixView<S> c, ConstMatrixView<S> a, ConstMatrixView<S> b) {
    const Index m = c.rows(), n = c.cols();
    const Index k = OpA == Op::plain ? a.cols() : a.rows();
    if (m == 0 || n == 0 || k == 0) return;
    if (k == 1) {  // an outer product, e.g. a weight gradient at batch 1
      c.noalias() += operand<OpA>(a).col(0) * operand<OpB>(b).row(0);
      return;
    }
    if (m == 1 || n == 1 || m + n + k < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {
      c.noalias() += operand<OpA>(a) * operand<OpB>(b);  // GEMV or a coefficient-wise product
      return;
    }
    constexpr int lhs_order = OpA == Op::plain ? Eigen::ColMajor : Eigen::RowMajor;
    constexpr int rhs_order = OpB == Op::plain ? Eigen::ColMajor : Eigen::RowMajor;
    Eigen::internal::general_matrix_matrix_product<Index, S, lhs_order, false, S, rhs_order, false,
                                                   Eigen::ColMajor, 1>::run(m, n, k, a.data(),
                                                                            a.rows(), b.data(),
                                                                            b.rows(), c.data(), 1,
                                                                            c.rows(), S(1),
                                                                            blocking(m, n, k));
  }

  // c = op(a) * op(b)
  template <Op OpA, Op OpB>
  void assign(MatrixView<S> c, ConstMatrixView<S> a, ConstMatrixView<S> b) {
    c.setZero();
    accumulate<OpA, OpB>(c, a, b);
  }

 private:
  using Blocking = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, S, S, Eigen::Dynamic,
                                                        Eigen::Dynamic, Eigen::Dynamic>;

  template <Op O>
  static auto operand(ConstMatrixView<S> x) {
    if constexpr (O == Op::plain) {
      return x;
    } else {
      return x.transpose();
    }
  }

  // Block sizes computed for a larger problem serve a smaller one: the kernel clamps them, and
  // the packed blocks only get smaller.
  Blocking& blocking(Index m, Index n, Index k) {
    Workspace& w = workspace_.value;
    if (!w.blocking || m > w.m || n > w.n || k > w.k) {
      w.m = std::max(m, w.m);
      w.n = std::max(n, w.n);
      w.k = std::max(k, w.k);
      w.blocking = std::make_unique<Blocking>(w.m, w.n, w.k, 1, true);
      w.blocking->allocateAll();
    }
    return *w.blocking;
  }

  // The packed blocks and the largest shape they were sized for; a copied Product starts with
  // none of them.
  struct Workspace {
    std::unique_ptr<Blocking> blocking;
    Index m = 0, n = 0, k = 0;
  };
  Scratch<Workspace> workspace_;
};

}  // namespace uinfo
