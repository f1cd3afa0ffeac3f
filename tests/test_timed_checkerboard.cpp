// The time-resolved checkerboard task of the multi-area networks: epochs, inputs, targets and the
// loss mask on hand-made trials, the distributions of a large draw (timing, catch trials, input
// noise), the validation layout, the racers' choice and reaction time, and the validation score.
#include <catch2/catch.hpp>

#include <uinfo/uinfo.hpp>

#include <cmath>
#include <vector>

using namespace uinfo;

namespace {

// Fixed timing without noise: targets at 200 ms, the board at 800 ms, 2.6 s per trial.
TimedCheckerboardOptions quiet_fixed_timing() {
  TimedCheckerboardOptions o = TimedCheckerboardOptions::analysis();
  o.noise_before_board = true;
  o.input_noise = 0;
  return o;
}

int board_with(int red_squares) {
  for (std::size_t i = 0; i < checkerboard_red_counts.size(); ++i)
    if (checkerboard_red_counts[i] == red_squares) return static_cast<int>(i);
  FAIL("no board with " << red_squares << " red squares");
  return -1;
}

}  // namespace

TEST_CASE("hand-made trials have the reference's epochs, inputs, targets and mask",
          "[timed_checkerboard]") {
  const TimedCheckerboard task(quiet_fixed_timing());
  // Red dominates, left target red: reach left. Green dominates, left green: left. Red dominates
  // weakly, left green (right red): right. A catch trial.
  const std::vector<CheckerboardCondition> conditions = {{false, board_with(214), -1},
                                                         {false, board_with(11), 1},
                                                         {false, board_with(117), 1},
                                                         {true, 0, -1}};
  Engine engine{3};
  SequenceBatch<float> batch;
  std::vector<TimedCheckerboardTrial> drawn;
  task.draw(engine, conditions, batch, drawn);
  REQUIRE(drawn.size() == 4);
  REQUIRE_NOTHROW(batch.validate(4, 2, "the batch"));
  CHECK(batch.steps() == 260);
  const auto& t = drawn[0];
  CHECK(t.targets_on == 20);
  CHECK(t.board_on == 80);
  CHECK(t.decision_on == 100);
  CHECK(t.targets_off == 230);
  CHECK(t.length == 260);
  CHECK(t.validation_step == 260 - 37);  // 360 ms before the end
  CHECK(drawn[0].correct_side() == -1);
  CHECK(drawn[1].correct_side() == -1);
  CHECK(drawn[2].correct_side() == 1);
  CHECK(drawn[3].correct_side() == 0);
  CHECK(drawn[0].coherence() == Approx(2.0 * 214 / 225 - 1));
  CHECK(drawn[2].coherence_toward_right() == Approx(2.0 * 117 / 225 - 1));  // right target red
  CHECK(drawn[1].coherence_toward_right() == Approx(2.0 * 11 / 225 - 1));   // right red, green wins

  const auto x = batch.x();
  const auto y = batch.target_values();
  const auto mask = batch.mask();
  for (Index b = 0; b < 3; ++b) {
    const auto& trial = drawn[static_cast<std::size_t>(b)];
    const int config = trial.condition.configuration;
    const auto coherence = static_cast<float>(trial.coherence());
    const Index chosen = trial.correct_side() > 0 ? 1 : 0;
    for (Index s = 0; s < 260; ++s) {
      INFO("trial " << b << " step " << s);
      const Index col = batch.column(s, b);
      const bool targets = s >= 20 && s < 230, board = s >= 80 && s < 230;
      REQUIRE(x(0, col) == (targets ? static_cast<float>(config) : 0.0f));
      REQUIRE(x(1, col) == (targets ? static_cast<float>(-config) : 0.0f));
      REQUIRE(x(2, col) == (board ? coherence : 0.0f));
      REQUIRE(x(3, col) == (board ? -coherence : 0.0f));
      REQUIRE(y(chosen, col) == (s >= 100 && s < 230 ? 1.0f : 0.0f));
      REQUIRE(y(1 - chosen, col) == 0.0f);
      REQUIRE(mask(0, col) == 1.0f);  // every step is scored, both racers
      REQUIRE(mask(1, col) == 1.0f);
    }
  }
  // The catch trial: 2 s, no board, racers at 0 everywhere, padded to the batch's 260 steps.
  const auto& c = drawn[3];
  CHECK(c.length == 200);
  CHECK(c.targets_off == 170);
  CHECK(batch.lengths()[3] == 200);
  for (Index s = 0; s < 260; ++s) {
    const Index col = batch.column(s, 3);
    CHECK(x(2, col) == 0.0f);
    CHECK(y.col(col).isZero());
    CHECK(mask(0, col) == (s < 200 ? 1.0f : 0.0f));
    if (c.targets_shown) CHECK(std::abs(x(0, col)) == (s >= c.targets_on && s < 170 ? 1.0f : 0.0f));
    if (!c.targets_shown) CHECK(x(0, col) == 0.0f);
  }
}

