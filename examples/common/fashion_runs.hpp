// The image experiments' networks and runs: the models --model names (for each image shape the
// data sets have), and one seed's training, in phases, probed for the fine and the coarse labels.
#pragma once

#include <uinfo/uinfo.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/image_data.hpp"
#include "common/image_probe.hpp"
#include "common/probing.hpp"
#include "common/regime.hpp"

namespace fashion {

// The probed layers of a model, in order; number() gives the hidden layer (from 1) of a network
// layer index, as the rows report it.
template <std::size_t... Layers>
struct HiddenLayers {
  template <class Net>
  using Outputs = ProbedOutputs<Net, Layers...>;
  template <class Net>
  using Probe = uinfo::LayerProbe<Outputs<Net>, Layers...>;
  static constexpr std::array<std::size_t, sizeof...(Layers)> layers{Layers...};

  static int number(std::size_t index) {
    return static_cast<int>(std::find(layers.begin(), layers.end(), index) - layers.begin()) + 1;
  }
};

// Weights drawn as PyTorch draws nn.Linear's by default, U(-1/sqrt(fan-in), 1/sqrt(fan-in)), so
// that runs compare with PyTorch ones.
template <Index Out>
using LecunDense = uinfo::Dense<Out, uinfo::inferred, uinfo::lecun_uniform>;

// 784-256-128-W (3072-... for CIFAR), ReLU after each hidden layer; W (--width) and the classes
// are set at run time.
template <class Image>
struct Mlp : HiddenLayers<2, 4, 6> {
  static constexpr const char* name = "mlp";
  static constexpr const char* description = "D-256-128-W, ReLU";
  static constexpr Index widen = 1;
  using Net = uinfo::Sequential<float, uinfo::Input<Image::size>, LecunDense<256>, uinfo::Relu,
                                LecunDense<128>, uinfo::Relu, LecunDense<uinfo::dynamic>,
                                uinfo::Relu, LecunDense<uinfo::dynamic>>;
  static Net make(Index width, Index classes, std::uint64_t seed) {
    return Net{uinfo::Rng{seed}, {width, classes}};
  }
};

// The CNNs of net/image_models.hpp; --width does not apply, --widen scales their channels.
template <class Image, Index Widen>
struct AllCnn : HiddenLayers<2, 4, 6, 8, 10, 12> {
  static constexpr const char* name = "allcnn";
  static constexpr const char* description = "six ReLU convolutions of 32-64 channels, no pooling";
  static constexpr Index widen = Widen;
  using Net = uinfo::models::AllCnn<float, Image, Widen>;
  static Net make(Index, Index classes, std::uint64_t seed) {
    return Net{uinfo::Rng{seed}, {classes}};
  }
};

template <class Image, Index Widen>
struct ResNet8 : HiddenLayers<3, 5, 7, 9> {
  static constexpr const char* name = "resnet8";
  static constexpr const char* description = "stem and three basic blocks, 16-64 channels";
  static constexpr Index widen = Widen;
  using Net = uinfo::models::ResNet8<float, Image, Widen>;
  static Net make(Index, Index classes, std::uint64_t seed) {
    return Net{uinfo::Rng{seed}, {classes}};
  }
};

// Every model --model and --widen can name, for each image shape of the data sets. A new one is a
// struct like those above added here.
template <class Image>
using ModelsFor = std::tuple<Mlp<Image>, AllCnn<Image, 1>, AllCnn<Image, 2>, ResNet8<Image, 1>,
                             ResNet8<Image, 2>>;
using Images = std::tuple<uinfo::ImageInput<1, 28, 28>, uinfo::ImageInput<3, 32, 32>>;
inline constexpr std::array<Index, 2> widen_factors{1, 2};

// "mlp (D-256-128-W, ReLU), ...": the models for --help.
inline std::string model_help() {
  return std::apply(
      [](auto... model) {
        std::string text;
        ((text += decltype(model)::widen == 1
                      ? std::string(text.empty() ? "" : ", ") + decltype(model)::name + " (" +
                            decltype(model)::description + ")"
                      : ""),
         ...);
        return text;
      },
      ModelsFor<uinfo::ImageInput<1, 28, 28>>{});
}

inline bool is_model(const std::string& name) {
  return std::apply([&](auto... model) { return ((name == decltype(model)::name) || ...); },
                    ModelsFor<uinfo::ImageInput<1, 28, 28>>{});
}

// Returns f.template operator()<Model>() for the model `name` names, widened `widen` times, on
// images of `shape`. Throws InvalidArgument for a model, factor or shape it does not have.
template <class F>
auto with_model(const std::string& name, Index widen, uinfo::Shape shape, F&& f) {
  using Result =
      decltype(f.template
               operator()<std::tuple_element_t<0, ModelsFor<uinfo::ImageInput<1, 28, 28>>>>());
  std::optional<Result> result;
  const auto try_image = [&]<class Image>() {
    if (Image::shape != shape) return;
    std::apply(
        [&](auto... model) {
          (void)((name == decltype(model)::name && widen == decltype(model)::widen &&
                  (result.emplace(f.template operator()<decltype(model)>()), true)) ||
                 ...);
        },
        ModelsFor<Image>{});
  };
  std::apply([&](auto... image) { (try_image.template operator()<decltype(image)>(), ...); },
             Images{});
  if (!result) {
    throw uinfo::InvalidArgument("no model '" + name + "' widened " + std::to_string(widen) +
                                 "x for " + uinfo::to_string(shape) + " images; expected one of " +
                                 model_help() +
                                 ", widened 1x or 2x (mlp 1x only), on 1x28x28 or 3x32x32 images");
  }
  return std::move(*result);
}

// A stretch of training with one kind of data: the coarse or the fine labels, on the training
// images or on their blurred copies.
enum class Labels { coarse, fine };
struct Phase {
  int epochs;
  Labels labels = Labels::coarse;
  bool blurred = false;
};

// The early perturbations of uinfo-fashion-perturb.
inline constexpr const char* perturbations[] = {"fine_first", "blur"};

// A perturbed run: `k` epochs of `kind` (fine_first: on the fine labels; blur: the coarse task on
// blurred images; "none" or k = 0: nothing), then `epochs` of the coarse task on clean images.
inline std::vector<Phase> perturbation_phases(const std::string& kind, int k, int epochs) {
  std::vector<Phase> phases;
  if (k > 0 && kind == "fine_first") phases.push_back({.epochs = k, .labels = Labels::fine});
  if (k > 0 && kind == "blur") phases.push_back({.epochs = k, .blurred = true});
  phases.push_back({.epochs = epochs});
  return phases;
}

// One seed's run.
struct RunSettings {
  Index width;
  uinfo::cli::Regime regime;  // its epochs are the phases'
  bool augment;  // random crops (4-pixel padding) and horizontal flips of the training images
  std::vector<uinfo::DecoderFamily> decoders;
  std::optional<double> decoder_l2;  // the linear decoder's penalty; empty: chosen from the data
  bool corrected = false;            // also the finite-sample-corrected estimates
  ProbeReading reading;
};

// The network `net` with a new classifier of `classes` outputs (initialised as a fresh network of
// this seed's would be) and every other parameter kept; no optimizer state is kept.
template <class Model>
typename Model::Net with_new_classifier(const typename Model::Net& net, Index width, Index classes,
                                        std::uint64_t seed) {
  typename Model::Net fresh = Model::make(width, classes, seed);
  std::vector<const uinfo::Parameter<float>*> old;
  net.for_each_parameter([&](const uinfo::Parameter<float>& p) { old.push_back(&p); });
  std::size_t block = 0;
  fresh.for_each_parameter([&](uinfo::Parameter<float>& p) {
    if (block + 2 < old.size()) p.value = old[block]->value;  // all but the classifier's two
    ++block;
  });
  return fresh;
}

// Trains a fresh `Model` network of seed `seed` through the phases with SGD, probing every hidden
// layer for the fine and the coarse labels before the first step, after each fractional epoch in
// `early` and after every epoch. A network starts with as many outputs as its first phase's labels
// have classes, and gets a new classifier when the labels change. `epoch_done` is called after
// every epoch (for a progress bar); `timing` gains the run's wall time and the part of it spent
// probing.
template <class Model>
std::vector<uinfo::probing::Measurement> train_and_probe(const RunSettings& s, const Data& data,
                                                         std::uint64_t seed,
                                                         std::span<const Phase> phases,
                                                         std::span<const double> early,
                                                         const std::function<void()>& epoch_done,
                                                         uinfo::probing::Timing& timing) {
  using Net = typename Model::Net;
  const auto classes = [&](Labels labels) {
    return labels == Labels::fine ? data.fine_classes : data.coarse_classes;
  };
  Labels current = phases.empty() ? Labels::coarse : phases.front().labels;
  Net net = Model::make(s.width, classes(current), seed);
  typename Model::template Probe<Net> probe(
      data.probe_train_x, data.probe_test_x,
      {{"fine", data.fine_train, data.fine_test, data.fine_classes},
       {"coarse", data.coarse_train, data.coarse_test, data.coarse_classes}},
      {.decoders = s.decoders,
       .linear = {.l2 = s.decoder_l2},
       .seed = seed,
       .corrected = s.corrected});
  std::vector<uinfo::probing::Measurement> rows;
  uinfo::probing::Timing run;
  const std::function<void(double)> measure = [&](double epoch) {
    uinfo::probing::add_wall_time(run.probe_seconds, [&] {
      const auto& held_out = current == Labels::fine ? data.held_out_fine : data.held_out;
      const double accuracy = uinfo::evaluate(net, uinfo::SoftmaxCrossEntropy{}, held_out).accuracy;
      typename Model::template Outputs<Net> outputs(net, s.reading);
      uinfo::probing::record(rows, probe, outputs, epoch, accuracy, Model::number);
    });
  };
  uinfo::Engine augment = uinfo::Rng{seed}.engine(uinfo::Stream::augment);
  uinfo::probing::add_wall_time(run.total_seconds, [&] {
    measure(0.0);
    int epochs_before = 0;
    for (std::size_t p = 0; p < phases.size(); ++p) {
      const Phase& phase = phases[p];
      if (phase.epochs == 0) continue;
      if (phase.labels != current) {
        net = with_new_classifier<Model>(net, s.width, classes(phase.labels), seed);
        current = phase.labels;
      }
      if (phase.blurred && !data.blurred_train_x) {
        throw uinfo::InvalidArgument("a blurred phase needs blur_training_images(data) first");
      }
      const uinfo::ImageBatches<float> train{
          .x = phase.blurred ? &*data.blurred_train_x : &data.train_x,
          .labels = phase.labels == Labels::fine ? &data.train_fine : &data.train_coarse,
          .shape = data.shape,
          .engine = s.augment ? &augment : nullptr};
      const uinfo::cli::Regime& r = s.regime;
      uinfo::Sgd sgd{{.lr = r.lr, .momentum = r.momentum, .weight_decay = r.weight_decay}};
      // Phase 0 shuffles with the seed itself; later phases with streams drawn from it.
      const uinfo::Rng rng{p == 0 ? seed : uinfo::Rng{seed}.engine(uinfo::Stream::user, p)()};
      const Index steps = (train.size() + r.batch - 1) / r.batch;
      uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{}, train,
                 {.epochs = phase.epochs, .batch_size = r.batch, .rng = rng},
                 uinfo::probing::ProbeSchedule<Net>(measure, early, epochs_before, phase.epochs,
                                                    steps, epoch_done));
      epochs_before += phase.epochs;
    }
  });
  timing += run;
  return rows;
}

}  // namespace fashion
