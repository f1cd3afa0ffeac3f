// The decoder protocol of Kleinman, Chandrasekaran & Kao's multi-area analysis (their
// sims/mutual_information.py and analyze_info_layers.py), as a uinfo decoder, so that estimates
// compare with their published numbers: an MLP D-64-64-64-1 with LeakyReLU(0.2) and Dropout(0.5)
// after each hidden layer (their "linear" variant: no nonlinearity, Dropout(0.8)), weights and
// biases drawn as PyTorch 1.4 draws nn.Linear's, U(+-1/sqrt(fan-in)), trained on the raw features
// by plain full-batch SGD (lr 0.05, no momentum, no weight decay) for 3,000 iterations on the
// binary cross-entropy of one logit, and scored without dropout. More than two classes take K
// logits and the softmax cross-entropy instead (their code handles two). Each fit starts afresh
// from its seed, as theirs did from torch.manual_seed(0).
//
// Their estimates split one set of samples 25% / 75% into training and test (authors_split) and
// report 1 - 1.44 CE (authors_bits); uinfo's usable_information() reports H(Y) - CE with H(Y)
// estimated from the training labels, which differs where the classes are not balanced.
//
//   AuthorsDecoder<float> decoder;                   // or ({.linear = true})
//   const auto split = authors_split(z.cols());      // train_test_split(test_size=0.75,
//   random_state=42)
//   ... usable_information(z_train, y_train, z_test, y_test, decoder) ...
//   const double published = authors_bits(info.ce_bits / bits_per_nat);
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "uinfo/data/dataset.hpp"
#include "uinfo/info/decoder_base.hpp"
#include "uinfo/info/preprocess.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/dropout.hpp"
#include "uinfo/layers/identity.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/leaky_relu.hpp"
#include "uinfo/loss/binary_cross_entropy.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/sgd.hpp"
#include "uinfo/train/evaluate.hpp"
#include "uinfo/train/fit.hpp"

namespace uinfo {

template <Scalar S = float>
class AuthorsDecoder {
  template <Index Out>
  using TorchDense = Dense<Out, inferred, lecun_uniform>;  // U(+-1/sqrt(fan-in)), as PyTorch's
  template <class Activation, Real Drop>
  using Stack = Sequential<S, Input<dynamic>, TorchDense<64>, Activation, Dropout<Drop>,
                           TorchDense<64>, Activation, Dropout<Drop>, TorchDense<64>, Activation,
                           Dropout<Drop>, TorchDense<dynamic>>;

 public:
  using scalar_type = S;
  using MlpNetwork = Stack<LeakyRelu<0.2>, 0.5>;
  using LinearNetwork = Stack<Identity, 0.8>;
  struct Options {
    bool linear = false;  // their "linear" variant: no nonlinearity, Dropout(0.8)
    int iterations = 3000;
    double learning_rate = 0.05;
    Preprocess preprocess = Preprocess::none;  // they decoded the raw rates
  };

  AuthorsDecoder() = default;
  explicit AuthorsDecoder(Options options) : options_(options) {
    require_option(options_.iterations >= 1 && options_.learning_rate > 0,
                   "AuthorsDecoder: iterations and learning_rate must be positive");
  }

  std::string name() const { return options_.linear ? "authors-linear" : "authors-mlp"; }

  DecoderFit fit(const Matrix<S>& z, std::span<const Label> labels, Index classes,
                 std::uint64_t seed) {
    detail::require_fit_labels(labels, z.cols(), classes, "AuthorsDecoder");
    map_ = FeatureMap<S>(z, options_.preprocess);
    const Rng rng{seed};
    const Index inputs = map_.outputs(), outputs = classes == 2 ? 1 : classes;
    if (options_.linear) {
      net_.template emplace<LinearNetwork>(rng,
                                           typename LinearNetwork::RuntimeSizes{inputs, outputs});
    } else {
      net_.template emplace<MlpNetwork>(rng, typename MlpNetwork::RuntimeSizes{inputs, outputs});
    }
    return std::visit(
        [&](auto& net) -> DecoderFit {
          if constexpr (std::is_same_v<std::decay_t<decltype(net)>, std::monostate>) {
            return {};
          } else {
            draw_biases(net, rng);
            const Matrix<S> x = map_(z);
            return classes == 2
                       ? train(net, binary_targets(x, labels), BinaryCrossEntropyWithLogits{}, rng)
                       : train(net, Dataset<S>{x, {labels.begin(), labels.end()}},
                               SoftmaxCrossEntropy{}, rng);
          }
        },
        net_);
  }

