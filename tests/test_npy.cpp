// NumPy .npy files: round trips, files built byte by byte as NumPy writes them, and every way a
// file can fail to read.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "uinfo/data/npy.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

// The raw little-endian bytes of `values`, as NumPy stores the data.
template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

// A .npy file as NumPy writes it: magic, version, header length (u16 in 1.0, u32 later), the dict
// padded with spaces to a multiple of `align` bytes and a newline, then the data.
std::string npy(const std::string& dict, const std::string& data, int major = 1,
                std::size_t align = 64) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  const std::size_t length = dict.size() + 1;
  const std::size_t padding = align - (prefix + length) % align;
  const std::uint32_t stored = static_cast<std::uint32_t>(length + padding);
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  out.append(reinterpret_cast<const char*>(&stored), major == 1 ? 2 : 4);
  return out + dict + std::string(padding, ' ') + '\n' + data;
}

std::string header(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class S>
bool same(const Matrix<S>& a, const Matrix<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && a == b;
}

}  // namespace

TEST_CASE("write_npy and read_npy round trip", "[npy]") {
  ScratchDir dir("uinfo_test_npy_roundtrip");
  const auto path = dir.path / "data.npy";

  SECTION("float32 and float64 matrices, bitwise") {
    const Matrix<float> f = Matrix<float>::Random(3, 7);
    write_npy(path, f);
    CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
    CHECK(same(read_npy_matrix<float>(path), f));
    CHECK(same(read_npy_matrix<double>(path), Matrix<double>(f.cast<double>())));

    const Matrix<double> d = Matrix<double>::Random(4, 2);
    write_npy(path, d);  // replaces the float32 file
    CHECK(same(read_npy_matrix<double>(path), d));
  }
  SECTION("labels, from a vector and from a span") {
    const std::vector<Label> labels{0, 2, 1, 1, 7, 0};
    write_npy(path, labels);
    CHECK(read_npy_labels(path) == labels);
    write_npy(path, std::span<const Label>(labels).first(2));
    CHECK(read_npy_labels(path) == std::vector<Label>{0, 2});
    write_npy(path, std::vector<Label>{});
    CHECK(read_npy_labels(path).empty());
  }
  SECTION("per-sample float64 values read back as one feature") {
    const std::vector<double> values{0.5, -1.25, 3e-300};
    write_npy(path, std::span<const double>(values));
    const Matrix<double> m = read_npy_matrix<double>(path);
    REQUIRE(m.rows() == 1);
    REQUIRE(m.cols() == 3);
    CHECK(m(0, 0) == 0.5);
    CHECK(m(0, 1) == -1.25);
    CHECK(m(0, 2) == 3e-300);
  }
  SECTION("an empty matrix keeps its feature count") {
    write_npy(path, Matrix<float>(5, 0));
    const Matrix<float> m = read_npy_matrix<float>(path);
    CHECK(m.rows() == 5);
    CHECK(m.cols() == 0);
  }
}

TEST_CASE("write_npy writes the bytes NumPy writes", "[npy]") {
  ScratchDir dir("uinfo_test_npy_bytes");
  const auto path = dir.path / "data.npy";
  // NumPy 1.24 leaves room after the dict for the first axis to grow to 21 digits.
  const auto growth = [](const std::string& first_axis) {
    return std::string(21 - first_axis.size(), ' ');
  };

  Matrix<float> m(3, 2);  // 2 samples of 3 features: the array [[1, 2, 3], [4, 5, 6]]
  m << 1, 4, 2, 5, 3, 6;
  write_npy(path, m);
  const std::string expected =
      npy(header("<f4", "(2, 3)") + growth("2"), raw<float>({1, 2, 3, 4, 5, 6}));
  CHECK(read_bytes(path) == expected);
  CHECK(expected.size() == 128 + 24);

  write_npy(path, std::vector<Label>{3, 1, 2});
  CHECK(read_bytes(path) == npy(header("<i4", "(3,)") + growth("3"), raw<std::int32_t>({3, 1, 2})));

  const std::vector<double> values{0.5, 2.0};
  write_npy(path, std::span<const double>(values));
  CHECK(read_bytes(path) == npy(header("<f8", "(2,)") + growth("2"), raw<double>({0.5, 2.0})));
}

