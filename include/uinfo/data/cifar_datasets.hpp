// CIFAR-10 and CIFAR-100 as labelled data sets: where their binary batches lie, their class names
// and the coarse groupings of their classes. The files themselves are read by data/cifar.hpp.
//
// CIFAR is not packaged for Debian: download the "binary version" of each data set from
// https://www.cs.toronto.edu/~kriz/cifar.html (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz)
// and unpack it. A directory given to load_cifar10 / load_cifar100 may be the one the archive
// unpacks to (cifar-10-batches-bin, cifar-100-binary) or the one holding it.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/data/cifar.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/data/fashion_mnist.hpp"
#include "uinfo/data/label_grouping.hpp"

namespace uinfo {

inline constexpr std::array<std::string_view, 10> cifar10_classes{
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

// Vehicles {airplane, automobile, ship, truck} against animals {bird, cat, deer, dog, frog,
// horse}.
inline const LabelGrouping& cifar10_vehicles_animals() {
  static const LabelGrouping grouping{
      "vehicles_animals", {"vehicle", "animal"}, {0, 0, 1, 1, 1, 1, 1, 1, 0, 0}};
  return grouping;
}

// A finer grouping of the same split: road vehicles {automobile, truck}, air and sea vehicles
// {airplane, ship}, mammals {cat, deer, dog, horse} and the other animals {bird, frog}.
inline const LabelGrouping& cifar10_kinds() {
  static const LabelGrouping grouping{"kinds",
                                      {"road_vehicle", "air_sea_vehicle", "mammal", "other_animal"},
                                      {1, 0, 3, 2, 2, 2, 3, 2, 1, 0}};
  return grouping;
}

inline std::vector<LabelGrouping> cifar10_groupings() {
  return {cifar10_vehicles_animals(), cifar10_kinds()};
}

// The 100 fine classes, indexed by label (alphabetical, as in fine_label_names.txt).
inline constexpr std::array<std::string_view, 100> cifar100_classes{
    "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
    "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
    "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
    "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
    "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
    "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
    "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
    "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
    "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
    "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
    "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
    "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
    "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
    "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
    "table",       "tank",          "telephone", "television", "tiger",        "tractor",
    "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
    "willow_tree", "wolf",          "woman",     "worm"};

// The 20 superclasses of Krizhevsky (2009), as in coarse_label_names.txt, and the superclass of
// every fine class: the coarse label byte of each CIFAR-100 record.
inline const LabelGrouping& cifar100_superclasses() {
  static const LabelGrouping grouping{
      "superclass",
      {"aquatic_mammals",
       "fish",
       "flowers",
       "food_containers",
       "fruit_and_vegetables",
       "household_electrical_devices",
       "household_furniture",
       "insects",
       "large_carnivores",
       "large_man-made_outdoor_things",
       "large_natural_outdoor_scenes",
       "large_omnivores_and_herbivores",
       "medium_mammals",
       "non-insect_invertebrates",
       "people",
       "reptiles",
       "small_mammals",
       "trees",
       "vehicles_1",
       "vehicles_2"},
      {4,  1,  14, 8,  0,  6,  7,  7,  18, 3,  3,  14, 9,  18, 7,  11, 3,  9,  7,  11,
       6,  11, 5,  10, 7,  6,  13, 15, 3,  15, 0,  11, 1,  10, 12, 14, 16, 9,  11, 5,
       5,  19, 8,  8,  15, 13, 14, 17, 18, 10, 16, 4,  17, 4,  2,  0,  17, 4,  18, 17,
       10, 3,  2,  12, 12, 16, 12, 1,  9,  19, 2,  10, 0,  1,  16, 12, 9,  13, 15, 13,
       16, 19, 2,  4,  6,  19, 5,  5,  8,  19, 18, 1,  2,  15, 6,  0,  17, 8,  14, 13}};
  return grouping;
}

namespace detail {

// The directory of a CIFAR archive: `directory` if it holds `first_file`, else its subdirectory
// `unpacked` (the archive's own) if that does. Throws IoError saying where the data comes from.
inline std::filesystem::path cifar_directory(const std::filesystem::path& directory,
                                             const std::string& set, const std::string& unpacked,
                                             const std::string& first_file,
                                             const std::string& archive) {
  const std::string who = "uinfo::load_" + set + ": ";
  const std::string where = set + " is not packaged for Debian: download the binary version (" +
                            archive +
                            ") from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it";
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw IoError(who + "the directory '" + directory.string() + "' does not exist; " + where);
  }
  for (const auto& candidate : {directory, directory / unpacked}) {
    if (std::filesystem::exists(candidate / first_file, error)) return candidate;
  }
  throw IoError(who + "'" + directory.string() + "' holds neither " + first_file + " nor " +
                unpacked + "/" + first_file + "; " + where);
}

}  // namespace detail

// CIFAR-10's training split (data_batch_1.bin ... data_batch_5.bin, 50,000 images) or test split
// (test_batch.bin, 10,000): 3072 x images, HWC 32 x 32 x 3, labels indexing cifar10_classes.
template <Scalar S>
Dataset<S> load_cifar10(Split split, const std::filesystem::path& directory,
                        PixelScale scale = PixelScale::unit) {
  const std::filesystem::path dir = detail::cifar_directory(
      directory, "cifar10", "cifar-10-batches-bin", "test_batch.bin", "cifar-10-binary.tar.gz");
  std::vector<std::filesystem::path> files;
  if (split == Split::train) {
    for (int b = 1; b <= 5; ++b)
      files.push_back(dir / ("data_batch_" + std::to_string(b) + ".bin"));
  } else {
    files.push_back(dir / "test_batch.bin");
  }
  return read_cifar10_batches<S>(files, scale);
}

// CIFAR-100's training split (train.bin, 50,000 images) or test split (test.bin, 10,000), with
// fine labels (cifar100_classes) and coarse ones (the superclasses). Throws IoError if a record's
// coarse label is not its fine label's superclass.
template <Scalar S>
Cifar100<S> load_cifar100(Split split, const std::filesystem::path& directory,
                          PixelScale scale = PixelScale::unit) {
  const std::filesystem::path dir = detail::cifar_directory(
      directory, "cifar100", "cifar-100-binary", "test.bin", "cifar-100-binary.tar.gz");
  const std::filesystem::path file = dir / (split == Split::train ? "train.bin" : "test.bin");
  Cifar100<S> data = read_cifar100_batches<S>({file}, scale);
  const LabelGrouping& superclasses = cifar100_superclasses();
  for (std::size_t i = 0; i < data.fine.size(); ++i) {
    const Label expected = superclasses.group_of[static_cast<std::size_t>(data.fine[i])];
    if (data.coarse[i] != expected) {
      throw IoError("uinfo::load_cifar100: '" + file.string() + "': record " + std::to_string(i) +
                    " has fine label " + std::to_string(data.fine[i]) + " (" +
                    std::string(cifar100_classes[static_cast<std::size_t>(data.fine[i])]) +
                    ") but coarse label " + std::to_string(data.coarse[i]) + "; expected " +
                    std::to_string(expected) + " (" +
                    superclasses.groups[static_cast<std::size_t>(expected)] + "), its superclass");
    }
  }
  return data;
}

}  // namespace uinfo
