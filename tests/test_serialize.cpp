// save() and load(): bitwise round trips, and every way a file can fail to load.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "uinfo/uinfo.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

using Net = Sequential<float, Input<2>, Dense<8>, Relu, Dense<2>>;
using Wider = Sequential<float, Input<2>, Dense<9>, Relu, Dense<2>>;
using DoubleNet = Sequential<double, Input<2>, Dense<8>, Relu, Dense<2>>;
using Loss = SoftmaxCrossEntropy;

// Bitwise equality that is also safe for matrices of different shapes (Eigen's == is not).
template <class S>
bool same(const Matrix<S>& a, const Matrix<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && a == b;
}

// Everything save() writes: each block's values, optimizer moments and step count.
template <class S>
struct Snapshot {
  std::vector<Matrix<S>> values;
  std::vector<std::array<Matrix<S>, 2>> moments;
  std::vector<std::int64_t> steps;

  bool operator==(const Snapshot& other) const {
    if (steps != other.steps || values.size() != other.values.size()) return false;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!same(values[i], other.values[i]) || !same(moments[i][0], other.moments[i][0]) ||
          !same(moments[i][1], other.moments[i][1])) {
        return false;
      }
    }
    return true;
  }
};

template <class Network>
auto snapshot(const Network& net) {
  Snapshot<typename Network::scalar_type> s;
  net.for_each_parameter([&](const auto& p) {
    s.values.push_back(p.value);
    s.moments.push_back(p.state.moments);
    s.steps.push_back(p.state.steps);
  });
  return s;
}

const Dataset<float>& xor_data() {
  static const Dataset<float> data = [] {
    Engine engine = Rng{21}.engine(Stream::data);
    return make_xor<float>(100, 0.3, engine);
  }();
  return data;
}

template <class Optimizer>
void train(Net& net, Optimizer& optimizer, std::uint64_t shuffle_seed) {
  fit(net, optimizer, Loss{}, xor_data(),
      {.epochs = 2, .batch_size = 16, .rng = Rng{shuffle_seed}});
}

// A network with Adam state: both moments and a step count in every block.
Net trained_net() {
  Net net{Rng{1}};
  Adam adam({.lr = 0.01});
  train(net, adam, 1);
  return net;
}

std::vector<char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void poke(std::vector<char>& bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// Offsets in the file format (see serialize.hpp): magic, version, architecture, block count.
constexpr std::size_t version_offset = 8;
std::size_t block_count_offset() {
  return 8 + 4 + 8 + Net{Rng{1}}.architecture().size();
}

}  // namespace

TEST_CASE("save and load restore values and optimizer state bitwise", "[serialize]") {
  ScratchDir dir("uinfo_test_serialize_roundtrip");
  const auto path = dir.path / "net.uinfo";

  SECTION("Adam state") {
    const Net original = trained_net();
    save(original, path);
    CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
    Net restored{Rng{99}};  // other initial weights, no optimizer state
    REQUIRE(snapshot(restored) != snapshot(original));
    load(restored, path);
    const auto s = snapshot(restored);
    CHECK(s == snapshot(original));
    CHECK(s.steps == std::vector<std::int64_t>(4, 14));  // 2 epochs of ceil(100 / 16) = 7 steps
    CHECK(s.moments[0][1].size() == 16);                 // Adam's second moment, 8 x 2
  }
  SECTION("loading a file without moments clears the network's moments") {
    Net plain{Rng{2}};
    Sgd sgd({.lr = 0.1});  // no momentum: no moments
    train(plain, sgd, 1);
    save(plain, path);
    Net with_moments = trained_net();
    load(with_moments, path);
    CHECK(snapshot(with_moments) == snapshot(plain));
    with_moments.for_each_parameter([](const Parameter<float>& p) {
      CHECK(p.state.moments[0].size() == 0);
      CHECK(p.state.moments[1].size() == 0);
    });
  }
  SECTION("saving again replaces the file") {
    save(Net{Rng{5}}, path);
    const Net original = trained_net();
    save(original, path);
    Net restored{Rng{6}};
    load(restored, path);
    CHECK(snapshot(restored) == snapshot(original));
  }
  SECTION("double networks") {
    DoubleNet original{Rng{3}};
    original.layer<1>().weight().state.steps = 7;
    original.layer<1>().weight().state.moments[0] = Matrix<double>::Constant(8, 2, 1.0 / 3);
    save(original, path);
    DoubleNet restored{Rng{4}};
    load(restored, path);
    CHECK(snapshot(restored) == snapshot(original));
  }
}

