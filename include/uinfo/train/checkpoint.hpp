// Checkpoints: what a training loop needs to continue, bit for bit, after it was killed.
//
// A checkpoint holds the network as save() writes it (parameters, optimizer moments and step
// counts, and every random engine its layers own: Dropout's masks), the optimizer's schedule
// clock, and the loop's own progress: a struct that lists its members once,
//
//   struct Progress {
//     static constexpr const char* checkpoint_kind = "my-loop";  // whose checkpoint it is
//     int epoch = 0;
//     Engine shuffler{0};
//     std::vector<Index> order;
//     template <class Archive> void fields(Archive& a) { a(epoch, shuffler, order); }
//   };
//
// and the same list writes and reads them. Members may be numbers, enums, bools, Engines,
// strings, matrices, vectors of these, and structs with fields() of their own (fit() keeps its
// EpochRecords so). The kind is checked on loading, so one loop never resumes another's file.
//
// A checkpoint is written beside its path and renamed over it (write_file_atomically), so a run
// killed at any moment, even while writing, leaves the previous checkpoint whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "uinfo/core/binary_io.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/net/serialize.hpp"

namespace uinfo {

inline constexpr char checkpoint_file_magic[8] = {'U', 'I', 'N', 'F', 'O', 'C', 'K', 'P'};
// Version 2 embeds save()'s format 3 (plastic masks); version 1, format 2.
inline constexpr std::uint32_t checkpoint_file_version = 2;

// When a training loop writes checkpoints, and whether it continues from one.
struct CheckpointOptions {
  std::filesystem::path path{};  // where; empty: no checkpoints
  long every_steps = 0;          // after every this many updates; 0: not by updates
  int every_epochs = 0;          // after every this many epochs; 0: not by epochs
  bool resume = false;           // continue from `path` if it exists, else start afresh

  bool enabled() const { return every_steps > 0 || every_epochs > 0; }

  // `who` names the loop in the message.
  void validate(const std::string& who) const {
    if (every_steps < 0 || every_epochs < 0) {
      throw InvalidArgument(who + ": checkpoint intervals are " + std::to_string(every_steps) +
                            " steps and " + std::to_string(every_epochs) +
                            " epochs; expected 0 (none) or more");
    }
    if ((enabled() || resume) && path.empty()) {
      throw InvalidArgument(who + ": checkpoints are asked for without a path to write them to");
    }
  }
};

template <class P>
concept LoopProgress = requires(P& progress) {
  { P::checkpoint_kind } -> std::convertible_to<const char*>;
};

namespace detail {

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_matrix : std::false_type {};
template <Scalar S>
struct is_matrix<Matrix<S>> : std::true_type {};

// Writes the members a progress struct's fields() lists.
class FieldWriter {
 public:
  explicit FieldWriter(BinaryWriter& out) : out_(out) {}

  template <class... T>
  void operator()(const T&... fields) {
    (write(fields), ...);
  }

 private:
  template <class T>
  void write(const T& field) {
    if constexpr (BinaryNumber<T>) {
      out_.value(field);
    } else if constexpr (std::is_same_v<T, Engine>) {
      out_.engine(field);
    } else if constexpr (std::is_same_v<T, std::string>) {
      out_.string(field);
    } else if constexpr (is_matrix<T>::value) {
      out_.value<std::uint64_t>(static_cast<std::uint64_t>(field.rows()));
      out_.value<std::uint64_t>(static_cast<std::uint64_t>(field.cols()));
      out_.values(field);
    } else if constexpr (is_vector<T>::value) {
      out_.value<std::uint64_t>(field.size());
      for (const auto& item : field) write(item);
    } else {
      // fields() is one list for writing and reading, so it is not const; writing only reads.
      const_cast<T&>(field).fields(*this);
    }
  }

  BinaryWriter& out_;
};

// Reads them back, checking every count against the bytes the file has left before allocating.
class FieldReader {
 public:
  explicit FieldReader(BinaryReader& in) : in_(in) {}

  template <class... T>
  void operator()(T&... fields) {
    (read(fields), ...);
  }

 private:
  static constexpr const char* what = "training progress";

