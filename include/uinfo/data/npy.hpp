// NumPy .npy files: read features and labels written by NumPy, write results NumPy can load.
//
// Format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", major and minor
// version bytes, the header length (little-endian u16 in 1.0, u32 in 2.0 and 3.0), a Python dict
// literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces
// and ending in '\n', then the raw elements. A NumPy row is one sample, which becomes one column
// of a uinfo Matrix: a (samples, features) array reads as a (features x samples) matrix.
//
// Readers are strict: the data must be exactly shape x itemsize bytes. NumPy's np.load ignores
// bytes after the data, but here they mean the header's shape does not describe the data (or the
// file holds several arrays saved one after another), so silently dropping them would hide a bug.
#pragma once

#include <algorithm>
#include <bit>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

namespace detail::npy {
static_assert(
    std::endian::native == std::endian::little,
    "uinfo reads and writes little-endian .npy files; add byte swapping for this platform");

inline constexpr char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

// The dtype descriptor NumPy writes for T: '<f4', '<i8', '|u1' (one byte has no byte order).
template <class T>
std::string descr() {
  const char kind = std::is_floating_point_v<T> ? 'f' : std::is_signed_v<T> ? 'i' : 'u';
  return std::string(1, sizeof(T) == 1 ? '|' : '<') + kind + std::to_string(sizeof(T));
}

template <class T>
bool names(std::string_view d) {
  // '<u1' is what numpy.dtype('<u1') means too, though NumPy itself writes '|u1'.
  const std::string own = descr<T>();
  return d == own ||
         (sizeof(T) == 1 && d.size() == 3 && d[0] == '<' && d.substr(1) == own.substr(1));
}

// Python's repr of a shape tuple: (), (3,), (3, 4).
inline std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Element k of the raw little-endian data, as T.
template <class T>
struct Elements {
  const char* bytes;
  T operator[](std::size_t k) const {
    T v;
    std::memcpy(&v, bytes + k * sizeof(T), sizeof(T));
    return v;
  }
};

// A whole .npy file in memory with its parsed header. Every error names `function` and the file.
class File {
 public:
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;

  File(std::string function, const std::filesystem::path& path)
      : function_(std::move(function)), path_(path.string()) {
    read_bytes(path);
    if (bytes_.size() < 8 || !std::equal(magic, magic + 6, bytes_.begin())) {
      const bool zip = bytes_.size() >= 2 && bytes_[0] == 'P' && bytes_[1] == 'K';
      fail(std::string("not an .npy file (bad magic: it does not start with \"\\x93NUMPY\")") +
           (zip ? "; it looks like a zip archive (.npz): extract its arrays first" : ""));
    }
    const int major = static_cast<unsigned char>(bytes_[6]);
    const int minor = static_cast<unsigned char>(bytes_[7]);
    if ((major != 1 && major != 2 && major != 3) || minor != 0) {
      fail("format version " + std::to_string(major) + "." + std::to_string(minor) +
           " is not supported; expected 1.0, 2.0 or 3.0");
    }
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    if (bytes_.size() < 8 + length_bytes) fail("the file is truncated (in the header length)");
    std::uint32_t header_length = 0;  // little-endian u16 or u32
    std::memcpy(&header_length, bytes_.data() + 8, length_bytes);
    data_offset_ = 8 + length_bytes + header_length;
    if (bytes_.size() < data_offset_) {
      fail("the file is truncated (its header should be " + std::to_string(header_length) +
           " bytes long)");
    }
    parse_header({bytes_.data() + 8 + length_bytes, header_length});
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw IoError(function_ + ": '" + path_ + "': " + message);
  }
  const std::string& path() const { return path_; }

  // Calls f(Elements<T>) for the T among Ts that `descr` names, after checking that the data
  // holds exactly the shape's elements; otherwise fails, saying what `expected` is.
  template <class... Ts, class Visit>
  void visit(const std::string& expected, Visit&& f) const {
    const auto read_as = [&]<class T>(std::type_identity<T>) {
      if (!names<T>(descr)) return false;
      check_size(sizeof(T));
      f(Elements<T>{bytes_.data() + data_offset_});
      return true;
    };
    const bool found = (read_as(std::type_identity<Ts>{}) || ...);
    if (found) return;
    std::string supported;
    ((supported += (supported.empty() ? "'" : ", '") + npy::descr<Ts>() + "'"), ...);
    std::string hint;
    if (!descr.empty() && descr[0] == '>') {
      hint = " (big-endian data: convert it with a.astype(a.dtype.newbyteorder('<')))";
    } else if (descr == "O" || descr == "|O") {
      hint = " (an array of Python objects)";
    }
    fail("unsupported dtype '" + printable(descr) + "'" + hint + "; expected " + expected + " (" +
         supported + ")");
  }

  std::uint64_t count() const {
    std::uint64_t n = 1;
    constexpr auto max = std::uint64_t(std::numeric_limits<Index>::max());
    for (const auto d : shape) {
      if (d > max || (d != 0 && n > max / d)) {
        fail("the shape " + shape_text(shape) + " is too large");
      }
      n *= d;
    }
    return n;
  }

