// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 28 x 28 grey images of Zalando's articles in 10
// classes, 60000 for training and 10000 for testing, 6000 and 1000 per class. Its four IDX files
// come with Debian's package dataset-fashion-mnist, in /usr/share/datasets/fashion-mnist.
//
// Besides the 10 classes, coarser labels are defined here as groupings of them, so that a
// representation can be probed for what it keeps of the class at a coarser grain.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/data/idx.hpp"
#include "uinfo/data/label_grouping.hpp"
#include "uinfo/data/pixels.hpp"

namespace uinfo {

// The class names, indexed by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

inline constexpr ImageShape fashion_mnist_image_shape{28, 28, 1};

// Where Debian's dataset-fashion-mnist installs the files.
inline constexpr std::string_view fashion_mnist_directory = "/usr/share/datasets/fashion-mnist";

// Garments worn on the upper body (T-shirt/top, Pullover, Coat, Shirt: group 0) against the rest.
inline const LabelGrouping& fashion_mnist_tops() {
  static const LabelGrouping grouping{"tops", {"top", "other"}, {0, 1, 0, 1, 0, 1, 0, 1, 1, 1}};
  return grouping;
}

// Clothing {T-shirt/top, Trouser, Pullover, Dress, Coat, Shirt}, footwear {Sandal, Sneaker, Ankle
// boot} and bags {Bag}.
inline const LabelGrouping& fashion_mnist_garment_kind() {
  static const LabelGrouping grouping{
      "garment_kind", {"clothing", "footwear", "bags"}, {0, 0, 0, 0, 0, 1, 0, 1, 2, 1}};
  return grouping;
}

// Every grouping above, for loops over coarse labels.
inline std::vector<LabelGrouping> fashion_mnist_groupings() {
  return {fashion_mnist_tops(), fashion_mnist_garment_kind()};
}

enum class Split { train, test };

namespace detail {
// The file `name`.gz in `directory`, or `name` if it was stored uncompressed. Throws IoError
// naming the Debian package when neither is there.
inline std::filesystem::path fashion_mnist_file(const std::filesystem::path& directory,
                                                const std::string& name) {
  const std::string who = "uinfo::load_fashion_mnist: ";
  const std::string package = "the Debian package dataset-fashion-mnist provides it in " +
                              std::string(fashion_mnist_directory) +
                              " (sudo apt-get install dataset-fashion-mnist)";
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw IoError(who + "the directory '" + directory.string() +
                  "' does not exist; expected Fashion-MNIST's IDX files there: " + package);
  }
  for (const auto& candidate : {directory / (name + ".gz"), directory / name}) {
    if (std::filesystem::exists(candidate, error)) return candidate;
  }
  throw IoError(who + "'" + (directory / (name + ".gz")).string() + "' is missing (nor is '" +
                name + "' there uncompressed): " + package);
}
}  // namespace detail

// The training or test split of Fashion-MNIST: 784 x images (28 x 28, row by row, scaled as
// `scale` says) with labels 0..9, indexing fashion_mnist_classes. The images are read from
// {train,t10k}-images-idx3-ubyte.gz in `directory`, the labels from ...-labels-idx1-ubyte.gz
// (either may be stored uncompressed, without .gz). Throws IoError naming the file for a missing
// or malformed file and when the two files disagree on the number of images, InvalidArgument for
// a label above 9.
template <Scalar S>
Dataset<S> load_fashion_mnist(Split split = Split::train,
                              const std::filesystem::path& directory = fashion_mnist_directory,
                              PixelScale scale = PixelScale::unit) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto images_path = detail::fashion_mnist_file(directory, prefix + "-images-idx3-ubyte");
  const auto labels_path = detail::fashion_mnist_file(directory, prefix + "-labels-idx1-ubyte");
  Dataset<S> data;
  data.labels = read_idx_labels(labels_path, Index{10});
  data.x = read_idx_images<S>(images_path, scale);
  const Index pixels = fashion_mnist_image_shape.features();
  if (data.x.rows() != pixels) {
    throw IoError("uinfo::load_fashion_mnist: '" + images_path.string() + "': the images have " +
                  std::to_string(data.x.rows()) +
                  " pixels; expected 28 x 28 = " + std::to_string(pixels));
  }
  if (static_cast<Index>(data.labels.size()) != data.x.cols()) {
    throw IoError("uinfo::load_fashion_mnist: '" + images_path.string() + "' holds " +
                  std::to_string(data.x.cols()) + " images but '" + labels_path.string() +
                  "' holds " + std::to_string(data.labels.size()) +
                  " labels; expected one label per image");
  }
  return data;
}

}  // namespace uinfo