TEST_CASE("continuing training after save and load equals continuing without", "[serialize]") {
  ScratchDir dir("uinfo_test_serialize_continue");
  const auto path = dir.path / "net.uinfo";
  const auto check_continuation = [&](auto make_optimizer) {
    Net uninterrupted{Rng{1}};
    auto optimizer = make_optimizer();
    train(uninterrupted, optimizer, 1);
    save(uninterrupted, path);
    train(uninterrupted, optimizer, 2);

    Net resumed{Rng{42}};
    load(resumed, path);
    auto fresh_optimizer = make_optimizer();  // the state lives in the network, not here
    train(resumed, fresh_optimizer, 2);
    CHECK(snapshot(resumed) == snapshot(uninterrupted));
  };
  SECTION("Adam") {
    check_continuation([] { return Adam({.lr = 0.01}); });
  }
  SECTION("SGD with Nesterov momentum") {
    check_continuation([] { return Sgd({.lr = 0.05, .momentum = 0.9, .nesterov = true}); });
  }
}

TEST_CASE("load refuses files that do not hold this network", "[serialize]") {
  ScratchDir dir("uinfo_test_serialize_refuse");
  const auto path = dir.path / "net.uinfo";
  const Net original = trained_net();
  save(original, path);
  const std::vector<char> bytes = read_bytes(path);
  Net target{Rng{7}};
  const auto before = snapshot(target);

  SECTION("another architecture, naming both") {
    Wider wider{Rng{1}};
    CHECK_THROWS_AS(load(wider, path), IoError);
    CHECK_THROWS_WITH(load(wider, path),
                      Contains(original.architecture()) && Contains(wider.architecture()));
    DoubleNet double_net{Rng{1}};
    CHECK_THROWS_WITH(load(double_net, path),
                      Contains(original.architecture()) && Contains(double_net.architecture()));
    // The names differ where the networks do.
    CHECK(original.architecture() != wider.architecture());
    CHECK(original.architecture() != double_net.architecture());
  }
  SECTION("bad magic") {
    std::vector<char> bad = bytes;
    bad[0] = 'X';
    write_bytes(path, bad);
    CHECK_THROWS_AS(load(target, path), IoError);
    CHECK_THROWS_WITH(load(target, path), Contains("bad magic"));
    write_bytes(path, std::vector<char>(100, 'a'));
    CHECK_THROWS_WITH(load(target, path), Contains("bad magic"));
  }
  SECTION("an unsupported format version") {
    std::vector<char> bad = bytes;
    poke<std::uint32_t>(bad, version_offset, network_file_version + 1);
    write_bytes(path, bad);
    CHECK_THROWS_AS(load(target, path), IoError);
    CHECK_THROWS_WITH(load(target, path),
                      Contains("format version " + std::to_string(network_file_version + 1) +
                               " is not supported"));
  }
  SECTION("a wrong block count") {
    std::vector<char> bad = bytes;
    poke<std::uint64_t>(bad, block_count_offset(), 3);
    write_bytes(path, bad);
    CHECK_THROWS_WITH(load(target, path), Contains("fewer parameter blocks"));
    poke<std::uint64_t>(bad, block_count_offset(), 5);
    write_bytes(path, bad);
    CHECK_THROWS_WITH(load(target, path), Contains("more parameter blocks"));
  }
  SECTION("a truncated file, cut anywhere after the magic") {
    // A block: rows, cols, steps (8 bytes each), moment count (1), values, then two moments.
    const std::size_t first_block = block_count_offset() + 8;
    const std::size_t first_values = first_block + 25;  // 16 floats of the 8 x 2 weight
    const std::size_t cuts[] = {
        version_offset + 2,          // in the version
        version_offset + 4 + 3,      // in the architecture's length
        version_offset + 12 + 10,    // in the architecture
        block_count_offset() + 4,    // in the block count
        first_block + 12,            // in the first block's shape
        first_values + 30,           // in its values
        first_values + 64 + 64 + 7,  // in its second moment
        bytes.size() / 2,            // halfway
        bytes.size() - 1,            // all but the last byte
    };
    for (const std::size_t cut : cuts) {
      INFO("cut at " << cut << " of " << bytes.size() << " bytes");
      write_bytes(path, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(cut)));
      CHECK_THROWS_AS(load(target, path), IoError);
      CHECK_THROWS_WITH(load(target, path), Contains("truncated"));
    }
    // A file shorter than the magic is reported as not being a network file.
    write_bytes(path, std::vector<char>(bytes.begin(), bytes.begin() + 5));
    CHECK_THROWS_AS(load(target, path), IoError);
  }
  SECTION("a missing file") {
    CHECK_THROWS_AS(load(target, dir.path / "missing.uinfo"), IoError);
    CHECK_THROWS_WITH(load(target, dir.path / "missing.uinfo"),
                      Contains("cannot open") && Contains("missing.uinfo"));
  }
  // On any error the network is left unchanged.
  CHECK(snapshot(target) == before);
}