 private:
  void read_bytes(const std::filesystem::path& path) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);  // fails for a directory too
    if (error) fail("cannot open the file: " + error.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open the file");
    bytes_.resize(size);
    in.read(bytes_.data(), static_cast<std::streamsize>(size));
    if (static_cast<std::uintmax_t>(in.gcount()) != size) fail("cannot read the file");
  }

  void check_size(std::size_t itemsize) const {
    const std::uint64_t n = count();
    if (n > std::numeric_limits<std::uint64_t>::max() / itemsize) fail("the shape is too large");
    const std::uint64_t needed = n * itemsize;
    const std::uint64_t held = bytes_.size() - data_offset_;
    const std::string what = "shape " + shape_text(shape) + " of '" + descr + "' needs " +
                             std::to_string(needed) + " bytes of data";
    if (held < needed) {
      fail("the data is truncated: " + what + " but the file holds " + std::to_string(held));
    }
    if (held > needed) {
      fail(std::to_string(held - needed) + " unexpected bytes after the data (" + what +
           "): the shape does not describe the data, or the file holds more than one array");
    }
  }

  // A tolerant parser for the dict literal: keys in any order, single or double quotes, any
  // spacing, trailing commas. It knows only the three keys NumPy writes, as NumPy does.
  void parse_header(std::string_view text) {
    std::size_t pos = 0;
    const auto bad = [&](const std::string& what) {
      const auto end = text.find_last_not_of(" \n");
      fail("malformed header: " + what + " (at character " + std::to_string(pos) + " of " +
           printable(text.substr(0, end == std::string_view::npos ? 0 : end + 1)) + ")");
    };
    const auto skip = [&] {
      while (pos < text.size() &&
             (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
        ++pos;
      }
    };
    const auto accept = [&](char c) {
      skip();
      if (pos < text.size() && text[pos] == c) return ++pos, true;
      return false;
    };
    const auto quoted = [&](const char* what) {
      skip();
      const char quote = pos < text.size() ? text[pos] : '\0';
      if (quote != '\'' && quote != '"') bad(std::string("expected a quoted ") + what);
      const auto end = text.find(quote, pos + 1);
      if (end == std::string_view::npos) bad(std::string("unterminated ") + what);
      const std::string s(text.substr(pos + 1, end - pos - 1));
      pos = end + 1;
      return s;
    };
    std::optional<std::string> descr_value;
    std::optional<bool> fortran_value;
    std::optional<std::vector<std::uint64_t>> shape_value;
    if (!accept('{')) bad("expected '{'");
    while (!accept('}')) {
      const std::string key = quoted("key");
      if (!accept(':')) bad("expected ':' after '" + printable(key) + "'");
      skip();
      if (key == "descr") {
        if (accept('['))
          fail("unsupported dtype: structured dtypes (lists of fields) are not supported");
        descr_value = quoted("dtype");
      } else if (key == "fortran_order") {
        if (text.substr(pos, 4) == "True") {
          fortran_value = true;
          pos += 4;
        } else if (text.substr(pos, 5) == "False") {
          fortran_value = false;
          pos += 5;
        } else {
          bad("'fortran_order' must be True or False");
        }
      } else if (key == "shape") {
        std::vector<std::uint64_t> dims;
        if (!accept('(')) bad("the shape must be a tuple of non-negative integers, like (3, 4)");
        while (!accept(')')) {
          skip();
          std::uint64_t d = 0;
          const auto [end, error] =
              std::from_chars(text.data() + pos, text.data() + text.size(), d);
          if (error != std::errc{}) bad("the shape must be a tuple of non-negative integers");
          pos = static_cast<std::size_t>(end - text.data());
          accept('L');  // Python 2 wrote long integers as 3L
          dims.push_back(d);
          if (!accept(',')) {
            if (!accept(')')) bad("expected ',' or ')' in the shape");
            if (dims.size() == 1) bad("a 1-D shape needs a comma, like (3,)");
            break;
          }
        }
        shape_value = std::move(dims);
      } else {
        bad("unexpected key '" + printable(key) +
            "'; expected 'descr', 'fortran_order' and 'shape'");
      }
      if (!accept(',')) {
        if (!accept('}')) bad("expected ',' or '}'");
        break;
      }
    }
    skip();
    if (pos != text.size()) bad("unexpected text after '}'");
    if (!descr_value) bad("the key 'descr' is missing");
    if (!fortran_value) bad("the key 'fortran_order' is missing");
    if (!shape_value) bad("the key 'shape' is missing");
    descr = *descr_value;
    fortran_order = *fortran_value;
    shape = *shape_value;
  }

  std::string function_;
  std::string path_;
  std::vector<char> bytes_;
  std::size_t data_offset_ = 0;
};

// The header NumPy 1.24 writes for a C-order array, byte for byte: the dict, spare room to grow
// the first axis in place (21 digits), padding to a multiple of 64 bytes and a newline.
inline std::string header(const std::string& descr, const std::vector<std::uint64_t>& shape) {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  if (!shape.empty()) dict += std::string(21 - std::to_string(shape[0]).size(), ' ');
  const std::size_t length = dict.size() + 1;           // with the newline
  const std::size_t padding = 64 - (10 + length) % 64;  // 1 to 64, as NumPy pads
  const auto stored = static_cast<std::uint16_t>(length + padding);
  std::string out(magic, sizeof magic);
  out += {'\x01', '\x00', static_cast<char>(stored & 0xff), static_cast<char>(stored >> 8)};
  return out + dict + std::string(padding, ' ') + '\n';
}

// Written beside `path` and renamed over it: a failure loses nothing already there.
template <class T>
void write(const std::filesystem::path& path, const std::vector<std::uint64_t>& shape,
           const T* data, std::size_t count) {
  write_file_atomically(path, "uinfo::write_npy", [&](std::ofstream& out) {
    const std::string h = header(descr<T>(), shape);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(sizeof(T) * count));
  });
}
}  // namespace detail::npy

