// The programs' command lines, on CLI11. An option that changes what a run computes is a *setting*:
// one definition makes it a flag and a key of the run record's "settings" (the flag's name, its
// dashes as underscores), which `--config RECORD` reads back, so that an earlier run can be
// repeated exactly. Options that leave the results alone (where they go, threads, the progress
// bar) are plain options. `--help` lists every option with its default; bad input prints one line,
// "program: what is wrong", and exits with status 2.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/build_info.hpp"
#include "common/record.hpp"
#include "uinfo/version.hpp"

namespace uinfo::cli {

using record::Json;

class Command {
 public:
  Command(const std::string& program, const std::string& description)
      : app_(description + "\n", program), program_(program) {
    // A flag given twice takes its last value, so that a script's defaults can be overridden.
    app_.option_defaults()->always_capture_default()->multi_option_policy(
        CLI::MultiOptionPolicy::TakeLast);
    app_.set_version_flag("--version", UINFO_VERSION_STRING);
    // Read when met, before the flags' own values are stored: those given beside it win.
    app_.add_option_function<std::string>(
            "--config", [this](const std::string& path) { read_config(path); },
            "repeat an earlier run: every setting from the run.json (or JSON output) it wrote; "
            "flags given beside it override those")
        ->trigger_on_parse();
  }

  Command(const Command&) = delete;  // the settings hold references to their variables
  Command& operator=(const Command&) = delete;

  // --flag sets `target`, whose current value is the default, and the record keeps it.
  template <class T>
  CLI::Option* setting(const std::string& flag, T& target, const std::string& help) {
    CLI::Option* added = option(flag, target, help);
    settings_.push_back({key_of(flag), added,
                         [&target](Json& json, const std::string& key) { json[key] = target; },
                         [&target](const Json& value) { return read(value, target); }});
    return added;
  }

  // --flag sets `target` (a bool is a flag without a value); the record does not keep it.
  template <class T>
  CLI::Option* option(const std::string& flag, T& target, const std::string& help) {
    if constexpr (std::is_same_v<T, bool>) {
      return app_.add_flag(flag, target, help);
    } else if constexpr (std::is_unsigned_v<T>) {
      // CLI11 reads "-1" as the largest unsigned value: refuse it.
      const CLI::Validator not_negative(
          [](const std::string& text) {
            return text.starts_with('-') ? "'" + text + "' is negative; expected a whole number"
                                         : std::string();
          },
          "");
      return app_.add_option(flag, target, help)->check(not_negative);
    } else {
      return app_.add_option(flag, target, help);
    }
  }

  // Replaces an option's help line, e.g. what --epochs counts in this program.
  void describe(const std::string& flag, const std::string& help) {
    app_.get_option(flag)->description(help);
  }

  // Exits with status 0 after --help or --version, with 2 on bad input.
  void parse(int argc, char** argv) {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::Success& done) {
      std::exit(app_.exit(done));
    } catch (const CLI::ParseError& error) {
      fail(error.what());
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), message.c_str());
    std::exit(2);
  }

  // Every setting's value, in the order the settings were declared.
  Json settings() const {
    Json json = Json::object();
    for (const Setting& s : settings_) s.save(json, s.key);
    return json;
  }

  // What a record says of the run beside its results: which uinfo built how, on which machine; the
  // settings; and, after --config, the record they came from and the flags that overrode it.
  Json provenance() const {
    Json json = {{"build", build::as_json()}, {"settings", settings()}};
    if (config_) {
      Json overrides = Json::object();
      for (const Setting& s : settings_) {
        if (s.option->count() > 0) s.save(overrides, s.key);
      }
      json["config"] = {{"file", *config_}, {"overrides", overrides}};
    }
    return json;
  }

  // The opening of a run record: which program and which uinfo, then the provenance.
  Json record() const {
    Json json = uinfo::record::header(program_);
    json.update(provenance());
    return json;
  }

  const std::string& program() const { return program_; }

 private:
  struct Setting {
    std::string key;
    const CLI::Option* option;  // given on the command line if its count() > 0
    std::function<void(Json&, const std::string&)> save;
    std::function<bool(const Json&)> load;  // false: a value of the wrong type or range
  };

  static std::string key_of(const std::string& flag) {
    std::string key = flag.substr(flag.find_first_not_of('-'));
    for (char& c : key) {
      if (c == '-') c = '_';
    }
    return key;
  }

  // `value` into `target` if it is a T exactly (no 2.5 into an int, no -1 into an unsigned).
  template <class T>
  static bool read(const Json& value, T& target) {
    if (value.is_boolean() != std::is_same_v<T, bool>) return false;
    if (value.is_string() != std::is_same_v<T, std::string>) return false;
    try {
      const T converted = value.get<T>();
      if (Json(converted) != value) return false;
      target = converted;
      return true;
    } catch (const nlohmann::json::exception&) {
      return false;
    }
  }

  void read_config(const std::string& path) {
    const std::string where = "--config '" + path + "'";
    std::ifstream in(path);
    if (!in) fail(where + ": cannot open it");
    Json json;
    try {
      json = Json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(where + ": not JSON (" + e.what() + ")");
    }
    if (!json.is_object() || !json.contains("settings") || !json["settings"].is_object())
      fail(where + ": no \"settings\" object; expected the run.json a uinfo program wrote");
    const std::string writer = json.value("program", std::string("?"));
    if (writer != program_) fail(where + " was written by " + writer + ", not " + program_);
    for (const auto& item : json["settings"].items()) {
      const std::string& key = item.key();  // not a structured binding: Clang 14 cannot capture one
      const auto s = std::find_if(settings_.begin(), settings_.end(),
                                  [&](const Setting& candidate) { return candidate.key == key; });
      if (s == settings_.end()) fail(where + ": " + program_ + " has no setting '" + key + "'");
      if (!s->load(item.value()))
        fail(where + ": setting '" + key + "' is " + item.value().dump() +
             ", not a value of its type");
    }
    config_ = path;
  }

  CLI::App app_;
  std::string program_;
  std::vector<Setting> settings_;
  std::optional<std::string> config_;  // the record --config read
};

}  // namespace uinfo::cli