  // The fewest bytes an item of type T takes in the file, which bounds how many a count can
  // honestly promise; a struct in a vector must have a field, so takes at least one.
  template <class T>
  static constexpr std::uint64_t least_bytes() {
    if constexpr (BinaryNumber<T>) return sizeof(T);
    if constexpr (std::is_same_v<T, Engine>) return 41;
    if constexpr (std::is_same_v<T, std::string> || is_vector<T>::value) return 8;  // the length
    if constexpr (is_matrix<T>::value) return 16;                                   // the shape
    return 1;
  }

  template <class T>
  void read(T& field) {
    if constexpr (BinaryNumber<T>) {
      field = in_.value<T>(what);
    } else if constexpr (std::is_same_v<T, Engine>) {
      field = in_.engine(what);
    } else if constexpr (std::is_same_v<T, std::string>) {
      field = in_.string(what);
    } else if constexpr (is_matrix<T>::value) {
      const auto rows = in_.count(what, 0);
      const auto cols = in_.count(what, 0);
      const std::uint64_t bytes = sizeof(typename T::Scalar);
      if (rows != 0 && cols > in_.bytes_left() / bytes / rows) {
        in_.fail("a " + std::to_string(rows) + " x " + std::to_string(cols) +
                 " matrix is larger than the rest of the file: it is truncated or corrupt");
      }
      field.resize(static_cast<Index>(rows), static_cast<Index>(cols));
      in_.values(field, what);
    } else if constexpr (is_vector<T>::value) {
      field.resize(in_.count(what, least_bytes<typename T::value_type>()));
      for (auto& item : field) read(item);
    } else {
      field.fields(*this);
    }
  }

  BinaryReader& in_;
};

// The optimizer's schedule clock (ScheduleClock: epoch(), set_epoch()), if it has one.
template <class Optimizer>
constexpr bool has_clock = requires(Optimizer& o) {
  { o.epoch() } -> std::convertible_to<double>;
  o.set_epoch(0.0);
};

}  // namespace detail

// Writes `net`, the optimizer's clock and `progress` to `path`, atomically.
template <class Net, class Optimizer, LoopProgress Progress>
void save_checkpoint(const std::filesystem::path& path, const Net& net,
                     [[maybe_unused]] const Optimizer& optimizer, const Progress& progress) {
  write_file_atomically(path, "uinfo::save_checkpoint", [&](std::ofstream& out) {
    detail::BinaryWriter writer(out);
    writer.bytes(checkpoint_file_magic, sizeof checkpoint_file_magic);
    writer.value(checkpoint_file_version);
    writer.string(Progress::checkpoint_kind);
    detail::write_network(writer, net);
    if constexpr (detail::has_clock<Optimizer>) writer.value<double>(optimizer.epoch());
    detail::FieldWriter fields(writer);
    fields(progress);
  });
}

// Restores what save_checkpoint wrote into a network of the same architecture, an optimizer of
// the same type and a progress struct of the same kind. Throws IoError for a file that does not
// hold that (naming what differs), NonFiniteValue for a NaN in the network; on any error nothing
// is changed.
template <class Net, class Optimizer, LoopProgress Progress>
void load_checkpoint(const std::filesystem::path& path, Net& net, Optimizer& optimizer,
                     Progress& progress) {
  detail::BinaryReader in(path, "uinfo::load_checkpoint");
  in.magic({checkpoint_file_magic, sizeof checkpoint_file_magic}, "a uinfo checkpoint");
  const auto version = in.value<std::uint32_t>("format version");
  if (version != 1 && version != checkpoint_file_version) {
    in.fail("format version " + std::to_string(version) + " is not supported; expected 1 or " +
            std::to_string(checkpoint_file_version));
  }
  const std::string kind = in.string("loop name");
  if (kind != Progress::checkpoint_kind) {
    in.fail("it is a checkpoint of '" + printable(kind) + "', not of '" +
            Progress::checkpoint_kind + "'");
  }
  Net loaded_net = net;  // filled as copies, so a file that fails half way changes nothing
  detail::read_network(in, loaded_net, version == 1 ? 2 : network_file_version);
  double epoch = 0;
  if constexpr (detail::has_clock<Optimizer>) epoch = in.value<double>("optimizer clock");
  Progress loaded_progress = progress;
  detail::FieldReader fields(in);
  fields(loaded_progress);
  in.expect_end();
  net = std::move(loaded_net);
  if constexpr (detail::has_clock<Optimizer>) optimizer.set_epoch(epoch);
  progress = std::move(loaded_progress);
}

}  // namespace uinfo
