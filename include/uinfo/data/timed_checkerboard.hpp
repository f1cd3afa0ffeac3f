// The checkerboard task in time, as the multi-area rate networks of Kleinman, Chandrasekaran & Kao
// (2021) learn it (their pycog model file, read line by line): a TrialTask that draws fresh trials
// of variable timing for every update, and the rules that score a network's racing outputs.
//
// A trial runs in steps of dt = 10 ms. After a start delay (|N(200, 50)| ms) two targets appear,
// one red and one green, on either side; 600-1000 ms later a checkerboard with R of its 225
// squares red appears for 1.5 s; then 300 ms follow with every input off. The network has two
// outputs, racers for the left and right reach: the racer of the side whose target has the board's
// dominant colour must be 1 from 200 ms after the board's onset until the targets go off, and both
// must be 0 everywhere else. Every step of a trial is scored (the reference's mask, a union of
// epochs, covers the whole trial). A tenth of the trials are catch trials: 2 s, no board, the
// targets shown half of the time, both racers at 0 throughout.
//
// Inputs per step: 0 the left target's colour and 1 the right target's (-1 red, +1 green, while
// the targets are on), 2 the red coherence 2R/225 - 1 and 3 the green coherence (its negative),
// while the board is on. The coherence channels carry Gaussian noise of standard deviation
// sqrt(2 tau_in / dt) sigma_in at every step of the batch, padding included, as the reference's
// dataset adds it; the target channels none.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/data/checkerboard.hpp"
#include "uinfo/data/sequence.hpp"

namespace uinfo {

// What a trial shows. configuration -1: the left target is red (the reference's left_right -1);
// +1: the left target is green.
struct CheckerboardCondition {
  bool catch_trial = false;
  int board = 0;  // index into checkerboard_red_counts
  int configuration = -1;
};

// One drawn trial: its condition and its epochs, as steps of its own timeline.
struct TimedCheckerboardTrial {
  CheckerboardCondition condition;
  bool targets_shown = true;  // catch trials show them half of the time
  Index targets_on = 0;       // first step with the targets
  Index board_on = 0;         // first step with the board (length for catch trials)
  Index decision_on = 0;      // first step at which the correct racer must be 1
  Index targets_off = 0;      // first step of the last 300 ms, all inputs off
  Index length = 0;
  // Where the reference's validation reads the choice: 360 ms before the end, 60 ms before the
  // targets go off (pycog's tasktools.performance_cb_simple_racers_cond_thresh).
  Index validation_step = 0;

  int red_squares() const {
    return checkerboard_red_counts[static_cast<std::size_t>(condition.board)];
  }
  // Signed colour coherence 2R/225 - 1: positive when red dominates (0 for catch trials).
  double coherence() const {
    return condition.catch_trial ? 0.0 : 2.0 * red_squares() / 225.0 - 1.0;
  }
  // The same coherence signed toward the right target: positive when the right target's colour
  // dominates, the axis of a psychometric curve of right choices.
  double coherence_toward_right() const { return condition.configuration * coherence(); }
  // -1 left, +1 right; 0 for catch trials (no choice is correct).
  int correct_side() const {
    if (condition.catch_trial) return 0;
    return condition.configuration * (red_squares() * 2 > 225 ? 1 : -1);
  }
};

// A racer's reading of a trial: the side chosen and when.
struct CheckerboardChoice {
  int side = 0;         // -1 left, +1 right
  Index crossing = -1;  // the step at which the chosen racer first exceeded the threshold
  double reaction_ms = std::numeric_limits<double>::quiet_NaN();  // NaN without a crossing
  bool decided() const { return crossing >= 0; }
  // Whether the target chosen is green: the label "colour of the chosen target".
  bool chose_green(const TimedCheckerboardTrial& trial) const {
    return (side > 0) == (trial.condition.configuration < 0);
  }
};

// Times are in ms and multiples of dt, as in the reference model file.
struct TimedCheckerboardOptions {
  Index dt = 10;
  double start_delay_mean = 200, start_delay_sd = 50;   // targets on after |N(mean, sd)|
  Index board_delay_min = 600, board_delay_max = 1000;  // board on after U(min, max) more
  Index board_duration = 1500;
  Index decision_delay = 200;  // board onset to the first scored choice
  Index post_delay = 300;      // all inputs off
  double catch_probability = 0.1;
  Index catch_duration = 2000;
  double input_noise = 0.1;  // sigma_in of each coherence channel
  double tau_in = 50;        // ms; the noise per step is sqrt(2 tau_in / dt) sigma_in
  // False: no input noise before the step preceding the board, as the reference's analysis
  // simulates (its rnn.py zeroes the noise of rows 0-79; row 80 is the step before the board).
  bool noise_before_board = true;

