// The uinfo-probe program, run as a user runs it: .npy files written with write_npy into a scratch
// directory, the JSON on stdout checked against the library called in-process on the same arrays,
// and every kind of bad input answered by exit status 2 and one line on stderr.
#include <catch2/catch.hpp>

#include "program.hpp"
#include "scratch_dir.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "uinfo/core/rng.hpp"
#include "uinfo/data/npy.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/mdl.hpp"
#include "uinfo/info/uncertainty.hpp"
#include "uinfo/info/usable_information.hpp"

#ifndef UINFO_PROBE_PATH
#error "UINFO_PROBE_PATH must name the uinfo-probe binary"
#endif

using namespace uinfo;
using Catch::Contains;
using Catch::StartsWith;
namespace fs = std::filesystem;

namespace {

using Result = ProgramResult;

void write_text(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs uinfo-probe with `args` (paths inside are single-quoted by the caller's helpers).
Result run_probe(const fs::path& dir, const std::string& args) {
  return run_program(UINFO_PROBE_PATH, dir, args);
}

// Appended piece by piece: GCC 12 at -O3 mistakes "'" + string + "'" for an overlapping memcpy
// (a false -Wrestrict, GCC bug 105329).
std::string quoted(const fs::path& path) {
  std::string text = "'";
  text += path.string();
  text += '\'';
  return text;
}

double number(const std::string& json, const std::string& key, const std::string& within = "") {
  return json_number(json, key, within);
}

std::string text(const std::string& json, const std::string& key) {
  const nlohmann::json parsed = parse_json(json);
  if (!parsed.contains(key) || !parsed[key].is_string())
    FAIL("no string \"" << key << "\" in " << json);
  return parsed[key].get<std::string>();
}

// The numbers of the array "key" inside the object `within`.
std::vector<double> numbers(const std::string& json, const std::string& within,
                            const std::string& key) {
  const nlohmann::json parsed = parse_json(json);
  if (!parsed.contains(within) || !parsed[within].contains(key))
    FAIL("no array \"" << within << "\"/\"" << key << "\" in " << json);
  return parsed[within][key].get<std::vector<double>>();
}

// Exit status 2, nothing on stdout, and one line on stderr that starts with the program's name.
void require_rejected(const Result& r) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, StartsWith("uinfo-probe: "));
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

// Three Gaussian classes in 4 features (2 informative, 2 noise), unbalanced 1:2:3.
struct Gaussians {
  Matrix<float> z;
  std::vector<Label> y;
};

Gaussians gaussians(Index n, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  const double means[3][2] = {{0, 0}, {1.5, 0}, {0, 1.5}};
  Gaussians g{Matrix<float>(4, n), std::vector<Label>(static_cast<std::size_t>(n))};
  for (Index j = 0; j < n; ++j) {
    const double u = engine.uniform();
    const Label y = u < 1.0 / 6 ? 0 : u < 0.5 ? 1 : 2;
    g.y[static_cast<std::size_t>(j)] = y;
    for (Index i = 0; i < 4; ++i) {
      g.z(i, j) = static_cast<float>((i < 2 ? means[y][i] : 0.0) + engine.normal());
    }
  }
  return g;
}

// Two splits on disk, kept in memory too for the in-process reference.
struct Files {
  ScratchDir dir;
  Gaussians train = gaussians(600, 1), test = gaussians(400, 2);
  fs::path z_train = dir.path / "z_train.npy", y_train = dir.path / "y_train.npy",
           z_test = dir.path / "z_test.npy", y_test = dir.path / "y_test.npy";

  explicit Files(const std::string& name) : dir(name) {
    write_npy(z_train, train.z);
    write_npy(y_train, train.y);
    write_npy(z_test, test.z);
    write_npy(y_test, test.y);
  }

  std::string args() const {
    return "--z-train " + quoted(z_train) + " --y-train " + quoted(y_train) + " --z-test " +
           quoted(z_test) + " --y-test " + quoted(y_test);
  }
};

UsableInformation in_process(const Files& f, UsableInformationOptions options = {},
                             Preprocess preprocess = Preprocess::whiten) {
  LinearDecoder<float> decoder({.preprocess = preprocess});
  return usable_information(f.train.z, f.train.y, f.test.z, f.test.y, decoder, options);
}

// float64 data in Fortran order: NumPy's header with fortran_order True and the transposed layout
// (features contiguous per feature), which is the (features x samples) matrix's transpose.
void write_fortran_float64(const fs::path& path, const Matrix<float>& z) {
  const Matrix<double> t = z.cast<double>().transpose();  // samples x features, column-major
  std::string bytes = detail::npy::header(
      "<f8", {static_cast<std::uint64_t>(z.cols()), static_cast<std::uint64_t>(z.rows())});
  const std::size_t at = bytes.find("'fortran_order': False");
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 22, "'fortran_order': True ");  // the same length: the padding still fits
  bytes.append(reinterpret_cast<const char*>(t.data()), sizeof(double) * std::size_t(t.size()));
  write_text(path, bytes);
}

void write_int64_labels(const fs::path& path, const std::vector<Label>& labels) {
  const std::vector<std::int64_t> wide(labels.begin(), labels.end());
  detail::npy::write(path, {wide.size()}, wide.data(), wide.size());
}

}  // namespace