TEST_CASE("a large draw has the reference's timing, catch trials and input noise",
          "[timed_checkerboard]") {
  const TimedCheckerboard task;
  Engine engine = Rng{5}.engine(Stream::data);
  SequenceBatch<double> batch;
  std::vector<TimedCheckerboardTrial> drawn;
  Index trials = 0, catches = 0, shown = 0, noisy_values = 0;
  double start_sum = 0, delay_sum = 0, noise_squares = 0, padding_squares = 0;
  Index padding_values = 0;
  for (int round = 0; round < 20; ++round) {
    task.draw(engine, 200, batch, drawn);
    REQUIRE_NOTHROW(batch.validate(4, 2, "the batch"));
    for (Index b = 0; b < 200; ++b) {
      const auto& t = drawn[static_cast<std::size_t>(b)];
      ++trials;
      if (t.condition.catch_trial) {
        ++catches;
        shown += t.targets_shown;
        REQUIRE(t.length == 200);
        continue;
      }
      // Start |N(200, 50)| and board delay U(600, 1000), both floored to 10 ms.
      REQUIRE(t.board_on - t.targets_on >= 60);
      REQUIRE(t.board_on - t.targets_on <= 99);
      REQUIRE(t.decision_on == t.board_on + 20);
      REQUIRE(t.targets_off == t.board_on + 150);
      REQUIRE(t.length == t.targets_off + 30);
      start_sum += static_cast<double>(t.targets_on) * 10;
      delay_sum += static_cast<double>(t.board_on - t.targets_on) * 10;
      // Noise on the coherence channels at every step, padding included; none on the targets.
      for (Index s = 0; s < batch.steps(); ++s) {
        const Index col = batch.column(s, b);
        const double signal = s >= t.board_on && s < t.targets_off ? t.coherence() : 0.0;
        const double noise = batch.x()(2, col) - signal;
        REQUIRE(std::abs(batch.x()(0, col)) ==
                (s >= t.targets_on && s < t.targets_off ? 1.0 : 0.0));
        if (s < t.length) {
          noise_squares += noise * noise;
          ++noisy_values;
        } else {
          padding_squares += noise * noise;
          ++padding_values;
        }
      }
    }
  }
  const double n = static_cast<double>(trials - catches);
  CHECK(static_cast<double>(catches) / static_cast<double>(trials) == Approx(0.1).margin(0.02));
  CHECK(static_cast<double>(shown) / static_cast<double>(catches) == Approx(0.5).margin(0.12));
  CHECK(start_sum / n == Approx(195).margin(5));  // 200 less the mean 5 ms the floor drops
  CHECK(delay_sum / n == Approx(795).margin(6));
  const double sd = std::sqrt(10.0) * 0.1;  // sqrt(2 tau_in / dt) sigma_in
  CHECK(std::sqrt(noise_squares / static_cast<double>(noisy_values)) == Approx(sd).epsilon(0.02));
  REQUIRE(padding_values > 0);
  CHECK(std::sqrt(padding_squares / static_cast<double>(padding_values)) ==
        Approx(sd).epsilon(0.05));
}

TEST_CASE("the validation set and the analysis trials follow the reference's layout",
          "[timed_checkerboard]") {
  const auto conditions = TimedCheckerboard::validation_conditions(2900);
  Index catches = 0, left = 0, right = 0;
  for (const auto& c : conditions) {
    const TimedCheckerboardTrial t{c};
    catches += c.catch_trial;
    left += t.correct_side() < 0;
    right += t.correct_side() > 0;
  }
  CHECK(catches == 100);
  CHECK(left == 1400);
  CHECK(right == 1400);
  CHECK(conditions[0].catch_trial);
  CHECK(conditions[1].board == 0);
  CHECK(conditions[1].configuration == -1);
  CHECK(conditions[15].board == 0);
  CHECK(conditions[15].configuration == 1);

  // Analysis trials: no input noise before the step before the board; from there on, the same
  // noise as trials that have it all along (both draw every step's noise).
  auto noisy = TimedCheckerboardOptions::analysis();
  noisy.noise_before_board = true;
  SequenceBatch<float> quiet_batch, noisy_batch;
  std::vector<TimedCheckerboardTrial> drawn;
  Engine a{9}, b{9};
  TimedCheckerboard(TimedCheckerboardOptions::analysis()).draw(a, 30, quiet_batch, drawn);
  TimedCheckerboard(noisy).draw(b, 30, noisy_batch, drawn);
  for (Index trial = 0; trial < 30; ++trial) {
    CHECK_FALSE(drawn[static_cast<std::size_t>(trial)].condition.catch_trial);
    for (Index s = 0; s < 260; ++s) {
      const Index col = quiet_batch.column(s, trial);
      if (s < 79) {
        CHECK(quiet_batch.x()(2, col) == 0.0f);
        CHECK(noisy_batch.x()(2, col) != 0.0f);
      } else {
        CHECK(quiet_batch.x()(2, col) == noisy_batch.x()(2, col));
      }
    }
  }
}

