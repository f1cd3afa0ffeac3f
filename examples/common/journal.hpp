// A run that a kill cannot set back by more than the job it was in: the jobs' rows go to
// DIR/info.csv in job order, and after each job's rows are on the disk, one line naming the job and
// the length info.csv then had goes to DIR/jobs.log. `--resume` reads the log, cuts info.csv back
// to the end of the last job it names (a job cut off part-way left rows, or half a row, after it),
// and runs the jobs after that one: the files come out byte for byte as an uninterrupted run's.
//
// The log's first lines are its format and the run's settings (command.hpp), so that a run is only
// ever continued with the settings that began it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/record.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/train/csv.hpp"

namespace uinfo::journal {

inline constexpr const char* format_line = "uinfo jobs log 1";

inline std::filesystem::path log_path(const std::filesystem::path& dir) {
  return dir / "jobs.log";
}

// What an interrupted run left: the log's lines of the jobs it finished, in job order, and
// info.csv's length after the last of them.
struct Finished {
  std::vector<std::string> lines;
  std::uintmax_t bytes = 0;

  std::size_t jobs() const { return lines.size(); }
};

// The settings whose values differ between two records of them, "name: there, here", for a message.
inline std::string differences(const std::string& there, const std::string& here) {
  const auto old_settings = record::Json::parse(there, nullptr, false);
  const auto new_settings = record::Json::parse(here);
  if (!old_settings.is_object()) return "unreadable: " + printable(there);
  std::string text;
  for (const auto& [name, value] : new_settings.items()) {
    const auto old = old_settings.find(name);
    const std::string was = old == old_settings.end() ? "none" : old->dump();
    if (was != value.dump())
      text += (text.empty() ? "" : "; ") + name + ": " + was + " there, " + value.dump() + " here";
  }
  return text.empty() ? "in their order" : printable(text);
}

// Reads DIR/jobs.log, if there is one, of a run with these `settings` whose jobs are `keys`, in
// job order. Throws InvalidArgument if the log belongs to a run with other settings or other jobs,
// IoError if it cannot be read or info.csv is shorter than it says.
inline Finished read(const std::filesystem::path& dir, const std::string& settings,
                     const std::vector<std::string>& keys) {
  const std::filesystem::path path = log_path(dir);
  Finished finished;
  if (!std::filesystem::exists(path)) return finished;
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw IoError("cannot read '" + printable(path.string()) + "'");
  std::vector<std::string> lines;  // whole lines only: a line cut off by a kill is not a commit
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  if (lines.size() < 2 || lines[0] != format_line) {
    throw IoError("'" + printable(path.string()) +
                  "' is not a uinfo jobs log; remove it to start the run again");
  }
  if (lines[1] != settings) {
    throw InvalidArgument("--resume: '" + printable(dir.string()) +
                          "' holds a run with other settings (" + differences(lines[1], settings) +
                          "); give the same settings, or another --out");
  }
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const std::size_t tab = lines[i].rfind('\t');
    const std::size_t job = i - 2;
    if (tab == std::string::npos || job >= keys.size() || lines[i].substr(0, tab) != keys[job]) {
      throw InvalidArgument("--resume: '" + printable(path.string()) + "' line " +
                            std::to_string(i + 1) + " is '" + printable(lines[i]) +
                            "' where this run's job " + std::to_string(job + 1) + " is " +
                            (job < keys.size() ? "'" + keys[job] + "'" : "none"));
    }
    const std::string length = lines[i].substr(tab + 1);
    if (length.empty() || length.find_first_not_of("0123456789") != std::string::npos) {
      throw IoError("'" + printable(path.string()) + "' line " + std::to_string(i + 1) + " is '" +
                    printable(lines[i]) + "'; expected a job and a length in bytes");
    }
    finished.lines.push_back(lines[i]);
    finished.bytes = std::stoull(length);
  }
  const std::filesystem::path csv = dir / "info.csv";
  if (finished.jobs() > 0 &&
      (!std::filesystem::exists(csv) || std::filesystem::file_size(csv) < finished.bytes)) {
    throw IoError("'" + printable(csv.string()) + "' is shorter than '" + printable(path.string()) +
                  "' says; run without --resume to start again");
  }
  return finished;
}

// The writer of DIR/info.csv and DIR/jobs.log, on the rank that writes files.
class Journal {
 public:
  // A new run (`resumed` null) or the continuation of the one `resumed` read.
  Journal(const std::filesystem::path& dir, const std::vector<std::string>& columns,
          const std::string& settings, const std::optional<Finished>& resumed)
      : csv_path_(dir / "info.csv"), log_path_(log_path(dir)) {
    if (resumed && resumed->jobs() > 0) {
      std::filesystem::resize_file(csv_path_, resumed->bytes);
      csv_.emplace(csv_path_, columns, CsvWriter::Append{});
      rewrite_log(settings, resumed->lines);
    } else {
      csv_.emplace(csv_path_, columns);
      rewrite_log(settings, {});
    }
  }

  CsvWriter& csv() { return *csv_; }

  // After the rows of the job `key`: they reach the disk, then the line that says they did.
  void commit(const std::string& key) {
    detail::sync_to_disk(csv_path_);
    log_ << key << '\t' << std::filesystem::file_size(csv_path_) << '\n';
    log_.flush();
    if (!log_)
      throw IoError("writing '" + log_path_.string() + "' failed" + detail::system_reason());
  }

 private:
  // The log as it is to be continued, written whole (a half line left by a kill goes).
  void rewrite_log(const std::string& settings, const std::vector<std::string>& finished) {
    write_file_atomically(log_path_, "uinfo", [&](std::ofstream& out) {
      out << format_line << '\n' << settings << '\n';
      for (const std::string& line : finished) out << line << '\n';
    });
    log_.open(log_path_, std::ios::app | std::ios::binary);
    if (!log_) throw IoError("cannot open '" + log_path_.string() + "'" + detail::system_reason());
  }

  std::filesystem::path csv_path_, log_path_;
  std::optional<CsvWriter> csv_;
  std::ofstream log_;
};

}  // namespace uinfo::journal