  // The reference's analysis trials (its cb_analyze model file): targets at 200 ms, the board at
  // 800 ms, 2.6 s per trial, no catch trials, no input noise before the board.
  static TimedCheckerboardOptions analysis() {
    TimedCheckerboardOptions o;
    o.start_delay_sd = 0;
    o.board_delay_max = o.board_delay_min;
    o.catch_probability = 0;
    o.noise_before_board = false;
    return o;
  }
};

class TimedCheckerboard {
 public:
  static constexpr Index input_count = 4, output_count = 2;

  explicit TimedCheckerboard(TimedCheckerboardOptions options = {}) : options_(options) {
    const auto& o = options_;
    auto multiple = [&](Index ms) { return ms >= 0 && ms % o.dt == 0; };
    if (o.dt <= 0 || !multiple(o.board_delay_min) || !multiple(o.board_duration) ||
        !multiple(o.decision_delay) || !multiple(o.post_delay) || !multiple(o.catch_duration) ||
        o.board_delay_max < o.board_delay_min || o.decision_delay >= o.board_duration ||
        o.catch_duration <= o.post_delay || !(o.start_delay_mean >= 0) ||
        !(o.start_delay_sd >= 0) || !(o.catch_probability >= 0 && o.catch_probability <= 1) ||
        !(o.input_noise >= 0) || !(o.tau_in > 0)) {
      throw InvalidArgument(
          "uinfo::TimedCheckerboard: expected dt > 0, durations that are multiples of dt with "
          "board_delay_min <= board_delay_max, decision_delay < board_duration and post_delay < "
          "catch_duration, non-negative delays and noise, tau_in > 0 and a catch probability in "
          "[0, 1]");
    }
  }

  const TimedCheckerboardOptions& options() const { return options_; }
  Index inputs() const { return input_count; }
  Index outputs() const { return output_count; }

  // `trials` trials of random conditions (catch with the catch probability, board and
  // configuration uniform), drawn into `batch`; `drawn` receives each trial's condition and epochs.
  template <Scalar S>
  void draw(Engine& engine, Index trials, SequenceBatch<S>& batch,
            std::vector<TimedCheckerboardTrial>& drawn) const {
    drawn.clear();
    for (Index b = 0; b < trials; ++b) {
      CheckerboardCondition c;
      c.catch_trial = engine.uniform() < options_.catch_probability;
      c.board = static_cast<int>(engine.below(checkerboard_red_counts.size()));
      c.configuration = engine.below(2) == 0 ? -1 : 1;
      drawn.push_back(timed(engine, c));
    }
    fill(engine, drawn, batch);
  }

  template <Scalar S>
  void draw(Engine& engine, Index trials, SequenceBatch<S>& batch) const {
    thread_local std::vector<TimedCheckerboardTrial> drawn;  // no allocation after the first
    draw(engine, trials, batch, drawn);
  }

  // Trials of the given conditions, with random timing.
  template <Scalar S>
  void draw(Engine& engine, std::span<const CheckerboardCondition> conditions,
            SequenceBatch<S>& batch, std::vector<TimedCheckerboardTrial>& drawn) const {
    drawn.clear();
    for (const CheckerboardCondition& c : conditions) drawn.push_back(timed(engine, c));
    fill(engine, drawn, batch);
  }