TEST_CASE("read_npy_matrix reads files as NumPy writes them", "[npy]") {
  ScratchDir dir("uinfo_test_npy_read");
  const auto path = dir.path / "data.npy";

  // The array a[i, j] = 10 i + j of shape (2, 3): 2 samples, 3 features.
  const auto check_placement = [](const Matrix<double>& m) {
    REQUIRE(m.rows() == 3);
    REQUIRE(m.cols() == 2);
    for (Index i = 0; i < 2; ++i) {
      for (Index j = 0; j < 3; ++j) CHECK(m(j, i) == double(10 * i + j));
    }
  };
  SECTION("C order") {
    write_bytes(path, npy(header("<f8", "(2, 3)"), raw<double>({0, 1, 2, 10, 11, 12})));
    check_placement(read_npy_matrix<double>(path));
  }
  SECTION("Fortran order") {
    write_bytes(path, npy(header("<f8", "(2, 3)", true), raw<double>({0, 10, 1, 11, 2, 12})));
    check_placement(read_npy_matrix<double>(path));
  }
  SECTION("float32 read as double, Fortran order") {
    write_bytes(path, npy(header("<f4", "(2, 3)", true), raw<float>({0, 10, 1, 11, 2, 12})));
    check_placement(read_npy_matrix<double>(path));
  }
  SECTION("float64 read as float") {
    write_bytes(path, npy(header("<f8", "(2, 3)"), raw<double>({0, 1, 2, 10, 11, 12.1})));
    const Matrix<float> m = read_npy_matrix<float>(path);
    CHECK(m(2, 1) == 12.1f);
  }
  SECTION("version 2.0 and 3.0 headers") {
    write_bytes(path, npy(header("<f8", "(2, 3)"), raw<double>({0, 1, 2, 10, 11, 12}), 2));
    check_placement(read_npy_matrix<double>(path));
    write_bytes(path, npy(header("<f8", "(2, 3)"), raw<double>({0, 1, 2, 10, 11, 12}), 3));
    check_placement(read_npy_matrix<double>(path));
  }
  SECTION("a 1-D array is samples of one feature, in either order") {
    for (const bool fortran : {false, true}) {
      write_bytes(path, npy(header("<f4", "(4,)", fortran), raw<float>({1, 2, 3, 4})));
      const Matrix<float> m = read_npy_matrix<float>(path);
      REQUIRE(m.rows() == 1);
      REQUIRE(m.cols() == 4);
      CHECK(m(0, 3) == 4.0f);
    }
  }
  SECTION("headers written by other tools: any key order, quotes, spacing, alignment") {
    const std::string data = raw<double>({0, 1, 2, 10, 11, 12});
    for (const std::string& dict : {
             std::string("{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f8\"}"),
             std::string("{ 'descr' :'<f8' ,'shape':( 2 ,3 , ),'fortran_order':False,}"),
             std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }"),
         }) {
      INFO(dict);
      write_bytes(path, npy(dict, data, 1, 16));  // NumPy before 1.9 aligned to 16 bytes
      check_placement(read_npy_matrix<double>(path));
    }
  }
}