TEST_CASE("the probe of two splits reports what usable_information computes", "[probe]") {
  Files f("uinfo_probe_cli_roundtrip");
  const Result r = run_probe(f.dir.path, f.args() + " --seed 0");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out.front() == '{');
  CHECK(r.out.find("\n}\n") == r.out.size() - 3);  // one object, nothing after it

  const UsableInformation expected = in_process(f);
  CHECK(number(r.out, "bits") == Approx(expected.bits).margin(1e-9));
  CHECK(number(r.out, "nats") == Approx(expected.nats).margin(1e-9));
  CHECK(number(r.out, "h_bits") == Approx(expected.h_bits).margin(1e-9));
  CHECK(number(r.out, "ce_bits") == Approx(expected.ce_bits).margin(1e-9));
  CHECK(number(r.out, "accuracy") == expected.accuracy);
  CHECK(number(r.out, "standard_error_bits") == Approx(expected.standard_error_bits).margin(1e-9));
  CHECK(number(r.out, "train_ce_bits") == Approx(expected.train_ce_bits).margin(1e-9));
  CHECK(number(r.out, "iterations") == expected.iterations);
  CHECK(number(r.out, "n_train") == 600);
  CHECK(number(r.out, "n_test") == 400);
  CHECK(number(r.out, "classes") == 3);
  CHECK(number(r.out, "features") == 4);
  CHECK(number(r.out, "seed") == 0);
  CHECK(text(r.out, "decoder") == "linear");
  CHECK(expected.bits > 0.3);  // the classes overlap but are far from independent of Z

  SECTION("the same seed gives the same output, byte for byte") {
    CHECK(run_probe(f.dir.path, f.args() + " --seed 0").out == r.out);
  }
  SECTION("float64 in Fortran order and int64 labels read as the same arrays") {
    write_fortran_float64(f.z_train, f.train.z);
    write_fortran_float64(f.z_test, f.test.z);
    write_int64_labels(f.y_train, f.train.y);
    write_int64_labels(f.y_test, f.test.y);
    CHECK(run_probe(f.dir.path, f.args() + " --seed 0").out == r.out);
  }
  SECTION("--double computes in float64") {
    const Result d = run_probe(f.dir.path, f.args() + " --double");
    REQUIRE(d.status == 0);
    CHECK(text(d.out, "scalar") == "float64");
    CHECK(number(d.out, "bits") == Approx(expected.bits).margin(1e-4));
  }
  SECTION("--log-k subtracts from log2 K, --classes widens K") {
    const Result k = run_probe(f.dir.path, f.args() + " --log-k --classes 4");
    REQUIRE(k.status == 0);
    CHECK(number(k.out, "classes") == 4);
    CHECK(number(k.out, "h_bits") == Approx(2.0).margin(1e-12));
    const UsableInformation reference =
        in_process(f, {.classes = 4, .reference = EntropyReference::log_classes});
    CHECK(number(k.out, "bits") == Approx(reference.bits).margin(1e-9));
  }
  SECTION("--preprocess none fits the raw features") {
    const Result raw = run_probe(f.dir.path, f.args() + " --preprocess none");
    REQUIRE(raw.status == 0);
    CHECK(number(raw.out, "bits") == Approx(in_process(f, {}, Preprocess::none).bits).margin(1e-9));
  }
}

