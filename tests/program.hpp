// Running one of uinfo's programs from a test and reading what it printed or wrote.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

struct ProgramResult {
  int status = -1;
  std::string out, err;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `program` with `args` (paths inside quoted by the caller), capturing stdout and stderr in
// files under `dir`.
inline ProgramResult run_program(const std::string& program, const std::filesystem::path& dir,
                                 const std::string& args) {
  const std::filesystem::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string command =
      "'" + program + "' " + args + " > '" + out.string() + "' 2> '" + err.string() + "'";
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_text(out), read_text(err)};
}

// The number after "key": in `json`, searching from the object named `within` if given.
inline double json_number(const std::string& json, const std::string& key,
                          const std::string& within = "") {
  std::size_t from = 0;
  if (!within.empty()) {
    from = json.find("\"" + within + "\": {");
    if (from == std::string::npos) FAIL("no object \"" << within << "\" in " << json);
  }
  const std::string needle = "\"" + key + "\": ";
  const std::size_t at = json.find(needle, from);
  if (at == std::string::npos) FAIL("no key \"" << key << "\" in " << json);
  return std::strtod(json.c_str() + at + needle.size(), nullptr);
}
