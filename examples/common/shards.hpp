// A sweep's jobs split over the tasks of a cluster's job array: `--shard i/n` runs jobs i-1,
// i-1+n, i-1+2n, ... (configurations of every speed land in every shard) into OUT/shards/i-of-n/,
// `--shard auto` takes i and n from the Slurm array task it runs in, and `--merge` joins the
// shards' info.csv in job order, so that the merged files are a one-machine run's. `--resume`
// continues a run (or a shard) that was stopped, from the jobs it had finished (journal.hpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/command.hpp"
#include "common/csv_table.hpp"
#include "common/journal.hpp"
#include "common/outcome.hpp"
#include "common/ranks.hpp"
#include "common/record.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/train/csv.hpp"

namespace uinfo::shards {

// The scale-out flags every sharded program takes.
struct Flags {
  std::string shard = "1/1";
  bool merge = false;
};

inline void add_options(cli::Command& command, Flags& f) {
  command.option("--shard", f.shard,
                 "run the i-th of n slices of the jobs, written i/n, into OUT/shards/i-of-n/; "
                 "auto: the task of a Slurm job array (SLURM_ARRAY_TASK_ID, _MIN, _STEP, _COUNT)");
  command.option("--merge", f.merge,
                 "join the shards' OUT/shards/*/info.csv in job order, then summarise and plot");
}

// Shard `index` (from 1) of `count`.
struct Shard {
  int index = 1, count = 1;

  bool whole() const { return count == 1; }
  std::string name() const { return std::to_string(index) + "-of-" + std::to_string(count); }
  std::filesystem::path directory(const std::filesystem::path& out) const {
    return whole() ? out : out / "shards" / name();
  }

