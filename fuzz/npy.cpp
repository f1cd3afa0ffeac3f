// Fuzzes the .npy readers: features as float and as double, and labels.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "uinfo/data/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static uinfo::fuzz::InputFile file;
  const auto& path = file.write(data, size);
  uinfo::fuzz::expect_clean([&] { uinfo::read_npy_matrix<float>(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_npy_matrix<double>(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_npy_labels(path); });
  return 0;
}
