// Every program repeats a run from the record it wrote: `--config OLD/run.json --out NEW` writes
// the same files byte for byte (but for wall times), flags given beside --config override it and
// the new record says which, and the record names the compiler, its flags, the CPU and the git
// revision.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "program.hpp"
#include "scratch_dir.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/data/fashion_mnist.hpp"
#include "uinfo/data/npy.hpp"

namespace fs = std::filesystem;

namespace {

struct Program {
  const char* path;
  std::string args;      // a small run
  std::string override;  // a flag that changes it, "--flag value"
  const char* key;       // that flag's key in "settings"
};

std::string quoted(const fs::path& path) {
  std::string text = "'";
  text += path.string();
  text += '\'';
  return text;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A file as a run wrote it, less a CSV column of wall times ("seconds"), which no rerun repeats.
std::string without_times(const std::string& text) {
  std::istringstream lines(text);
  std::string header, out;
  std::getline(lines, header);
  const std::size_t at = ("," + header + ",").find(",seconds,");
  if (at == std::string::npos) return text;
  const auto column = static_cast<std::size_t>(
      std::count(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(at), ','));
  for (std::string line = header;;) {
    std::vector<std::string> fields;
    std::istringstream split(line);
    for (std::string field; std::getline(split, field, ',');) fields.push_back(field);
    if (column < fields.size()) fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(column));
    for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
    out += '\n';
    if (!std::getline(lines, line)) break;
  }
  return out;
}

// Every file a run wrote, by name, but its record.
std::vector<std::string> written_files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename() != "run.json")
      names.push_back(fs::relative(entry.path(), dir).string());
  }
  return names;
}

void check_repeats(const Program& p, const fs::path& dir) {
  INFO(p.path << " " << p.args);
  const fs::path first = dir / "first", again = dir / "again", changed = dir / "changed";
  REQUIRE(run_program(p.path, dir, p.args + " --quiet --out " + quoted(first)).status == 0);
  const nlohmann::json record = parse_json(read_text(first / "run.json"));
  for (const char* key : {"compiler", "flags", "git_revision", "cpu"}) {
    CHECK(record.at("build").at(key).get<std::string>() != "");
  }

  const auto repeated = run_program(
      p.path, dir, "--config " + quoted(first / "run.json") + " --out " + quoted(again));
  INFO(repeated.err);
  REQUIRE(repeated.status == 0);
  const std::vector<std::string> files = written_files(first);
  CHECK(files.size() >= 3);
  CHECK(written_files(again) == files);
  for (const std::string& file : files) {
    INFO(file);
    CHECK(without_times(read_text(first / file)) == without_times(read_text(again / file)));
  }
  const nlohmann::json repeat_record = parse_json(read_text(again / "run.json"));
  CHECK(repeat_record.at("settings") == record.at("settings"));
  CHECK(repeat_record.at("config").at("file") == (first / "run.json").string());
  CHECK(repeat_record.at("config").at("overrides").empty());

  const auto overridden = run_program(p.path, dir,
                                      "--quiet --config " + quoted(first / "run.json") + " " +
                                          p.override + " --out " + quoted(changed));
  REQUIRE(overridden.status == 0);
  const nlohmann::json changed_record = parse_json(read_text(changed / "run.json"));
  const nlohmann::json& overrides = changed_record.at("config").at("overrides");
  CHECK(overrides.size() == 1);
  CHECK(overrides.at(p.key) == changed_record.at("settings").at(p.key));
  CHECK(changed_record.at("settings").at(p.key) != record.at("settings").at(p.key));
  nlohmann::json others = changed_record.at("settings");
  others.erase(p.key);
  nlohmann::json before = record.at("settings");
  before.erase(p.key);
  CHECK(others == before);
}

}  // namespace

TEST_CASE("every program repeats a run from its run.json, byte for byte", "[records]") {
  const std::string checkerboard = "--trials 1000 --probe-trials 300 --threads 2 ";
  const std::vector<Program> programs = {
      {UINFO_TRAIN_MLP_PATH, "--epochs 2 --samples 300 --seed 4", "--lr 0.1", "lr"},
      {UINFO_CHECKERBOARD_PATH, checkerboard + "--seeds 2 --epochs 2 --first-seed 3", "--seeds 1",
       "seeds"},
      {UINFO_CHECKERBOARD_SWEEP_PATH,
       checkerboard + "--lrs 0.05,0.01 --batches 16,64 --seeds 1 --epochs 2", "--momentum 0.5",
       "momentum"},
      {UINFO_CHECKERBOARD_PERTURB_PATH, checkerboard + "--ks 0,1 --seeds 2 --epochs 2",
       "--kinds colour_first", "kinds"},
      {UINFO_CHECKERBOARD_RNN_PATH,
       "--units 60 --seeds 2 --max-updates 10 --validate-every 10 --validation-trials 58 "
       "--analysis-trials 200 --probe-every 10 --probe-trials 100 --decoder linear --threads 2",
       "--lr 0.001", "lr"},
  };
  for (const Program& p : programs) {
    const ScratchDir dir("uinfo_run_records");
    check_repeats(p, dir.path);
  }
  if (fs::exists(fs::path(uinfo::fashion_mnist_directory) / "t10k-images-idx3-ubyte.gz")) {
    const ScratchDir dir("uinfo_run_records_fashion");
    check_repeats({UINFO_FASHION_PATH,
                   "--seeds 1 --epochs 1 --train-samples 500 --probe-samples 100 --width 8",
                   "--decoder-l2 0.01", "decoder_l2"},
                  dir.path);
  }
}

