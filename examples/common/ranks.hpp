// A sweep's jobs over the ranks of an MPI run (`mpirun -n K`), in builds that found MPI
// (UINFO_WITH_MPI): rank 0 deals job indices out one at a time to ranks 1 .. K-1 as they finish
// their last, gathers the results and hands them on in job order, as one machine's threads do, so
// that its files are byte for byte a one-machine run's. Without MPI, or run without mpirun, there
// is one rank and the jobs run on threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/parallel.hpp"
#include "uinfo/core/error.hpp"

#if UINFO_WITH_MPI
#include <mpi.h>
#endif

namespace uinfo::ranks {

// This process's place in the run: MPI is initialised for the object's lifetime.
class Ranks {
 public:
  Ranks(int& argc, char**& argv) {
#if UINFO_WITH_MPI
    int provided = 0;  // only the main thread calls MPI; jobs may run threads of their own
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
#else
    (void)argc;
    (void)argv;
#endif
  }
  ~Ranks() {
#if UINFO_WITH_MPI
    MPI_Finalize();
#endif
  }
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  int rank() const {
    return rank_;
  }
  int size() const {
    return size_;
  }
  bool leader() const {
    return rank_ == 0;
  }  // writes every file
  bool distributed() const {
    return size_ > 1;
  }
  // Waits until every rank has reached this call.
  void barrier() const {
#if UINFO_WITH_MPI
    MPI_Barrier(MPI_COMM_WORLD);
#endif
  }

 private:
  int rank_ = 0, size_ = 1;
};

#if UINFO_WITH_MPI
namespace detail {

enum Tag : int { job = 1, result = 2, failure = 3 };
constexpr std::int64_t stop = -1;

inline void send_job(int rank, std::int64_t index) {
  MPI_Send(&index, 1, MPI_INT64_T, rank, Tag::job, MPI_COMM_WORLD);
}

inline void send_bytes(const std::vector<std::uint8_t>& bytes, Tag tag) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, 0, tag, MPI_COMM_WORLD);
}

// Ranks 1 .. K-1: run the jobs rank 0 sends until it says stop; a result travels as MessagePack
// (doubles as their 64 bits), a failure as its message.
template <class Run>
void work(Run& run) {
  for (;;) {
    std::int64_t j = stop;
    MPI_Recv(&j, 1, MPI_INT64_T, 0, Tag::job, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (j == stop) return;
    try {
      const nlohmann::json message = {{"job", j}, {"result", run(static_cast<std::size_t>(j))}};
      send_bytes(nlohmann::json::to_msgpack(message), Tag::result);
    } catch (const std::exception& e) {
      const std::string what = "job " + std::to_string(j) + ": " + e.what();
      send_bytes(std::vector<std::uint8_t>(what.begin(), what.end()), Tag::failure);
    }
  }
}

// The next message from any rank, waited for with short sleeps rather than MPI's spinning, so
// that rank 0 leaves the cores to the ranks that train.
inline std::pair<MPI_Status, std::vector<std::uint8_t>> receive_any() {
  int arrived = 0;
  MPI_Status status;
  for (;;) {
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &arrived, &status);
    if (arrived) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int bytes = 0;
  MPI_Get_count(&status, MPI_BYTE, &bytes);
  std::vector<std::uint8_t> data(static_cast<std::size_t>(bytes));
  MPI_Recv(data.data(), bytes, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return {status, std::move(data)};
}

// Rank 0: deals the jobs, consumes their results in job order. After a failure (a rank's job or
// consume) it deals no more, lets the running jobs finish, stops every rank, then throws.
template <class Result, class Consume>
void deal(int ranks, std::size_t jobs, Consume& consume) {
  std::size_t next = 0, next_consumed = 0;
  int running = 0;
  std::map<std::size_t, Result> waiting;  // finished, but an earlier job has not
  std::optional<std::string> failure;
  const auto deal_to = [&](int rank) {
    if (!failure && next < jobs) {
      send_job(rank, static_cast<std::int64_t>(next++));
      ++running;
    } else {
      send_job(rank, stop);
    }
  };
  for (int rank = 1; rank < ranks; ++rank) deal_to(rank);
  while (running > 0) {
    auto [status, bytes] = receive_any();
    --running;
    if (status.MPI_TAG == Tag::failure) {
      if (!failure)
        failure = "rank " + std::to_string(status.MPI_SOURCE) + ", " +
                  std::string(bytes.begin(), bytes.end());
    } else if (!failure) {
      try {
        const nlohmann::json message = nlohmann::json::from_msgpack(bytes);
        waiting.emplace(message.at("job").get<std::size_t>(), message.at("result").get<Result>());
        for (auto first = waiting.begin(); first != waiting.end() && first->first == next_consumed;
             first = waiting.erase(first), ++next_consumed) {
          consume(first->first, std::move(first->second));
        }
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
    deal_to(status.MPI_SOURCE);
  }
  if (failure) throw Error(*failure);
}

}  // namespace detail
#endif

// parallel::for_each_job_in_order over the ranks: with one rank, on `threads` threads; with more,
// rank 0 calls consume(i, result) in job order while ranks 1 .. K-1 call run(i) one job at a time
// (start one rank per core). Run's result converts to and from nlohmann::json.
template <class Run, class Consume>
void for_each_job_in_order(const Ranks& ranks, std::size_t jobs, int threads, Run run,
                           Consume consume) {
  if (!ranks.distributed()) {
    parallel::for_each_job_in_order(jobs, threads, std::move(run), std::move(consume));
    return;
  }
#if UINFO_WITH_MPI
  using Result = std::invoke_result_t<Run&, std::size_t>;
  if (ranks.leader()) {
    detail::deal<Result>(ranks.size(), jobs, consume);
  } else {
    detail::work(run);
  }
#endif
}

}  // namespace uinfo::ranks
