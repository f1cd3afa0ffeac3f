// The examples' seed runner (examples/common/seed_runs.hpp): seeds run in parallel, but their
// rows reach info.csv in seed order, so the file does not depend on which seed finished first.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "common/seed_runs.hpp"
#include "program.hpp"
#include "scratch_dir.hpp"

using namespace uinfo;

TEST_CASE("seed runs write info.csv in seed order when a later seed finishes first", "[examples]") {
  const ScratchDir dir("uinfo_seed_runs");
  std::promise<void> second_done;
  std::shared_future<void> second_finished = second_done.get_future().share();
  probing::Timing timing;
  const auto rows = probing::run_seeds(
      {.seeds = 2, .first_seed = 7, .epochs = 1, .threads = 2, .quiet = true}, dir.path, timing,
      [&](std::uint64_t seed, const std::function<void()>& epoch_done, probing::Timing&) {
        // Seed 7 waits for seed 8 to have finished (or 10 s, should only one thread run).
        if (seed == 7) second_finished.wait_for(std::chrono::seconds(10));
        epoch_done();
        std::vector<probing::Measurement> m(2);
        for (int layer = 0; layer < 2; ++layer) {
          probing::Measurement& r = m[static_cast<std::size_t>(layer)];
          r.epoch = 1;
          r.layer = layer + 1;
          r.units = 4;
          r.label = "colour";
          r.decoder = "linear";
          r.info.bits = 0.1 * static_cast<double>(seed);
        }
        if (seed == 8) second_done.set_value();
        return m;
      });
  REQUIRE(rows.size() == 4);
  std::istringstream csv(read_text(dir.path / "info.csv"));
  std::string line, seeds;
  std::getline(csv, line);  // the header
  while (std::getline(csv, line)) seeds += line.substr(0, line.find(',')) + " ";
  CHECK(seeds == "7 7 8 8 ");
  CHECK(rows.front().seed == 7);
  CHECK(rows.back().seed == 8);
}
