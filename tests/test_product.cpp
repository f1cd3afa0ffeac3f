#include <catch2/catch.hpp>

#include "uinfo/core/product.hpp"
#include "uinfo/core/rng.hpp"

using namespace uinfo;

namespace {

Matrix<double> random_matrix(Index rows, Index cols, Engine& engine) {
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = engine.normal();
  return m;
}

ConstMatrixView<double> view(const Matrix<double>& m) {
  return {m.data(), m.rows(), m.cols()};
}

template <Op O>
Matrix<double> apply(const Matrix<double>& m) {
  if constexpr (O == Op::plain) {
    return m;
  } else {
    return m.transpose();
  }
}

// c = op(a) * op(b) through Product, against Eigen's product of explicit (transposed) copies.
template <Op OpA, Op OpB>
void check_shapes(Product<double>& product, Index m, Index n, Index k, Engine& engine) {
  const Matrix<double> a =
      OpA == Op::plain ? random_matrix(m, k, engine) : random_matrix(k, m, engine);
  const Matrix<double> b =
      OpB == Op::plain ? random_matrix(k, n, engine) : random_matrix(n, k, engine);
  const Matrix<double> expected = apply<OpA>(a) * apply<OpB>(b);
  Matrix<double> c = Matrix<double>::Constant(m, n, 7.0);  // assign must overwrite it
  product.assign<OpA, OpB>(MatrixView<double>(c.data(), m, n), view(a), view(b));
  INFO(m << " x " << k << " times " << k << " x " << n);
  CHECK((c - expected).cwiseAbs().maxCoeff() <= 1e-12 * (1 + expected.cwiseAbs().maxCoeff()) * k);

  const Matrix<double> start = random_matrix(m, n, engine);
  c = start;
  product.accumulate<OpA, OpB>(MatrixView<double>(c.data(), m, n), view(a), view(b));
  CHECK((c - (start + expected)).cwiseAbs().maxCoeff() <=
        1e-12 * (1 + expected.cwiseAbs().maxCoeff()) * k);
}

template <Op OpA, Op OpB>
void check_all_shapes() {
  Engine engine = Rng{5}.engine(Stream::user);
  Product<double> product;  // one workspace through growing and shrinking shapes
  const Index shapes[][3] = {{3, 4, 2},      {1, 7, 30},     {30, 1, 7},    {64, 32, 784},
                             {256, 88, 784}, {10, 256, 128}, {256, 3, 784}, {300, 300, 1}};
  for (const auto& [m, n, k] : shapes) check_shapes<OpA, OpB>(product, m, n, k, engine);
}

}  // namespace

TEST_CASE("Product matches Eigen's product for every transpose combination and shape",
          "[product]") {
  check_all_shapes<Op::plain, Op::plain>();
  check_all_shapes<Op::plain, Op::transposed>();
  check_all_shapes<Op::transposed, Op::plain>();
  check_all_shapes<Op::transposed, Op::transposed>();
}

TEST_CASE("a copied Product starts with its own workspace and gives the same results",
          "[product]") {
  Engine engine = Rng{6}.engine(Stream::user);
  Product<double> original;
  check_shapes<Op::plain, Op::plain>(original, 128, 64, 300, engine);
  Product<double> copy = original;
  check_shapes<Op::plain, Op::plain>(copy, 128, 64, 300, engine);
  check_shapes<Op::plain, Op::plain>(original, 128, 64, 300, engine);
}
