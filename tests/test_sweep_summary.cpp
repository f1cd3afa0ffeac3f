// The sweep's summary read back from info.csv files (examples/common/sweep_summary.hpp), as
// --merge reads its shards: what it computes, and shard files it must refuse with an IoError.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/csv_table.hpp"
#include "common/sweep_summary.hpp"
#include "scratch_dir.hpp"

using Catch::Contains;

namespace {

const std::string header =
    "lr,batch,seed,epoch,layer,units,label,decoder,bits,standard_error_bits,accuracy,h_bits,"
    "n_train,n_test,iterations,task_accuracy\n";

// A row of configuration lr 0.05, batch 32, the linear decoder.
std::string row(int seed, int epoch, const std::string& label, double bits, double accuracy) {
  return "0.05,32," + std::to_string(seed) + "," + std::to_string(epoch) + ",3,4," + label +
         ",linear," + uinfo::shortest(bits) + ",0.02,0.7,1,200,200,12," +
         uinfo::shortest(accuracy) + "\n";
}

// Two seeds over epochs 0, 1, 2: colour falls, direction rises, accuracy 0.6, 0.8, 0.9.
std::string sweep_rows() {
  std::string rows;
  for (int seed : {1, 2}) {
    for (int epoch = 0; epoch <= 2; ++epoch) {
      rows += row(seed, epoch, "colour", 0.8 - 0.3 * epoch + 0.1 * seed, 0.6 + 0.1 * epoch);
      rows += row(seed, epoch, "direction", 0.2 + 0.3 * epoch, 0.6 + 0.1 * epoch);
    }
  }
  return rows;
}

std::vector<checkerboard::Summary> summarise(const std::filesystem::path& path,
                                             const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return checkerboard::summarise({uinfo::csv::Table(path)}, 2, 0.75);
}

}  // namespace

TEST_CASE("the sweep's summary of its rows", "[examples]") {
  const ScratchDir dir("uinfo_sweep_summary");
  const auto summaries = summarise(dir.path / "info.csv", header + sweep_rows());
  REQUIRE(summaries.size() == 1);
  const checkerboard::Summary& s = summaries[0];
  CHECK(s.lr == 0.05);
  CHECK(s.batch == 32);
  CHECK(s.decoder == "linear");
  // The values read back are the values written, bit for bit (shortest() round-trips).
  const auto colour = [](int seed, int epoch) { return 0.8 - 0.3 * epoch + 0.1 * seed; };
  CHECK(s.final_colour == std::vector<double>{colour(1, 2), colour(2, 2)});
  CHECK(s.final_direction == std::vector<double>{0.2 + 0.3 * 2, 0.2 + 0.3 * 2});
  CHECK(s.final_accuracy == std::vector<double>{0.6 + 0.1 * 2, 0.6 + 0.1 * 2});
  CHECK(s.progress_epoch == std::vector<double>{2, 2});  // the first accuracy >= 0.75
  CHECK(s.progress_colour == s.final_colour);
  CHECK(s.peak_epoch == 0);
  CHECK(s.peak_colour == Approx((colour(1, 0) + colour(2, 0)) / 2));
}

TEST_CASE("the sweep's summary refuses shard files it cannot have written", "[examples]") {
  const ScratchDir dir("uinfo_sweep_summary_refuse");
  const auto path = dir.path / "info.csv";
  const auto refuses = [&](const std::string& text, const std::string& problem) {
    CHECK_THROWS_AS(summarise(path, text), uinfo::IoError);
    CHECK_THROWS_WITH(summarise(path, text), Contains(problem));
  };
  std::string rows = sweep_rows();

  SECTION("a label's row missing (the shards fuzzer's find: it escaped as std::out_of_range)") {
    const std::string last = row(2, 2, "direction", 0.8, 0.8);
    REQUIRE(rows.find(last) != std::string::npos);
    rows.erase(rows.find(last), last.size());
    refuses(
        header + rows,
        "no 'direction' measurement for seed 2 of lr 0.05, batch 32, decoder linear at epoch 2");
  }
  SECTION("a seed that stops early") {
    refuses(header + rows + row(3, 0, "colour", 0.5, 0.5) + row(3, 0, "direction", 0.5, 0.5),
            "seed 3 of lr 0.05, batch 32, decoder linear ends at epoch 0; expected 2");
  }
  SECTION("numbers that are not finite, and batches and seeds that are not whole") {
    refuses(header + row(1, 0, "colour", std::nan(""), 0.5), "column bits row 1 holds 'nan'");
    std::string bad = header + rows;
    bad.replace(bad.find("0.05,32,"), 8, "0.05,0,");
    refuses(bad, "column batch row 1 holds '0'; expected a whole number from 1");
    bad = header + rows;
    bad.replace(bad.find("0.05,32,1,"), 10, "0.05,32,-1,");
    refuses(bad, "column seed row 1 holds '-1'");
  }
  SECTION("a field of bytes that are not text is quoted printably") {
    std::string bad = header + rows;
    bad.replace(bad.find("0.05"), 4, "0.\xff\x01");
    refuses(bad, "holds '0.\\xff\\x01'; expected a finite number");
  }
  SECTION("a cut row") {
    refuses(header + rows.substr(0, rows.size() - 20),
            "fields; expected 16 (is the file truncated?)");
  }
}
