// The README's table of bad inputs, row by row: each program given what it cannot use answers
// with one line on stderr, "program: what is wrong", and exit status 2; a run that fails part-way
// (training diverged, a full disk) with status 1. The rows of uinfo-probe's own input files are
// tested in test_probe_cli.cpp, beside the rest of that program.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "program.hpp"
#include "scratch_dir.hpp"
#include "uinfo/data/npy.hpp"

#ifndef UINFO_PROBE_PATH
#error "the programs' paths must be defined"
#endif

using Catch::Contains;
using Catch::StartsWith;
namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& path) {
  std::string text = "'";
  text += path.string();
  text += '\'';
  return text;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One line on stderr naming the program and holding `message`, nothing on stdout, and `status`.
void require_answer(const ProgramResult& r, const std::string& program, int status,
                    const std::string& message) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.status == status);
  CHECK_THAT(r.err, StartsWith(program + ": ") && Contains(message));
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

// An IDX file of unsigned bytes: dimensions, then the data.
std::string idx(const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (const auto d : dims) {
    for (const int shift : {24, 16, 8, 0}) out += static_cast<char>((d >> shift) & 0xff);
  }
  return out + data;
}

std::string gzip(const std::string& bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size())) + 32;
  std::string out(size, '\0');
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(size);
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// A small Fashion-MNIST in `dir`: 40 training and 30 test images of `side` x `side` pixels, labels
// cycling through the 10 classes; `edit(name, bytes)` may change a file before it is written.
template <class Edit>
void write_fashion(const fs::path& dir, std::uint32_t side, Edit edit) {
  fs::create_directories(dir);
  for (const auto& [prefix, count] : {std::pair{"train", 40u}, {"t10k", 30u}}) {
    std::string pixels(count * side * side, '\0'), labels(count, '\0');
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i * 7);
    for (std::uint32_t i = 0; i < count; ++i) labels[i] = static_cast<char>(i % 10);
    for (auto [name, bytes] :
         {std::pair{std::string(prefix) + "-images-idx3-ubyte", idx({count, side, side}, pixels)},
          {std::string(prefix) + "-labels-idx1-ubyte", idx({count}, labels)}}) {
      edit(name, bytes);
      write_bytes(dir / name, bytes);
    }
  }
}

// uinfo-fashion on the data in DIR/data at the smallest sizes, writing DIR/out.
ProgramResult run_fashion(const ScratchDir& dir, const std::string& more = "") {
  return run_program(UINFO_FASHION_PATH, dir.path,
                     "--quiet --epochs 1 --train-samples 20 --probe-samples 20 --data-dir " +
                         quoted(dir.path / "data") + " --out " + quoted(dir.path / "out") + more);
}

// The smallest runs of the checkerboard programs.
const std::string tiny_network = "--quiet --epochs 1 --trials 200 --probe-trials 40 --width 8 ";
const std::string tiny_checkerboard = tiny_network + "--seeds 1 ";

}  // namespace

TEST_CASE("an .npy header of bytes that are not text is quoted printably", "[bad_input]") {
  ScratchDir dir("uinfo_bad_npy_header");
  const uinfo::Matrix<float> z = uinfo::Matrix<float>::Ones(4, 600);
  uinfo::write_npy(dir.path / "z.npy", z);
  uinfo::write_npy(dir.path / "y.npy", std::vector<uinfo::Label>(600, 1));
  std::string bytes = read_text(dir.path / "z.npy");
  bytes[bytes.find('\n') - 3] = '\xe5';
  write_bytes(dir.path / "z.npy", bytes);
  const auto r =
      run_program(UINFO_PROBE_PATH, dir.path,
                  "--z " + quoted(dir.path / "z.npy") + " --y " + quoted(dir.path / "y.npy"));
  require_answer(r, "uinfo-probe", 2, "malformed header: unexpected text after '}'");
  CHECK_THAT(r.err, Contains("\\xe5)"));
  CHECK(r.err.find('\xe5') == std::string::npos);
}

