// Choosing a linear decoder's L2 penalty from the data. A decoder fitted to n samples falls short
// of the information that is there by about p / 2n nats when it is barely regularised, and by
// more when it is regularised too much; the penalty that predicts held-out samples best is the one
// to use, and it depends on the representation, the labels and n. Two criteria estimate the
// held-out cross-entropy of each penalty from the training split alone:
//  - k-fold cross-validation (any number of classes): the decoder is refitted k times per penalty,
//    each fold's fit starting from the previous penalty's (a warm-started path);
//  - approximate leave-one-out cross-validation for two classes (Rad & Maleki 2020, "A scalable
//    estimate of the out-of-sample prediction error via approximate leave-one-out", JRSS B): one
//    Newton step from the fit to all samples removes each sample in closed form, so the criterion
//    of every penalty near the fitted one costs a few passes over the samples, not a fit.
// Both search a logarithmic grid from where the last search ended (a probe of a slowly changing
// layer starts next to its answer) and refine the minimum by a parabola in log(l2).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/optim/common.hpp"

namespace uinfo {

enum class L2Choice {
  cross_validation,  // k-fold (L2Search::folds) on the training split
  leave_one_out,     // approximate leave-one-out, in closed form; two classes only
  evidence,          // the Laplace approximation's marginal likelihood (MacKay); two classes
  automatic,         // evidence for two classes, cross_validation otherwise
};

inline std::string to_string(L2Choice choice) {
  switch (choice) {
    case L2Choice::cross_validation:
      return "cv";
    case L2Choice::leave_one_out:
      return "loo";
    case L2Choice::evidence:
      return "evidence";
    case L2Choice::automatic:
      return "auto";
  }
  return "unknown";
}

// The search of the penalty (l2 / 2) ||W||^2 added to the mean cross-entropy, on the decoder's
// whitened features, where the penalties that matter lie between 1e-6 (barely regularised) and 1
// (weights shrunk to a fraction of their unpenalised size).
struct L2Search {
  L2Choice choice = L2Choice::automatic;
  int folds = 5;
  double smallest = 1e-7, largest = 10;
  double start = 1e-3;        // where the first search starts; later ones start at the last answer
  double step_decades = 0.5;  // the grid's spacing
  // Cross-validation folds stop L-BFGS at this gradient (or the decoder's own tolerance, if
  // looser): their held-out losses decide between penalties a half decade apart, which differ
  // by far more than the fits' remaining error.
  double fold_tolerance = 1e-4;
};

namespace detail {

inline void require_search(const L2Search& s) {
  require_option(s.folds >= 2,
                 "L2Search: folds is " + std::to_string(s.folds) + "; expected at least 2");
  require_option(s.smallest > 0 && s.largest > s.smallest && s.start > 0,
                 "L2Search: expected 0 < smallest < largest and a positive start");
  require_option(s.step_decades > 0, "L2Search: step_decades must be positive");
}

struct GridMinimum {
  double best = 0;     // the grid point with the lowest criterion
  double refined = 0;  // the minimum of the parabola through it and its neighbours, in log(l2)
  int evaluations = 0;
};

// The minimum of criterion(l2) over the grid 10^(k step_decades) within [smallest, largest]
// (fixed, so that successive searches meet the same points): from the grid point nearest
// `start`, a step down and, if that is worse, up, then on in the better direction while the
// criterion falls. A criterion still falling at a bound gives the bound.
template <class Criterion>
GridMinimum minimize_on_log_grid(Criterion&& criterion, const L2Search& s) {
  const double step = s.step_decades;
  const auto lowest = static_cast<long>(std::ceil(std::log10(s.smallest) / step - 1e-9));
  const auto highest = static_cast<long>(std::floor(std::log10(s.largest) / step + 1e-9));
  GridMinimum result;
  const auto l2_at = [&](long k) { return std::pow(10.0, static_cast<double>(k) * step); };
  const double infinity = std::numeric_limits<double>::infinity();
  const auto value_at = [&](long k) {
    if (k < lowest || k > highest) return infinity;
    ++result.evaluations;
    return criterion(l2_at(k));
  };
  long k = std::clamp(std::lround(std::log10(s.start) / step), lowest, highest);
  double f = value_at(k);
  double below = value_at(k - 1), above = infinity;
  long direction = -1;
  if (!(below < f)) {
    above = value_at(k + 1);
    direction = 1;
  }
  double& ahead = direction < 0 ? below : above;
  double& behind = direction < 0 ? above : below;
  while (ahead < f) {  // walk on while the next point is better
    behind = f;
    f = ahead;
    k += direction;
    ahead = value_at(k + direction);
  }
  result.best = result.refined = l2_at(k);
  const double curvature = below - 2 * f + above;
  if (std::isfinite(curvature) && curvature > 0) {
    const double shift = 0.5 * (below - above) / curvature;  // in steps, within half of one
    result.refined = std::pow(10.0, (static_cast<double>(k) + shift) * step);
  }
  return result;
}

// The logit beta' x_i + bias of every sample (a column of x), in the features' precision.
template <Scalar S>
Vector<double> binary_logits(const Matrix<S>& x, const Vector<double>& beta, double bias) {
  Vector<S> logits = (beta.transpose().template cast<S>() * x).transpose();
  logits.array() += static_cast<S>(bias);
  return logits.template cast<double>();
}

// The approximate leave-one-out cross-entropy of a two-class logistic regression fit.
//
// The decoder's two rows w0, w1 act through beta = w1 - w0 (w0 = -w1 at the optimum), so its
// objective, n times the mean cross-entropy plus (n l2 / 2)(|w0|^2 + |w1|^2), is the two-class
// sum of losses plus (alpha / 2)|beta|^2 with alpha = n l2 / 2. With the Hessian
// H = sum_i d_i x~_i x~_i' + alpha P (x~ = [x; 1], d_i = p_i (1 - p_i), no penalty on the bias),
// one Newton step from the fit to all samples to the fit without sample i moves its logit to
//     eta_i + (p_i - y_i) h_i / (1 - d_i h_i),    h_i = x~_i' H^-1 x~_i,
// and the mean loss at those logits estimates the leave-one-out cross-entropy (within 1e-3 nats
// of refitting without each sample in turn, in the tests). It costs two products of the
// features' size (H and the leverages h_i), not a fit per sample. (Scoring other penalties from
// the same fit by one more Newton step is not good enough: the curvatures d_i move with the
// penalty, and the criterion's minimum with them.)
template <Scalar S>
double binary_leave_one_out_loss(const Matrix<S>& x, std::span<const Label> y,
                                 const Vector<double>& beta, double bias, double l2) {
  const Index d = x.rows(), n = x.cols();
  const Vector<double> eta = binary_logits(x, beta, bias);
  const Vector<double> curvature = eta.unaryExpr([](double z) {
    const double p = 1 / (1 + std::exp(-z));
    return p * (1 - p);
  });
  // H, in the features' precision where it is a product over the samples (those are the cost).
  Matrix<S> augmented(d + 1, n);
  augmented.topRows(d) = x;
  augmented.row(d).setOnes();
  const Matrix<S> scaled = augmented * curvature.cwiseSqrt().template cast<S>().asDiagonal();
  Matrix<S> products = Matrix<S>::Zero(d + 1, d + 1);
  products.template selfadjointView<Eigen::Lower>().rankUpdate(scaled);
  Matrix<double> hessian =
      Matrix<S>(products.template selfadjointView<Eigen::Lower>()).template cast<double>();
  hessian.diagonal().head(d).array() += static_cast<double>(n) * l2 / 2;
  // A tiny ridge on the bias's entry keeps H invertible when every p_i is 0 or 1.
  hessian(d, d) += 1e-12 * static_cast<double>(n);
  const Eigen::LLT<Matrix<double>> cholesky(hessian);
  // h_i = |L^-1 x~_i|^2.
  const Matrix<S> lower = Matrix<double>(cholesky.matrixL()).template cast<S>();
  lower.template triangularView<Eigen::Lower>().solveInPlace(augmented);
  const Vector<double> leverage =
      augmented.colwise().squaredNorm().transpose().template cast<double>();
  double total = 0;
  for (Index i = 0; i < n; ++i) {
    const double label = y[static_cast<std::size_t>(i)];
    const double p = 1 / (1 + std::exp(-eta(i)));
    const double shrink = std::max(1 - curvature(i) * leverage(i), 1e-12);
    const double z = eta(i) + (p - label) * leverage(i) / shrink;
    total += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - label * z;
  }
  return total / static_cast<double>(n);
}

// The evidence (MacKay 1992) of a two-class logistic regression fit. A Gaussian prior of
// precision alpha on beta = w1 - w0 makes the penalised fit the posterior mode, and the marginal
// likelihood of the labels, in the Laplace approximation around it, is
//     log Z(alpha) = -sum_i loss_i - (alpha / 2)|beta|^2 + (1/2) sum_j log(alpha / (s_j + alpha))
//                    - (1/2) log c + const,
// with s_j the eigenvalues of the loss's Hessian over beta once its bias entry c is eliminated
// (as in the leave-one-out criterion), the bias under a flat prior. It is stationary where
// alpha |beta|^2 = gamma = sum_j s_j / (s_j + alpha), the number of directions the data
// determine: `next_l2` is the penalty that condition gives for this fit (iterating fit and update
// climbs the evidence), and `log_evidence_gain` log Z minus that of the model without features
// (alpha infinite, the labels' marginal alone), which wins when the features predict nothing.
struct EvidenceStep {
  double next_l2;
  double log_evidence_gain;
};

template <Scalar S>
EvidenceStep binary_evidence_step(const Matrix<S>& x, std::span<const Label> y,
                                  const Vector<double>& beta, double bias, double l2) {
  const Index d = x.rows(), n = x.cols();
  const Vector<double> logits = binary_logits(x, beta, bias);
  Vector<double> curvature(n);
  double loss = 0, positives = 0;
  for (Index i = 0; i < n; ++i) {
    const double z = logits(i), label = y[static_cast<std::size_t>(i)];
    const double p = 1 / (1 + std::exp(-z));
    curvature(i) = p * (1 - p);
    loss += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - label * z;
    positives += label;
  }
  const Matrix<S> scaled = x * curvature.cwiseSqrt().template cast<S>().asDiagonal();
  Matrix<S> products = Matrix<S>::Zero(d, d);
  products.template selfadjointView<Eigen::Lower>().rankUpdate(scaled);
  const double c = std::max(curvature.sum(), 1e-300);
  const Vector<double> b = (x * curvature.template cast<S>()).template cast<double>();
  Matrix<double> schur =
      Matrix<S>(products.template selfadjointView<Eigen::Lower>()).template cast<double>();
  schur.noalias() -= b * b.transpose() / c;
  const Vector<double> s =
      Eigen::SelfAdjointEigenSolver<Matrix<double>>(schur, Eigen::EigenvaluesOnly)
          .eigenvalues()
          .cwiseMax(0.0);
  const double alpha = static_cast<double>(n) * l2 / 2;  // on beta, for the sum of losses
  const double gamma = (s.array() / (s.array() + alpha)).sum();
  const double norm = std::max(beta.squaredNorm(), 1e-300);
  // The model without features: the marginal's loss and its bias's curvature n q (1 - q).
  const double q = std::clamp(positives / static_cast<double>(n), 1e-12, 1 - 1e-12);
  const double null_loss = -static_cast<double>(n) * (q * std::log(q) + (1 - q) * std::log(1 - q));
  const double null_c = static_cast<double>(n) * q * (1 - q);
  const double gain = null_loss - loss - alpha / 2 * norm +
                      0.5 * (alpha / (s.array() + alpha)).log().sum() - 0.5 * std::log(c / null_c);
  return {2 * gamma / (static_cast<double>(n) * norm), gain};
}

}  // namespace detail
}  // namespace uinfo
