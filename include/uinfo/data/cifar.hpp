// CIFAR-10 and CIFAR-100 binary batches (Krizhevsky 2009, the "binary version" of each data set:
// data_batch_1.bin ... test_batch.bin, train.bin and test.bin), plain or gzip-compressed.
//
// A batch is a sequence of records with no header. CIFAR-10: one label byte (10 classes), then
// 3072 pixel bytes. CIFAR-100: a coarse label byte (20 superclasses), a fine label byte (100
// classes), then 3072 pixel bytes. The pixels are channel-planar: the 1024 red values of the
// 32 x 32 image row by row, then the green, then the blue. uinfo's images are HWC with the channel
// fastest (pixels.hpp), so each image is reordered as it is converted.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/data/byte_reader.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/data/pixels.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

inline constexpr ImageShape cifar_image_shape{32, 32, 3};

// A CIFAR-100 batch: images with both their labels.
template <Scalar S>
struct Cifar100 {
  Matrix<S> x;                // 3072 x images, HWC
  std::vector<Label> fine;    // 0..99
  std::vector<Label> coarse;  // 0..19, the superclass of the fine label

  Index size() const { return x.cols(); }

  // The images with one of the labels, ready for fit() or a decoder.
  Dataset<S> with_labels(const std::vector<Label>& labels) const { return {x, labels}; }
};

namespace detail::cifar {

struct Format {
  const char* name;
  std::size_t label_bytes;
  std::array<Index, 2> classes;       // of each label byte, in file order
  std::array<const char*, 2> labels;  // names of the label bytes in messages
  const char* record;                 // what a record holds
};
inline constexpr std::size_t pixel_bytes = 3072;
inline constexpr Format cifar10{"CIFAR-10", 1, {10, 0}, {"label", ""}, "1 label byte"};
inline constexpr Format cifar100{
    "CIFAR-100", 2, {20, 100}, {"coarse label", "fine label"}, "a coarse and a fine label byte"};

inline std::size_t record_bytes(const Format& format) {
  return format.label_bytes + pixel_bytes;
}

// Reads the batches' records into x (pixel_bytes x records, HWC) and one label vector per label
// byte. Every error names `who` and the file.
template <Scalar S>
void read(const std::vector<std::filesystem::path>& paths, const std::string& who,
          const Format& format, PixelScale scale, Matrix<S>& x,
          std::array<std::vector<Label>, 2>& labels) {
  if (paths.empty()) throw InvalidArgument(who + ": no batch files given; expected at least one");
  const std::size_t record = record_bytes(format);
  const Format& other = format.label_bytes == 1 ? cifar100 : cifar10;
  std::vector<std::vector<std::uint8_t>> batches;
  std::vector<std::string> names;
  std::size_t records = 0;
  for (const auto& path : paths) {
    ByteReader in(path, who);
    std::vector<std::uint8_t> bytes = in.read_rest();
    const std::string size = (in.gzip() ? "its decompressed size " : "its size ") +
                             std::to_string(bytes.size()) + " bytes";
    if (in.cut_off())
      in.fail("truncated after " + std::to_string(bytes.size()) + " bytes" + in.cut_off_note());
    if (!bytes.empty() && bytes[0] == 0x80) {
      in.fail("it looks like a Python pickle (the \"python version\" of " +
              std::string(format.name) + "); expected a binary batch (the \"binary version\")");
    }
    if (bytes.empty()) in.fail("the file is empty; expected at least one record");
    if (bytes.size() % record != 0) {
      const bool other_fits = bytes.size() % record_bytes(other) == 0;
      in.fail(
          size + " is not a multiple of the " + format.name + " record size " +
          std::to_string(record) + " (" + format.record + " + 3072 pixel bytes)" +
          (other_fits
               ? " but is a multiple of the " + std::string(other.name) + " record size " +
                     std::to_string(record_bytes(other)) + ": is it a " + other.name + " batch?"
               : ": the file is truncated or not a " + std::string(format.name) + " binary batch"));
    }
    records += bytes.size() / record;
    batches.push_back(std::move(bytes));
    names.push_back(in.path());
  }

  x.resize(static_cast<Index>(pixel_bytes), static_cast<Index>(records));
  for (std::size_t k = 0; k < format.label_bytes; ++k) labels[k].resize(records);
  const auto values = detail::pixel_values<S>(scale);
  constexpr std::size_t plane = pixel_bytes / 3;
  std::size_t column = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::uint8_t* data = batches[b].data();
    for (std::size_t r = 0; r < batches[b].size() / record; ++r, ++column) {
      const std::uint8_t* head = data + r * record;
      for (std::size_t k = 0; k < format.label_bytes; ++k) {
        if (head[k] >= format.classes[k]) {
          throw InvalidArgument(who + ": '" + names[b] + "': " + format.labels[k] + " " +
                                std::to_string(head[k]) + " of record " + std::to_string(r) +
                                " is out of range for " + std::to_string(format.classes[k]) +
                                " classes (expected 0.." + std::to_string(format.classes[k] - 1) +
                                "): is it a " + format.name + " batch?");
        }
        labels[k][column] = head[k];
      }
      // Planar (c, h, w) to HWC: pixel p's channels come from the three planes.
      const std::uint8_t* pixels = head + format.label_bytes;
      S* out = x.col(static_cast<Index>(column)).data();
      for (std::size_t p = 0; p < plane; ++p) {
        out[3 * p] = values[pixels[p]];
        out[3 * p + 1] = values[pixels[plane + p]];
        out[3 * p + 2] = values[pixels[2 * plane + p]];
      }
    }
    std::vector<std::uint8_t>().swap(batches[b]);  // release each batch once converted
  }
}

}  // namespace detail::cifar

// Reads CIFAR-10 binary batches, in order, as one data set: 3072 x images (HWC, 32 x 32 x 3, see
// cifar_image_shape) with labels 0..9. The training set is data_batch_1.bin to data_batch_5.bin.
template <Scalar S>
Dataset<S> read_cifar10_batches(const std::vector<std::filesystem::path>& paths,
                                PixelScale scale = PixelScale::unit) {
  Dataset<S> data;
  std::array<std::vector<Label>, 2> labels;
  detail::cifar::read(paths, "uinfo::read_cifar10", detail::cifar::cifar10, scale, data.x, labels);
  data.labels = std::move(labels[0]);
  return data;
}

// Reads one CIFAR-10 binary batch.
template <Scalar S>
Dataset<S> read_cifar10(const std::filesystem::path& path, PixelScale scale = PixelScale::unit) {
  return read_cifar10_batches<S>(std::vector<std::filesystem::path>{path}, scale);
}

// Reads CIFAR-100 binary batches (train.bin, test.bin), in order, as one set of images with their
// fine and coarse labels.
template <Scalar S>
Cifar100<S> read_cifar100_batches(const std::vector<std::filesystem::path>& paths,
                                  PixelScale scale = PixelScale::unit) {
  Cifar100<S> data;
  std::array<std::vector<Label>, 2> labels;
  detail::cifar::read(paths, "uinfo::read_cifar100", detail::cifar::cifar100, scale, data.x,
                      labels);
  data.coarse = std::move(labels[0]);
  data.fine = std::move(labels[1]);
  return data;
}

// Reads one CIFAR-100 binary batch.
template <Scalar S>
Cifar100<S> read_cifar100(const std::filesystem::path& path, PixelScale scale = PixelScale::unit) {
  return read_cifar100_batches<S>(std::vector<std::filesystem::path>{path}, scale);
}

}  // namespace uinfo
