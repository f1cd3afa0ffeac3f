// Fuzzes the sweep's shard files: an info.csv read back by --merge, parsed and summarised.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/csv_table.hpp"
#include "common/sweep_summary.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static uinfo::fuzz::InputFile file;
  const auto& path = file.write(data, size);
  uinfo::fuzz::expect_clean([&] {
    const std::vector<uinfo::csv::Table> tables{uinfo::csv::Table(path)};
    checkerboard::summarise(tables, 2, 0.8);
  });
  return 0;
}