TEST_CASE("the probe splits one set by --test-fraction, shuffled by the seed", "[probe]") {
  ScratchDir dir("uinfo_probe_cli_split");
  const Gaussians g = gaussians(1000, 3);
  write_npy(dir.path / "z.npy", g.z);
  write_npy(dir.path / "y.npy", g.y);
  const std::string args =
      "--z " + quoted(dir.path / "z.npy") + " --y " + quoted(dir.path / "y.npy");
  const Result r = run_probe(dir.path, args + " --test-fraction 0.3 --seed 5");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  CHECK(number(r.out, "n_train") == 700);
  CHECK(number(r.out, "n_test") == 300);
  CHECK(number(r.out, "test_fraction") == 0.3);
  CHECK(number(r.out, "bits") > 0.3);
  CHECK(number(r.out, "bits") < 1.0);
  CHECK(run_probe(dir.path, args + " --test-fraction 0.3 --seed 5").out == r.out);
  const Result other = run_probe(dir.path, args + " --test-fraction 0.3 --seed 6");
  REQUIRE(other.status == 0);
  CHECK(number(other.out, "bits") != number(r.out, "bits"));      // another split
  CHECK(number(run_probe(dir.path, args).out, "n_test") == 250);  // the default 0.25
}

TEST_CASE("cv 5 cross-validates over both splits pooled", "[probe]") {
  Files f("uinfo_probe_cli_cv");
  const Result r = run_probe(f.dir.path, f.args() + " --cv 5 --seed 2");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  Matrix<float> z(4, 1000);
  z << f.train.z, f.test.z;
  std::vector<Label> y = f.train.y;
  y.insert(y.end(), f.test.y.begin(), f.test.y.end());
  const auto expected =
      cross_validated_usable_information(z, y, LinearDecoder<float>{}, 5, {.seed = 2});
  CHECK(number(r.out, "k", "cv") == 5);
  CHECK(number(r.out, "mean_bits", "cv") == Approx(expected.mean_bits).margin(1e-9));
  CHECK(number(r.out, "standard_error_bits", "cv") ==
        Approx(expected.standard_error_bits).margin(1e-9));
  const std::vector<double> folds = numbers(r.out, "cv", "fold_bits");
  REQUIRE(folds.size() == 5);
  double sum = 0;
  for (std::size_t k = 0; k < folds.size(); ++k) {
    CHECK(folds[k] == Approx(expected.folds[k].bits).margin(1e-9));
    sum += folds[k];
  }
  CHECK(sum / 5 == Approx(number(r.out, "mean_bits", "cv")).margin(1e-12));
}

TEST_CASE("bootstrap 200 brackets the estimate", "[probe]") {
  Files f("uinfo_probe_cli_bootstrap");
  const Result r = run_probe(f.dir.path, f.args() + " --bootstrap 200 --seed 4");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  const double bits = number(r.out, "bits");
  CHECK(number(r.out, "replicates", "bootstrap") == 200);
  CHECK(number(r.out, "confidence", "bootstrap") == 0.95);
  CHECK(number(r.out, "low_bits", "bootstrap") < bits);
  CHECK(number(r.out, "high_bits", "bootstrap") > bits);
  CHECK(number(r.out, "sd_bits", "bootstrap") > 0);
  CHECK(number(r.out, "sd_bits", "bootstrap") ==
        Approx(number(r.out, "standard_error_bits")).epsilon(0.3));
  const auto expected = bootstrap_interval(in_process(f, {.seed = 4}), 200, 0.95, 4);
  CHECK(number(r.out, "low_bits", "bootstrap") == Approx(expected.lower_bits).margin(1e-9));
  CHECK(number(r.out, "high_bits", "bootstrap") == Approx(expected.upper_bits).margin(1e-9));
}

