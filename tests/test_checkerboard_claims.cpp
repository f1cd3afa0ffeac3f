// The paper's qualitative claims, from uinfo-checkerboard run at reduced size (4 seeds, 12
// epochs, 5,000 trials, a 4-unit tanh bottleneck at lr 0.05, batch 32). Margins come from the
// runs reported in the closing note: the bottleneck's direction information ends at 99% of the
// noise ceiling; its colour information ends at about a fifth of its peak; the 64-wide layers keep
// colour at 95% of the ceiling.
#include <catch2/catch.hpp>

#include "program.hpp"
#include "scratch_dir.hpp"

TEST_CASE("a narrow bottleneck keeps direction and discards colour, wide layers keep both",
          "[checkerboard]") {
  const ScratchDir dir("uinfo_checkerboard_claims");
  const auto r = run_program(UINFO_CHECKERBOARD_PATH, dir.path,
                             "--quiet --seeds 4 --epochs 12 --trials 5000 --probe-trials 1000 "
                             "--out '" +
                                 (dir.path / "out").string() + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string run = read_text(dir.path / "out" / "run.json");
  const double ceiling = json_number(run, "direction_bits");
  const double direction = json_number(run, "final_bits_mean", "linear/direction/layer3");
  const double colour_end = json_number(run, "final_bits_mean", "linear/colour/layer3");
  const double colour_peak = json_number(run, "peak_bits_mean", "linear/colour/layer3");
  const double wide_colour = json_number(run, "final_bits_mean", "linear/colour/layer1");
  INFO("ceiling " << ceiling << ", bottleneck direction " << direction << ", bottleneck colour "
                  << colour_end << " (peak " << colour_peak << "), layer 1 colour " << wide_colour);
  CHECK(direction >= 0.9 * ceiling);
  CHECK(colour_end <= 0.5 * colour_peak);
  CHECK(wide_colour >= 0.8 * ceiling);
  for (const char* file : {"info.csv", "info_mean.csv", "run.json"}) {
    CHECK(std::filesystem::exists(dir.path / "out" / file));
  }
}