  // The reference's validation set: cycles of 29 trials, one catch trial and then the 14 boards
  // with the left target red, then with it green (2,900 trials: 100 of each condition).
  static std::vector<CheckerboardCondition> validation_conditions(Index trials) {
    const auto boards = static_cast<int>(checkerboard_red_counts.size());
    std::vector<CheckerboardCondition> conditions;
    for (Index i = 0; i < trials; ++i) {
      const int b = static_cast<int>(i % (2 * boards + 1));
      if (b == 0) {
        conditions.push_back({true, 0, -1});
      } else {
        conditions.push_back({false, (b - 1) % boards, (b - 1) / boards == 0 ? -1 : 1});
      }
    }
    return conditions;
  }

  // The network's choice in trial b of a batch (outputs: 2 x steps * trials, time-major), read as
  // the reference's analysis does: the racer whose |z| first exceeds the threshold after the
  // board's onset (the right one on a tie); without a crossing, the larger racer at the trial's
  // last step. The reaction time counts from the board's onset to the end of the crossing step.
  template <class Outputs>
  CheckerboardChoice choice(const Outputs& outputs, Index trials, Index b,
                            const TimedCheckerboardTrial& trial, double threshold = 0.6) const {
    const auto z = [&](Index o, Index t) {
      return static_cast<double>(outputs(o, t * trials + b));
    };
    Index first[2] = {-1, -1};
    for (Index o = 0; o < 2; ++o) {
      for (Index t = trial.board_on; t < trial.length && first[o] < 0; ++t) {
        if (std::abs(z(o, t)) > threshold) first[o] = t;
      }
    }
    CheckerboardChoice c;
    if (first[0] < 0 && first[1] < 0) {
      c.side = z(1, trial.length - 1) > z(0, trial.length - 1) ? 1 : -1;
      return c;
    }
    const bool left = first[0] >= 0 && (first[1] < 0 || first[0] < first[1]);
    c.side = left ? -1 : 1;
    c.crossing = left ? first[0] : first[1];
    c.reaction_ms = static_cast<double>((c.crossing + 1 - trial.board_on) * options_.dt);
    return c;
  }

 private:
  // Whole multiples of dt below `ms` (ms >= 0).
  Index floor_to_dt(double ms) const {
    return static_cast<Index>(std::floor(ms / static_cast<double>(options_.dt))) * options_.dt;
  }

  TimedCheckerboardTrial timed(Engine& engine, const CheckerboardCondition& c) const {
    const auto& o = options_;
    TimedCheckerboardTrial t{c};
    const double start = std::abs(o.start_delay_mean + o.start_delay_sd * engine.normal());
    if (c.catch_trial) {
      // Whole ms, not floored to dt: the targets come on at the first step ending after it.
      t.length = o.catch_duration / o.dt;
      t.targets_off = (o.catch_duration - o.post_delay) / o.dt;
      t.targets_on = std::min(static_cast<Index>(std::floor(start)) / o.dt, t.targets_off);
      t.board_on = t.decision_on = t.length;
      t.targets_shown = engine.uniform() > 0.5;
      if (t.targets_shown) t.condition.configuration = engine.below(2) == 0 ? -1 : 1;
    } else {
      const Index delay = floor_to_dt(engine.uniform(static_cast<double>(o.board_delay_min),
                                                     static_cast<double>(o.board_delay_max)));
      const Index start_ms = floor_to_dt(start);
      t.targets_on = start_ms / o.dt;
      t.board_on = (start_ms + delay) / o.dt;
      t.decision_on = t.board_on + o.decision_delay / o.dt;
      t.targets_off = t.board_on + o.board_duration / o.dt;
      t.length = t.targets_off + o.post_delay / o.dt;
    }
    // pycog's index "ends - (50 + post_delay) // dt - 1", with ends the last step.
    t.validation_step = std::max<Index>(0, t.length - 2 - (o.post_delay + 50) / o.dt);
    return t;
  }