TEST_CASE("an empty representation is refused", "[bad_input]") {
  ScratchDir dir("uinfo_bad_empty_npy");
  uinfo::write_npy(dir.path / "z.npy", uinfo::Matrix<float>(4, 0));
  uinfo::write_npy(dir.path / "y.npy", std::vector<uinfo::Label>{});
  const auto r =
      run_program(UINFO_PROBE_PATH, dir.path,
                  "--z " + quoted(dir.path / "z.npy") + " --y " + quoted(dir.path / "y.npy"));
  require_answer(r, "uinfo-probe", 2, "--z has 0 samples; expected at least 2");
}

TEST_CASE("a Fashion-MNIST file cut short, mislabelled or of the wrong size is refused",
          "[bad_input]") {
  ScratchDir dir("uinfo_bad_fashion");
  SECTION("a gzip file cut short (an interrupted download)") {
    write_fashion(dir.path / "data", 28, [](std::string& name, std::string& bytes) {
      if (name != "train-labels-idx1-ubyte") return;
      name += ".gz";
      bytes = gzip(bytes);
      bytes.resize(bytes.size() / 2);
    });
    require_answer(run_fashion(dir), "uinfo-fashion", 2,
                   "train-labels-idx1-ubyte.gz': truncated: expected 40 bytes of labels");
  }
  SECTION("images that are not 28 x 28") {
    write_fashion(dir.path / "data", 27, [](std::string&, std::string&) {});
    require_answer(run_fashion(dir), "uinfo-fashion", 2,
                   "the images have 729 pixels; expected 28 x 28 = 784");
  }
  SECTION("a label out of range") {
    write_fashion(dir.path / "data", 28, [](std::string& name, std::string& bytes) {
      if (name == "t10k-labels-idx1-ubyte") bytes[8 + 3] = 10;
    });
    require_answer(run_fashion(dir), "uinfo-fashion", 2,
                   "label 10 at index 3 is out of range for 10 classes (expected 0..9)");
  }
  SECTION("fewer labels than images") {
    write_fashion(dir.path / "data", 28, [](std::string& name, std::string& bytes) {
      if (name == "train-labels-idx1-ubyte") bytes = idx({39}, bytes.substr(8, 39));
    });
    require_answer(run_fashion(dir), "uinfo-fashion", 2,
                   "holds 40 images but '" +
                       (dir.path / "data" / "train-labels-idx1-ubyte").string() +
                       "' holds 39 labels; expected one label per image");
  }
  SECTION("an empty split") {
    write_fashion(dir.path / "data", 28, [](std::string& name, std::string& bytes) {
      if (name == "train-images-idx3-ubyte") bytes = idx({0, 28, 28}, "");
      if (name == "train-labels-idx1-ubyte") bytes = idx({0}, "");
    });
    require_answer(run_fashion(dir), "uinfo-fashion", 2,
                   "--train-samples is 20 but the training split in '" +
                       (dir.path / "data").string() + "' holds 0 images");
  }
  CHECK_FALSE(fs::exists(dir.path / "out"));  // refused before anything was written
}

