// Fuzzes the IDX readers on the raw bytes, which they read as gzip when the bytes start with its
// magic (so mutations of the gzip seeds exercise zlib's error paths too).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "uinfo/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static uinfo::fuzz::InputFile file;
  const auto& path = file.write(data, size);
  uinfo::fuzz::expect_clean([&] { uinfo::read_idx(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_idx_images<float>(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_idx_labels(path, uinfo::Index{10}); });
  return 0;
}
