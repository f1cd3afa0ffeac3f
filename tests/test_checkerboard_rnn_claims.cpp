// uinfo-checkerboard-rnn at a size a test can afford (3 areas of 20 units, 20 updates): what it
// writes, that the files do not depend on --threads, that an undecided network's analysis says
// so (n = 0) instead of failing, and its errors. The published claim itself (colour filtered from
// area to area, direction kept) needs networks trained for 10^4 updates or more (README), which
// no test here can afford: no reduced configuration measured so far learns the task in minutes.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "program.hpp"
#include "scratch_dir.hpp"

namespace {

const std::string tiny =
    "--units 60 --seeds 2 --max-updates 20 --validate-every 10 --validation-trials 58 "
    "--analysis-trials 200 --probe-every 10 --probe-trials 100 --decoder linear --quiet ";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("uinfo-checkerboard-rnn writes its tables independently of the thread count",
          "[checkerboard_rnn]") {
  const ScratchDir dir("uinfo_checkerboard_rnn_claims");
  const auto one = dir.path / "one", two = dir.path / "two";
  const auto first = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path,
                                 tiny + "--threads 1 --out '" + one.string() + "'");
  INFO(first.err);
  REQUIRE(first.status == 0);
  REQUIRE(run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path,
                      tiny + "--threads 2 --out '" + two.string() + "'")
              .status == 0);
  for (const char* file : {"info.csv", "areas.csv", "training.csv", "behaviour.csv",
                           "checkpoints/seed-0.bin", "checkpoints/seed-1.bin"}) {
    INFO(file);
    CHECK(read_text(one / file) == read_text(two / file));
  }
  for (const char* file : {"areas.png", "training.png", "behaviour.png"})
    CHECK(std::filesystem::exists(one / file));

  const auto info = lines_of(read_text(one / "info.csv"));
  REQUIRE(!info.empty());
  CHECK(info[0] == "seed,update,window,area,label,decoder,bits,accuracy,n,n_train,n_test");
  // Probes at 0, 10 and 20 updates (2 labels x 3 areas) and the final analysis (3 labels x 3
  // areas), for each of the 2 seeds.
  CHECK(info.size() == 1 + 2 * (3 * 6 + 9));
  CHECK(read_text(one / "areas.csv")
            .starts_with("area,label,decoder,bits_mean,bits_sd,accuracy_mean,seeds\n"));
  const auto training = lines_of(read_text(one / "training.csv"));
  CHECK(training.size() == 1 + 2 * 3);

  // 20 updates make no decisions: the reaction-time window has no trials, which the rows say.
  const nlohmann::json run = parse_json(read_text(one / "run.json"));
  for (const auto& seed : run.at("seeds")) {
    CHECK(seed.at("updates") == 20);
    CHECK(seed.at("decided_fraction").get<double>() < 0.5);
  }
  int unmeasured = 0;
  for (const std::string& row : info) {
    if (row.find(",reaction,") == std::string::npos || row.find(",nan,nan,") == std::string::npos)
      continue;
    CHECK(row.ends_with(",0,0,0"));
    ++unmeasured;
  }
  CHECK(unmeasured > 0);
  CHECK(run.at("published").at("area3/colour/authors").at("bits_mean") == 0.002);
}

TEST_CASE("uinfo-checkerboard-rnn explains its flags and refuses bad ones", "[checkerboard_rnn]") {
  const ScratchDir dir("uinfo_checkerboard_rnn_flags");
  const auto help = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path, "--help");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--ffi") && Catch::Contains("--no-dale") &&
                           Catch::Contains("--config"));
  const auto areas = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path, "--areas 7");
  CHECK(areas.status == 2);
  CHECK_THAT(areas.err, Catch::Contains("divisible by the number of areas"));
  const auto probe = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path, "--probe-every 7");
  CHECK(probe.status == 2);
  CHECK_THAT(probe.err, Catch::Contains("multiple of --validate-every"));
  const auto decoder = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path, "--decoder authors");
  CHECK(decoder.status == 2);
  CHECK_THAT(decoder.err, Catch::Contains("unknown decoder 'authors'"));
  std::ofstream(dir.path / "file") << "not a directory";
  const auto out = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path,
                               "--out '" + (dir.path / "file" / "out").string() + "'");
  CHECK(out.status == 2);
  CHECK_THAT(out.err, Catch::StartsWith("uinfo-checkerboard-rnn: cannot create the output "
                                        "directory '"));
}