// Reads a 2-D float32 or float64 array of shape (samples, features), in C or Fortran order, as a
// (features x samples) matrix; a 1-D array of shape (n,) is n samples of one feature. Throws
// IoError for a file that is not such an array and NonFiniteValue for a NaN or an infinity
// (including a float64 too large for float).
template <Scalar S>
Matrix<S> read_npy_matrix(const std::filesystem::path& path) {
  const detail::npy::File file("uinfo::read_npy_matrix", path);
  const auto& shape = file.shape;
  if (shape.empty() || shape.size() > 2) {
    file.fail("a " + std::to_string(shape.size()) + "-D array of shape " +
              detail::npy::shape_text(shape) +
              " is not supported; expected a 2-D array (samples, features) or a 1-D array");
  }
  const auto samples = static_cast<Index>(shape[0]);
  const auto features = shape.size() == 2 ? static_cast<Index>(shape[1]) : Index{1};
  // Both orders are a column-major matrix once the elements are laid out: C order is
  // (features x samples), Fortran order its transpose.
  const bool fortran = file.fortran_order && shape.size() == 2;
  Matrix<S> m;
  file.visit<float, double>("float32 or float64", [&](auto elements) {
    m.resize(fortran ? samples : features, fortran ? features : samples);
    for (Index k = 0; k < m.size(); ++k) {
      m.data()[k] = static_cast<S>(elements[static_cast<std::size_t>(k)]);
    }
  });
  if (fortran) m = m.transpose().eval();
  require_finite(m, "the .npy file '" + file.path() + "'");
  return m;
}

// Reads class labels from a 1-D integer array, or a 2-D one with a single row or column. Throws
// IoError for a file that is not such an array and InvalidArgument for a negative label or one
// too large for Label, naming its index.
inline std::vector<Label> read_npy_labels(const std::filesystem::path& path) {
  const detail::npy::File file("uinfo::read_npy_labels", path);
  const auto& shape = file.shape;
  const bool vector = shape.size() == 1 || (shape.size() == 2 && (shape[0] == 1 || shape[1] == 1));
  if (!vector) {
    file.fail("labels must be a 1-D array, or 2-D with one row or column; got a " +
              std::to_string(shape.size()) + "-D array of shape " + detail::npy::shape_text(shape));
  }
  std::vector<Label> labels;
  file.visit<std::int32_t, std::int64_t, std::uint8_t, std::int8_t, std::int16_t, std::uint16_t,
             std::uint32_t, std::uint64_t>("integer labels", [&](auto elements) {
    labels.resize(file.count());
    for (std::size_t k = 0; k < labels.size(); ++k) {
      const auto v = elements[k];
      if (std::cmp_less(v, 0) || std::cmp_greater(v, std::numeric_limits<Label>::max())) {
        throw InvalidArgument("uinfo::read_npy_labels: '" + file.path() + "': label " +
                              std::to_string(v) + " at index " + std::to_string(k) + " is " +
                              (std::cmp_less(v, 0) ? "negative" : "too large for int") +
                              "; expected class indices 0, 1, 2, ...");
      }
      labels[k] = static_cast<Label>(v);
    }
  });
  return labels;
}

// Writes a (features x samples) matrix as a C-order (samples, features) float32 or float64 array.
template <Scalar S>
void write_npy(const std::filesystem::path& path, const Matrix<S>& m) {
  detail::npy::write(path, {std::uint64_t(m.cols()), std::uint64_t(m.rows())}, m.data(),
                     static_cast<std::size_t>(m.size()));
}

// Writes labels as a 1-D int32 ('<i4') array.
inline void write_npy(const std::filesystem::path& path, std::span<const Label> labels) {
  static_assert(sizeof(Label) == 4 && std::is_signed_v<Label>);
  detail::npy::write(path, {labels.size()}, labels.data(), labels.size());
}
inline void write_npy(const std::filesystem::path& path, const std::vector<Label>& labels) {
  write_npy(path, std::span<const Label>(labels));
}

// Writes per-sample values as a 1-D float64 ('<f8') array.
inline void write_npy(const std::filesystem::path& path, std::span<const double> values) {
  detail::npy::write(path, {values.size()}, values.data(), values.size());
}

}  // namespace uinfo