  // The jobs of this shard, as indices into all of them.
  std::vector<std::size_t> jobs(std::size_t all) const {
    std::vector<std::size_t> mine;
    for (auto j = static_cast<std::size_t>(index - 1); j < all;
         j += static_cast<std::size_t>(count))
      mine.push_back(j);
    return mine;
  }
};

namespace detail {

// A whole number from the environment variable `name`; nullopt if unset.
inline std::optional<long> environment_number(const cli::Command& command, const char* name) {
  const char* text = std::getenv(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0')
    command.fail("--shard auto: " + std::string(name) + " is '" + text + "'; expected a number");
  return value;
}

// The array task Slurm runs this process as: task ID of an array MIN, MIN + STEP, ... of COUNT.
inline Shard from_slurm(const cli::Command& command) {
  const auto id = environment_number(command, "SLURM_ARRAY_TASK_ID");
  const auto count = environment_number(command, "SLURM_ARRAY_TASK_COUNT");
  if (!id || !count) {
    command.fail(
        "--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, which sbatch "
        "--array sets; outside a job array give --shard i/n");
  }
  const long first = environment_number(command, "SLURM_ARRAY_TASK_MIN").value_or(0);
  const long step = environment_number(command, "SLURM_ARRAY_TASK_STEP").value_or(1);
  const long offset = *id - first;
  if (step < 1 || offset < 0 || offset % step != 0 || offset / step >= *count) {
    command.fail("--shard auto: array task " + std::to_string(*id) + " is not one of " +
                 std::to_string(*count) + " tasks from " + std::to_string(first) + " in steps of " +
                 std::to_string(step) + "; give the array as a range, e.g. --array=0-7");
  }
  return {static_cast<int>(offset / step + 1), static_cast<int>(*count)};
}

}  // namespace detail

// The shard the flags name; exits with status 2 on a malformed one.
inline Shard resolve(const cli::Command& command, const Flags& f, bool resume) {
  Shard s;
  if (f.shard == "auto") {
    s = detail::from_slurm(command);
  } else {
    char end = 0;
    if (std::sscanf(f.shard.c_str(), "%d/%d%c", &s.index, &s.count, &end) != 2 || s.count < 1 ||
        s.index < 1 || s.index > s.count) {
      command.fail("--shard must be i/n with 1 <= i <= n, e.g. 3/8, or auto");
    }
  }
  if (f.merge && !s.whole()) command.fail("--merge joins the shards; give it without --shard");
  if (f.merge && resume) command.fail("--merge runs no jobs; give it without --resume");
  return s;
}

// Joins OUT/shards/i-of-n/info.csv of every shard of one split into OUT/info.csv, a job's rows
// where a one-machine run writes them: `job_keys` are the jobs' leading `key_columns` fields as
// info.csv writes them (e.g. "0.05,32,1" for lr, batch, seed), in job order. Throws IoError if a
// shard is missing or the shards hold other jobs than these.
inline void merge(const std::filesystem::path& out, const std::vector<std::string>& columns,
                  std::size_t key_columns, const std::vector<std::string>& job_keys) {
  const std::filesystem::path shards = out / "shards";
  if (!std::filesystem::is_directory(shards)) {
    throw IoError("no shards in '" + shards.string() +
                  "'; run with --shard i/n and the same --out first");
  }
  std::set<int> found;
  int count = 0;
  std::map<std::string, std::vector<std::vector<std::string>>> rows_of_job;
  for (const auto& entry : std::filesystem::directory_iterator(shards)) {
    int i = 0, n = 0;
    if (std::sscanf(entry.path().filename().c_str(), "%d-of-%d", &i, &n) != 2) continue;
    if (count != 0 && n != count) {
      throw IoError("'" + shards.string() + "' mixes splits into " + std::to_string(count) +
                    " and " + std::to_string(n) + " shards");
    }
    count = n;
    found.insert(i);
    const csv::Table table(entry.path() / "info.csv");
    for (std::size_t r = 0; r < table.size(); ++r) {
      std::string key;
      for (std::size_t c = 0; c < key_columns; ++c) key += (c ? "," : "") + table.row(r)[c];
      rows_of_job[key].push_back(table.row(r));
    }
  }
  if (count == 0 || static_cast<int>(found.size()) != count) {
    std::string missing;
    for (int i = 1; i <= count; ++i)
      if (!found.count(i))
        missing.append(" ").append(std::to_string(i));  // GCC 12 -O3: no -Wrestrict
    throw IoError("shards missing from '" + shards.string() +
                  "':" + (count ? missing : std::string(" all")));
  }
  CsvWriter merged(out / "info.csv", columns);
  for (const std::string& key : job_keys) {
    const auto rows = rows_of_job.find(key);
    if (rows == rows_of_job.end()) {
      throw IoError("the shards in '" + shards.string() + "' hold no rows of job " + key +
                    " (run with other settings, or interrupted?)");
    }
    for (const auto& row : rows->second) merged.row_fields(row);
    rows_of_job.erase(rows);
  }
  if (!rows_of_job.empty()) {
    throw IoError("the shards in '" + shards.string() + "' hold job " + rows_of_job.begin()->first +
                  ", which these settings do not make");
  }
}

// This process's part of a run that may be scaled out: the shard's jobs over the ranks, by
// run_jobs(remaining, journal) with `remaining` indexing the jobs `job_keys` name (those of the
// shard a resumed run has not finished) and `journal` where rank 0 writes their rows (null on the
// other ranks), or the merge. Returns true where the caller goes on to summarise OUT/info.csv: rank
// 0 of a whole run or of a merge. Elsewhere the part is done, and a shard's rank 0 has written its
// `run_record`.
template <class RunJobs, class Seconds>
bool run_part(const ranks::Ranks& ranks, const Shard& shard, const Flags& flags, bool resume,
              const std::filesystem::path& out, const std::vector<std::string>& columns,
              std::size_t key_columns, const std::vector<std::string>& job_keys,
              record::Json& run_record, Seconds&& seconds, RunJobs&& run_jobs) {
  program::prepare_output_directory(out);
  if (flags.merge) {  // the shards are input until they are merged
    if (ranks.leader()) merge(out, columns, key_columns, job_keys);
    program::running();
    return ranks.leader();
  }
  const std::filesystem::path dir = shard.directory(out);
  const std::vector<std::size_t> mine = shard.jobs(job_keys.size());
  std::optional<journal::Finished> finished;
  const std::string settings = run_record.at("settings").dump();
  if (resume) {  // every rank reads the log before rank 0 writes it
    std::vector<std::string> keys;
    for (const std::size_t j : mine) keys.push_back(job_keys[j]);
    finished = journal::read(dir, settings, keys);
  }
  ranks.barrier();
  program::running();
  if (ranks.leader()) std::filesystem::create_directories(dir);
  std::optional<journal::Journal> log;
  if (ranks.leader()) log.emplace(dir, columns, settings, finished);
  const auto done = static_cast<std::ptrdiff_t>(finished ? finished->jobs() : 0);
  run_jobs(std::vector<std::size_t>(mine.begin() + done, mine.end()), log ? &*log : nullptr);
  if (!ranks.leader()) return false;
  run_record["ranks"] = ranks.size();
  if (finished) run_record["resumed_after_jobs"] = finished->jobs();
  if (shard.whole()) return true;
  run_record["shard"] = shard.name();
  run_record["jobs"] = mine.size();
  run_record["wall_seconds"] = seconds();
  record::write(run_record, dir / "run.json");
  std::printf("shard %d of %d: %zu jobs in %s/; merge with --merge --out %s\n", shard.index,
              shard.count, mine.size(), dir.string().c_str(), out.string().c_str());
  return false;
}

}  // namespace uinfo::shards
