// Writing a file so that a failure loses nothing: the bytes go to PATH.partial, which is renamed
// over PATH only once complete, and removed if anything fails.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "uinfo/core/error.hpp"

namespace uinfo {

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
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(who + ": cannot open '" + temporary.string() + "' for writing");
    write(out);
    out.flush();
    if (!out) {
      out.close();
      discard();
      throw IoError(who + ": writing '" + temporary.string() + "' failed");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    discard();
    throw IoError(who + ": cannot replace '" + path.string() + "': " + error.message());
  }
}

}  // namespace uinfo
