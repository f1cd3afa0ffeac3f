// IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//
// Format (LeCun, Cortes and Burges, "The MNIST database"): two zero bytes, a type code (0x08
// unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the
// number of dimensions, each dimension as a big-endian u32, then the elements in C order (the
// last dimension fastest). An image file has dimensions (images, rows, columns), a label file
// (labels). Only unsigned bytes are read: that is what MNIST-like data sets hold.
//
// Readers are strict, as the .npy readers are: the data must be exactly the bytes the dimensions
// promise. A short file is a truncated download; bytes beyond mean the header does not describe
// the data. Either error says how many bytes were expected and found.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/core/tensor.hpp"
#include "uinfo/data/byte_reader.hpp"
#include "uinfo/data/pixels.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

// An IDX array of unsigned bytes: its dimensions, outermost first, and its elements in C order.
struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> bytes;
};

namespace detail::idx {

inline std::string hex(unsigned byte) {
  constexpr char digits[] = "0123456789abcdef";
  return std::string("0x") + digits[(byte >> 4) & 0xf] + digits[byte & 0xf];
}

inline std::string type_name(unsigned code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
  }
  return "";
}

inline std::string dims_text(const std::vector<std::size_t>& dims) {
  std::string s;
  for (const auto d : dims) s += (s.empty() ? "" : " x ") + std::to_string(d);
  return s;
}

// "1 dimension (4)", "3 dimensions (2 x 28 x 28)".
inline std::string dims_count(const std::vector<std::size_t>& dims) {
  return std::to_string(dims.size()) + (dims.size() == 1 ? " dimension (" : " dimensions (") +
         dims_text(dims) + ")";
}

// Reads and checks the header: magic, type, and the dimensions, which must multiply to a size
// that fits memory indices, zeros left out: 0 images of 2^32 x 2^32 pixels are refused too.
inline std::vector<std::size_t> read_header(ByteReader& in) {
  unsigned char head[4] = {0, 0, 0, 0};
  const std::size_t got = in.read(head, 4);
  if (got < 4) {
    in.fail("too short for an IDX file: " + std::to_string(got) +
            " bytes; the header alone takes at least 8" + in.cut_off_note());
  }
  if (head[0] != 0 || head[1] != 0) {
    in.fail("not an IDX file (bad magic: it starts with " + hex(head[0]) + " " + hex(head[1]) +
            "; expected 0x00 0x00, then a type code and the number of dimensions)");
  }
  if (head[2] != 0x08) {
    const std::string name = type_name(head[2]);
    in.fail((name.empty() ? "unknown data type code " + hex(head[2])
                          : "unsupported data type " + hex(head[2]) + " (" + name + ")") +
            "; expected 0x08 (unsigned byte)");
  }
  const unsigned ndim = head[3];
  if (ndim == 0) in.fail("the header gives 0 dimensions; expected at least 1");
  std::vector<unsigned char> raw(4 * ndim);
  const std::size_t got_dims = in.read(raw.data(), raw.size());
  if (got_dims < raw.size()) {
    in.fail("truncated in the header: " + std::to_string(ndim) + " dimensions take " +
            std::to_string(raw.size()) + " bytes, got " + std::to_string(got_dims) +
            in.cut_off_note());
  }
  std::vector<std::size_t> dims(ndim);
  std::uint64_t count = 1;
  bool too_large = false;
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<Index>::max());
  for (unsigned k = 0; k < ndim; ++k) {
    const unsigned char* b = raw.data() + 4 * k;
    const std::uint64_t d = std::uint64_t{b[0]} << 24 | std::uint64_t{b[1]} << 16 |
                            std::uint64_t{b[2]} << 8 | std::uint64_t{b[3]};
    dims[k] = static_cast<std::size_t>(d);
    if (d != 0 && count > max / d) {
      too_large = true;
    } else if (d != 0) {
      count *= d;
    }
  }
  if (too_large) in.fail("the dimensions " + dims_text(dims) + " are too large");
  return dims;
}

