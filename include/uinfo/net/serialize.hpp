// save() and load(): a network's parameters, optimizer state and random streams in a versioned
// binary file.
//
// Layout (little-endian, core/binary_io.hpp): "UINFONET" | u32 format version | u64 length +
// architecture string | u64 block count | per block: u64 rows, u64 cols, i64 optimizer steps, u8
// moment count, values, then each moment, then u8 whether the block has fixed elements and if so
// its `plastic` mask (connectivity: which connections exist and learn) | u64 engine count | per
// engine (Sequential's for_each_engine: Dropout's masks, recurrent noise): 4 u64 words, f64 spare
// normal, u8 whether it is held. The architecture string (Sequential::architecture(), which
// includes the scalar type) must match exactly, so a file never loads into a different network.
// Older files still load: version 2 has no plastic masks (the network keeps its own), version 1
// also no engines (they keep their state). A layer's configuration (a recurrent layer's alpha,
// noise levels and constraints) is code, not data: configure the network, then load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "uinfo/core/binary_io.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/parameter.hpp"

namespace uinfo {

inline constexpr char network_file_magic[8] = {'U', 'I', 'N', 'F', 'O', 'N', 'E', 'T'};
inline constexpr std::uint32_t network_file_version = 3;

namespace detail {

// The network's part of a file: what save() writes after the magic and version, and what a
// checkpoint embeds.
template <class Net>
void write_network(BinaryWriter& out, const Net& net) {
  using S = typename Net::scalar_type;
  out.string(net.architecture());
  std::uint64_t blocks = 0;
  net.for_each_parameter([&](const Parameter<S>&) { ++blocks; });
  out.value(blocks);
  net.for_each_parameter([&](const Parameter<S>& p) {
    out.value<std::uint64_t>(static_cast<std::uint64_t>(p.value.rows()));
    out.value<std::uint64_t>(static_cast<std::uint64_t>(p.value.cols()));
    out.value<std::int64_t>(p.state.steps);
    std::uint8_t moments = 0;
    for (const auto& m : p.state.moments) moments += m.size() == p.size();
    out.value(moments);
    out.values(p.value);
    for (const auto& m : p.state.moments) {
      if (m.size() == p.size()) out.values(m);
    }
    out.value<std::uint8_t>(p.plastic.size() != 0);
    if (p.plastic.size()) out.values(p.plastic);
  });
  std::uint64_t engines = 0;
  net.for_each_engine([&](const Engine&) { ++engines; });
  out.value(engines);
  net.for_each_engine([&](const Engine& e) { out.engine(e); });
}

// Reads what write_network wrote (without the engines for a version 1 file) into `net`, which
// must have the architecture the file names. A file that does not fit throws IoError, one with a
// NaN or an infinity NonFiniteValue; either way `net` may be half filled, so callers read into a
// copy.
template <class Net>
void read_network(BinaryReader& in, Net& net, std::uint32_t version) {
  using S = typename Net::scalar_type;
  const std::string architecture = in.string("architecture");
  if (architecture != net.architecture()) {
    in.fail("it was written for the network\n  " + printable(architecture) +
            "\nbut this network is\n  " + net.architecture());
  }
  const auto blocks = in.value<std::uint64_t>("block count");
  std::uint64_t index = 0;
  net.for_each_parameter([&](Parameter<S>& p) {
    if (index++ >= blocks) in.fail("it holds fewer parameter blocks than the network");
    const auto rows = in.value<std::uint64_t>("block shape");
    const auto cols = in.value<std::uint64_t>("block shape");
    if (rows != static_cast<std::uint64_t>(p.value.rows()) ||
        cols != static_cast<std::uint64_t>(p.value.cols())) {
      in.fail("parameter block " + std::to_string(index - 1) + " is " + std::to_string(rows) +
              " x " + std::to_string(cols) + "; the network's is " +
              std::to_string(p.value.rows()) + " x " + std::to_string(p.value.cols()));
    }
    p.state.steps = in.value<std::int64_t>("optimizer steps");
    const auto moments = in.value<std::uint8_t>("moment count");
    if (moments > p.state.moments.size()) {
      in.fail("parameter block " + std::to_string(index - 1) + " has " + std::to_string(moments) +
              " optimizer moments; expected at most " + std::to_string(p.state.moments.size()));
    }
    in.values(p.value, "parameter values");
    for (std::size_t m = 0; m < p.state.moments.size(); ++m) {
      if (m < moments) {
        p.state.moments[m].resize(p.value.rows(), p.value.cols());
        in.values(p.state.moments[m], "optimizer state");
      } else {
        p.state.moments[m].resize(0, 0);
      }
    }
    if (version >= 3) {
      const auto fixed = in.value<std::uint8_t>("fixed-element flag");
      if (fixed > 1) in.fail("parameter block " + std::to_string(index - 1) + " has a bad flag");
      p.plastic.resize(fixed ? p.value.rows() : 0, fixed ? p.value.cols() : 0);
      if (fixed) in.values(p.plastic, "plastic mask");
    }
    const std::string block = "parameter block " + std::to_string(index - 1) + " (" +
                              std::string(p.name()) + ") of '" + in.path() + "'";
    require_finite(p.value, block);
    for (const auto& m : p.state.moments) require_finite(m, "the optimizer state of " + block);
    if (!((p.plastic.array() == S(0)) || (p.plastic.array() == S(1))).all()) {
      in.fail(block + " has a plastic mask with a value other than 0 and 1");
    }
  });
  if (index != blocks) in.fail("it holds more parameter blocks than the network");
  if (version < 2) return;
  std::uint64_t engines = 0;
  net.for_each_engine([&](const Engine&) { ++engines; });
  if (in.value<std::uint64_t>("engine count") != engines) {
    in.fail("its number of random engines differs from the network's " + std::to_string(engines));
  }
  net.for_each_engine([&](Engine& e) { e = in.engine("random engine state"); });
}

}  // namespace detail

// Written beside `path` and renamed over it (write_file_atomically): an interrupted save leaves
// any earlier file intact.
template <class Net>
void save(const Net& net, const std::filesystem::path& path) {
  write_file_atomically(path, "uinfo::save", [&](std::ofstream& out) {
    detail::BinaryWriter writer(out);
    writer.bytes(network_file_magic, sizeof network_file_magic);
    writer.value(network_file_version);
    detail::write_network(writer, net);
  });
}

// Reads parameters, optimizer state and random streams saved from a network of exactly this
// architecture. On any error the network is left unchanged.
template <class Net>
void load(Net& net, const std::filesystem::path& path) {
  detail::BinaryReader in(path, "uinfo::load");
  in.magic({network_file_magic, sizeof network_file_magic}, "a uinfo network file");
  const auto version = in.value<std::uint32_t>("format version");
  if (version < 1 || version > network_file_version) {
    in.fail("format version " + std::to_string(version) + " is not supported; expected 1 to " +
            std::to_string(network_file_version));
  }
  Net loaded = net;  // fill a copy, so a file that fails half way changes nothing
  detail::read_network(in, loaded, version);
  in.expect_end();
  net = std::move(loaded);
}

}  // namespace uinfo
