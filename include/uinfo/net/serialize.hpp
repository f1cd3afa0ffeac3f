// save() and load(): a network's parameters and optimizer state in a versioned binary file.
//
// Layout (little-endian): "UINFONET" | u32 format version | u64 length + architecture string |
// u64 block count | per block: u64 rows, u64 cols, i64 optimizer steps, u8 moment count,
// values, then each moment. The architecture string (Sequential::architecture(), which includes
// the scalar type) must match exactly, so a file never loads into a different network.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/parameter.hpp"

namespace uinfo {

inline constexpr char network_file_magic[8] = {'U', 'I', 'N', 'F', 'O', 'N', 'E', 'T'};
inline constexpr std::uint32_t network_file_version = 1;

namespace detail {
static_assert(std::endian::native == std::endian::little,
              "uinfo's network files are little-endian; add byte swapping for this platform");

class Writer {
 public:
  explicit Writer(std::ofstream& out) : out_(out) {}
  template <class T>
  void value(const T& v) {
    out_.write(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <class S>
  void matrix(const Matrix<S>& m) {
    out_.write(reinterpret_cast<const char*>(m.data()),
               static_cast<std::streamsize>(sizeof(S) * m.size()));
  }
  void string(const std::string& s) {
    value<std::uint64_t>(s.size());
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }

 private:
  std::ofstream& out_;
};

class Reader {
 public:
  Reader(std::ifstream& in, std::string path) : in_(in), path_(std::move(path)) {}
  template <class T>
  T value(const char* what) {
    T v;
    bytes(reinterpret_cast<char*>(&v), sizeof(T), what);
    return v;
  }
  template <class S>
  void matrix(Matrix<S>& m, const char* what) {
    bytes(reinterpret_cast<char*>(m.data()), sizeof(S) * static_cast<std::size_t>(m.size()), what);
  }
  std::string string(const char* what) {
    const auto size = value<std::uint64_t>(what);
    if (size > (1u << 20)) fail(std::string("implausible length of the ") + what);
    std::string s(size, '\0');
    bytes(s.data(), size, what);
    return s;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw IoError("uinfo::load: '" + path_ + "': " + message);
  }

 private:
  void bytes(char* out, std::size_t count, const char* what) {
    in_.read(out, static_cast<std::streamsize>(count));
    if (static_cast<std::size_t>(in_.gcount()) != count) {
      fail(std::string("the file is truncated (while reading the ") + what + ")");
    }
  }
  std::ifstream& in_;
  std::string path_;
};
}  // namespace detail

// Written beside `path` and renamed over it (write_file_atomically): an interrupted save leaves
// any earlier file intact.
template <class Net>
void save(const Net& net, const std::filesystem::path& path) {
  using S = typename Net::scalar_type;
  write_file_atomically(path, "uinfo::save", [&](std::ofstream& out) {
    detail::Writer writer(out);
    out.write(network_file_magic, sizeof network_file_magic);
    writer.value(network_file_version);
    writer.string(net.architecture());
    std::uint64_t blocks = 0;
    net.for_each_parameter([&](const Parameter<S>&) { ++blocks; });
    writer.value(blocks);
    net.for_each_parameter([&](const Parameter<S>& p) {
      writer.value<std::uint64_t>(static_cast<std::uint64_t>(p.value.rows()));
      writer.value<std::uint64_t>(static_cast<std::uint64_t>(p.value.cols()));
      writer.value<std::int64_t>(p.state.steps);
      std::uint8_t moments = 0;
      for (const auto& m : p.state.moments) moments += m.size() == p.size();
      writer.value(moments);
      writer.matrix(p.value);
      for (const auto& m : p.state.moments) {
        if (m.size() == p.size()) writer.matrix(m);
      }
    });
  });
}

// Reads parameters and optimizer state saved from a network of exactly this architecture. On any
// error the network is left unchanged.
template <class Net>
void load(Net& net, const std::filesystem::path& path) {
  using S = typename Net::scalar_type;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("uinfo::load: cannot open '" + path.string() + "'");
  detail::Reader reader(in, path.string());
  char magic[sizeof network_file_magic];
  in.read(magic, sizeof magic);
  if (in.gcount() != sizeof magic || std::memcmp(magic, network_file_magic, sizeof magic) != 0) {
    reader.fail("not a uinfo network file (bad magic number)");
  }
  const auto version = reader.value<std::uint32_t>("format version");
  if (version != network_file_version) {
    reader.fail("format version " + std::to_string(version) + " is not supported; expected " +
                std::to_string(network_file_version));
  }
  const std::string architecture = reader.string("architecture");
  if (architecture != net.architecture()) {
    reader.fail("it was written for the network\n  " + architecture + "\nbut this network is\n  " +
                net.architecture());
  }
  Net loaded = net;  // fill a copy, so a truncated file changes nothing
  const auto blocks = reader.value<std::uint64_t>("block count");
  std::uint64_t index = 0;
  loaded.for_each_parameter([&](Parameter<S>& p) {
    if (index++ >= blocks) reader.fail("it holds fewer parameter blocks than the network");
    const auto rows = reader.value<std::uint64_t>("block shape");
    const auto cols = reader.value<std::uint64_t>("block shape");
    if (rows != static_cast<std::uint64_t>(p.value.rows()) ||
        cols != static_cast<std::uint64_t>(p.value.cols())) {
      reader.fail("parameter block " + std::to_string(index - 1) + " has the wrong shape");
    }
    p.state.steps = reader.value<std::int64_t>("optimizer steps");
    const auto moments = reader.value<std::uint8_t>("moment count");
    if (moments > p.state.moments.size()) reader.fail("implausible optimizer moment count");
    reader.matrix(p.value, "parameter values");
    for (std::size_t m = 0; m < p.state.moments.size(); ++m) {
      if (m < moments) {
        p.state.moments[m].resize(p.value.rows(), p.value.cols());
        reader.matrix(p.state.moments[m], "optimizer state");
      } else {
        p.state.moments[m].resize(0, 0);
      }
    }
  });
  if (index != blocks) reader.fail("it holds more parameter blocks than the network");
  net = std::move(loaded);
}

}  // namespace uinfo