  void log_probabilities(const Matrix<S>& z, MatrixView<S> out) {
    std::visit(
        [&](auto& net) {
          if constexpr (std::is_same_v<std::decay_t<decltype(net)>, std::monostate>) {
            detail::require_fitted(false, "AuthorsDecoder");
          } else {
            const auto logits = net.forward(map_(z), Mode::eval);
            if (logits.rows() > 1) {
              SoftmaxCrossEntropy::log_probabilities<S>(logits, out);
              return;
            }
            // One logit l: log p(1) = -softplus(-l), log p(0) = -softplus(l).
            for (Index j = 0; j < logits.cols(); ++j) {
              const double l = logits(0, j);
              out(0, j) = static_cast<S>(-BinaryCrossEntropyWithLogits::sample_loss(l, 0));
              out(1, j) = static_cast<S>(-BinaryCrossEntropyWithLogits::sample_loss(l, 1));
            }
          }
        },
        net_);
  }

 private:
  // Biases U(+-1/sqrt(fan-in)) as PyTorch's nn.Linear (uinfo's Dense starts them at 0), each
  // layer's from its own stream.
  template <class Net>
  static void draw_biases(Net& net, const Rng& rng) {
    std::uint64_t layer = 0;
    Index fan_in = 0;
    net.for_each_parameter([&](Parameter<S>& p) {
      if (p.role == ParameterRole::weight) {
        fan_in = p.value.cols();
        return;
      }
      Engine engine = rng.engine(Stream::user, layer++);
      const double limit = 1 / std::sqrt(static_cast<double>(fan_in));
      for (Index i = 0; i < p.value.size(); ++i) {
        p.value.data()[i] = static_cast<S>(engine.uniform(-limit, limit));
      }
    });
  }

  static RegressionDataset<S> binary_targets(const Matrix<S>& x, std::span<const Label> labels) {
    RegressionDataset<S> data{x, Matrix<S>(1, x.cols())};
    for (Index j = 0; j < x.cols(); ++j) {
      data.targets(0, j) = static_cast<S>(labels[static_cast<std::size_t>(j)]);
    }
    return data;
  }

  template <class Net, class Data, class Loss>
  DecoderFit train(Net& net, const Data& data, const Loss& loss, const Rng& rng) const {
    Sgd sgd{{.lr = options_.learning_rate}};
    // Full batch: one step per epoch, the samples' order irrelevant but for dropout's masks.
    uinfo::fit(
        net, sgd, loss, data,
        {.epochs = options_.iterations, .batch_size = data.size(), .rng = rng, .shuffle = false});
    return {.iterations = options_.iterations,
            .train_loss_nats = evaluate(net, loss, data, 4096).loss,
            .kept_epoch = options_.iterations};
  }

  Options options_;
  FeatureMap<S> map_;
  std::variant<std::monostate, MlpNetwork, LinearNetwork> net_;
};

// The protocol's split of n samples: scikit-learn 0.20's train_test_split(test_size=0.75,
// random_state=42), i.e. numpy's RandomState(42).permutation(n), whose first ceil(0.75 n) entries
// are the test samples and the rest the training samples, in that order. The permutation is
// numpy's legacy Fisher-Yates shuffle on the Mersenne Twister MT19937 (std::mt19937 is the same
// generator, seeded the same way), with its bounded integers drawn by masking and rejection.
struct SampleSplit {
  std::vector<Index> train, test;
};

inline SampleSplit authors_split(Index n, std::uint32_t seed = 42, double test_fraction = 0.75) {
  require_option(n >= 2 && test_fraction > 0 && test_fraction < 1,
                 "authors_split: expected at least 2 samples and a test fraction in (0, 1)");
  std::mt19937 engine(seed);
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  for (Index i = n - 1; i > 0; --i) {
    auto mask = static_cast<std::uint64_t>(i);  // the smallest 2^k - 1 >= i
    for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
    std::uint64_t j = 0;
    do {
      j = static_cast<std::uint64_t>(engine()) & mask;
    } while (j > static_cast<std::uint64_t>(i));
    std::swap(order[static_cast<std::size_t>(i)], order[j]);
  }
  const auto n_test = static_cast<std::size_t>(std::ceil(test_fraction * static_cast<double>(n)));
  SampleSplit split;
  split.test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));
  split.train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end());
  return split;
}

// Their information in bits from the held-out cross-entropy in nats: 1 - 1.44 CE (H(Y) taken to
// be 1 bit, and 1.44 for 1 / ln 2 = 1.4427, which adds 0.002 bits at chance).
inline double authors_bits(double ce_nats) {
  return 1 - 1.44 * ce_nats;
}

}  // namespace uinfo