TEST_CASE("the racers' choice, reaction time and validation score follow the reference's rules",
          "[timed_checkerboard]") {
  const TimedCheckerboard task(quiet_fixed_timing());
  TimedCheckerboardTrial t{{false, board_with(214), -1}};  // red dominates, left red: left
  t.board_on = 80;
  t.length = 260;
  t.validation_step = 223;
  const Index trials = 2, b = 1;  // trial 1 of a batch of 2
  Matrix<float> z = Matrix<float>::Zero(2, 260 * trials);
  auto set = [&](Index racer, Index from, float value) {
    for (Index s = from; s < 260; ++s) z(racer, s * trials + b) = value;
  };
  // No crossing: the larger racer at the last step; no reaction time.
  z(1, 259 * trials + b) = 0.3f;
  CheckerboardChoice c = task.choice(z, trials, b, t);
  CHECK(c.side == 1);
  CHECK_FALSE(c.decided());
  CHECK(std::isnan(c.reaction_ms));
  // A crossing before the board does not count; the left racer crosses at step 100.
  z(0, 50 * trials + b) = 0.9f;
  set(0, 100, 0.7f);
  set(1, 120, 0.8f);
  c = task.choice(z, trials, b, t);
  CHECK(c.side == -1);
  CHECK(c.crossing == 100);
  CHECK(c.reaction_ms == 210);    // to the end of step 100: 1,010 ms after the 800 ms onset
  CHECK_FALSE(c.chose_green(t));  // left target red
  // |z| counts; on a tie the right racer wins.
  set(1, 100, -0.65f);
  c = task.choice(z, trials, b, t);
  CHECK(c.side == 1);
  CHECK(c.chose_green(t));

  // Validation: argmax at the validation step above 0.6, then the worse side's percentage.
  const std::vector<TimedCheckerboardTrial> drawn = {
      t, TimedCheckerboardTrial{{false, board_with(11), -1}, true, 20, 80, 100, 230, 260, 223}};
  REQUIRE(drawn[1].correct_side() == 1);
  Matrix<float> scores = Matrix<float>::Zero(2, 260 * 2);
  scores(0, 223 * 2 + 0) = 0.7f;   // trial 0: left, above threshold: correct
  scores(1, 223 * 2 + 1) = 0.55f;  // trial 1: right but below threshold
  CheckerboardPerformance performance;
  performance.add(scores, drawn);
  CHECK(performance.percent() == 0);
  scores(1, 223 * 2 + 1) = 0.65f;
  CheckerboardPerformance second;
  second.add(scores, drawn);
  CHECK(second.percent() == 100);
}

TEST_CASE("a bad task configuration is an exception that says what was expected",
          "[timed_checkerboard]") {
  TimedCheckerboardOptions o;
  o.board_delay_min = 605;
  CHECK_THROWS_WITH(TimedCheckerboard(o), Catch::Contains("multiples of dt"));
  SequenceBatch<float> batch;
  Engine engine{1};
  CHECK_THROWS_WITH(TimedCheckerboard().draw(engine, 0, batch), Catch::Contains("no trials"));
}

TEST_CASE("window means average chosen units over each trial's own steps", "[sequence_features]") {
  // 3 units, 4 steps, 2 trials; value = 100 unit + 10 step + trial.
  const Index steps = 4, trials = 2;
  Matrix<float> r(3, steps * trials);
  for (Index t = 0; t < steps; ++t)
    for (Index b = 0; b < trials; ++b)
      for (Index i = 0; i < 3; ++i) r(i, t * trials + b) = static_cast<float>(100 * i + 10 * t + b);
  const std::vector<Index> lengths = {4, 3};
  const Timeline time{steps, trials, lengths, 0};
  const std::vector<Index> units = {2, 0};
  const std::vector<StepWindow> windows = {{1, 0, 3}, {0, 2, 4}, {1, 2, 3}};
  const Matrix<float> z = window_means<float>(r, time, units, windows);
  REQUIRE(z.rows() == 2);
  REQUIRE(z.cols() == 3);
  CHECK(z(0, 0) == Approx(200 + 10 + 1));  // steps 0-2 of trial 1: mean step 1
  CHECK(z(1, 0) == Approx(10 + 1));
  CHECK(z(0, 1) == Approx(200 + 25));  // steps 2-3 of trial 0
  CHECK(z(1, 2) == Approx(20 + 1));
  const std::vector<StepWindow> padding = {{1, 2, 4}};  // trial 1 has 3 real steps
  CHECK_THROWS_WITH(window_means<float>(r, time, units, padding),
                    Catch::Contains("window 0 is steps [2, 4) of trial 1"));
  const std::vector<StepWindow> empty = {{0, 2, 2}};
  CHECK_THROWS_WITH(window_means<float>(r, time, units, empty),
                    Catch::Contains("at least one of its real steps"));
  const std::vector<Index> bad_unit = {3};
  CHECK_THROWS_WITH(window_means<float>(r, time, bad_unit, windows),
                    Catch::Contains("unit 3 of a layer with 3 units"));
}