TEST_CASE("save reports paths it cannot write as IoError", "[serialize]") {
  ScratchDir dir("uinfo_test_serialize_unwritable");
  const Net net{Rng{1}};
  SECTION("a directory that does not exist") {
    const auto path = dir.path / "no_such_directory" / "net.uinfo";
    CHECK_THROWS_AS(save(net, path), IoError);
    CHECK_THROWS_WITH(save(net, path), Contains("cannot open") && Contains("no_such_directory"));
  }
  SECTION("a path that is a directory") {
    const auto path = dir.path / "occupied";
    std::filesystem::create_directories(path / "inside");
    CHECK_THROWS_AS(save(net, path), IoError);
    CHECK_THROWS_WITH(save(net, path), Contains("occupied"));
    CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));  // cleaned up
    CHECK(std::filesystem::is_directory(path / "inside"));             // left alone
  }
}

TEST_CASE("save and load carry Dropout's random stream, so masks continue as they would",
          "[serialize]") {
  using DropoutNet = Sequential<float, Input<2>, Dense<8>, Relu, Dropout<0.5>, Dense<2>>;
  ScratchDir dir("uinfo_test_serialize_dropout");
  const auto path = dir.path / "net.uinfo";
  DropoutNet original{Rng{1}};
  Adam adam({.lr = 0.01});
  fit(original, adam, Loss{}, xor_data(), {.epochs = 1, .batch_size = 16, .rng = Rng{1}});
  save(original, path);
  DropoutNet restored{Rng{2}};  // another mask stream
  load(restored, path);
  std::vector<Engine::State> saved, loaded;
  original.for_each_engine([&](const Engine& e) { saved.push_back(e.state()); });
  restored.for_each_engine([&](const Engine& e) { loaded.push_back(e.state()); });
  REQUIRE(saved.size() == 1);
  CHECK(loaded == saved);
  // The next training pass draws the same masks: the same outputs, bit for bit.
  const Matrix<float> x = xor_data().x.leftCols(10);
  const Matrix<float> a = original.forward(x, Mode::train);
  const Matrix<float> b = restored.forward(x, Mode::train);
  CHECK(a == b);

  SECTION("a version 1 file, which has no engines, still loads and leaves them alone") {
    std::vector<char> bytes = read_bytes(path);
    bytes.resize(bytes.size() - 8 - 41);  // the engine count and the one engine
    // Nor has it the blocks' fixed-element flags (version 3), here all 0: drop each block's.
    std::size_t at = 8 + 4 + 8 + original.architecture().size() + 8;  // the first block
    original.for_each_parameter([&](const Parameter<float>& p) {
      std::uint8_t moments = 0;
      std::memcpy(&moments, bytes.data() + at + 24, 1);
      at += 25 + sizeof(float) * static_cast<std::size_t>(p.size()) * (1u + moments);
      REQUIRE(bytes[at] == 0);
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
    });
    poke<std::uint32_t>(bytes, version_offset, 1);
    write_bytes(path, bytes);
    DropoutNet old{Rng{2}};
    std::vector<Engine::State> before, after;
    old.for_each_engine([&](const Engine& e) { before.push_back(e.state()); });
    load(old, path);
    old.for_each_engine([&](const Engine& e) { after.push_back(e.state()); });
    CHECK(after == before);
    CHECK(snapshot(old) == snapshot(original));
  }
}

