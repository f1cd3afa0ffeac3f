// Reads back the CSV files uinfo's programs write (a header, then rows of plain fields: no quotes,
// no commas inside fields), e.g. to merge the shards of a sweep.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <uinfo/core/error.hpp>
#include <uinfo/core/format.hpp>

namespace uinfo::csv {

class Table {
 public:
  explicit Table(const std::filesystem::path& path) : path_(path.string()) {
    std::ifstream in(path);
    if (!in) throw IoError("uinfo: cannot open '" + path_ + "' for reading");
    std::string line;
    if (!std::getline(in, line))
      throw IoError("uinfo: '" + path_ + "' is empty; expected a header");
    header_ = split(line);
    for (std::size_t i = 0; i < header_.size(); ++i) column_[header_[i]] = i;
    for (std::size_t number = 2; std::getline(in, line); ++number) {
      if (line.empty()) continue;
      rows_.push_back(split(line));
      if (rows_.back().size() != header_.size()) {
        throw IoError("uinfo: '" + path_ + "' line " + std::to_string(number) + " has " +
                      std::to_string(rows_.back().size()) + " fields; expected " +
                      std::to_string(header_.size()) + " (is the file truncated?)");
      }
    }
  }

  const std::vector<std::string>& header() const { return header_; }
  std::size_t size() const { return rows_.size(); }
  const std::vector<std::string>& row(std::size_t i) const { return rows_.at(i); }

  // Row i's field in the named column, as text or as a number.
  const std::string& text(std::size_t i, const std::string& column) const {
    return rows_.at(i)[index(column)];
  }
  // A finite number: a NaN or an infinity in a file uinfo wrote means it was damaged.
  double number(std::size_t i, const std::string& column) const {
    const std::string& field = text(i, column);
    try {
      std::size_t used = 0;
      const double value = std::stod(field, &used);
      if (used == field.size() && std::isfinite(value)) return value;
    } catch (const std::exception&) {
    }
    throw IoError("uinfo: '" + path_ + "' column " + printable(column) + " row " +
                  std::to_string(i + 1) + " holds '" + printable(field) +
                  "'; expected a finite number");
  }
  // A whole number in [least, most], such as a seed or a batch size.
  std::uint64_t whole(std::size_t i, const std::string& column, std::uint64_t least,
                      std::uint64_t most = std::numeric_limits<std::uint64_t>::max()) const {
    const std::string& field = text(i, column);
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (error != std::errc{} || end != field.data() + field.size() || value < least ||
        value > most) {
      throw IoError("uinfo: '" + path_ + "' column " + printable(column) + " row " +
                    std::to_string(i + 1) + " holds '" + printable(field) +
                    "'; expected a whole number from " + std::to_string(least) + " to " +
                    std::to_string(most));
    }
    return value;
  }

 private:
  std::size_t index(const std::string& column) const {
    const auto found = column_.find(column);
    if (found == column_.end())
      throw IoError("uinfo: '" + path_ + "' has no column '" + printable(column) + "'");
    return found->second;
  }

  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> fields(1);
    for (const char c : line) {
      if (c == ',') {
        fields.emplace_back();
      } else if (c != '\r') {
        fields.back() += c;
      }
    }
    return fields;
  }

  std::string path_;
  std::vector<std::string> header_;
  std::map<std::string, std::size_t> column_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace uinfo::csv
