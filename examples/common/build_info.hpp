// What built a program and where it runs, for its run record: the compiler, its flags and the git
// revision of the sources (defined in the build_info.cpp that cmake/build_info.cmake generates at
// every build), and the CPU.
#pragma once

#include <fstream>
#include <string>
#include <thread>

#include "common/record.hpp"

namespace uinfo::build {

extern const char* const compiler;  // e.g. "GNU 12.2.0"
extern const char* const flags;  // the build type's and uinfo's own, e.g. "-O2 ... -march=native"
extern const char* const git_revision;  // the commit, "-dirty" if tracked files differed; "unknown"

// The CPU's model name as Linux reports it; "unknown" elsewhere.
inline std::string cpu() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

inline record::Json as_json() {
  return {{"compiler", compiler},
          {"flags", flags},
          {"git_revision", git_revision},
          {"cpu", cpu()},
          {"hardware_threads", std::thread::hardware_concurrency()}};
}

}  // namespace uinfo::build
