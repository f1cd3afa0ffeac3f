// Checkpoints: a fit() killed part-way and resumed from its last checkpoint ends bit for bit where
// an uninterrupted run ends, whatever step it was killed at; files that do not belong are refused.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

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

// Every kind of state a checkpoint must carry: Adam's moments and step counts, BatchNorm's
// running statistics, Dropout's mask stream, and the shuffle order.
using Net = Sequential<float, Input<2>, Dense<16>, BatchNorm, Relu, Dropout<0.3>, Dense<2>>;
using Loss = SoftmaxCrossEntropy;

const Dataset<float>& train_data() {
  static const Dataset<float> data = [] {
    Engine engine = Rng{5}.engine(Stream::data);
    // Batches of 16: 6 steps, the last of 17, since a one-sample rest joins the batch before it
    // (BatchNorm has no variance over one sample).
    return make_xor<float>(97, 0.3, engine);
  }();
  return data;
}
const Dataset<float>& validation_data() {
  static const Dataset<float> data = [] {
    Engine engine = Rng{6}.engine(Stream::data);
    return make_xor<float>(40, 0.3, engine);
  }();
  return data;
}

constexpr int epochs = 4;

// A run's end: every parameter block with its optimizer state, every engine, and the history
// without the wall times.
struct End {
  std::vector<Matrix<float>> blocks;
  std::vector<std::int64_t> steps;
  std::vector<Engine::State> engines;
  std::vector<std::vector<double>> history;
  bool operator==(const End&) const = default;
};

End end_of(const Net& net, const std::vector<EpochRecord>& history) {
  End end;
  net.for_each_parameter([&](const Parameter<float>& p) {
    end.blocks.push_back(p.value);
    for (const auto& m : p.state.moments) end.blocks.push_back(m);
    end.steps.push_back(p.state.steps);
  });
  net.for_each_engine([&](const Engine& e) { end.engines.push_back(e.state()); });
  for (const EpochRecord& r : history) {
    end.history.push_back({double(r.epoch), r.train_loss, r.train_accuracy, r.validation_loss,
                           r.validation_accuracy, r.learning_rate});
  }
  return end;
}

struct Killed {};  // what a callback throws to stop a run as a kill would, mid-flight

// A loop of another kind, whose checkpoint fit() must not take for its own.
struct OtherProgress {
  static constexpr const char* checkpoint_kind = "another loop";
  int trial = 3;
  template <class Archive>
  void fields(Archive& a) {
    a(trial);
  }
};

// Trains a network of init seed `init` for `epochs` epochs; throws Killed after `kill_after`
// updates if that is positive.
End train(std::uint64_t init, const CheckpointOptions& checkpoint, Index kill_after = 0) {
  Net net{Rng{init}};
  Adam adam({.lr = Piecewise{{{0, 0.02}, {2, 0.005}}}});
  auto kill = on_step_end([&](const StepInfo& info, Net&) {
    if (info.global_step + 1 == kill_after) throw Killed{};
  });
  const auto history = fit(net, adam, Loss{}, train_data(),
                           {.epochs = epochs,
                            .batch_size = 16,
                            .rng = Rng{9},
                            .validation = &validation_data(),
                            .checkpoint = checkpoint},
                           kill);
  return end_of(net, history);
}

std::vector<char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("fit killed at any step and resumed from its checkpoint ends as an uninterrupted run",
          "[checkpoint]") {
  ScratchDir dir("uinfo_test_checkpoint_resume");
  const auto path = dir.path / "fit.ckpt";
  const End uninterrupted = train(1, {});
  REQUIRE(uninterrupted.history.size() == epochs);

  SECTION("checkpoints every 5 updates, across epoch ends") {
    for (Index kill = 1; kill <= 6 * epochs; ++kill) {  // 6 updates per epoch
      INFO("killed after update " << kill);
      std::filesystem::remove(path);
      const CheckpointOptions checkpoint{.path = path, .every_steps = 5, .resume = true};
      CHECK_THROWS_AS(train(1, checkpoint, kill), Killed);
      const bool saved = kill > 5;  // the first checkpoint follows update 5
      CHECK(std::filesystem::exists(path) == saved);
      // From a checkpoint, another initialisation, so that only the checkpoint can make the runs
      // agree; without one, a fresh start.
      CHECK(train(saved ? 2 : 1, checkpoint) == uninterrupted);
      // A finished run leaves a checkpoint of its end, which resumes to it at once.
      CHECK(train(3, checkpoint) == uninterrupted);
    }
  }
  SECTION("checkpoints every epoch") {
    const CheckpointOptions checkpoint{.path = path, .every_epochs = 1, .resume = true};
    CHECK_THROWS_AS(train(1, checkpoint, 15), Killed);  // in epoch 2, which begins at update 13
    CHECK(train(2, checkpoint) == uninterrupted);
  }
  SECTION("without a checkpoint on disk, resume starts afresh") {
    CHECK(train(1, {.path = path, .every_epochs = 2, .resume = true}) == uninterrupted);
  }
  SECTION("without resume, an existing checkpoint is overwritten, not read") {
    CHECK_THROWS_AS(train(1, {.path = path, .every_steps = 5}, 12), Killed);
    CHECK(train(1, {.path = path, .every_steps = 5}) == uninterrupted);
  }
  CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
}

