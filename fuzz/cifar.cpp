// Fuzzes the CIFAR-10 and CIFAR-100 batch readers (plain, or gzip by the bytes' magic).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "uinfo/data/cifar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static uinfo::fuzz::InputFile file;
  const auto& path = file.write(data, size);
  uinfo::fuzz::expect_clean([&] { uinfo::read_cifar10<float>(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_cifar100<float>(path); });
  return 0;
}
