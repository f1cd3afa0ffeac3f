// What a probe reads of a convolutional layer. LayerProbe decodes a layer's output as a vector of
// features; an image layer's output is a map of C channels over H x W pixels, and decoding all of
// it is rarely possible: 16 x 28 x 28 = 12,544 features for ResNet-8's first stage, against
// 5,000 decoder images, and a linear decoder whitens its features (a 12,544^2 covariance).
// So each channel is averaged over the pixels by default (C features: what a global-average-
// pooling head would see, and invariant to where in the image a feature lies), and the flattened
// map is read only where it is small enough (`map` up to `map_limit` features; larger maps are
// still averaged). A flat layer (an MLP's) is read as it is either way.
//
// ProbedOutputs stands in for the network in LayerProbe::measure: it runs the network on the probe
// images a chunk at a time (the activations of 5,000 images at once would take a gigabyte) and
// keeps only the probed layers' features.
#pragma once

#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

namespace fashion {

using uinfo::Index;
using uinfo::Matrix;

enum class ProbeFeatures { channel_means, map };

inline ProbeFeatures probe_features_named(const std::string& name) {
  if (name == "means") return ProbeFeatures::channel_means;
  if (name == "map") return ProbeFeatures::map;
  throw uinfo::InvalidArgument("unknown probe features '" + name + "'; expected means or map");
}

struct ProbeReading {
  ProbeFeatures features = ProbeFeatures::channel_means;
  uinfo::Index map_limit = 4096;  // the most features a map is read with under `map`

  // Whether a layer with these pixels and features is read as channel means.
  bool averages(uinfo::Index pixels, uinfo::Index features) const {
    return pixels > 1 && (this->features == ProbeFeatures::channel_means || features > map_limit);
  }
};

template <class Net, std::size_t... Layers>
class ProbedOutputs {
  using S = typename Net::scalar_type;
  static constexpr std::array<std::size_t, sizeof...(Layers)> layers{Layers...};

 public:
  using scalar_type = S;
  static constexpr std::size_t depth = Net::depth;
  static constexpr uinfo::Index chunk = 500;  // images per forward pass

  ProbedOutputs(Net& net, ProbeReading reading) : net_(net), reading_(reading) {}

  void forward(const Matrix<S>& x) {
    for (Index first = 0; first < x.cols(); first += chunk) {
      const Index count = std::min(chunk, x.cols() - first);
      net_.forward(x.middleCols(first, count), uinfo::Mode::eval);
      std::size_t l = 0;
      (keep<Layers>(outputs_[l++], first, count, x.cols()), ...);
    }
  }

  template <std::size_t K>
  uinfo::ConstMatrixView<S> output() const {
    const Matrix<S>& z = outputs_[index_of(K)];
    return {z.data(), z.rows(), z.cols()};
  }

 private:
  static constexpr std::size_t index_of(std::size_t layer) {
    return static_cast<std::size_t>(std::find(layers.begin(), layers.end(), layer) -
                                    layers.begin());
  }

  // Layer K's features of the chunk's images, into columns [first, first + count) of z.
  template <std::size_t K>
  void keep(Matrix<S>& z, Index first, Index count, Index total) {
    constexpr uinfo::Shape shape = Net::template layer_shape<K>;
    const auto out = net_.template output<K>();
    const Index pixels = shape.pixels();
    const bool averages = reading_.averages(pixels, out.rows());
    if (first == 0) z.resize(averages ? out.rows() / pixels : out.rows(), total);
    if (!averages) {
      z.middleCols(first, count) = out;
      return;
    }
    for (Index j = 0; j < count; ++j) {
      const Eigen::Map<const Matrix<S>> image(out.col(j).data(), shape.channels, pixels);
      z.col(first + j) = image.rowwise().mean();
    }
  }

  Net& net_;
  ProbeReading reading_;
  std::array<Matrix<S>, sizeof...(Layers)> outputs_;
};

}  // namespace fashion
