// The multi-area circuit's claim, from uinfo-checkerboard-rnn run at its reduced default size
// (3 areas of 40 units, 2 seeds): the colour of the chosen target is filtered out from area 1 to
// area 3 while the direction is kept, and the network's behaviour is a psychometric curve.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>

#include "program.hpp"
#include "scratch_dir.hpp"

TEST_CASE("the multi-area circuit filters colour from area to area and keeps direction",
          "[checkerboard_rnn]") {
  const ScratchDir dir("uinfo_checkerboard_rnn_claims");
  const std::string out = (dir.path / "out").string();
  const auto r = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path,
                             "--quiet --decoder linear --out '" + out + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string run = read_text(dir.path / "out" / "run.json");
  auto bits = [&](const char* curve) { return json_number(run, "bits_mean", curve); };
  const double colour_1 = bits("area1/colour/linear"), colour_3 = bits("area3/colour/linear");
  const double direction_3 = bits("area3/direction/linear");
  INFO("colour: area 1 " << colour_1 << ", area 2 " << bits("area2/colour/linear") << ", area 3 "
                         << colour_3 << "; direction in area 3 " << direction_3);
  CHECK(colour_1 >= 0.5);
  CHECK(colour_3 <= 0.25);
  CHECK(colour_1 - colour_3 >= 0.4);
  CHECK(direction_3 >= 0.8);
  // Behaviour: almost always right at the strongest coherence toward the right target, almost
  // never at the strongest away from it.
  std::istringstream behaviour(read_text(dir.path / "out" / "behaviour.csv"));
  std::string line;
  std::getline(behaviour, line);
  REQUIRE(line.starts_with("seed,coherence_toward_right,trials,right_fraction,"));
  int strongest = 0;
  while (std::getline(behaviour, line)) {
    double seed = 0, coherence = 0, trials = 0, right = 0;
    char comma = 0;
    std::istringstream fields(line);
    fields >> seed >> comma >> coherence >> comma >> trials >> comma >> right;
    INFO(line);
    if (coherence > 0.9) CHECK(right >= 0.9);
    if (coherence < -0.9) CHECK(right <= 0.1);
    strongest += std::abs(coherence) > 0.9;
  }
  CHECK(strongest == 4);  // two seeds, both signs
  for (const char* file : {"info.csv", "areas.csv", "training.csv", "run.json"}) {
    CHECK(std::filesystem::exists(dir.path / "out" / file));
  }
  CHECK(json_number(run, "correct_fraction") >= 0.8);  // the first seed's, on the analysis trials

  const auto help = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path, "--help");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--ffi") && Catch::Contains("--no-dale"));
  const auto bad = run_program(UINFO_CHECKERBOARD_RNN_PATH, dir.path, "--areas 7");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains("divisible by the number of areas"));
}
