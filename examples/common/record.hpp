// The JSON files the programs write and read (run.json, uinfo-probe's output), through
// nlohmann/json. Objects keep their keys in the order they were added, so a record reads top down:
// what ran, with which settings, what it found.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "uinfo/core/file.hpp"
#include "uinfo/version.hpp"

namespace uinfo::record {

using Json = nlohmann::ordered_json;

// Two-space indentation; a NaN or an infinity (no JSON number) is written as null.
inline std::string text(const Json& json) {
  return json.dump(2);
}

// Written beside the target and renamed over it, so readers never see half a file.
inline void write(const Json& json, const std::filesystem::path& path) {
  write_file_atomically(path, "uinfo::record",
                        [&](std::ofstream& out) { out << text(json) << '\n'; });
}

// The opening of every record: which program and which uinfo wrote it.
inline Json header(const std::string& program) {
  return {{"program", program}, {"uinfo_version", UINFO_VERSION_STRING}};
}

}  // namespace uinfo::record
