// Reading a data file front to back, decompressing it on the way when it is gzip-compressed.
//
// Whether a file is compressed is decided by its first two bytes, the gzip magic 1f 8b, not by its
// name: a file gunzipped without renaming, or compressed without a .gz suffix, reads the same.
// zlib reports a compressed stream that stops early (an interrupted download) or whose checksum
// fails; the first is remembered so that the reader's caller can say so next to what it missed,
// the second is an IoError at once. Neither is ever taken for the end of the data.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "uinfo/core/error.hpp"

namespace uinfo::detail {

class ByteReader {
 public:
  // `who` names the calling function in every IoError, which also names the file.
  ByteReader(const std::filesystem::path& path, std::string who)
      : who_(std::move(who)), path_(path.string()) {
    std::error_code error;
    file_size_ = std::filesystem::file_size(path, error);  // fails for a directory too
    if (error) fail("cannot open the file: " + error.message());
    plain_.reset(std::fopen(path_.c_str(), "rb"));
    if (!plain_) fail(std::string("cannot open the file: ") + std::strerror(errno));
    unsigned char magic[2] = {0, 0};
    const std::size_t got = std::fread(magic, 1, 2, plain_.get());
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      plain_.reset();
      gzip_.reset(gzopen(path_.c_str(), "rb"));
      if (!gzip_) fail(std::string("cannot open the gzip file: ") + std::strerror(errno));
      gzbuffer(gzip_.get(), 1 << 17);  // fewer, larger reads of the compressed file
    } else if (std::fseek(plain_.get(), 0, SEEK_SET) != 0) {
      fail(std::string("cannot read the file: ") + std::strerror(errno));
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw IoError(who_ + ": '" + path_ + "': " + message);
  }

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_ != nullptr; }
  std::uintmax_t file_size() const { return file_size_; }

  // The most bytes the rest of the file can yield: its size, or for gzip the size times deflate's
  // largest compression ratio, 1032:1. A header that promises more is known to lie before any
  // memory is set aside for what it promises.
  std::uintmax_t most_bytes_left() const {
    return gzip() ? 1032 * file_size_ + 64 : file_size_ - std::min(consumed_, file_size_);
  }

  // Reads up to n bytes into out; fewer only at the end of the data (see cut_off()).
  std::size_t read(void* out, std::size_t n) {
    auto* bytes = static_cast<unsigned char*>(out);
    std::size_t total = 0;
    while (total < n) {
      const std::size_t want = std::min<std::size_t>(n - total, std::size_t{1} << 30);
      const std::size_t got =
          gzip() ? read_gzip(bytes + total, want) : read_plain(bytes + total, want);
      total += got;
      if (got < want) break;
    }
    if (!gzip()) consumed_ += total;
    return total;
  }

  // Reads everything left and returns how many bytes that was.
  std::uintmax_t skip_rest() {
    std::vector<unsigned char> sink(1 << 16);
    std::uintmax_t total = 0;
    for (std::size_t got; (got = read(sink.data(), sink.size())) > 0;) total += got;
    return total;
  }

  // Everything left, in a buffer grown as the data arrives rather than sized from a promise.
  std::vector<std::uint8_t> read_rest() {
    std::vector<std::uint8_t> bytes;
    std::size_t chunk = gzip() ? std::size_t{1} << 20 : static_cast<std::size_t>(most_bytes_left());
    for (;;) {
      const std::size_t have = bytes.size();
      bytes.resize(have + chunk);
      const std::size_t got = read(bytes.data() + have, chunk);
      bytes.resize(have + got);
      if (got < chunk || chunk == 0) return bytes;
      chunk = std::min<std::size_t>(2 * chunk, std::size_t{1} << 30);
    }
  }

  // Whether the gzip stream broke off before its end: the file is truncated, and a short read
  // means missing data rather than the end of the data.
  bool cut_off() const { return cut_off_; }

  // Words for a message about a short read: empty for a plain file.
  std::string cut_off_note() const {
    return cut_off_ ? " (the gzip stream breaks off: zlib reports 'unexpected end of file'; the "
                      "download was probably interrupted)"
                    : "";
  }

 private:
  struct CloseFile {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  struct CloseGzip {
    void operator()(gzFile f) const { gzclose(f); }
  };

  std::size_t read_plain(unsigned char* out, std::size_t n) {
    const std::size_t got = std::fread(out, 1, n, plain_.get());
    if (got < n && std::ferror(plain_.get())) {
      fail(std::string("cannot read the file: ") + std::strerror(errno));
    }
    return got;
  }

  std::size_t read_gzip(unsigned char* out, std::size_t n) {
    const int got = gzread(gzip_.get(), out, static_cast<unsigned>(n));
    int status = Z_OK;
    const char* message = gzerror(gzip_.get(), &status);
    if (status == Z_BUF_ERROR) {
      cut_off_ = true;  // zlib returns what it could decompress; the caller reports the gap
    } else if (status == Z_ERRNO) {
      fail(std::string("cannot read the file: ") + std::strerror(errno));
    } else if (status != Z_OK || got < 0) {
      // zlib prefixes its message with the path, which fail() already gives.
      std::string what = message ? message : "?";
      if (what.starts_with(path_ + ": ")) what.erase(0, path_.size() + 2);
      fail("corrupt gzip data (zlib reports '" + what +
           "'): the file is damaged; download it "
           "again");
    }
    return static_cast<std::size_t>(got);
  }

  std::string who_;
  std::string path_;
  std::uintmax_t file_size_ = 0;
  std::uintmax_t consumed_ = 0;  // of a plain file
  std::unique_ptr<std::FILE, CloseFile> plain_;
  std::unique_ptr<gzFile_s, CloseGzip> gzip_;
  bool cut_off_ = false;
};

}  // namespace uinfo::detail