TEST_CASE("a checkpoint resumes only the run that wrote it", "[checkpoint]") {
  ScratchDir dir("uinfo_test_checkpoint_refuse");
  const auto path = dir.path / "fit.ckpt";
  const CheckpointOptions checkpoint{.path = path, .every_epochs = 1, .resume = true};
  CHECK_THROWS_AS(train(1, checkpoint, 8), Killed);
  const std::vector<char> bytes = read_bytes(path);
  Adam adam({.lr = 0.01});

  SECTION("another batch size") {
    Net net{Rng{1}};
    CHECK_THROWS_AS(fit(net, adam, Loss{}, train_data(),
                        {.epochs = 2, .batch_size = 32, .checkpoint = checkpoint}),
                    InvalidArgument);
    CHECK_THROWS_WITH(
        fit(net, adam, Loss{}, train_data(),
            {.epochs = 2, .batch_size = 32, .checkpoint = checkpoint}),
        Contains("is of a run of 97 samples in batches of 16, shuffled; this run has 97 in "
                 "batches of 32"));
  }
  SECTION("another network, naming both") {
    Sequential<float, Input<2>, Dense<8>, Relu, Dense<2>> other{Rng{1}};
    CHECK_THROWS_AS(fit(other, adam, Loss{}, train_data(),
                        {.epochs = 2, .batch_size = 16, .checkpoint = checkpoint}),
                    IoError);
    CHECK_THROWS_WITH(fit(other, adam, Loss{}, train_data(),
                          {.epochs = 2, .batch_size = 16, .checkpoint = checkpoint}),
                      Contains(Net{Rng{1}}.architecture()) && Contains(other.architecture()));
  }
  SECTION("another loop's checkpoint") {
    Net net{Rng{1}};
    save_checkpoint(path, net, adam, OtherProgress{});
    OtherProgress read{.trial = 0};
    load_checkpoint(path, net, adam, read);
    CHECK(read.trial == 3);
    CHECK_THROWS_WITH(
        fit(net, adam, Loss{}, train_data(), {.batch_size = 16, .checkpoint = checkpoint}),
        Contains("a checkpoint of 'another loop', not of 'uinfo::fit'"));
  }
  SECTION("a checkpoint of format 1, whose network has no plastic masks, still loads") {
    Net from_current{Rng{4}}, from_old{Rng{5}};
    FitProgress current, old;
    load_checkpoint(path, from_current, adam, current);
    // Format 1 is format 2 without each block's fixed-element flag (here all 0).
    std::vector<char> older = bytes;
    const std::uint32_t one = 1;
    std::memcpy(older.data() + 8, &one, 4);
    std::size_t at = 8 + 4 + 8 + std::strlen(FitProgress::checkpoint_kind) + 8 +
                     from_current.architecture().size() + 8;  // the first block
    from_current.for_each_parameter([&](const Parameter<float>& p) {
      const auto moments = static_cast<std::size_t>(older[at + 24]);
      at += 25 + sizeof(float) * static_cast<std::size_t>(p.size()) * (1 + moments);
      REQUIRE(older[at] == 0);
      older.erase(older.begin() + static_cast<long>(at));
    });
    write_bytes(path, older);
    load_checkpoint(path, from_old, adam, old);
    CHECK(end_of(from_old, old.history) == end_of(from_current, current.history));
    CHECK(old.order == current.order);
  }
  SECTION("a file cut at any byte, or a count larger than the file, changes nothing") {
    Net net{Rng{4}};
    FitProgress progress;
    const std::vector<Matrix<float>> before = [&] {
      std::vector<Matrix<float>> values;
      net.for_each_parameter([&](const Parameter<float>& p) { values.push_back(p.value); });
      return values;
    }();
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      write_bytes(path, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(cut)));
      INFO("cut at " << cut << " of " << bytes.size());
      CHECK_THROWS_AS(load_checkpoint(path, net, adam, progress), IoError);
    }
    // The sample order's length, 97, made to promise 2^61 indices. From the end of the file:
    // one EpochRecord (int and 6 doubles), the history's length, the epoch's sums (3 x 8 bytes),
    // then the 97 indices.
    const std::size_t order_length = bytes.size() - (52 + 8 + 24 + 97 * 8 + 8);
    std::uint64_t length = 0;
    std::memcpy(&length, bytes.data() + order_length, 8);
    REQUIRE(length == 97);
    const std::uint64_t huge = std::uint64_t{1} << 61;
    std::vector<char> bad = bytes;
    std::memcpy(bad.data() + order_length, &huge, 8);
    write_bytes(path, bad);
    CHECK_THROWS_WITH(load_checkpoint(path, net, adam, progress),
                      Contains("2305843009213693952") && Contains("truncated or corrupt"));
    std::vector<Matrix<float>> after;
    net.for_each_parameter([&](const Parameter<float>& p) { after.push_back(p.value); });
    CHECK(after == before);
    CHECK(progress.epoch == 0);
    CHECK(progress.history.empty());
  }
}

TEST_CASE("checkpoint options are checked", "[checkpoint]") {
  Net net{Rng{1}};
  Adam adam({.lr = 0.01});
  CHECK_THROWS_WITH(fit(net, adam, Loss{}, train_data(), {.checkpoint = {.every_steps = 10}}),
                    Contains("without a path"));
  CHECK_THROWS_WITH(
      fit(net, adam, Loss{}, train_data(), {.checkpoint = {.path = "x", .every_epochs = -1}}),
      Contains("expected 0 (none) or more"));
}
