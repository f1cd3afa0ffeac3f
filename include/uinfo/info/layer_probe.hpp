// LayerProbe: the usable information in chosen layers of a network, measured again and again while
// it trains. It holds the probe samples (a split the decoders train on and a held-out split), the
// labels to decode, and one decoder per (layer, label, family), so that each measurement starts
// from the weights the previous one ended with: a probe of a slowly changing representation then
// costs a few iterations instead of a fit from scratch.
//
//   LayerProbe<Net, 2, 4> probe(x_train, x_test,
//                               {{"colour", colour_train, colour_test, 2},
//                                {"direction", direction_train, direction_test, 2}},
//                               {.seed = seed});
//   fit(net, sgd, loss, data, options, on_epoch_end([&](auto&, Net& n) {
//     for (const ProbeMeasurement& m : probe.measure(n)) record(m.layer, m.label, m.info.bits);
//   }));
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/entropy.hpp"
#include "uinfo/info/learning_curve.hpp"
#include "uinfo/info/usable_information.hpp"

namespace uinfo {

// The decoder families a probe can fit: the linear decoder, the MLP decoder, and the authors'
// protocol (authors_decoder.hpp) with its MLP or its linear stack.
enum class DecoderFamily { linear, mlp, authors, authors_linear };

inline std::string to_string(DecoderFamily family) {
  switch (family) {
    case DecoderFamily::linear:
      return "linear";
    case DecoderFamily::mlp:
      return "mlp";
    case DecoderFamily::authors:
      return "authors";
    case DecoderFamily::authors_linear:
      return "authors-linear";
  }
  return "unknown";
}

// "linear", "mlp", "authors" or "authors-linear"; anything else is an InvalidArgument naming them.
inline DecoderFamily decoder_family_named(const std::string& name) {
  for (const DecoderFamily family : {DecoderFamily::linear, DecoderFamily::mlp,
                                     DecoderFamily::authors, DecoderFamily::authors_linear}) {
    if (name == to_string(family)) return family;
  }
  throw InvalidArgument("uinfo: unknown decoder family '" + name +
                        "'; expected linear, mlp, authors or authors-linear");
}

// A label to decode, for the probe's training and held-out samples.
struct ProbeLabel {
  std::string name;
  std::vector<Label> train, test;
  Index classes = 0;  // 0: 1 + the largest label in either split
};

struct ProbeMeasurement {
  std::size_t layer;  // the network's layer index (0: the input)
  Index units;
  std::string label;
  DecoderFamily decoder;
  UsableInformation info;
  std::optional<FiniteSampleCorrection> corrected{};  // with LayerProbeOptions::corrected
};

template <Scalar S>
struct LayerProbeOptions {
  std::vector<DecoderFamily> decoders{DecoderFamily::linear};
  typename LinearDecoder<S>::Options linear{};
  typename MlpDecoder<S>::Options mlp{};
  typename AuthorsDecoder<S>::Options authors{};  // `linear` is set by the family
  EntropyReference reference = EntropyReference::train_marginal;
  std::uint64_t seed = 0;  // every decoder's initialisation and minibatch order
  // Also the finite-sample-corrected estimate (learning_curve.hpp) of every measurement: about
  // four more fits from scratch each, so off by default.
  bool corrected = false;
};

template <class Net, std::size_t... Layers>
class LayerProbe {
  static_assert(sizeof...(Layers) > 0, "uinfo::LayerProbe: name at least one layer to probe");
  static_assert((detail::layer_index_check<Layers, Net::depth>::ok && ...));

 public:
  using S = typename Net::scalar_type;
  static constexpr std::size_t layer_count = sizeof...(Layers);

  LayerProbe(Matrix<S> x_train, Matrix<S> x_test, std::vector<ProbeLabel> labels,
             LayerProbeOptions<S> options = {})
      : x_train_(std::move(x_train)),
        x_test_(std::move(x_test)),
        labels_(std::move(labels)),
        options_(std::move(options)) {
    if (labels_.empty() || options_.decoders.empty()) {
      throw InvalidArgument("uinfo::LayerProbe: no labels or no decoder families to probe with");
    }
    for (ProbeLabel& label : labels_) {
      if (static_cast<Index>(label.train.size()) != x_train_.cols() ||
          static_cast<Index>(label.test.size()) != x_test_.cols()) {
        throw InvalidArgument("uinfo::LayerProbe: label '" + label.name + "' has " +
                              std::to_string(label.train.size()) + " training and " +
                              std::to_string(label.test.size()) + " held-out values; expected " +
                              std::to_string(x_train_.cols()) + " and " +
                              std::to_string(x_test_.cols()) + ", one per probe sample");
      }
      // The labels are fixed: checked here once, not at every measurement.
      if (label.classes <= 0) label.classes = class_count(label.train, label.test);
      require_labels_in_range(label.train, label.classes,
                              "LayerProbe: label '" + label.name + "' (training split)");
      require_labels_in_range(label.test, label.classes,
                              "LayerProbe: label '" + label.name + "' (held-out split)");
    }
    for (std::size_t i = 0; i < layer_count * labels_.size(); ++i) {
      for (const DecoderFamily family : options_.decoders) {
        if (family == DecoderFamily::linear) {
          decoders_.emplace_back(prototype<LinearDecoder<S>>(family));
        } else if (family == DecoderFamily::mlp) {
          decoders_.emplace_back(prototype<MlpDecoder<S>>(family));
        } else {
          decoders_.emplace_back(prototype<AuthorsDecoder<S>>(family));
        }
      }
    }
  }

