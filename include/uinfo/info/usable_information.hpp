// Usable information (Xu et al. 2020; Kleinman et al. 2021): I_u(Z;Y) = H(Y) - L_CE, where L_CE is
// the held-out cross-entropy of a decoder trained to predict Y from Z, and H(Y) is the held-out
// cross-entropy of the best decoder that ignores Z: the training labels' marginal. Both are
// measured on the same test samples, so a decoder that learns nothing scores about 0, and the
// difference is never clipped: small negative values are estimates too.
//
//   LinearDecoder<float> decoder;   // keep it: the next probe of this layer starts from it
//   auto info = usable_information(z_train, y_train, z_test, y_test, decoder);
//   info.bits, info.standard_error_bits, info.accuracy, info.pointwise_bits (PVI per sample)
#pragma once

#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/entropy.hpp"
#include "uinfo/info/samples.hpp"

namespace uinfo {

// Which H(Y) the estimate subtracts from.
enum class EntropyReference {
  train_marginal,  // cross-entropy of the training labels' marginal on the test labels
  log_classes,     // log K, the paper's convention for balanced classes
};

struct UsableInformationOptions {
  Index classes = 0;  // 0: 1 + the largest label in either split
  EntropyReference reference = EntropyReference::train_marginal;
  double pseudo_count = 0.5;  // added to each class count of the marginal (see label_marginal)
  std::uint64_t seed = 0;     // the decoder's initialisation and minibatch order
};

struct UsableInformation {
  double bits = 0;  // H(Y) - L_CE
  double nats = 0;
  double h_bits = 0;               // the H(Y) used
  double ce_bits = 0;              // the decoder's held-out cross-entropy, L_CE
  double accuracy = 0;             // the decoder's held-out accuracy
  double standard_error_bits = 0;  // of `bits`, from the per-sample values
  double train_ce_bits = 0;        // the decoder's cross-entropy on its training data
  Index n_train = 0, n_test = 0, classes = 0;
  std::string decoder;  // the family, e.g. "linear" or "mlp(64)"
  int iterations = 0;   // L-BFGS iterations or epochs the fit used
  // The decoder's L2 penalty and how it was chosen ("fixed", "loo", "5-fold"; see DecoderFit),
  // and for an MLP the epoch early stopping kept.
  double l2 = 0;
  std::string l2_selection;
  int kept_epoch = 0;
  // Pointwise V-information (Ethayarajh et al. 2022) of each test sample:
  // PVI = -log2 p_marginal(y) + log2 g[z](y); its mean is `bits`.
  std::vector<double> pointwise_bits;
};

namespace detail {
// The class count and the checks every estimate starts with: labelled, finite samples of the same
// representation in both splits.
template <Scalar S>
Index checked_classes(const Matrix<S>& z_train, std::span<const Label> y_train,
                      const Matrix<S>& z_test, std::span<const Label> y_test, Index classes) {
  if (classes <= 0) classes = class_count(y_train, y_test);
  require_labelled_samples(z_train, y_train, classes, "usable_information: the training split");
  require_labelled_samples(z_test, y_test, classes, "usable_information: the test split");
  if (z_train.rows() != z_test.rows()) {
    throw InvalidArgument("uinfo::usable_information: the training split has " +
                          std::to_string(z_train.rows()) + " features and the test split " +
                          std::to_string(z_test.rows()) + "; expected the same representation");
  }
  return classes;
}

// H(Y) - L_CE on the test split, for a decoder already fitted to n_train training samples.
template <Decoder D>
UsableInformation held_out_information(D& decoder, const DecoderFit& fitted, Index n_train,
                                       std::span<const Label> y_train,
                                       const Matrix<typename D::scalar_type>& z_test,
                                       std::span<const Label> y_test, Index classes,
                                       const UsableInformationOptions& options) {
  using S = typename D::scalar_type;
  Matrix<S> log_p(classes, z_test.cols());
  decoder.log_probabilities(z_test, MatrixView<S>(log_p.data(), classes, z_test.cols()));

  // Each class's H(Y) term, -log p(y), once rather than per sample.
  std::vector<double> surprise = label_marginal(y_train, classes, options.pseudo_count);
  for (double& term : surprise) {
    term = options.reference == EntropyReference::log_classes
               ? std::log(static_cast<double>(classes))
               : -std::log(term);
  }
  UsableInformation result;
  result.pointwise_bits.resize(y_test.size());
  double h_nats = 0, ce_nats = 0;
  Index correct = 0;
  for (std::size_t j = 0; j < y_test.size(); ++j) {
    const auto y = static_cast<Index>(y_test[j]);
    const double h = surprise[static_cast<std::size_t>(y)];
    const double ce = -static_cast<double>(log_p(y, static_cast<Index>(j)));
    h_nats += h;
    ce_nats += ce;
    result.pointwise_bits[j] = (h - ce) * bits_per_nat;
    Index predicted = 0;
    log_p.col(static_cast<Index>(j)).maxCoeff(&predicted);
    correct += predicted == y;
  }
  const double n = static_cast<double>(y_test.size());
  result.nats = (h_nats - ce_nats) / n;
  result.bits = result.nats * bits_per_nat;
  result.h_bits = h_nats / n * bits_per_nat;
  result.ce_bits = ce_nats / n * bits_per_nat;
  result.accuracy = static_cast<double>(correct) / n;
  double squares = 0;
  for (const double v : result.pointwise_bits) squares += (v - result.bits) * (v - result.bits);
  result.standard_error_bits = std::sqrt(squares / std::max(1.0, n - 1) / n);
  result.train_ce_bits = fitted.train_loss_nats * bits_per_nat;
  result.n_train = n_train;
  result.n_test = z_test.cols();
  result.classes = classes;
  result.decoder = decoder.name();
  result.iterations = fitted.iterations;
  result.l2 = fitted.l2;
  result.l2_selection = fitted.selection;
  result.kept_epoch = fitted.kept_epoch;
  return result;
}
}  // namespace detail

template <Decoder D>
UsableInformation usable_information(const Matrix<typename D::scalar_type>& z_train,
                                     std::span<const Label> y_train,
                                     const Matrix<typename D::scalar_type>& z_test,
                                     std::span<const Label> y_test, D& decoder,
                                     const UsableInformationOptions& options = {}) {
  const Index classes = detail::checked_classes(z_train, y_train, z_test, y_test, options.classes);
  const DecoderFit fitted = decoder.fit(z_train, y_train, classes, options.seed);
  return detail::held_out_information(decoder, fitted, z_train.cols(), y_train, z_test, y_test,
                                      classes, options);
}

}  // namespace uinfo
