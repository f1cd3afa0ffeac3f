// Independent jobs (seeds, configurations) spread over threads, one job per thread at a time.
// Parallelism lives across jobs, never inside one, so every result is the same bit for bit
// whatever the number of threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace uinfo::parallel {

// Threads to use for `jobs` jobs when `requested` is 0 (one per core) or more.
inline int thread_count(std::size_t jobs, int requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min(static_cast<int>(jobs), requested > 0 ? requested : cores));
}

// Calls run(i) for i in [0, jobs) on `threads` threads. The first exception stops the
// distribution of new jobs and is rethrown once running jobs have finished.
template <class Run>
void for_each_job(std::size_t jobs, int threads, Run run) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < jobs && !failed; i = next++) {
      try {
        run(i);
      } catch (...) {
        const std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < thread_count(jobs, threads); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// for_each_job with each result r = run(i) handed to consume(i, std::move(r)) in job order: job
// i's as soon as it and every job before it have finished, on one thread at a time. Files that
// consume writes, and sums it takes, then do not depend on the thread count or on which job
// finished first.
template <class Run, class Consume>
void for_each_job_in_order(std::size_t jobs, int threads, Run run, Consume consume) {
  std::vector<std::optional<std::invoke_result_t<Run&, std::size_t>>> results(jobs);
  std::size_t next = 0;  // the first job not consumed yet
  std::mutex mutex;
  for_each_job(jobs, threads, [&](std::size_t i) {
    auto result = run(i);
    const std::lock_guard lock(mutex);
    results[i] = std::move(result);
    for (; next < jobs && results[next]; ++next) {
      consume(next, std::move(*results[next]));
      results[next].reset();
    }
  });
}

}  // namespace uinfo::parallel