TEST_CASE("read_npy_labels reads integer arrays", "[npy]") {
  ScratchDir dir("uinfo_test_npy_labels");
  const auto path = dir.path / "labels.npy";
  const std::vector<Label> expected{2, 0, 1};

  SECTION("int64") {
    write_bytes(path, npy(header("<i8", "(3,)"), raw<std::int64_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
  }
  SECTION("(n, 1) and (1, n) columns and rows, in either order") {
    for (const bool fortran : {false, true}) {
      write_bytes(path, npy(header("<i4", "(3, 1)", fortran), raw<std::int32_t>({2, 0, 1})));
      CHECK(read_npy_labels(path) == expected);
      write_bytes(path, npy(header("<i8", "(1, 3)", fortran), raw<std::int64_t>({2, 0, 1})));
      CHECK(read_npy_labels(path) == expected);
    }
  }
  SECTION("small and unsigned integer types") {
    write_bytes(path, npy(header("|u1", "(3,)"), raw<std::uint8_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
    write_bytes(path, npy(header("<u1", "(3,)"), raw<std::uint8_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
    write_bytes(path, npy(header("|i1", "(3,)"), raw<std::int8_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
    write_bytes(path, npy(header("<i2", "(3,)"), raw<std::int16_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
    write_bytes(path, npy(header("<u2", "(3,)"), raw<std::uint16_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
    write_bytes(path, npy(header("<u4", "(3,)"), raw<std::uint32_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
    write_bytes(path, npy(header("<u8", "(3,)"), raw<std::uint64_t>({2, 0, 1})));
    CHECK(read_npy_labels(path) == expected);
  }
  SECTION("the largest int") {
    const std::int64_t max = std::numeric_limits<int>::max();
    write_bytes(path, npy(header("<i8", "(1,)"), raw<std::int64_t>({max})));
    CHECK(read_npy_labels(path) == std::vector<Label>{std::numeric_limits<int>::max()});
  }
}

TEST_CASE("the readers refuse files that are not what they expect", "[npy]") {
  ScratchDir dir("uinfo_test_npy_refuse");
  const auto path = dir.path / "bad_input.npy";
  const std::string file = "bad_input.npy";
  const std::string good_header = header("<f8", "(2, 3)");
  const std::string good_data = raw<double>({0, 1, 2, 10, 11, 12});
  const std::string good = npy(good_header, good_data);
  const auto refuses = [&](const std::string& bytes, const std::string& problem) {
    write_bytes(path, bytes);
    CHECK_THROWS_AS(read_npy_matrix<double>(path), IoError);
    CHECK_THROWS_WITH(read_npy_matrix<double>(path),
                      Contains(file) && Contains(problem) && Contains("read_npy_matrix"));
    CHECK_THROWS_AS(read_npy_labels(path), IoError);
    CHECK_THROWS_WITH(read_npy_labels(path), Contains(file) && Contains(problem));
  };
  const auto refuses_matrix = [&](const std::string& bytes, const std::string& problem) {
    write_bytes(path, bytes);
    CHECK_THROWS_AS(read_npy_matrix<float>(path), IoError);
    CHECK_THROWS_WITH(read_npy_matrix<float>(path), Contains(file) && Contains(problem));
  };
  const auto refuses_labels = [&](const std::string& bytes, const std::string& problem) {
    write_bytes(path, bytes);
    CHECK_THROWS_AS(read_npy_labels(path), IoError);
    CHECK_THROWS_WITH(read_npy_labels(path), Contains(file) && Contains(problem));
  };

  SECTION("a missing file") {
    const auto missing = dir.path / "missing.npy";
    CHECK_THROWS_AS(read_npy_matrix<float>(missing), IoError);
    CHECK_THROWS_WITH(read_npy_matrix<float>(missing),
                      Contains("missing.npy") && Contains("cannot open"));
    CHECK_THROWS_WITH(read_npy_labels(missing), Contains("missing.npy") && Contains("cannot open"));
    std::filesystem::create_directories(dir.path / "directory.npy");
    CHECK_THROWS_AS(read_npy_matrix<float>(dir.path / "directory.npy"), IoError);
    CHECK_THROWS_WITH(read_npy_labels(dir.path / "directory.npy"),
                      Contains("directory.npy") && Contains("cannot open"));
  }
  SECTION("not an .npy file") {
    refuses("x,y\n1,2\n", "not an .npy file (bad magic");
    refuses("", "not an .npy file");
    refuses(good.substr(0, 5), "not an .npy file");
    refuses(std::string("PK\x03\x04", 4) + std::string(60, '\0'), "zip archive (.npz)");
    std::string bad = good;
    bad[0] = 'X';
    refuses(bad, "bad magic");
  }
  SECTION("an unsupported version") {
    refuses(npy(good_header, good_data, 4), "format version 4.0 is not supported");
    std::string bad = good;
    bad[7] = 1;
    refuses(bad, "format version 1.1 is not supported");
  }
  SECTION("a truncated header") {
    refuses(good.substr(0, 9), "truncated (in the header length)");
    refuses(good.substr(0, 40), "truncated (its header should be 118 bytes long)");
  }
  SECTION("a malformed header") {
    for (const std::string& dict : {
             std::string("'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}"),
             std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), "),
             std::string("{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}"),
             std::string("{'descr' '<f8', 'fortran_order': False, 'shape': (2, 3)}"),
             std::string("{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3)}"),
             std::string("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3)}"),
             std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} extra"),
         }) {
      INFO(dict);
      refuses(npy(dict, good_data), "malformed header");
    }
  }
  SECTION("bytes that are not text are quoted printably, as Python's repr would") {
    // A header mutated in place (the .npy fuzzer's first find): a byte that is not ASCII among the
    // padding, and a key and a dtype of control and high bytes.
    std::string mutated = good;
    mutated[good.find('\n') - 3] = '\xe5';
    write_bytes(path, mutated);
    CHECK_THROWS_WITH(read_npy_matrix<double>(path),
                      Contains("malformed header: unexpected text after '}'") &&
                          Contains("\\xe5)") && !Contains("\xe5"));
    refuses(npy("{'de\x01scr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", good_data),
            "unexpected key 'de\\x01scr'");
    refuses_matrix(npy(header("<\x9b\\f8", "(2, 3)"), good_data),
                   "unsupported dtype '<\\x9b\\\\f8'");
    CHECK(printable(std::string("a\0b\xff" "c\\", 6)) == "a\\x00b\\xffc\\\\");
    CHECK(printable(std::string(300, 'z')) == std::string(200, 'z') + "...");
  }
  SECTION("a missing or unexpected key") {
    refuses(npy("{'descr': '<f8', 'shape': (2, 3), }", good_data),
            "malformed header: the key 'fortran_order' is missing");
    refuses(npy("{'fortran_order': False, 'shape': (2, 3), }", good_data),
            "the key 'descr' is missing");
    refuses(npy("{'descr': '<f8', 'fortran_order': False}", good_data),
            "the key 'shape' is missing");
    refuses(
        npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'order': 'C'}", good_data),
        "unexpected key 'order'");
  }
  SECTION("bad shape text") {
    for (const std::string shape : {"(2, -3)", "(2 3)", "6", "(6)", "(2.0, 3)", "[2, 3]", "(,)",
                                    "(99999999999999999999999, 3)"}) {
      INFO(shape);
      refuses(npy(header("<f8", shape), good_data), "malformed header");
      refuses(npy(header("<f8", shape), good_data), "shape");
    }
  }
  SECTION("unsupported dtypes, naming the dtype and what is supported") {
    refuses_matrix(npy(header("<i4", "(2, 3)"), raw<std::int32_t>({0, 1, 2, 3, 4, 5})),
                   "unsupported dtype '<i4'; expected float32 or float64 ('<f4', '<f8')");
    refuses_matrix(npy(header(">f4", "(2, 3)"), std::string(24, '\0')),
                   "unsupported dtype '>f4' (big-endian");
    refuses_matrix(npy(header("|b1", "(6,)"), std::string(6, '\1')), "unsupported dtype '|b1'");
    refuses_matrix(npy(header("|O", "(2,)"), "pickled"), "unsupported dtype '|O' (an array of");
    refuses_matrix(npy(header("<f2", "(6,)"), std::string(12, '\0')), "unsupported dtype '<f2'");
    refuses_labels(npy(header("<f8", "(6,)"), good_data),
                   "unsupported dtype '<f8'; expected integer labels ('<i4', '<i8', '|u1'");
    refuses_labels(npy(header(">i8", "(6,)"), good_data), "unsupported dtype '>i8' (big-endian");
    refuses(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                std::string(8, '\0')),
            "structured dtypes");
  }
  SECTION("arrays of the wrong rank") {
    refuses_matrix(npy(header("<f4", "(2, 3, 4)"), std::string(96, '\0')),
                   "a 3-D array of shape (2, 3, 4) is not supported");
    refuses_matrix(npy(header("<f4", "()"), std::string(4, '\0')),
                   "a 0-D array of shape () is not supported");
    refuses_labels(npy(header("<i4", "(2, 3)"), std::string(24, '\0')),
                   "labels must be a 1-D array, or 2-D with one row or column; got a 2-D array of "
                   "shape (2, 3)");
    refuses_labels(npy(header("<i4", "()"), std::string(4, '\0')), "got a 0-D array");
    refuses_labels(npy(header("<i4", "(3, 1, 1)"), std::string(12, '\0')), "got a 3-D array");
  }
  SECTION("truncated data") {
    refuses_matrix(good.substr(0, good.size() - 1),
                   "the data is truncated: shape (2, 3) of '<f8' needs 48 bytes of data but the "
                   "file holds 47");
    refuses_matrix(npy(good_header, ""), "the data is truncated");
    refuses_labels(npy(header("<i4", "(3,)"), raw<std::int32_t>({1, 2})),
                   "the data is truncated: shape (3,) of '<i4' needs 12 bytes");
    refuses_labels(npy(header("<i8", "(1000000000000,)"), raw<std::int64_t>({1})),
                   "needs 8000000000000 bytes");
    refuses_matrix(npy(header("<f4", "(4294967296, 4294967296)"), ""), "too large");
  }
  SECTION("bytes after the data") {
    refuses_matrix(good + "garbage!",
                   "8 unexpected bytes after the data (shape (2, 3) of '<f8' needs 48 bytes of "
                   "data)");
    refuses_labels(npy(header("<i4", "(1,)"), raw<std::int32_t>({1, 2})),
                   "4 unexpected bytes after the data");
  }
}

TEST_CASE("read_npy_matrix names the file, sample and feature of a NaN or infinity", "[npy]") {
  ScratchDir dir("uinfo_test_npy_nonfinite");
  const auto path = dir.path / "nonfinite.npy";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  // The array [[0, 1, 2], [3, 4, NaN]]: sample 1, feature 2.
  write_bytes(path, npy(header("<f8", "(2, 3)"), raw<double>({0, 1, 2, 3, 4, nan})));
  CHECK_THROWS_AS(read_npy_matrix<double>(path), NonFiniteValue);
  CHECK_THROWS_WITH(read_npy_matrix<double>(path),
                    Contains("nonfinite.npy") && Contains("a NaN at feature 2 of sample 1"));
  // The same element in a Fortran-order file.
  write_bytes(path, npy(header("<f8", "(2, 3)", true), raw<double>({0, 3, 1, 4, 2, nan})));
  CHECK_THROWS_WITH(read_npy_matrix<float>(path),
                    Contains("nonfinite.npy") && Contains("a NaN at feature 2 of sample 1"));
  write_bytes(path, npy(header("<f4", "(3,)"), raw<float>({0, -float(inf), 1})));
  CHECK_THROWS_AS(read_npy_matrix<float>(path), NonFiniteValue);
  CHECK_THROWS_WITH(read_npy_matrix<float>(path),
                    Contains("nonfinite.npy") && Contains("an infinity at feature 0 of sample 1"));
  // A float64 too large for float becomes an infinity.
  write_bytes(path, npy(header("<f8", "(2,)"), raw<double>({1e300, 0})));
  CHECK(read_npy_matrix<double>(path)(0, 0) == 1e300);
  CHECK_THROWS_WITH(read_npy_matrix<float>(path), Contains("an infinity at feature 0 of sample 0"));
}

TEST_CASE("read_npy_labels refuses negative labels and labels too large for int", "[npy]") {
  ScratchDir dir("uinfo_test_npy_bad_labels");
  const auto path = dir.path / "bad_labels.npy";
  const auto refuses = [&](const std::string& bytes, const std::string& problem) {
    write_bytes(path, bytes);
    CHECK_THROWS_AS(read_npy_labels(path), InvalidArgument);
    CHECK_THROWS_WITH(read_npy_labels(path), Contains("bad_labels.npy") && Contains(problem));
  };
  refuses(npy(header("<i4", "(3,)"), raw<std::int32_t>({0, 1, -1})),
          "label -1 at index 2 is negative");
  refuses(npy(header("|i1", "(2,)"), raw<std::int8_t>({-128, 0})),
          "label -128 at index 0 is negative");
  refuses(npy(header("<i8", "(2,)"), raw<std::int64_t>({0, std::int64_t{1} << 31})),
          "label 2147483648 at index 1 is too large for int");
  refuses(npy(header("<u4", "(1,)"), raw<std::uint32_t>({4294967295u})),
          "label 4294967295 at index 0 is too large for int");
  refuses(npy(header("<u8", "(1,)"), raw<std::uint64_t>({std::uint64_t(-1)})),
          "label 18446744073709551615 at index 0 is too large for int");
}

TEST_CASE("write_npy reports paths it cannot write as IoError", "[npy]") {
  ScratchDir dir("uinfo_test_npy_unwritable");
  const std::vector<Label> labels{1, 2};
  SECTION("a directory that does not exist") {
    const auto path = dir.path / "no_such_directory" / "labels.npy";
    CHECK_THROWS_AS(write_npy(path, labels), IoError);
    CHECK_THROWS_WITH(write_npy(path, labels),
                      Contains("cannot open") && Contains("no_such_directory"));
  }
  SECTION("a path that is a directory, which is left alone") {
    const auto path = dir.path / "occupied";
    std::filesystem::create_directories(path / "inside");
    CHECK_THROWS_AS(write_npy(path, Matrix<double>::Zero(2, 2).eval()), IoError);
    CHECK_THROWS_WITH(write_npy(path, labels), Contains("occupied"));
    CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
    CHECK(std::filesystem::is_directory(path / "inside"));
  }
  SECTION("a failed write keeps the earlier file") {
    const auto path = dir.path / "kept.npy";
    write_npy(path, labels);
    std::filesystem::create_directories(path.string() + ".partial");  // blocks the temporary
    CHECK_THROWS_AS(write_npy(path, std::vector<Label>{5}), IoError);
    CHECK(read_npy_labels(path) == labels);
  }
}
