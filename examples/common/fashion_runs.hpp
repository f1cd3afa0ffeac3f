// The Fashion-MNIST experiment's pieces: the images (training subset, probe halves from the test
// split), the networks --model names, and one seed's training run probed for the fine and the
// coarse labels.
#pragma once

#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/probing.hpp"
#include "common/regime.hpp"

namespace fashion {

using uinfo::Index;
using uinfo::Label;
using uinfo::Matrix;

// The run's data. Probe images come from the official test split, so the decoders never see an
// image the network trained on; the network's coarse accuracy is measured on the held-out half.
struct Data {
  uinfo::Dataset<float> train;  // the network's training images, with coarse labels
  Matrix<float> probe_train_x, probe_test_x;
  std::vector<Label> fine_train, fine_test, coarse_train, coarse_test;
  Index coarse_classes = 0;
  uinfo::Dataset<float> held_out;  // the probe's held-out half, with coarse labels
};

// The indices of `labels`, cycling through the classes, each class's own indices in an order
// drawn from `engine`: every prefix is as balanced over the classes as their sizes allow.
inline std::vector<Index> balanced_order(std::span<const Label> labels, uinfo::Engine& engine) {
  std::vector<std::vector<Index>> by_class;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto c = static_cast<std::size_t>(labels[i]);
    if (c >= by_class.size()) by_class.resize(c + 1);
    by_class[c].push_back(static_cast<Index>(i));
  }
  std::size_t longest = 0;
  for (auto& members : by_class) {
    engine.shuffle(std::span(members));
    longest = std::max(longest, members.size());
  }
  std::vector<Index> order;
  order.reserve(labels.size());
  for (std::size_t k = 0; k < longest; ++k) {
    for (const auto& members : by_class) {
      if (k < members.size()) order.push_back(members[k]);
    }
  }
  return order;
}

// `train_samples` class-balanced training images and `probe_samples` class-balanced test images,
// the first half of them for the decoders' training and the second half held out. The selection
// depends on nothing but the counts, so every seed trains and is probed on the same images.
inline Data load_data(const std::filesystem::path& directory, const uinfo::LabelGrouping& grouping,
                      Index train_samples, Index probe_samples) {
  const uinfo::Rng selection{0};
  uinfo::Engine engine = selection.engine(uinfo::Stream::data);
  // `count` images of `split`; `flag` and `name` say which in the message when it has fewer.
  const auto take = [&](const uinfo::Dataset<float>& split, Index count, const char* flag,
                        const char* name) {
    if (count > split.size()) {
      throw uinfo::InvalidArgument(std::string(flag) + " is " + std::to_string(count) +
                                   " but the " + name + " split in '" + directory.string() +
                                   "' holds " + std::to_string(split.size()) + " images");
    }
    const auto order = balanced_order(split.labels, engine);
    return uinfo::detail::take_samples(split.x, split.labels,
                                       std::span(order).first(static_cast<std::size_t>(count)));
  };
  Data data;
  {
    auto [x, fine] = take(uinfo::load_fashion_mnist<float>(uinfo::Split::train, directory),
                          train_samples, "--train-samples", "training");
    data.train = {std::move(x), uinfo::coarse_labels(fine, grouping)};
  }
  auto [x, fine] = take(uinfo::load_fashion_mnist<float>(uinfo::Split::test, directory),
                        probe_samples, "--probe-samples", "test");
  const Index half = probe_samples / 2;
  data.probe_train_x = x.leftCols(half);
  data.probe_test_x = x.middleCols(half, half);  // an odd count leaves its last image out
  data.fine_train.assign(fine.begin(), fine.begin() + half);
  data.fine_test.assign(fine.begin() + half, fine.begin() + 2 * half);
  data.coarse_train = uinfo::coarse_labels(data.fine_train, grouping);
  data.coarse_test = uinfo::coarse_labels(data.fine_test, grouping);
  data.coarse_classes = grouping.coarse_classes();
  data.held_out = {data.probe_test_x, data.coarse_test};
  return data;
}

// The probed layers of a model, in order; number() gives the hidden layer (from 1) of a network
// layer index, as the rows report it.
template <std::size_t... Layers>
struct HiddenLayers {
  template <class Net>
  using Probe = uinfo::LayerProbe<Net, Layers...>;
  static constexpr std::array<std::size_t, sizeof...(Layers)> layers{Layers...};

  static int number(std::size_t index) {
    return static_cast<int>(std::find(layers.begin(), layers.end(), index) - layers.begin()) + 1;
  }
};

// Weights drawn as PyTorch draws nn.Linear's by default, U(-1/sqrt(fan-in), 1/sqrt(fan-in)), so
// that runs compare with PyTorch ones.
template <Index Out>
using LecunDense = uinfo::Dense<Out, uinfo::inferred, uinfo::lecun_uniform>;