TEST_CASE("pvi writes the per-sample values whose mean is bits", "[probe]") {
  Files f("uinfo_probe_cli_pvi");
  const fs::path pvi = f.dir.path / "pvi.npy";
  const Result r = run_probe(f.dir.path, f.args() + " --pvi " + quoted(pvi));
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  CHECK(text(r.out, "pvi") == pvi.string());
  const Matrix<double> values = read_npy_matrix<double>(pvi);  // (n,) reads as 1 x n
  REQUIRE(values.rows() == 1);
  REQUIRE(values.cols() == 400);
  CHECK(values.mean() == Approx(number(r.out, "bits")).margin(1e-12));
  const UsableInformation expected = in_process(f);
  for (Index j = 0; j < values.cols(); ++j) {
    CHECK(values(0, j) ==
          Approx(expected.pointwise_bits[static_cast<std::size_t>(j)]).margin(1e-9));
  }
}

TEST_CASE("mdl reports the online codelength of all samples", "[probe]") {
  Files f("uinfo_probe_cli_mdl");
  const Result r = run_probe(f.dir.path, f.args() + " --mdl");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  CHECK(number(r.out, "n", "mdl") == 1000);
  CHECK(number(r.out, "uniform_bits", "mdl") == Approx(1000 * std::log2(3.0)).margin(1e-9));
  CHECK(number(r.out, "online_bits", "mdl") < number(r.out, "uniform_bits", "mdl"));
  CHECK(number(r.out, "compression", "mdl") ==
        Approx(number(r.out, "uniform_bits", "mdl") / number(r.out, "online_bits", "mdl")));
  CHECK(number(r.out, "compression", "mdl") > 1.1);
}

TEST_CASE("an mlp decoder fits a ReLU MLP of the --hidden widths", "[probe]") {
  Files f("uinfo_probe_cli_mlp");
  const double linear = in_process(f).bits;
  const Result one = run_probe(f.dir.path, f.args() + " --decoder mlp --hidden 16");
  INFO("stdout: " << one.out << "\nstderr: " << one.err);
  REQUIRE(one.status == 0);
  CHECK(text(one.out, "decoder") == "mlp(16)");
  CHECK(number(one.out, "iterations") >= 1);
  // The Bayes boundaries of equal-covariance Gaussians are linear: the MLP can only match them.
  CHECK(number(one.out, "bits") == Approx(linear).margin(0.1));
  const Result two = run_probe(f.dir.path, f.args() + " --decoder mlp --hidden 16,8 --seed 1");
  REQUIRE(two.status == 0);
  CHECK(text(two.out, "decoder") == "mlp(16-8)");
  CHECK(number(two.out, "bits") == Approx(linear).margin(0.1));
}

TEST_CASE("help describes every flag", "[probe]") {
  ScratchDir dir("uinfo_probe_cli_help");
  const Result r = run_probe(dir.path, "--help");
  CHECK(r.status == 0);
  for (const char* flag :
       {"--z-train", "--y-train", "--z-test", "--y-test", "--z ", "--y ", "--test-fraction",
        "--decoder", "--hidden", "--cv", "--bootstrap", "--pvi", "--mdl", "--seed", "--classes",
        "--log-k", "--preprocess", "--decoder TEXT=linear"}) {
    CHECK_THAT(r.out, Contains(flag));
  }
}

