// Gaussian classes with identity covariance, whose exact posterior is a softmax: samples, and
// Shannon's I(Z;Y) on them, for tests of estimators against a known answer.
#pragma once

#include <cmath>
#include <numbers>
#include <vector>

#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo::testing {

struct Mixture {
  Matrix<double> means;  // features x classes
  std::vector<double> prior;

  Index features() const { return means.rows(); }
  Index classes() const { return means.cols(); }

  Label draw_label(Engine& engine) const {
    double u = engine.uniform(), cumulative = 0;
    for (std::size_t k = 0; k + 1 < prior.size(); ++k) {
      cumulative += prior[k];
      if (u < cumulative) return static_cast<Label>(k);
    }
    return static_cast<Label>(prior.size() - 1);
  }

  // log p(y | z) for the true model.
  double log_posterior(const Vector<double>& z, Label y) const {
    Vector<double> log_joint(classes());
    for (Index k = 0; k < classes(); ++k) {
      log_joint(k) =
          std::log(prior[static_cast<std::size_t>(k)]) - 0.5 * (z - means.col(k)).squaredNorm();
    }
    const double max = log_joint.maxCoeff();
    return log_joint(y) - max - std::log((log_joint.array() - max).exp().sum());
  }

  double prior_entropy_bits() const {
    double h = 0;
    for (const double p : prior) h -= p * std::log2(p);
    return h;
  }
};

struct Sample {
  Matrix<float> z;
  std::vector<Label> y;
};

inline Sample draw(const Mixture& m, Index n, Engine& engine) {
  Sample s{Matrix<float>(m.features(), n), std::vector<Label>(static_cast<std::size_t>(n))};
  for (Index j = 0; j < n; ++j) {
    const Label y = m.draw_label(engine);
    s.y[static_cast<std::size_t>(j)] = y;
    for (Index i = 0; i < m.features(); ++i) {
      s.z(i, j) = static_cast<float>(m.means(i, y) + engine.normal());
    }
  }
  return s;
}

// Shannon's I(Z;Y) on these samples from the exact posterior: mean of log2 p(y|z) / p(y). Paired
// with a decoder's estimate on the same samples, the sampling noise of the test set cancels.
inline double shannon_bits_on(const Mixture& m, const Sample& s) {
  double total = 0;
  for (Index j = 0; j < s.z.cols(); ++j) {
    const Label y = s.y[static_cast<std::size_t>(j)];
    const Vector<double> z = s.z.col(j).cast<double>();
    total += (m.log_posterior(z, y) - std::log(m.prior[static_cast<std::size_t>(y)])) /
             std::numbers::ln2;
  }
  return total / static_cast<double>(s.z.cols());
}

inline Mixture random_mixture(Index features, Index classes, double separation, Engine& engine) {
  Mixture m{
      Matrix<double>(features, classes),
      std::vector<double>(static_cast<std::size_t>(classes), 1.0 / static_cast<double>(classes))};
  for (Index i = 0; i < m.means.size(); ++i) m.means.data()[i] = separation * engine.normal();
  return m;
}

}  // namespace uinfo::testing
