// The examples' seed runner (examples/common/seed_runs.hpp): seeds run in parallel, but their
// rows reach info.csv in seed order, so the file does not depend on which seed finished first.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <stdexcept>
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

namespace {

// Three seeds' made-up measurements, with numbers whose shortest text has many digits; the run
// stops with an exception where `stop_at` says.
std::vector<probing::Row> three_seeds(const std::filesystem::path& dir, bool resume,
                                      std::uint64_t stop_at, std::vector<std::uint64_t>* ran,
                                      const std::string& settings = "{\"lr\":0.1}") {
  probing::Timing timing;
  return probing::run_seeds(
      {.seeds = 3,
       .first_seed = 7,
       .epochs = 1,
       .threads = 1,
       .quiet = true,
       .settings = settings,
       .resume = resume},
      dir, timing, [&](std::uint64_t seed, const std::function<void()>&, probing::Timing&) {
        if (seed == stop_at) throw std::runtime_error("stopped");
        if (ran) ran->push_back(seed);
        std::vector<probing::Measurement> m(2);
        for (int layer = 0; layer < 2; ++layer) {
          probing::Measurement& r = m[static_cast<std::size_t>(layer)];
          r.epoch = 0.25 * layer;
          r.layer = layer + 1;
          r.units = 4;
          r.label = "colour";
          r.decoder = "linear";
          r.info.bits = 1.0 / 3 + static_cast<double>(seed);
          r.info.l2_selection = "loo";
          if (layer == 1) r.corrected = FiniteSampleCorrection{.bits = 0.1 / 7};
        }
        return m;
      });
}

}  // namespace

TEST_CASE("a stopped seed run resumes from its journal to the uninterrupted run's files",
          "[examples]") {
  const ScratchDir whole("uinfo_seed_runs_whole"), stopped("uinfo_seed_runs_stopped");
  const auto expected = three_seeds(whole.path, false, 0, nullptr);
  CHECK_THROWS_WITH(three_seeds(stopped.path, false, 9, nullptr), "stopped");
  // A kill part-way through writing seed 9's rows leaves half a row behind the journal's end.
  std::ofstream(stopped.path / "info.csv", std::ios::app) << "9,0,1,4,col";

  SECTION("the finished seeds are kept, the others run, the files are the same") {
    std::vector<std::uint64_t> ran;
    const auto rows = three_seeds(stopped.path, true, 0, &ran);
    CHECK(ran == std::vector<std::uint64_t>{9});
    CHECK(read_text(stopped.path / "info.csv") == read_text(whole.path / "info.csv"));
    CHECK(read_text(stopped.path / "jobs.log") == read_text(whole.path / "jobs.log"));
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {  // read back bit for bit
      CHECK(rows[i].seed == expected[i].seed);
      CHECK(rows[i].m.epoch == expected[i].m.epoch);
      CHECK(rows[i].m.info.bits == expected[i].m.info.bits);
      CHECK(rows[i].m.info.l2_selection == expected[i].m.info.l2_selection);
      CHECK(rows[i].m.corrected.has_value() == expected[i].m.corrected.has_value());
      if (rows[i].m.corrected) CHECK(rows[i].m.corrected->bits == expected[i].m.corrected->bits);
    }
  }
  SECTION("a finished run resumed runs nothing and changes nothing") {
    std::vector<std::uint64_t> ran;
    const std::string before = read_text(whole.path / "info.csv");
    three_seeds(whole.path, true, 0, &ran);
    CHECK(ran.empty());
    CHECK(read_text(whole.path / "info.csv") == before);
  }
  SECTION("other settings are refused, naming the one that differs, and nothing is lost") {
    const std::string before = read_text(stopped.path / "info.csv");
    CHECK_THROWS_WITH(three_seeds(stopped.path, true, 0, nullptr, "{\"lr\":0.2}"),
                      Catch::Contains("lr: 0.1 there, 0.2 here"));
    CHECK(read_text(stopped.path / "info.csv") == before);
  }
  SECTION("without --resume the run starts again") {
    std::vector<std::uint64_t> ran;
    three_seeds(stopped.path, false, 0, &ran);
    CHECK(ran == std::vector<std::uint64_t>{7, 8, 9});
    CHECK(read_text(stopped.path / "info.csv") == read_text(whole.path / "info.csv"));
  }
}
