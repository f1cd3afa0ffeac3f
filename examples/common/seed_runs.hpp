// A probed experiment's seeds, in parallel: each trains and probes one network; its measurements
// reach OUT/info.csv as soon as it and every seed before it have finished, so the file is the same
// whatever the thread count, and a run that is stopped keeps the seeds it completed, which
// --resume does not run again (journal.hpp).
#pragma once

#include <uinfo/uinfo.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/csv_table.hpp"
#include "common/curves.hpp"
#include "common/journal.hpp"
#include "common/parallel.hpp"
#include "common/probing.hpp"

namespace uinfo::probing {

struct SeedRuns {
  int seeds;
  std::uint64_t first_seed;  // the seeds are first_seed, first_seed + 1, ...
  int epochs;                // per seed, for the progress bar
  int threads;               // 0: one per core
  bool quiet;                // no progress bar
  std::string settings{};    // the run's (command.hpp), which a resumed run must have
  bool resume = false;       // keep the seeds a stopped run with these settings finished
};

// Calls run_seed(seed, epoch_done, timing) -> std::vector<Measurement> for every seed, `timing`
// summing theirs; returns the rows of all seeds in seed order, whatever finished first (those of
// the seeds a resumed run kept read back from info.csv).
template <class RunSeed>
std::vector<Row> run_seeds(const SeedRuns& runs, const std::filesystem::path& dir, Timing& timing,
                           RunSeed&& run_seed) {
  std::vector<std::string> keys;
  for (int i = 0; i < runs.seeds; ++i) keys.push_back(std::to_string(runs.first_seed + i));
  std::optional<journal::Finished> finished;
  if (runs.resume) finished = journal::read(dir, runs.settings, keys);
  journal::Journal log(dir, measurement_columns({}), runs.settings, finished);
  std::vector<Row> all;
  if (finished && finished->jobs() > 0) {
    const csv::Table kept(dir / "info.csv");
    for (std::size_t r = 0; r < kept.size(); ++r)
      all.push_back({kept.whole(r, "seed", 0), read_measurement(kept, r)});
  }
  const std::size_t done = finished ? finished->jobs() : 0;
  const std::size_t remaining = keys.size() - done;
  ProgressBar bar(static_cast<long>(remaining) * runs.epochs, "training and probing", !runs.quiet);
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  parallel::for_each_job_in_order(
      remaining, runs.threads,
      [&](std::size_t i) {
        const std::uint64_t seed = runs.first_seed + done + i;
        std::pair<std::vector<Row>, Timing> result;
        for (Measurement& m : run_seed(seed, epoch_done, result.second))
          result.first.push_back({seed, std::move(m)});
        return result;
      },
      [&](std::size_t i, auto&& result) {
        timing += result.second;
        for (Row& r : result.first) {
          write_measurement(log.csv(), r.seed, r.m);
          all.push_back(std::move(r));
        }
        log.commit(keys[done + i]);
      });
  bar.finish();
  return all;
}

}  // namespace uinfo::probing