  // Runs the network on both probe splits and measures every (layer, label, decoder family),
  // in that order. The linear decoders of a layer share one feature map and one layout of the
  // mapped features: the labels differ, the representation does not.
  std::vector<ProbeMeasurement> measure(Net& net) {
    const auto keep_outputs = [&net](const Matrix<S>& x, std::array<Matrix<S>, layer_count>& z) {
      net.forward(x);
      std::size_t l = 0;
      ((z[l++] = net.template output<Layers>()), ...);
    };
    keep_outputs(x_train_, train_z_);
    keep_outputs(x_test_, test_z_);
    constexpr std::size_t layer_indices[] = {Layers...};
    for (std::size_t l = 0; l < layer_count; ++l) {  // once per layer, not per label
      const std::string layer = "LayerProbe: layer " + std::to_string(layer_indices[l]);
      require_finite(train_z_[l], layer + "'s output on the probe's training samples");
      require_finite(test_z_[l], layer + "'s output on the probe's held-out samples");
    }
    std::vector<ProbeMeasurement> measurements;
    auto decoder = decoders_.begin();
    for (std::size_t l = 0; l < layer_count; ++l) {
      bool prepared = false;  // the layer's linear features, for all its labels
      for (const ProbeLabel& label : labels_) {
        const Index classes = label.classes;
        const UsableInformationOptions info_options{
            .classes = classes, .reference = options_.reference, .seed = options_.seed};
        for (const DecoderFamily family : options_.decoders) {
          std::optional<FiniteSampleCorrection> corrected;
          UsableInformation info = std::visit(
              [&](auto& d) {
                using D = std::decay_t<decltype(d)>;
                if (options_.corrected) {
                  corrected =
                      usable_information_curve(train_z_[l], label.train, test_z_[l], label.test,
                                               prototype<D>(family), {.info = info_options})
                          .corrected;
                }
                DecoderFit fitted;
                if constexpr (std::is_same_v<D, LinearDecoder<S>>) {
                  if (!prepared) d.prepare(train_z_[l], linear_features_[l], options_.seed);
                  prepared = true;
                  fitted = d.fit(linear_features_[l], label.train, classes, options_.seed);
                } else {
                  fitted = d.fit(train_z_[l], label.train, classes, options_.seed);
                }
                return detail::held_out_information(d, fitted, train_z_[l].cols(), label.train,
                                                    test_z_[l], label.test, classes, info_options);
              },
              *decoder++);
          measurements.push_back({layer_indices[l], train_z_[l].rows(), label.name, family,
                                  std::move(info), corrected});
        }
      }
    }
    return measurements;
  }

  // The labels as given, each with its class count resolved.
  const std::vector<ProbeLabel>& labels() const { return labels_; }

 private:
  // A fresh decoder of the family, with the probe's options for it.
  template <class D>
  D prototype(DecoderFamily family) const {
    if constexpr (std::is_same_v<D, LinearDecoder<S>>) {
      return D(options_.linear);
    } else if constexpr (std::is_same_v<D, MlpDecoder<S>>) {
      return D(options_.mlp);
    } else {
      auto authors = options_.authors;
      authors.linear = family == DecoderFamily::authors_linear;
      return D(authors);
    }
  }

  using AnyDecoder = std::variant<LinearDecoder<S>, MlpDecoder<S>, AuthorsDecoder<S>>;

  Matrix<S> x_train_, x_test_;
  std::vector<ProbeLabel> labels_;
  LayerProbeOptions<S> options_;
  std::vector<AnyDecoder> decoders_;  // by layer, then label, then family: the order of measure()
  // The probed layers' outputs on each split and their linear features, kept between
  // measurements so that their storage is reused rather than allocated (and page-faulted in)
  // again every time.
  std::array<Matrix<S>, layer_count> train_z_, test_z_;
  std::array<LinearFeatures<S>, layer_count> linear_features_;
};

}  // namespace uinfo
