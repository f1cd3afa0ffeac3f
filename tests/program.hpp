// Running one of uinfo's programs from a test and reading what it printed or wrote.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <cmath>
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

// The JSON a program printed or wrote, parsed; a test fails on anything else.
inline nlohmann::json parse_json(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    FAIL("not JSON (" << e.what() << "):\n" << text);
  }
  return {};
}

// The first member named `name` in `json`, in the order the text lists them (depth first); null
// if there is none.
inline const nlohmann::json* find_member(const nlohmann::json& json, const std::string& name) {
  if (!json.is_object()) return nullptr;
  for (const auto& [key, value] : json.items()) {
    if (key == name) return &value;
    if (const nlohmann::json* inner = find_member(value, name)) return inner;
  }
  return nullptr;
}

// The number named `key` in `json` (at any depth), or in the object named `within` if given; a
// null (how JSON writes NaN) reads as NaN.
inline double json_number(const std::string& json, const std::string& key,
                          const std::string& within = "") {
  const nlohmann::json parsed = parse_json(json);
  const nlohmann::json* object = within.empty() ? &parsed : find_member(parsed, within);
  if (!object || !object->is_object()) FAIL("no object \"" << within << "\" in " << json);
  const nlohmann::json* value = within.empty()
                                    ? find_member(parsed, key)
                                    : (object->contains(key) ? &object->at(key) : nullptr);
  if (!value) FAIL("no key \"" << key << "\" in " << json);
  if (value->is_null()) return std::nan("");
  if (!value->is_number()) FAIL("\"" << key << "\" is not a number in " << json);
  return value->get<double>();
}
