// Little-endian binary records, as network files (net/serialize.hpp) and training checkpoints
// (train/checkpoint.hpp) store them: numbers, strings, matrices and random engines.
//
// The reader knows how many bytes the file has left, so a length or a count read from the file is
// checked against them before anything is allocated for it: a corrupt count is a clear IoError,
// never an allocation of terabytes.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "uinfo/core/error.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo::detail {

static_assert(std::endian::native == std::endian::little,
              "uinfo's binary files are little-endian; add byte swapping for this platform");

template <class T>
concept BinaryNumber = std::is_arithmetic_v<T> || std::is_enum_v<T>;

class BinaryWriter {
 public:
  explicit BinaryWriter(std::ostream& out) : out_(out) {}

  template <BinaryNumber T>
  void value(T v) {
    bytes(&v, sizeof v);
  }
  void bytes(const void* data, std::size_t count) {
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(count));
  }
  void string(std::string_view s) {
    value<std::uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  // The values alone, column by column; the reader knows the shape.
  template <class S>
  void values(const Matrix<S>& m) {
    bytes(m.data(), sizeof(S) * static_cast<std::size_t>(m.size()));
  }
  void engine(const Engine& engine) {
    const Engine::State s = engine.state();
    for (const auto word : s.words) value(word);
    value(s.spare);
    value<std::uint8_t>(s.has_spare);
  }

 private:
  std::ostream& out_;
};

class BinaryReader {
 public:
  // `who` names the caller in every IoError, which also names the file.
  BinaryReader(const std::filesystem::path& path, std::string who)
      : who_(std::move(who)), path_(path.string()) {
    std::error_code error;
    left_ = std::filesystem::file_size(path, error);  // fails for a directory too
    if (error) fail("cannot open the file: " + error.message());
    in_.open(path, std::ios::binary);
    if (!in_) fail("cannot open the file");
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw IoError(who_ + ": '" + path_ + "': " + message);
  }
  const std::string& path() const { return path_; }
  std::uint64_t bytes_left() const { return left_; }

  // The file's first bytes must be `magic`; otherwise it is not `what` ("a uinfo network file").
  void magic(std::string_view magic, const std::string& what) {
    std::string found(std::min<std::uint64_t>(magic.size(), left_), '\0');
    bytes(found.data(), found.size(), "magic number");
    if (found != magic) {
      fail("bad magic: not " + what + " (it does not start with '" + printable(magic) + "')");
    }
  }

  template <BinaryNumber T>
  T value(const char* what) {
    if constexpr (std::is_same_v<T, bool>) {  // any other byte would be undefined as a bool
      const auto byte = value<std::uint8_t>(what);
      if (byte > 1)
        fail(std::string("the ") + what + " holds " + std::to_string(byte) +
             " where a truth value (0 or 1) belongs");
      return byte == 1;
    } else {
      T v;
      bytes(&v, sizeof v, what);
      return v;
    }
  }

  // A count of items of `item_bytes` bytes each that the file says follow: refused if the file
  // has fewer bytes left than they take.
  std::uint64_t count(const char* what, std::uint64_t item_bytes) {
    const auto n = value<std::uint64_t>(what);
    if (item_bytes != 0 && n > left_ / item_bytes) {
      fail(std::string("the ") + what + " is " + std::to_string(n) + " but only " +
           std::to_string(left_) + " bytes follow: the file is truncated or corrupt");
    }
    return n;
  }

  std::string string(const char* what) {
    std::string s(count(what, 1), '\0');
    bytes(s.data(), s.size(), what);
    return s;
  }

  // Fills m, already sized, with its values.
  template <class S>
  void values(Matrix<S>& m, const char* what) {
    bytes(m.data(), sizeof(S) * static_cast<std::size_t>(m.size()), what);
  }

  Engine engine(const char* what) {
    Engine::State s;
    for (auto& word : s.words) word = value<std::uint64_t>(what);
    s.spare = value<double>(what);
    s.has_spare = value<bool>(what);
    if (!Engine::valid(s)) {
      fail(std::string("the ") + what + " is not a state a random engine can be in");
    }
    return Engine(s);
  }

  // Nothing may follow the last record: bytes after it mean the file is not what was read.
  void expect_end() const {
    if (left_ != 0) {
      fail(std::to_string(left_) + " unexpected bytes after the end of the data: the file is " +
           "corrupt or was not written by this version of uinfo");
    }
  }

 private:
  void bytes(void* out, std::size_t count, const char* what) {
    if (count > left_) fail(std::string("the file is truncated (in the ") + what + ")");
    in_.read(static_cast<char*>(out), static_cast<std::streamsize>(count));
    if (static_cast<std::size_t>(in_.gcount()) != count) {
      fail(std::string("cannot read the file (in the ") + what + ")");
    }
    left_ -= count;
  }

  std::string who_;
  std::string path_;
  std::ifstream in_;
  std::uint64_t left_ = 0;
};

}  // namespace uinfo::detail
