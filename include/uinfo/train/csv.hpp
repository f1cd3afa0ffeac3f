// CSV output that survives interruption: every row is flushed as it is written, so a run that
// fails (or is stopped) keeps every row it had produced.
#pragma once

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/train/callbacks.hpp"

namespace uinfo {

class CsvWriter {
 public:
  // A new file: `columns` is its header.
  CsvWriter(const std::filesystem::path& path, const std::vector<std::string>& columns)
      : CsvWriter(path, columns.size(), std::ios::trunc) {
    write_fields(columns);
  }

  // Rows added to a file written before with `columns` (an interrupted run's, resumed).
  struct Append {};
  CsvWriter(const std::filesystem::path& path, const std::vector<std::string>& columns, Append)
      : CsvWriter(path, columns.size(), std::ios::app) {}

  // One row; numbers are written in the shortest form that reads back the same value.
  template <class... Fields>
  void row(const Fields&... fields) {
    if (sizeof...(Fields) != columns_) {
      throw InvalidArgument("uinfo::CsvWriter: a row of " + std::to_string(sizeof...(Fields)) +
                            " fields for " + std::to_string(columns_) + " columns in '" + path_ +
                            "'");
    }
    std::vector<std::string> text;
    (text.push_back(format(fields)), ...);
    write_fields(text);
  }

  // One row of fields already written as text (e.g. read back from another CSV file).
  void row_fields(const std::vector<std::string>& fields) {
    if (fields.size() != columns_) {
      throw InvalidArgument("uinfo::CsvWriter: a row of " + std::to_string(fields.size()) +
                            " fields for " + std::to_string(columns_) + " columns in '" + path_ +
                            "'");
    }
    write_fields(fields);
  }

 private:
  template <class T>
  static std::string format(const T& field) {
    if constexpr (std::is_same_v<T, bool>) {
      return field ? "true" : "false";
    } else if constexpr (std::is_arithmetic_v<T>) {
      return shortest(field);
    } else {
      return std::string(field);
    }
  }

  CsvWriter(const std::filesystem::path& path, std::size_t columns, std::ios::openmode mode)
      : path_(path.string()), columns_(columns) {
    errno = 0;
    out_.open(path, std::ios::out | mode);
    if (!out_) {
      throw IoError("uinfo: cannot open '" + path_ + "' for writing" + detail::system_reason());
    }
  }

  void write_fields(const std::vector<std::string>& fields) {
    errno = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) out_ << (i ? "," : "") << fields[i];
    out_ << '\n';
    out_.flush();
    if (!out_) throw IoError("uinfo: writing '" + path_ + "' failed" + detail::system_reason());
  }

  std::ofstream out_;
  std::string path_;
  std::size_t columns_;
};

// A fit() callback writing one row per epoch: epoch, losses, accuracies, learning rate, seconds.
class EpochCsv {
 public:
  explicit EpochCsv(const std::filesystem::path& path)
      : csv_(path, {"epoch", "train_loss", "train_accuracy", "validation_loss",
                    "validation_accuracy", "learning_rate", "seconds"}) {}

  template <class Net>
  void on_epoch_end(const EpochRecord& r, Net&) {
    csv_.row(r.epoch, r.train_loss, r.train_accuracy, r.validation_loss, r.validation_accuracy,
             r.learning_rate, r.seconds);
  }

 private:
  CsvWriter csv_;
};

}  // namespace uinfo
