// What every training program takes, defined once: the SGD regime, the seeds, and where results
// go. The regime and the seeds are settings (run.json records them under the flags' names); each
// program starts the structs at its own defaults.
#pragma once

#include <cstdint>
#include <string>

#include "common/command.hpp"

namespace uinfo::cli {

struct Regime {
  double lr = 0.05;
  long batch = 32;
  double momentum = 0;
  double weight_decay = 0;
  int epochs = 40;
};

// A sweep over learning rates and batch sizes takes its own lists instead of --lr and --batch.
enum class Swept { nothing, lr_and_batch };

inline void add_options(Command& command, Regime& r, Swept swept = Swept::nothing) {
  if (swept == Swept::nothing) {
    command.setting("--lr", r.lr, "SGD learning rate");
    command.setting("--batch", r.batch, "minibatch size");
  }
  command.setting("--momentum", r.momentum, "SGD momentum");
  command.setting("--weight-decay", r.weight_decay, "L2 weight decay (coupled, as PyTorch's SGD)");
  command.setting("--epochs", r.epochs, "training epochs");
}

inline void check(const Command& command, const Regime& r, Swept swept = Swept::nothing) {
  if (swept == Swept::nothing && !(r.lr > 0)) command.fail("--lr must be positive");
  if (swept == Swept::nothing && r.batch < 1) command.fail("--batch must be at least 1");
  if (!(r.momentum >= 0 && r.momentum < 1)) command.fail("--momentum must lie in [0, 1)");
  if (!(r.weight_decay >= 0)) command.fail("--weight-decay must be at least 0");
  if (r.epochs < 1) command.fail("--epochs must be at least 1");
}

// Runs of seeds first, first + 1, ..., first + count - 1.
struct Seeds {
  int count = 1;
  std::uint64_t first = 1;
};

inline void add_options(Command& command, Seeds& s, const std::string& help) {
  command.setting("--seeds", s.count, help);
  command.setting("--first-seed", s.first, "the seeds are first-seed, first-seed + 1, ...");
}

inline void check(const Command& command, const Seeds& s) {
  if (s.count < 1) command.fail("--seeds must be at least 1");
}

// Where results go, whether a progress bar shows, and whether a stopped run is continued; none
// changes a result.
struct Output {
  std::string dir;
  bool quiet = false;
  bool resume = false;
};

inline void add_options(Command& command, Output& o) {
  command.option("--out", o.dir, "output directory");
  command.option("--quiet", o.quiet, "no progress bar");
}

// For programs whose jobs finish one by one (journal.hpp).
inline void add_resume_option(Command& command, Output& o) {
  command.option("--resume", o.resume,
                 "continue a run that was stopped, with the same settings and --out: the jobs "
                 "OUT/jobs.log names as finished are kept, the others run; the files come out as "
                 "an uninterrupted run's");
}

}  // namespace uinfo::cli
