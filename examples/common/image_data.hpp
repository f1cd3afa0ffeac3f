// The image experiments' data: Fashion-MNIST, CIFAR-10 or CIFAR-100, a coarse grouping of their
// classes, a class-balanced training subset and the probe images, which come from the official
// test split so that no decoder sees an image the network trained on.
#pragma once

#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace fashion {

using uinfo::Index;
using uinfo::Label;
using uinfo::Matrix;

// A data set the programs read, with its coarse groupings (the first is the default).
struct DataSet {
  const char* name;
  uinfo::Shape shape;
  Index fine_classes;
  const char* default_directory;
  std::vector<uinfo::LabelGrouping> groupings;
};

inline const std::vector<DataSet>& data_sets() {
  static const std::vector<DataSet> all{
      {"fashion",
       {1, 28, 28},
       10,
       uinfo::fashion_mnist_directory.data(),
       {uinfo::fashion_mnist_garment_kind(), uinfo::fashion_mnist_tops()}},
      {"cifar10", {3, 32, 32}, 10, "data", uinfo::cifar10_groupings()},
      {"cifar100", {3, 32, 32}, 100, "data", {uinfo::cifar100_superclasses()}}};
  return all;
}

// The data set `name` names, or null.
inline const DataSet* data_set_named(const std::string& name) {
  for (const DataSet& d : data_sets()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

// "fashion, cifar10, cifar100", or a data set's groupings "garment_kind, tops".
inline std::string data_set_names() {
  std::string names;
  for (const DataSet& d : data_sets()) names += (names.empty() ? "" : ", ") + std::string(d.name);
  return names;
}
inline std::string grouping_names(const DataSet& set) {
  std::string names;
  for (const auto& g : set.groupings) names += (names.empty() ? "" : ", ") + g.name;
  return names;
}
inline const uinfo::LabelGrouping* grouping_named(const DataSet& set, const std::string& name) {
  for (const auto& g : set.groupings) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

// What to load.
struct DataSettings {
  std::string data_set = "fashion";
  std::string directory;  // empty: the data set's default
  std::string grouping;   // empty: the data set's first
  Index train_samples = 60000;
  Index probe_samples = 10000;
};

// The run's data. The network trains on `train_x` with the coarse labels (or, in a perturbation,
// the fine ones); the decoders train on probe_train_x and are scored on probe_test_x, on which
// the network's accuracy is measured too (held_out, held_out_fine).
struct Data {
  uinfo::Shape shape;
  Index fine_classes = 0, coarse_classes = 0;
  std::string grouping;
  Matrix<float> train_x;
  std::vector<Label> train_coarse, train_fine;
  std::optional<Matrix<float>> blurred_train_x;  // made by blur_training_images()
  Matrix<float> probe_train_x, probe_test_x;
  std::vector<Label> fine_train, fine_test, coarse_train, coarse_test;
  uinfo::Dataset<float> held_out, held_out_fine;
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

// One split of a data set, with its fine labels.
inline uinfo::Dataset<float> load_split(const DataSet& set, const std::filesystem::path& directory,
                                        uinfo::Split split) {
  const std::string name = set.name;
  if (name == "fashion") return uinfo::load_fashion_mnist<float>(split, directory);
  if (name == "cifar10") return uinfo::load_cifar10<float>(split, directory);
  auto cifar100 = uinfo::load_cifar100<float>(split, directory);
  return {std::move(cifar100.x), std::move(cifar100.fine)};
}

// `train_samples` class-balanced training images and `probe_samples` class-balanced test images,
// the first half of them for the decoders' training and the second half held out. The selection
// depends on nothing but the counts, so every seed trains and is probed on the same images. CIFAR
// images are normalised per channel by the mean and standard deviation of the training images
// (Fashion-MNIST's stay in [0, 1], as the MLP results were measured). Throws InvalidArgument for
// counts the splits do not hold, IoError for missing or malformed files.
inline Data load_data(const DataSettings& s) {
  const DataSet* set = data_set_named(s.data_set);
  if (!set) {
    throw uinfo::InvalidArgument("unknown data set '" + s.data_set + "'; expected one of " +
                                 data_set_names());
  }
  const uinfo::LabelGrouping* grouping =
      s.grouping.empty() ? &set->groupings.front() : grouping_named(*set, s.grouping);
  if (!grouping) {
    throw uinfo::InvalidArgument("the grouping '" + s.grouping + "' is not one of " + set->name +
                                 "'s: " + grouping_names(*set));
  }
  const std::filesystem::path directory = s.directory.empty()
                                              ? std::filesystem::path(set->default_directory)
                                              : std::filesystem::path(s.directory);
  const uinfo::Rng selection{0};
  uinfo::Engine engine = selection.engine(uinfo::Stream::data);
  // `count` images of a split, 0: all of them; `flag` and `name` say which when it has fewer.
  const auto take = [&](const uinfo::Dataset<float>& split, Index count, const char* flag,
                        const char* name) {
    if (count == 0) count = split.size();
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
  data.shape = set->shape;
  data.fine_classes = set->fine_classes;
  data.coarse_classes = grouping->coarse_classes();
  data.grouping = grouping->name;
  {
    auto [x, fine] = take(load_split(*set, directory, uinfo::Split::train), s.train_samples,
                          "--train-samples", "training");
    data.train_x = std::move(x);
    data.train_fine = std::move(fine);
    data.train_coarse = uinfo::coarse_labels(data.train_fine, *grouping);
  }
  auto [x, fine] = take(load_split(*set, directory, uinfo::Split::test), s.probe_samples,
                        "--probe-samples", "test");
  if (set->shape.channels > 1) {
    const auto statistics = uinfo::channel_statistics(data.train_x, set->shape.channels);
    uinfo::normalize_channels(data.train_x, statistics);
    uinfo::normalize_channels(x, statistics);
  }
  const Index half = s.probe_samples / 2;
  data.probe_train_x = x.leftCols(half);
  data.probe_test_x = x.middleCols(half, half);  // an odd count leaves its last image out
  data.fine_train.assign(fine.begin(), fine.begin() + half);
  data.fine_test.assign(fine.begin() + half, fine.begin() + 2 * half);
  data.coarse_train = uinfo::coarse_labels(data.fine_train, *grouping);
  data.coarse_test = uinfo::coarse_labels(data.fine_test, *grouping);
  data.held_out = {data.probe_test_x, data.coarse_test};
  data.held_out_fine = {data.probe_test_x, data.fine_test};
  return data;
}

// The critical-period deficit: the training images downsampled 4x and upsampled back.
inline void blur_training_images(Data& data) {
  data.blurred_train_x = data.train_x;
  uinfo::blur_by_downsampling(*data.blurred_train_x, data.shape, 4);
}

}  // namespace fashion