// Reads exactly the bytes `dims` promise, and checks that nothing follows them. `what` names the
// elements in messages: "pixels", "labels".
inline std::vector<std::uint8_t> read_data(ByteReader& in, const std::vector<std::size_t>& dims,
                                           const std::string& what) {
  std::size_t count = 1;
  for (const auto d : dims) count *= d;  // fits: read_header checked the product
  const auto truncated = [&](std::uintmax_t got) {
    in.fail("truncated: expected " + std::to_string(count) + " bytes of " + what + ", got " +
            std::to_string(got) + " (dimensions " + dims_text(dims) + ")" + in.cut_off_note());
  };
  // A header that promises more than the file can hold fails before the buffer is allocated.
  if (count > in.most_bytes_left()) truncated(in.skip_rest());
  std::vector<std::uint8_t> bytes(count);
  const std::size_t got = in.read(bytes.data(), count);
  if (got < count) truncated(got);
  const std::uintmax_t extra = in.skip_rest();  // for gzip, this also checks the CRC
  if (extra > 0) {
    in.fail(std::to_string(extra) + " unexpected bytes after the " + what + " (the dimensions " +
            dims_text(dims) + " promise " + std::to_string(count) +
            " bytes): the header does not describe the data");
  }
  if (in.cut_off()) {
    in.fail("the gzip stream breaks off after the " + what +
            " (zlib reports 'unexpected end of file'; its checksum is missing): the file is "
            "truncated");
  }
  return bytes;
}

}  // namespace detail::idx

// Reads an IDX file of unsigned bytes with any number of dimensions. Throws IoError, naming the
// file, for anything else.
inline IdxArray read_idx(const std::filesystem::path& path) {
  detail::ByteReader in(path, "uinfo::read_idx");
  IdxArray array;
  array.dims = detail::idx::read_header(in);
  array.bytes = detail::idx::read_data(in, array.dims, "data");
  return array;
}

// Reads an IDX image file (images, rows, columns) as a (rows * columns) x images matrix: one
// column per image, pixel (h, w) at feature h * columns + w, scaled as `scale` says.
template <Scalar S>
Matrix<S> read_idx_images(const std::filesystem::path& path, PixelScale scale = PixelScale::unit) {
  detail::ByteReader in(path, "uinfo::read_idx_images");
  const auto dims = detail::idx::read_header(in);
  if (dims.size() != 3) {
    in.fail("the header gives " + detail::idx::dims_count(dims) +
            "; expected 3 (images, rows, columns)" +
            (dims.size() == 1 ? ": is it a label file?" : ""));
  }
  if (dims[1] == 0 || dims[2] == 0) {
    in.fail("the images are " + std::to_string(dims[1]) + " x " + std::to_string(dims[2]) +
            " pixels; expected at least one pixel");
  }
  const std::vector<std::uint8_t> bytes = detail::idx::read_data(in, dims, "pixels");
  // The file's image-major C order is the matrix's column-major order: one pass, no reordering.
  Matrix<S> x(static_cast<Index>(dims[1] * dims[2]), static_cast<Index>(dims[0]));
  const auto values = detail::pixel_values<S>(scale);
  S* out = x.data();
  for (std::size_t k = 0; k < bytes.size(); ++k) out[k] = values[bytes[k]];
  return x;
}

// Reads an IDX label file (labels). When `classes` is given, every label must be below it;
// otherwise InvalidArgument names the file, the index and the label.
inline std::vector<Label> read_idx_labels(const std::filesystem::path& path,
                                          std::optional<Index> classes = std::nullopt) {
  if (classes && *classes < 1) {
    throw InvalidArgument("uinfo::read_idx_labels: classes is " + std::to_string(*classes) +
                          "; expected at least 1");
  }
  detail::ByteReader in(path, "uinfo::read_idx_labels");
  const auto dims = detail::idx::read_header(in);
  if (dims.size() != 1) {
    in.fail("the header gives " + detail::idx::dims_count(dims) + "; expected 1 (labels)" +
            (dims.size() == 3 ? ": is it an image file?" : ""));
  }
  const std::vector<std::uint8_t> bytes = detail::idx::read_data(in, dims, "labels");
  std::vector<Label> labels(bytes.begin(), bytes.end());
  if (classes) {
    for (std::size_t k = 0; k < labels.size(); ++k) {
      if (labels[k] >= *classes) {
        throw InvalidArgument("uinfo::read_idx_labels: '" + in.path() + "': label " +
                              std::to_string(labels[k]) + " at index " + std::to_string(k) +
                              " is out of range for " + std::to_string(*classes) +
                              " classes (expected 0.." + std::to_string(*classes - 1) + ")");
      }
    }
  }
  return labels;
}

}  // namespace uinfo