TEST_CASE("uinfo-probe repeats a measurement from the JSON it printed", "[records]") {
  const ScratchDir dir("uinfo_run_records_probe");
  uinfo::Engine engine = uinfo::Rng{5}.engine(uinfo::Stream::user);
  uinfo::Matrix<float> z(3, 400);
  std::vector<uinfo::Label> y(400);
  for (uinfo::Index j = 0; j < z.cols(); ++j) {
    y[static_cast<std::size_t>(j)] = static_cast<uinfo::Label>(j % 3);
    z(0, j) = static_cast<float>(static_cast<double>(j % 3) + engine.normal());
    z(1, j) = static_cast<float>(engine.normal());
    z(2, j) = static_cast<float>(engine.normal());
  }
  uinfo::write_npy(dir.path / "z.npy", z);
  uinfo::write_npy(dir.path / "y.npy", y);
  const auto first = run_program(UINFO_PROBE_PATH, dir.path,
                                 "--z " + quoted(dir.path / "z.npy") + " --y " +
                                     quoted(dir.path / "y.npy") + " --cv 3 --seed 2");
  REQUIRE(first.status == 0);
  const fs::path record = dir.path / "first.json";
  write_text(record, first.out);

  const auto again = run_program(UINFO_PROBE_PATH, dir.path, "--config " + quoted(record));
  INFO(again.err);
  REQUIRE(again.status == 0);
  nlohmann::json repeated = parse_json(again.out);
  CHECK(repeated.at("config").at("file") == record.string());
  CHECK(repeated.at("config").at("overrides").empty());
  repeated.erase("config");
  CHECK(repeated == parse_json(first.out));

  const auto reseeded =
      run_program(UINFO_PROBE_PATH, dir.path, "--config " + quoted(record) + " --seed 3");
  REQUIRE(reseeded.status == 0);
  const nlohmann::json changed = parse_json(reseeded.out);
  CHECK(changed.at("config").at("overrides") == nlohmann::json{{"seed", 3}});
  CHECK(changed.at("seed") == 3);
  CHECK(changed.at("bits") != repeated.at("bits"));  // another split of the samples
}

TEST_CASE("a record from another program, or of the wrong types, is refused", "[records]") {
  const ScratchDir dir("uinfo_run_records_bad");
  const fs::path record = dir.path / "run.json";
  REQUIRE(run_program(UINFO_TRAIN_MLP_PATH, dir.path,
                      "--quiet --epochs 1 --samples 100 --out " + quoted(dir.path))
              .status == 0);
  const auto other = run_program(UINFO_CHECKERBOARD_PATH, dir.path,
                                 "--config " + quoted(record) + " --out " + quoted(dir.path / "x"));
  CHECK(other.status == 2);
  CHECK_THAT(other.err, Catch::Contains("written by uinfo-train-mlp, not uinfo-checkerboard"));

  nlohmann::json bad = parse_json(read_text(record));
  bad["settings"]["epochs"] = 2.5;
  write_text(record, bad.dump());
  const auto fraction = run_program(UINFO_TRAIN_MLP_PATH, dir.path, "--config " + quoted(record));
  CHECK(fraction.status == 2);
  CHECK_THAT(fraction.err, Catch::Contains("setting 'epochs' is 2.5"));

  bad["settings"].erase("epochs");
  bad["settings"]["epoch"] = 3;
  write_text(record, bad.dump());
  const auto unknown = run_program(UINFO_TRAIN_MLP_PATH, dir.path, "--config " + quoted(record));
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.err, Catch::Contains("has no setting 'epoch'"));

  const auto missing =
      run_program(UINFO_TRAIN_MLP_PATH, dir.path, "--config " + quoted(dir.path / "absent.json"));
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Catch::Contains("cannot open"));
}
