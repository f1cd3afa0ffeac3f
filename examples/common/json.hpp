// A flat-or-nested JSON object writer for run records (settings, versions, timings), with arrays
// of numbers (per-fold or per-seed values).
#pragma once

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "uinfo/core/file.hpp"
#include "uinfo/core/format.hpp"

namespace uinfo::json {

template <class T>
inline constexpr bool is_number_vector = false;
template <class T>
inline constexpr bool is_number_vector<std::vector<T>> = std::is_arithmetic_v<T>;

class Object {
 public:
  template <class T>
  Object& add(const std::string& key, const T& value) {
    fields_.emplace_back(key, encode(value));
    return *this;
  }

  std::string str(int indent = 0) const {
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    std::string text = "{\n";
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      text += pad + quote(fields_[i].first) + ": " + fields_[i].second +
              (i + 1 < fields_.size() ? ",\n" : "\n");
    }
    return text + std::string(static_cast<std::size_t>(indent), ' ') + "}";
  }

  // Written beside the target and renamed over it, so readers never see half a file.
  void write(const std::filesystem::path& path) const {
    write_file_atomically(path, "uinfo::json", [&](std::ofstream& out) { out << str() << '\n'; });
  }

 private:
  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
        out += escaped;
      } else {
        out += c;
      }
    }
    return out + "\"";
  }

  template <class T>
  static std::string encode(const T& value) {
    if constexpr (std::is_same_v<T, Object>) {
      return value.str(2);
    } else if constexpr (is_number_vector<T>) {
      std::string text = "[";
      for (std::size_t i = 0; i < value.size(); ++i) text += (i ? ", " : "") + encode(value[i]);
      return text + "]";
    } else if constexpr (std::is_same_v<T, bool>) {
      return value ? "true" : "false";
    } else if constexpr (std::is_arithmetic_v<T>) {
      if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(value)) return "null";  // JSON has no NaN or infinity
      }
      return shortest(value);
    } else {
      return quote(std::string(value));
    }
  }

  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace uinfo::json
