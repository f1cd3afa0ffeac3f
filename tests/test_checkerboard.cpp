// The checkerboard task: label logic on hand-made trials, the distribution of a large draw, and
// the noise ceiling against a Monte Carlo of the Bayes decision.
#include <catch2/catch.hpp>

#include <cmath>

#include "uinfo/data/checkerboard.hpp"

using namespace uinfo;

TEST_CASE("checkerboard labels follow the task's rules on hand-made trials", "[checkerboard]") {
  // Red dominates above 112 red squares; reach towards the target of the dominant colour.
  const CheckerboardTrial red_left{214, true}, red_right{117, false}, green_left{108, true},
      green_right{11, false};
  CHECK(red_left.red_dominates());
  CHECK_FALSE(red_left.reach_right());  // red dominates, red target on the left: reach left
  CHECK(red_right.red_dominates());
  CHECK(red_right.reach_right());
  CHECK_FALSE(green_left.red_dominates());
  CHECK(green_left.reach_right());  // green dominates, green target on the right
  CHECK_FALSE(green_right.red_dominates());
  CHECK_FALSE(green_right.reach_right());
  CHECK(red_left.coherence() == Approx(2.0 * 214 / 225 - 1));
  CHECK(green_right.coherence() == Approx(-203.0 / 225));
}

TEST_CASE("a checkerboard draw has the promised inputs and independent labels", "[checkerboard]") {
  Engine engine = Rng{1}.engine(Stream::data);
  const auto task = make_checkerboard({.trials = 40000, .noise = 0.1}, engine);
  REQUIRE(task.x.rows() == 4);
  REQUIRE(task.size() == 40000);
  double counts[2][2] = {{0, 0}, {0, 0}}, evidence_error = 0;
  for (Index j = 0; j < task.size(); ++j) {
    const auto i = static_cast<std::size_t>(j);
    const CheckerboardTrial trial{
        checkerboard_red_counts[static_cast<std::size_t>(task.red_squares[i])],
        task.targets[i] == 1};
    REQUIRE(task.colour[i] == trial.red_dominates());
    REQUIRE(task.direction[i] == trial.reach_right());
    REQUIRE(task.x(2, j) == (trial.left_target_red ? 1.0f : -1.0f));
    REQUIRE(task.x(3, j) == -task.x(2, j));
    evidence_error += (task.x(0, j) - trial.coherence()) * (task.x(0, j) - trial.coherence());
    counts[task.colour[i]][task.direction[i]] += 1;
  }
  // The noise has the requested deviation (5 standard errors: 0.1 * sqrt(2 / n) * 5).
  CHECK(std::sqrt(evidence_error / 40000) == Approx(0.1).margin(0.0018));
  // Colour and direction are independent: each cell holds a quarter of the trials (7 red and 7
  // green boards), within 5 binomial standard deviations.
  for (const auto& row : counts) {
    for (const double c : row) CHECK(c == Approx(10000).margin(5 * std::sqrt(40000 * 0.25 * 0.75)));
  }
}

TEST_CASE("the noise ceiling matches the Bayes decision's accuracy", "[checkerboard]") {
  // With equal priors and symmetric boards, the Bayes decision is the sign of the evidence
  // difference; its accuracy on a large draw estimates the ceiling.
  Engine engine = Rng{2}.engine(Stream::data);
  for (const double noise : {0.1, 0.3}) {
    const auto task = make_checkerboard({.trials = 100000, .noise = noise}, engine);
    double correct = 0;
    for (Index j = 0; j < task.size(); ++j) {
      correct +=
          ((task.x(0, j) - task.x(1, j)) > 0) == (task.colour[static_cast<std::size_t>(j)] == 1);
    }
    const auto ceiling = checkerboard_ceiling(noise);
    INFO("noise " << noise << ": ceiling " << ceiling.accuracy << " (" << ceiling.bits << " bits)");
    CHECK(correct / 100000 == Approx(ceiling.accuracy).margin(5 * std::sqrt(0.25 / 100000)));
    CHECK(ceiling.bits > 0);
    CHECK(ceiling.bits < 1);
  }
  CHECK(checkerboard_ceiling(0.1).accuracy == Approx(0.9482).margin(1e-3));
  CHECK(checkerboard_ceiling(0.0).accuracy == 1.0);
  Engine e = Rng{3}.engine(Stream::data);
  CHECK_THROWS_AS(make_checkerboard({.trials = 0}, e), InvalidArgument);
  CHECK_THROWS_AS(make_checkerboard({.trials = 10, .noise = -1}, e), InvalidArgument);
}