// 784-256-128-W, ReLU after each hidden layer; W (--width) and the coarse classes are set at run
// time.
struct Mlp : HiddenLayers<2, 4, 6> {
  static constexpr const char* name = "mlp";
  static constexpr const char* description = "784-256-128-W, ReLU";
  using Net = uinfo::Sequential<float, uinfo::Input<784>, LecunDense<256>, uinfo::Relu,
                                LecunDense<128>, uinfo::Relu, LecunDense<uinfo::dynamic>,
                                uinfo::Relu, LecunDense<uinfo::dynamic>>;
  static Net make(Index width, Index classes, std::uint64_t seed) {
    return Net{uinfo::Rng{seed}, {width, classes}};
  }
};

// Every model --model can name: a new one (a small CNN, say) is a struct like Mlp added here.
using Models = std::tuple<Mlp>;

// "mlp (784-256-128-W, ReLU), ...": the models for --help.
inline std::string model_help() {
  return std::apply(
      [](auto... model) {
        std::string text;
        ((text += (text.empty() ? "" : ", ") + std::string(decltype(model)::name) + " (" +
                  decltype(model)::description + ")"),
         ...);
        return text;
      },
      Models{});
}

inline bool is_model(const std::string& name) {
  return std::apply([&](auto... model) { return ((name == decltype(model)::name) || ...); },
                    Models{});
}

// Returns f.template operator()<Model>() for the model `name` names. Throws InvalidArgument for an
// unknown name.
template <class F>
auto with_model(const std::string& name, F&& f) {
  using Result = decltype(f.template operator()<std::tuple_element_t<0, Models>>());
  std::optional<Result> result;
  std::apply(
      [&](auto... model) {
        (void)((name == decltype(model)::name &&
                (result.emplace(f.template operator()<decltype(model)>()), true)) ||
               ...);
      },
      Models{});
  if (!result) {
    throw uinfo::InvalidArgument("uinfo-fashion: unknown model '" + name + "'; expected one of " +
                                 model_help());
  }
  return std::move(*result);
}

// One seed's run.
struct RunSettings {
  Index width;
  uinfo::cli::Regime regime;
  std::vector<uinfo::DecoderFamily> decoders;
  double decoder_l2;  // the linear decoder's penalty on its (whitened) weights
};

// Trains a fresh `Model` network of seed `seed` on the coarse labels with SGD, probing every hidden
// layer for the fine and the coarse labels before the first step, after each fractional epoch in
// `early` and after every epoch. `epoch_done` is called after every epoch (for a progress bar);
// `timing` gains the run's wall time and the part of it spent probing.
template <class Model>
std::vector<uinfo::probing::Measurement> train_and_probe(const RunSettings& s, const Data& data,
                                                         std::uint64_t seed,
                                                         std::span<const double> early,
                                                         const std::function<void()>& epoch_done,
                                                         uinfo::probing::Timing& timing) {
  using Net = typename Model::Net;
  Net net = Model::make(s.width, data.coarse_classes, seed);
  typename Model::template Probe<Net> probe(
      data.probe_train_x, data.probe_test_x,
      {{"fine", data.fine_train, data.fine_test, 10},
       {"coarse", data.coarse_train, data.coarse_test, data.coarse_classes}},
      // MLP decoders start cold: warm ones, carried over to the refitted standardisation of a
      // layer that moved, stop early far from a fit (an 8-unit layer, seed 2, after 1/8 epoch:
      // -1.5 bits of fine information where a cold fit finds 1.9 and the linear decoder 1.9).
      {.decoders = s.decoders,
       .linear = {.l2 = s.decoder_l2},
       .mlp = {.warm_start = false},
       .seed = seed});
  std::vector<uinfo::probing::Measurement> rows;
  uinfo::probing::Timing run;
  const std::function<void(double)> measure = [&](double epoch) {
    uinfo::probing::add_wall_time(run.probe_seconds, [&] {
      const double accuracy =
          uinfo::evaluate(net, uinfo::SoftmaxCrossEntropy{}, data.held_out).accuracy;
      uinfo::probing::record(rows, probe, net, epoch, accuracy, Model::number);
    });
  };
  uinfo::probing::add_wall_time(run.total_seconds, [&] {
    measure(0.0);
    const uinfo::cli::Regime& r = s.regime;
    uinfo::Sgd sgd{{.lr = r.lr, .momentum = r.momentum, .weight_decay = r.weight_decay}};
    const Index steps = (data.train.size() + r.batch - 1) / r.batch;
    uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{}, data.train,
               {.epochs = r.epochs, .batch_size = r.batch, .rng = uinfo::Rng{seed}},
               uinfo::probing::ProbeSchedule<Net>(measure, early, 0, r.epochs, steps, epoch_done));
  });
  timing += run;
  return rows;
}

}  // namespace fashion
