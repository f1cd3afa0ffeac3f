// The programs' command lines, on CLI11. An option that changes what a run computes is a *setting*:
// one definition makes it a flag and a key of the run record's "settings" (the flag's name, its
// dashes as underscores). Options that leave the results alone (where they go, threads, the
// progress bar) are plain options. `--help` lists every option with its default; bad input
// prints one line, "program: what is wrong", and exits with status 2.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/record.hpp"
#include "uinfo/version.hpp"

namespace uinfo::cli {

using record::Json;

class Command {
 public:
  Command(const std::string& program, const std::string& description)
      : app_(description + "\n", program), program_(program) {
    app_.option_defaults()->always_capture_default();
    app_.set_version_flag("--version", UINFO_VERSION_STRING);
  }

  Command(const Command&) = delete;  // the options hold pointers into the settings' owners
  Command& operator=(const Command&) = delete;

  // --flag sets `target`, whose current value is the default, and the record keeps it.
  template <class T>
  CLI::Option* setting(const std::string& flag, T& target, const std::string& help) {
    CLI::Option* added = option(flag, target, help);
    settings_.push_back(
        {key_of(flag), [&target](Json& json, const std::string& key) { json[key] = target; }});
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

  // The opening of the run's record: which program, which uinfo, and the settings.
  Json record() const {
    Json json = uinfo::record::header(program_);
    json["settings"] = settings();
    return json;
  }

  const std::string& program() const { return program_; }

 private:
  static std::string key_of(const std::string& flag) {
    std::string key = flag.substr(flag.find_first_not_of('-'));
    for (char& c : key) {
      if (c == '-') c = '_';
    }
    return key;
  }

  struct Setting {
    std::string key;
    std::function<void(Json&, const std::string&)> save;
  };

  CLI::App app_;
  std::string program_;
  std::vector<Setting> settings_;
};

}  // namespace uinfo::cli