  template <Scalar S>
  void fill(Engine& engine, std::span<const TimedCheckerboardTrial> drawn,
            SequenceBatch<S>& batch) const {
    const auto trials = static_cast<Index>(drawn.size());
    if (trials == 0) throw InvalidArgument("uinfo::TimedCheckerboard::draw: no trials to draw");
    Index steps = 0;
    for (const auto& t : drawn) steps = std::max(steps, t.length);
    batch.reset(input_count, output_count, steps, trials);
    auto x = batch.x();
    auto y = batch.target_values();
    auto mask = batch.mask();
    for (Index b = 0; b < trials; ++b) {
      const TimedCheckerboardTrial& t = drawn[static_cast<std::size_t>(b)];
      batch.lengths()[static_cast<std::size_t>(b)] = t.length;
      const int side = t.correct_side();
      const auto coherence = static_cast<S>(t.coherence());
      for (Index s = 0; s < t.length; ++s) {
        const Index col = batch.column(s, b);
        mask.col(col).setOnes();
        if (t.targets_shown && s >= t.targets_on && s < t.targets_off) {
          x(0, col) = static_cast<S>(t.condition.configuration);
          x(1, col) = static_cast<S>(-t.condition.configuration);
        }
        if (s >= t.board_on && s < t.targets_off) {
          x(2, col) = coherence;
          x(3, col) = -coherence;
        }
        if (side != 0 && s >= t.decision_on && s < t.targets_off) y(side > 0 ? 1 : 0, col) = 1;
      }
    }
    // Every step of every trial draws its noise, so that trials without noise before the board
    // share the rest of their noise with those that have it.
    const double dt = static_cast<double>(options_.dt);
    const auto sd = static_cast<S>(std::sqrt(2 * options_.tau_in / dt) * options_.input_noise);
    if (sd == S(0)) return;
    for (Index s = 0; s < steps; ++s) {
      for (Index b = 0; b < trials; ++b) {
        const TimedCheckerboardTrial& t = drawn[static_cast<std::size_t>(b)];
        const bool quiet = !options_.noise_before_board && s + 1 < t.board_on;
        for (Index channel = 2; channel < 4; ++channel) {
          const S noise = sd * engine.normal<S>();
          if (!quiet) x(channel, batch.column(s, b)) += noise;
        }
      }
    }
  }

  TimedCheckerboardOptions options_;
};

// The reference's validation score (pycog's performance_cb_simple_racers_cond_thresh) over one
// or more batches: a non-catch trial is correct when, at its validation step, the larger racer is
// the correct side's and exceeds the threshold; the score is the smaller of the percentages
// correct among left-correct and among right-correct trials, so a network that always reaches one
// way scores 0.
class CheckerboardPerformance {
 public:
  explicit CheckerboardPerformance(double threshold = 0.6) : threshold_(threshold) {}

  // outputs: 2 x steps * trials of the batch the trials were drawn into.
  template <class Outputs>
  void add(const Outputs& outputs, std::span<const TimedCheckerboardTrial> drawn) {
    const auto trials = static_cast<Index>(drawn.size());
    for (Index b = 0; b < trials; ++b) {
      const TimedCheckerboardTrial& t = drawn[static_cast<std::size_t>(b)];
      const int side = t.correct_side();
      if (side == 0) continue;
      const Index col = t.validation_step * trials + b;
      const double left = outputs(0, col), right = outputs(1, col);
      const int chosen = right > left ? 1 : -1;  // argmax: the left racer on a tie
      const bool correct = chosen == side && std::max(left, right) > threshold_;
      auto& counts = side > 0 ? right_ : left_;
      counts.trials += 1;
      counts.correct += correct;
    }
  }

  // In percent; 0 until both sides have trials.
  double percent() const {
    if (left_.trials == 0 || right_.trials == 0) return 0;
    return 100 * std::min(static_cast<double>(left_.correct) / static_cast<double>(left_.trials),
                          static_cast<double>(right_.correct) / static_cast<double>(right_.trials));
  }

 private:
  struct Counts {
    Index trials = 0, correct = 0;
  };
  double threshold_;
  Counts left_, right_;
};

}  // namespace uinfo