TEST_CASE("a damaged or missing shard is refused by --merge", "[bad_input]") {
  ScratchDir dir("uinfo_bad_shards");
  // Two jobs, one per shard.
  const std::string sweep =
      tiny_network + "--seeds 2 --lrs 0.05 --batches 32 --out " + quoted(dir.path);
  for (const char* shard : {"1/2", "2/2"}) {
    REQUIRE(
        run_program(UINFO_CHECKERBOARD_SWEEP_PATH, dir.path, sweep + " --shard " + shard).status ==
        0);
  }
  const fs::path second = dir.path / "shards" / "2-of-2" / "info.csv";
  SECTION("a shard's info.csv cut in a row") {
    const std::string text = read_text(second);
    write_bytes(second, text.substr(0, text.size() - 30));
    require_answer(run_program(UINFO_CHECKERBOARD_SWEEP_PATH, dir.path, sweep + " --merge"),
                   "uinfo-checkerboard-sweep", 2, "fields; expected 20 (is the file truncated?)");
  }
  SECTION("a shard missing") {
    fs::remove_all(second.parent_path());
    require_answer(run_program(UINFO_CHECKERBOARD_SWEEP_PATH, dir.path, sweep + " --merge"),
                   "uinfo-checkerboard-sweep", 2, "shards missing from '");
  }
  SECTION("--merge with --shard") {
    require_answer(
        run_program(UINFO_CHECKERBOARD_SWEEP_PATH, dir.path, sweep + " --merge --shard 2/2"),
        "uinfo-checkerboard-sweep", 2, "--merge joins the shards; give it without --shard");
  }
  SECTION("--resume of a shard with other settings, which keeps what it had") {
    const std::string before = read_text(second);
    require_answer(run_program(UINFO_CHECKERBOARD_SWEEP_PATH, dir.path,
                               sweep + " --shard 2/2 --resume --noise 0.2"),
                   "uinfo-checkerboard-sweep", 2,
                   "holds a run with other settings (noise: 0.1 there, 0.2 here)");
    CHECK(read_text(second) == before);
  }
  SECTION("--resume with a damaged log") {
    const fs::path log = second.parent_path() / "jobs.log";
    write_bytes(log, read_text(log) + "0.05,32,9\t12\n");
    require_answer(
        run_program(UINFO_CHECKERBOARD_SWEEP_PATH, dir.path, sweep + " --shard 2/2 --resume"),
        "uinfo-checkerboard-sweep", 2,
        "line 4 is '0.05,32,9\\x0912' where this run's job 2 is none");
  }
}

TEST_CASE("an output directory that cannot be made, or written, is refused before the run",
          "[bad_input]") {
  ScratchDir dir("uinfo_bad_output");
  write_bytes(dir.path / "file", "not a directory");
  require_answer(run_program(UINFO_CHECKERBOARD_PATH, dir.path,
                             tiny_checkerboard + "--out " + quoted(dir.path / "file" / "out")),
                 "uinfo-checkerboard", 2, "cannot create the output directory '");
  // As root every directory is writable, so only the path under a file is tried everywhere.
  fs::create_directories(dir.path / "locked");
  fs::permissions(dir.path / "locked", fs::perms::owner_read | fs::perms::owner_exec);
  if (!std::ofstream(dir.path / "locked" / "x")) {
    require_answer(run_program(UINFO_TRAIN_MLP_PATH, dir.path,
                               "--quiet --epochs 1 --out " + quoted(dir.path / "locked")),
                   "uinfo-train-mlp", 2, "cannot write in the output directory '");
  }
  uinfo::write_npy(dir.path / "z.npy", uinfo::Matrix<float>(uinfo::Matrix<float>::Random(2, 40)));
  uinfo::write_npy(dir.path / "y.npy", std::vector<uinfo::Label>(40, 0));
  require_answer(
      run_program(UINFO_PROBE_PATH, dir.path,
                  "--z " + quoted(dir.path / "z.npy") + " --y " + quoted(dir.path / "y.npy") +
                      " --pvi " + quoted(dir.path / "file" / "pvi.npy")),
      "uinfo-probe", 2, "cannot create the output directory '");
}

TEST_CASE("a full disk fails the run with status 1", "[bad_input]") {
  ScratchDir dir("uinfo_bad_full_disk");
  // A limit of 1 KiB per file stands in for a full disk (the write fails with EFBIG, not ENOSPC);
  // SIGXFSZ, which would kill the program first, is ignored.
  const std::string command = "bash -c \"trap '' XFSZ; ulimit -f 1; exec '" +
                              std::string(UINFO_CHECKERBOARD_PATH) + "' " + tiny_checkerboard +
                              "--out '" + (dir.path / "out").string() + "'\"";
  const auto r = run_program("/usr/bin/env", dir.path, command);
  require_answer(r, "uinfo-checkerboard", 1, "failed: File too large");
}

TEST_CASE("training that diverges fails the run with status 1", "[bad_input]") {
  ScratchDir dir("uinfo_bad_diverged");
  const auto r = run_program(UINFO_TRAIN_MLP_PATH, dir.path,
                             "--quiet --lr 1e30 --out " + quoted(dir.path / "out"));
  require_answer(r, "uinfo-train-mlp", 1, "uinfo::fit: training diverged at epoch 0");
}
