// Small CIFAR-10 and CIFAR-100 data sets in the binary format, written by the tests: CIFAR is not
// packaged for Debian. Image i of a file has label i % classes, and every pixel byte of the
// records of class c is drawn around 40 + 16 c (a little noise from a seeded stream), so that the
// classes differ and a network can learn them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "uinfo/core/rng.hpp"

namespace cifar_files {

// One record: its label bytes, then 3072 pixel bytes.
inline std::string record(const std::string& labels, int brightness, uinfo::Engine& engine) {
  std::string bytes = labels;
  for (int i = 0; i < 3072; ++i) {
    bytes += static_cast<char>(
        static_cast<unsigned char>(brightness + static_cast<int>(engine.below(24))));
  }
  return bytes;
}

inline void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// data_batch_1.bin ... data_batch_5.bin of `per_batch` images each, and test_batch.bin of `test`.
inline void write_cifar10(const std::filesystem::path& dir, int per_batch, int test) {
  std::filesystem::create_directories(dir);
  uinfo::Engine engine = uinfo::Rng{1}.engine(uinfo::Stream::user);
  const auto batch = [&](int images) {
    std::string bytes;
    for (int i = 0; i < images; ++i) {
      bytes += record(std::string(1, static_cast<char>(i % 10)), 40 + 16 * (i % 10), engine);
    }
    return bytes;
  };
  for (int b = 1; b <= 5; ++b)
    write(dir / ("data_batch_" + std::to_string(b) + ".bin"), batch(per_batch));
  write(dir / "test_batch.bin", batch(test));
}

// train.bin and test.bin, fine label i % 100 with its superclass `superclass[fine]` as the coarse
// byte (pass another table to write inconsistent files).
template <class Table>
void write_cifar100(const std::filesystem::path& dir, int train, int test,
                    const Table& superclass) {
  std::filesystem::create_directories(dir);
  uinfo::Engine engine = uinfo::Rng{2}.engine(uinfo::Stream::user);
  const auto file = [&](int images) {
    std::string bytes;
    for (int i = 0; i < images; ++i) {
      const int fine = i % 100;
      const std::string labels{static_cast<char>(superclass[static_cast<std::size_t>(fine)]),
                               static_cast<char>(fine)};
      bytes += record(labels, 40 + 8 * (fine % 20), engine);
    }
    return bytes;
  };
  write(dir / "train.bin", file(train));
  write(dir / "test.bin", file(test));
}

}  // namespace cifar_files
