// What every harness shares: the fuzzer's bytes as a file that uinfo's readers open by path, and
// the rule that a reader may refuse its input only with a uinfo::Error whose message is printable.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "uinfo/core/error.hpp"

namespace uinfo::fuzz {

// A file in memory (memfd), rewritten for every input: no disk traffic, nothing to clean up.
class InputFile {
 public:
  InputFile() : fd_(::memfd_create("uinfo-fuzz", 0)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { ::close(fd_); }

  const std::filesystem::path& write(const void* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) {
      std::perror("writing the fuzz input");
      std::abort();
    }
    return path_;
  }

 private:
  int fd_;
  std::filesystem::path path_;
};

// Calls read(); a uinfo::Error is an accepted answer to bad input if its message is printable
// ASCII (lines may break), since messages quote what they read from the file. Anything else
// escapes to libFuzzer, which reports it as a crash.
template <class Read>
void expect_clean(Read&& read) {
  try {
    read();
  } catch (const uinfo::Error& e) {
    for (const char* c = e.what(); *c; ++c) {
      if ((*c < 0x20 || *c > 0x7e) && *c != '\n') {
        std::fprintf(stderr, "unprintable byte 0x%02x in the message: %s\n",
                     static_cast<unsigned char>(*c), e.what());
        std::abort();
      }
    }
  }
}

}  // namespace uinfo::fuzz
