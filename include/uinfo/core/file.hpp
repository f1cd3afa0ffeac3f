// Writing a file so that a failure loses nothing: the bytes go to PATH.partial, which is synced to
// the disk and renamed over PATH only once complete, and removed if anything fails. A process
// killed at any moment, or a machine that loses power after the rename, leaves either the old file
// or the new one, whole.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "uinfo/core/error.hpp"

namespace uinfo {

namespace detail {
// Why the last system call failed, for a message (": No space left on device"), or nothing.
inline std::string system_reason() {
  return errno ? std::string(": ") + std::strerror(errno) : std::string();
}

// Asks the system to put `path`'s bytes (a directory's: its entries) on the disk; false if it
// could not.
inline bool sync_to_disk(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}
}  // namespace detail

// Calls write(std::ofstream&) on the temporary file; `who` names the caller in IoError messages.
template <class Write>
void write_file_atomically(const std::filesystem::path& path, const std::string& who,
                           Write&& write) {
  const std::filesystem::path temporary = path.string() + ".partial";
  auto discard = [&] {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
  };
  {
    errno = 0;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError(who + ": cannot open '" + temporary.string() + "' for writing" +
                    detail::system_reason());
    }
    write(out);
    out.close();  // writes what is buffered; a full disk shows here
    if (!out) {
      const std::string reason = detail::system_reason();
      discard();
      throw IoError(who + ": writing '" + temporary.string() + "' failed" + reason);
    }
  }
  errno = 0;
  if (!detail::sync_to_disk(temporary)) {
    const std::string reason = detail::system_reason();
    discard();
    throw IoError(who + ": writing '" + temporary.string() + "' to the disk failed" + reason);
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    discard();
    throw IoError(who + ": cannot replace '" + path.string() + "': " + error.message());
  }
  // The rename is durable once the directory is synced; some file systems cannot, and lose
  // nothing but that durability.
  const std::filesystem::path directory = path.parent_path();
  detail::sync_to_disk(directory.empty() ? "." : directory);
}

}  // namespace uinfo