TEST_CASE("load refuses NaNs, impossible engine states and bytes after the data", "[serialize]") {
  using DropoutNet = Sequential<float, Input<2>, Dense<8>, Relu, Dropout<0.5>, Dense<2>>;
  ScratchDir dir("uinfo_test_serialize_corrupt");
  const auto path = dir.path / "net.uinfo";
  save(DropoutNet{Rng{1}}, path);
  const std::vector<char> bytes = read_bytes(path);
  DropoutNet target{Rng{3}};
  const auto before = snapshot(target);
  const std::size_t first_values = 8 + 4 + 8 + target.architecture().size() + 8 + 25;

  SECTION("a NaN among the weights") {
    std::vector<char> bad = bytes;
    poke(bad, first_values + 4 * 5, std::nanf(""));
    write_bytes(path, bad);
    CHECK_THROWS_AS(load(target, path), NonFiniteValue);
    CHECK_THROWS_WITH(load(target, path), Contains("parameter block 0 (weight)") &&
                                              Contains("a NaN at feature 5 of sample 0"));
  }
  SECTION("an engine in the all-zero state") {
    std::vector<char> bad = bytes;
    std::fill(bad.end() - 41, bad.end() - 9, '\0');  // the four words
    write_bytes(path, bad);
    CHECK_THROWS_AS(load(target, path), IoError);
    CHECK_THROWS_WITH(load(target, path), Contains("not a state a random engine can be in"));
  }
  SECTION("a spare-normal flag that is neither 0 nor 1") {
    std::vector<char> bad = bytes;
    bad.back() = 7;
    write_bytes(path, bad);
    CHECK_THROWS_WITH(load(target, path), Contains("holds 7 where a truth value"));
  }
  SECTION("bytes after the data") {
    std::vector<char> bad = bytes;
    bad.insert(bad.end(), {'x', 'y', 'z'});
    write_bytes(path, bad);
    CHECK_THROWS_AS(load(target, path), IoError);
    CHECK_THROWS_WITH(load(target, path), Contains("3 unexpected bytes after the end"));
  }
  SECTION("an architecture length larger than the file, refused before anything is allocated") {
    std::vector<char> bad = bytes;
    poke<std::uint64_t>(bad, version_offset + 4, std::uint64_t{1} << 60);
    write_bytes(path, bad);
    CHECK_THROWS_WITH(load(target, path), Contains("the architecture is 1152921504606846976") &&
                                              Contains("truncated or corrupt"));
  }
  SECTION("an architecture of unprintable bytes is quoted printably") {
    std::vector<char> bad = bytes;
    bad[8 + 4 + 8 + 1] = '\xe5';
    bad[8 + 4 + 8 + 2] = '\n';
    write_bytes(path, bad);
    try {
      load(target, path);
      FAIL("load accepted another architecture");
    } catch (const IoError& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Contains("f\\xe5\\x0aat:"));
      CHECK(std::none_of(message.begin(), message.end(),
                         [](char c) { return (c < 0x20 || c > 0x7e) && c != '\n'; }));
    }
  }
  CHECK(snapshot(target) == before);
}

TEST_CASE("save and load carry a recurrent layer's noise stream too", "[serialize]") {
  // LeakyRnn lists its noise engine in engines(), as Dropout does its masks: save() needs nothing
  // more of a layer to keep its random stream.
  using Rnn = Sequential<double, Input<3>, LeakyRnn<5, Tanh>, Dense<2>>;
  ScratchDir dir("uinfo_test_serialize_rnn");
  Rnn original{Rng{1}};
  Engine& noise = *original.layer<1>().engines()[0];
  for (int i = 0; i < 7; ++i) noise();
  noise.normal();  // a spare normal in hand
  save(original, dir.path / "rnn.uinfo");
  Rnn restored{Rng{2}};
  load(restored, dir.path / "rnn.uinfo");
  CHECK(restored.layer<1>().engines()[0]->state() == noise.state());
}
