// The recurrent layers' products (simd/block_sparse.hpp, simd/recurrent_product.hpp) against
// plain sums in long double, for shapes below, at and beyond a vector of rows, with tails, on
// dense, sparse and block-structured weights (the multi-area network's), and for any number of
// trials at once.
#include <catch2/catch.hpp>

#include <uinfo/uinfo.hpp>

#include <string>
#include <vector>

using namespace uinfo;

namespace {

enum class Structure { dense, sparse, areas, empty_columns, zero };

std::string to_string(Structure s) {
  const char* names[] = {"dense", "sparse", "areas", "empty columns", "zero"};
  return names[static_cast<int>(s)];
}

// An m x n matrix with N(0, 1) entries where the structure has them.
template <class S>
Matrix<S> weights(Index m, Index n, Structure structure, Engine& engine) {
  Matrix<S> w(m, n);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < m; ++i) {
      bool present = true;
      switch (structure) {
        case Structure::dense:
          break;
        case Structure::sparse:
          present = engine.uniform() < 0.1;
          break;
        case Structure::areas:  // three diagonal blocks, sparse links between neighbours
          if (3 * i / m != 3 * j / n)
            present = (3 * i / m + 1 == 3 * j / n || 3 * j / n + 1 == 3 * i / m) &&
                      engine.uniform() < 0.1;
          break;
        case Structure::empty_columns:
          present = j % 3 != 1;
          break;
        case Structure::zero:
          present = false;
      }
      w(i, j) = present ? static_cast<S>(engine.normal()) : S(0);
    }
  }
  return w;
}

template <class S>
Matrix<S> normal_matrix(Index m, Index n, Engine& engine) {
  Matrix<S> x(m, n);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(engine.normal());
  return x;
}

// |got - sum| within the rounding of `terms` additions of the sum of absolute terms, per element.
template <class S>
void require_close(const Matrix<S>& got, const Matrix<long double>& sum,
                   const Matrix<long double>& magnitude, Index terms, const std::string& what) {
  const long double eps = std::numeric_limits<S>::epsilon() * static_cast<long double>(terms + 1);
  double worst = 0;
  for (Index i = 0; i < got.size(); ++i) {
    const long double error = std::abs(static_cast<long double>(got.data()[i]) - sum.data()[i]);
    const long double bound = eps * magnitude.data()[i] + 1e-30L;
    worst = std::max(worst, static_cast<double>(error / bound));
  }
  INFO(what << ": worst error / bound " << worst);
  CHECK(worst <= 1);
}