TEST_CASE("bad input exits with status 2 and one line naming the problem", "[probe]") {
  Files f("uinfo_probe_cli_bad");
  const fs::path bad = f.dir.path / "bad.npy";
  const auto with_z_train = [&](const fs::path& z) {
    return "--z-train " + quoted(z) + " --y-train " + quoted(f.y_train) + " --z-test " +
           quoted(f.z_test) + " --y-test " + quoted(f.y_test);
  };
  const auto rejected = [&](const std::string& args, const std::string& expected) {
    const Result r = run_probe(f.dir.path, args);
    require_rejected(r);
    CHECK_THAT(r.err, Contains(expected));
  };

  SECTION("not an .npy file") {
    write_text(bad, "samples,features\n1,2\n");
    rejected(with_z_train(bad), "not an .npy file");
  }
  SECTION("a missing file") {
    rejected(with_z_train(f.dir.path / "absent.npy"), "cannot open");
  }
  SECTION("a truncated file") {
    const std::string bytes = read_text(f.z_train);
    write_text(bad, bytes.substr(0, bytes.size() - 10));
    rejected(with_z_train(bad), "truncated");
  }
  SECTION("an unsupported dtype") {
    rejected(with_z_train(f.y_train), "unsupported dtype '<i4'");
  }
  SECTION("representation and labels of different lengths") {
    write_npy(bad, std::vector<Label>(f.train.y.begin(), f.train.y.end() - 1));
    rejected("--z-train " + quoted(f.z_train) + " --y-train " + quoted(bad) + " --z-test " +
                 quoted(f.z_test) + " --y-test " + quoted(f.y_test),
             "--z-train has 600 samples (rows) but --y-train has 599 labels");
  }
  SECTION("splits with different features") {
    write_npy(bad, Matrix<float>(f.train.z.topRows(3)));
    rejected(with_z_train(bad), "--z-train has 3 features (columns) but --z-test has 4");
  }
  SECTION("a NaN") {
    Matrix<float> z = f.train.z;
    z(1, 7) = std::nanf("");
    write_npy(bad, z);
    rejected(with_z_train(bad), "a NaN at feature 1 of sample 7");
  }
  SECTION("an infinity") {
    Matrix<float> z = f.train.z;
    z(0, 3) = INFINITY;
    write_npy(bad, z);
    rejected(with_z_train(bad), "an infinity");
  }
  SECTION("a negative label") {
    std::vector<Label> y = f.test.y;
    y[5] = -1;
    write_npy(bad, y);
    rejected("--z-train " + quoted(f.z_train) + " --y-train " + quoted(f.y_train) + " --z-test " +
                 quoted(f.z_test) + " --y-test " + quoted(bad),
             "label -1 at index 5 is negative");
  }
  SECTION("a label outside --classes") {
    rejected(f.args() + " --classes 2", "label");
  }
  SECTION("missing required flags") {
    rejected("--z-train " + quoted(f.z_train) + " --y-train " + quoted(f.y_train),
             "missing --z-test, --y-test");
    rejected("", "missing --z-train, --y-train, --z-test, --y-test");
    rejected("--z " + quoted(f.z_train), "--z needs --y");
  }
  SECTION("both --z and --z-train") {
    rejected(f.args() + " --z " + quoted(f.z_train) + " --y " + quoted(f.y_train), "not both");
  }
  SECTION("an unknown --decoder") {
    rejected(f.args() + " --decoder forest", "unknown --decoder 'forest'");
  }
  SECTION("bad option values") {
    rejected("--z " + quoted(f.z_train) + " --y " + quoted(f.y_train) + " --test-fraction 1",
             "--test-fraction must lie in (0, 1)");
    rejected(f.args() + " --hidden 64,0", "--hidden '64,0'");
    rejected(f.args() + " --hidden 8,8,8", "--hidden '8,8,8'");
    rejected(f.args() + " --cv 1", "--cv");
    rejected(f.args() + " --cv 5000", "folds");
    rejected(f.args() + " --seed -1", "--seed");
    rejected(f.args() + " --frobnicate", "not expected: --frobnicate");
  }
}
