#include <catch2/catch.hpp>

#include <array>
#include <utility>
#include <vector>

#include "uinfo/core/product.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/scratch.hpp"
#include "uinfo/simd/gemm.hpp"

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

TEST_CASE("a copied Scratch starts empty and a moved one keeps its storage", "[product]") {
  Scratch<std::vector<int>> original;
  original.value = {1, 2, 3};
  const int* storage = original.value.data();
  Scratch<std::vector<int>> copy = original;
  CHECK(copy.value.empty());
  copy = original;
  CHECK(copy.value.empty());
  Scratch<std::vector<int>> moved = std::move(original);
  CHECK(moved.value.data() == storage);
}

namespace {

// A consumer of simd::multiply_transposed that records every value it is given and counts how
// often each element is given, lanes marked as already given excluded.
template <class S>
struct Recorder {
  using Batch = xsimd::batch<S>;
  Matrix<S>& values;
  Matrix<int>& given;
  void prefetch(Index) const {}
  void apply(Index i, Batch value) const { apply(i, value, Batch(S(0)) != Batch(S(0))); }
  void apply(Index i, Batch value, xsimd::batch_bool<S> keep) const {
    std::array<S, Batch::size> v{}, kept{};
    value.store_unaligned(v.data());
    xsimd::select(keep, Batch(S(1)), Batch(S(0))).store_unaligned(kept.data());
    for (std::size_t lane = 0; lane < v.size(); ++lane) {
      if (kept[lane] != 0) continue;
      values.data()[i + static_cast<Index>(lane)] = v[lane];
      ++given.data()[i + static_cast<Index>(lane)];
    }
  }
};

// The tiled products against Eigen's, on shapes that take every tile: rows a multiple of the
// vector width or not (an overlapping last vector), column counts with every remainder block
// (8, 4, 2, 1), empty sums, and sums too long for bᵀ to be packed.
template <class S>
void check_tiled_products() {
  Engine engine = Rng{7}.engine(Stream::user);
  const Index width = xsimd::batch<S>::size;
  auto random = [&](Index rows, Index cols) {
    return random_matrix(rows, cols, engine).template cast<S>().eval();
  };
  for (const Index m : {width, width + 1, 2 * width - 1, 2 * width, Index{37}, Index{100}}) {
    for (const Index n : {1, 2, 3, 5, 8, 13, 20}) {
      for (const Index k : {0, 1, 7, 64, 600}) {
        INFO(m << " x " << n << ", sums of " << k);
        const double tolerance = 1e-6 * (1 + static_cast<double>(k));
        const Matrix<S> w = random(m, k), x = random(k, n), bias = random(m, 1);
        Matrix<S> y(m, n);
        simd::multiply<S>(MatrixView<S>(y.data(), m, n), {w.data(), m, k}, {x.data(), k, n},
                          bias.data());
        const Matrix<S> expected_y = (w * x).colwise() + bias.col(0);
        CHECK((y - expected_y).template cast<double>().cwiseAbs().maxCoeff() <= tolerance);

        const Matrix<S> dy = random(m, k), input = random(n, k);
        Matrix<S> g = Matrix<S>::Constant(m, n, S(7)), recorded(m, n);
        Matrix<int> given = Matrix<int>::Zero(m, n);
        const simd::Store<S> store{g.data()};
        simd::multiply_transposed<S>({dy.data(), m, k}, {input.data(), n, k}, store);
        const Matrix<S> expected_g = dy * input.transpose();
        CHECK((g - expected_g).template cast<double>().cwiseAbs().maxCoeff() <= tolerance);
        const Recorder<S> recorder{recorded, given};
        simd::multiply_transposed<S>({dy.data(), m, k}, {input.data(), n, k}, recorder);
        CHECK((given.array() == 1).all());  // every element exactly once
        CHECK(recorded == g);               // the same values, bit for bit, stored or consumed
      }
    }
  }
}

}  // namespace

TEST_CASE("tiled products match Eigen's and give every element once", "[product][simd]") {
  check_tiled_products<float>();
  check_tiled_products<double>();
}

namespace {

// The narrow product (fewer result rows than a vector) against Eigen's, for every row count it
// is instantiated with below a vector, sums of a vector's length, with a tail and long, and
// column counts around its tiles of 4, 2 and 1.
template <class S, int M>
void check_narrow_product(Engine& engine) {
  const Index width = xsimd::batch<S>::size;
  if (M >= width) return;
  for (const Index k : {width, width + 3, 3 * width, Index{300}}) {
    for (const Index n : {1, 2, 3, 4, 5, 7, 9, 20}) {
      INFO(M << " x " << n << ", sums of " << k);
      const Matrix<S> w = random_matrix(M, k, engine).template cast<S>(),
                      x = random_matrix(k, n, engine).template cast<S>(),
                      bias = random_matrix(M, 1, engine).template cast<S>();
      const Matrix<S> w_transposed = w.transpose();
      Matrix<S> y = Matrix<S>::Constant(M, n, S(7));
      simd::multiply_narrow<M, S>(MatrixView<S>(y.data(), M, n), {w_transposed.data(), k, M},
                                  {x.data(), k, n}, bias.data());
      const Matrix<S> expected = (w * x).colwise() + bias.col(0);
      CHECK((y - expected).template cast<double>().cwiseAbs().maxCoeff() <=
            1e-6 * static_cast<double>(k));
      simd::multiply_narrow<M, S>(MatrixView<S>(y.data(), M, n), {w_transposed.data(), k, M},
                                  {x.data(), k, n}, nullptr);
      CHECK((y - w * x).template cast<double>().cwiseAbs().maxCoeff() <=
            1e-6 * static_cast<double>(k));
    }
  }
}

template <class S>
void check_narrow_products() {
  Engine engine = Rng{8}.engine(Stream::user);
  check_narrow_product<S, 1>(engine);
  check_narrow_product<S, 2>(engine);
  check_narrow_product<S, 3>(engine);
  check_narrow_product<S, 5>(engine);
  check_narrow_product<S, 7>(engine);
  check_narrow_product<S, 15>(engine);
}

}  // namespace

TEST_CASE("the narrow product matches Eigen's", "[product][simd]") {
  check_narrow_products<float>();
  check_narrow_products<double>();
}
