// A probed experiment's seeds, in parallel: each trains and probes one network; its measurements
// reach OUT/info.csv as soon as it and every seed before it have finished, so the file is the same
// whatever the thread count, and an interrupted run keeps the seeds it completed in order.
#pragma once

#include <uinfo/uinfo.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "common/curves.hpp"
#include "common/parallel.hpp"
#include "common/probing.hpp"

namespace uinfo::probing {

struct SeedRuns {
  int seeds;
  std::uint64_t first_seed;  // the seeds are first_seed, first_seed + 1, ...
  int epochs;                // per seed, for the progress bar
  int threads;               // 0: one per core
  bool quiet;                // no progress bar
};

// Calls run_seed(seed, epoch_done, timing) -> std::vector<Measurement> for every seed, `timing`
// summing theirs; returns the rows of all seeds in seed order, whatever finished first.
template <class RunSeed>
std::vector<Row> run_seeds(const SeedRuns& runs, const std::filesystem::path& dir, Timing& timing,
                           RunSeed&& run_seed) {
  CsvWriter csv(dir / "info.csv", measurement_columns({}));
  ProgressBar bar(static_cast<long>(runs.seeds) * runs.epochs, "training and probing", !runs.quiet);
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  std::vector<Row> all;
  parallel::for_each_job_in_order(
      static_cast<std::size_t>(runs.seeds), runs.threads,
      [&](std::size_t i) {
        const std::uint64_t seed = runs.first_seed + i;
        std::pair<std::vector<Row>, Timing> result;
        for (Measurement& m : run_seed(seed, epoch_done, result.second))
          result.first.push_back({seed, std::move(m)});
        return result;
      },
      [&](std::size_t, auto&& result) {
        timing += result.second;
        for (Row& r : result.first) {
          write_measurement(csv, r.seed, r.m);
          all.push_back(std::move(r));
        }
      });
  bar.finish();
  return all;
}

}  // namespace uinfo::probing
