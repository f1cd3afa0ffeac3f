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
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/entropy.hpp"
#include "uinfo/info/usable_information.hpp"

namespace uinfo {

enum class DecoderFamily { linear, mlp };

inline std::string to_string(DecoderFamily family) {
  return family == DecoderFamily::linear ? "linear" : "mlp";
}

// "linear" or "mlp"; anything else is an InvalidArgument naming both.
inline DecoderFamily decoder_family_named(const std::string& name) {
  if (name == "linear") return DecoderFamily::linear;
  if (name == "mlp") return DecoderFamily::mlp;
  throw InvalidArgument("uinfo: unknown decoder family '" + name + "'; expected linear or mlp");
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
};

template <Scalar S>
struct LayerProbeOptions {
  std::vector<DecoderFamily> decoders{DecoderFamily::linear};
  typename LinearDecoder<S>::Options linear{};
  typename MlpDecoder<S>::Options mlp{};
  EntropyReference reference = EntropyReference::train_marginal;
  std::uint64_t seed = 0;  // every decoder's initialisation and minibatch order
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
          decoders_.emplace_back(std::in_place_type<LinearDecoder<S>>, options_.linear);
        } else {
          decoders_.emplace_back(std::in_place_type<MlpDecoder<S>>, options_.mlp);
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
          UsableInformation info = std::visit(
              [&](auto& d) {
                DecoderFit fitted;
                if constexpr (std::is_same_v<std::decay_t<decltype(d)>, LinearDecoder<S>>) {
                  if (!prepared) d.prepare(train_z_[l], linear_features_[l]);
                  prepared = true;
                  fitted = d.fit(linear_features_[l], label.train, classes, options_.seed);
                } else {
                  fitted = d.fit(train_z_[l], label.train, classes, options_.seed);
                }
                return detail::held_out_information(d, fitted, train_z_[l].cols(), label.train,
                                                    test_z_[l], label.test, classes, info_options);
              },
              *decoder++);
          measurements.push_back(
              {layer_indices[l], train_z_[l].rows(), label.name, family, std::move(info)});
        }
      }
    }
    return measurements;
  }

  // The labels as given, each with its class count resolved.
  const std::vector<ProbeLabel>& labels() const { return labels_; }

 private:
  using AnyDecoder = std::variant<LinearDecoder<S>, MlpDecoder<S>>;

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
