// Fuzzes the IDX readers behind gzip: the input after its first byte is compressed here, so that
// mutations reach the IDX structure inside a valid stream, and the first byte may cut the stream
// short (an interrupted download) at a fraction of its length.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_input.hpp"
#include "uinfo/data/idx.hpp"

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer, as the gzip tool writes.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    std::abort();
  }
  std::vector<std::uint8_t> out(deflateBound(&stream, static_cast<uLong>(size)) + 32);
  stream.next_in = const_cast<std::uint8_t*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static uinfo::fuzz::InputFile file;
  std::vector<std::uint8_t> compressed = gzip(data + 1, size - 1);
  // First byte 0 to 127: the whole stream; 128 + k: the first k/128 of it.
  if (data[0] >= 128) compressed.resize(compressed.size() * (data[0] - 128u) / 128u);
  const auto& path = file.write(compressed.data(), compressed.size());
  uinfo::fuzz::expect_clean([&] { uinfo::read_idx(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_idx_images<float>(path); });
  uinfo::fuzz::expect_clean([&] { uinfo::read_idx_labels(path, uinfo::Index{10}); });
  return 0;
}