template <class S>
void check_products(Index m, Index n, Index trials, Structure structure) {
  Engine engine = Rng{static_cast<std::uint64_t>(m * 1000 + n * 10 + trials)}.engine(Stream::user);
  const Matrix<S> w = weights<S>(m, n, structure, engine);
  const Matrix<S> r = normal_matrix<S>(n, trials, engine), g = normal_matrix<S>(m, trials, engine),
                  y0 = normal_matrix<S>(m, trials, engine);
  const Index steps = 3;  // the gradient sums over steps x trials columns
  const Matrix<S> gs = normal_matrix<S>(m, steps * trials, engine),
                  rs = normal_matrix<S>(n, steps * trials, engine);
  simd::RecurrentProduct<S> product;
  product.prepare(w);
  const std::string what = "W " + std::to_string(m) + " x " + std::to_string(n) + " (" +
                           to_string(structure) + "), " + std::to_string(trials) + " trials";

  const Matrix<long double> wl = w.template cast<long double>(), wa = wl.cwiseAbs();
  Matrix<S> y = y0;
  product.accumulate(MatrixView<S>(y.data(), m, trials), ConstMatrixView<S>(r.data(), n, trials));
  require_close(
      y, y0.template cast<long double>() + wl * r.template cast<long double>(),
      y0.template cast<long double>().cwiseAbs() + wa * r.template cast<long double>().cwiseAbs(),
      n + 1, what + ", y += W r");

  Matrix<S> back = Matrix<S>::Constant(n, trials, S(7));  // overwritten
  product.assign_transposed(MatrixView<S>(back.data(), n, trials),
                            ConstMatrixView<S>(g.data(), m, trials));
  require_close(back, wl.transpose() * g.template cast<long double>(),
                wa.transpose() * g.template cast<long double>().cwiseAbs(), m, what + ", y = Wᵀ g");

  // The gradient: on W's non-zero entries, 0 elsewhere; added with `add`.
  Matrix<S> dw = Matrix<S>::Constant(m, n, S(7));
  product.weight_gradient(MatrixView<S>(dw.data(), m, n),
                          ConstMatrixView<S>(gs.data(), m, steps * trials),
                          ConstMatrixView<S>(rs.data(), n, steps * trials));
  const Matrix<long double> full =
      gs.template cast<long double>() * rs.template cast<long double>().transpose();
  const Matrix<long double> full_magnitude = gs.template cast<long double>().cwiseAbs() *
                                             rs.template cast<long double>().cwiseAbs().transpose();
  const auto on_w = (w.array() != S(0)).template cast<long double>().matrix();
  require_close(dw, full.cwiseProduct(on_w), full_magnitude, steps * trials,
                what + ", g rᵀ on W's structure");
  CHECK(((w.array() == S(0)) <= (dw.array() == S(0))).all());
  Matrix<S> twice = dw;
  product.weight_gradient(MatrixView<S>(twice.data(), m, n),
                          ConstMatrixView<S>(gs.data(), m, steps * trials),
                          ConstMatrixView<S>(rs.data(), n, steps * trials), true);
  require_close(twice, 2 * full.cwiseProduct(on_w), 2 * full_magnitude, steps * trials + 1,
                what + ", added");

  // Entries marked in also_in_gradient join the structure.
  Matrix<S> also = Matrix<S>::Zero(m, n);
  also(m - 1, 0) = 1;
  also(0, n - 1) = 1;
  product.prepare(w, also);
  product.weight_gradient(MatrixView<S>(dw.data(), m, n),
                          ConstMatrixView<S>(gs.data(), m, steps * trials),
                          ConstMatrixView<S>(rs.data(), n, steps * trials));
  const auto on_both =
      ((w.array() != S(0)) || (also.array() != S(0))).template cast<long double>().matrix();
  require_close(dw, full.cwiseProduct(on_both), full_magnitude, steps * trials,
                what + ", with also_in_gradient");

  // Laid out, the sums do not depend on how many trials are multiplied at once: bit for bit.
  // (Narrower weights take Eigen's products.)
  if (!simd::BlockSparse<S>::fits(m) || !simd::BlockSparse<S>::fits(n)) return;
  Matrix<S> one_by_one = y0;
  product.prepare(w);
  for (Index b = 0; b < trials; ++b) {
    product.accumulate(MatrixView<S>(one_by_one.col(b).data(), m, 1),
                       ConstMatrixView<S>(r.col(b).data(), n, 1));
  }
  INFO(what);
  CHECK(one_by_one == y);
}

// Vector widths: 8 floats, 4 doubles.
const std::vector<Index> sizes{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100};
const std::vector<Index> trial_counts{1, 2, 3, 5, 8, 13, 16, 17, 20, 32, 37};

}  // namespace

TEMPLATE_TEST_CASE("recurrent products agree with plain sums on every shape", "[simd][recurrent]",
                   float, double) {
  for (const Index m : sizes) {
    for (const Index n : sizes) {
      check_products<TestType>(m, n,
                               trial_counts[static_cast<std::size_t>(m + n) % trial_counts.size()],
                               Structure::dense);
    }
  }
  for (const Index trials : trial_counts)
    check_products<TestType>(17, 17, trials, Structure::dense);
}

TEMPLATE_TEST_CASE("recurrent products skip zeros without changing a result", "[simd][recurrent]",
                   float, double) {
  for (const Structure structure :
       {Structure::sparse, Structure::areas, Structure::empty_columns, Structure::zero}) {
    for (const Index n : {Index{9}, Index{30}, Index{100}}) {
      check_products<TestType>(n, n, 20, structure);
      check_products<TestType>(4 * n, n, 7, structure);  // an LSTM's four gates
    }
  }
}

TEST_CASE("the multi-area network's recurrent weights are laid out without most of their zeros",
          "[simd][recurrent]") {
  const MultiAreaCircuit circuit({});
  const Matrix<float> w = circuit.recurrent_mask().cast<float>();
  if (!simd::BlockSparse<float>::fits(w.rows())) return;  // built without vectors: dense
  simd::RecurrentProduct<float> product;
  product.prepare(w);
  const double non_zero = w.sum();  // 35% of 300 x 300
  const double zeros = static_cast<double>(w.size()) - non_zero;
  // Per column of r each of the three products executes what it keeps of W: every non-zero
  // entry, and the zeros that share a kept block column with one (16-row blocks of AVX-512 keep
  // 81% of the feed-forward and 56% of the feedback block columns, whose links have
  // probabilities 0.1 and 0.05 per pair: 20k of the 58k zeros).
  const double kept = static_cast<double>(product.multiply_adds_per_column()) / 3;
  INFO("kept " << kept << " of " << non_zero << " non-zero entries and " << zeros << " zeros");
  CHECK(kept >= non_zero);
  CHECK(kept - non_zero < 0.4 * zeros);  // most zeros skipped
}
