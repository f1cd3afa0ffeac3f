// A small command-line parser for uinfo's programs: every option has a default, a help line, and
// a typed destination; `--help` prints them all. Bad input prints one line and exits with 2.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace uinfo::cli {

class Parser {
 public:
  Parser(std::string program, std::string description)
      : program_(std::move(program)), description_(std::move(description)) {}

  // Binds --name to `target`, whose current value is the default. Supports bool (a flag),
  // integers, floating point and strings.
  template <class T>
  Parser& option(const std::string& name, T& target, const std::string& help) {
    options_.push_back(
        {name, help, show(target), std::is_same_v<T, bool>,
         [&target, name, this](const std::string& text) { target = read<T>(name, text); }});
    return *this;
  }

  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        print_help();
        std::exit(0);
      }
      const Option* match = find(arg);
      if (!match) fail("unknown option '" + arg + "' (see --help)");
      if (match->flag) {
        match->assign("true");
      } else {
        if (i + 1 >= argc) fail("option " + arg + " needs a value (see --help)");
        match->assign(argv[++i]);
      }
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), message.c_str());
    std::exit(2);
  }

 private:
  struct Option {
    std::string name, help, default_text;
    bool flag;
    std::function<void(const std::string&)> assign;
  };

  const Option* find(const std::string& name) const {
    for (const auto& option : options_) {
      if (option.name == name) return &option;
    }
    return nullptr;
  }

  template <class T>
  T read(const std::string& name, const std::string& text) const {
    try {
      std::size_t used = 0;
      T value{};
      if constexpr (std::is_same_v<T, bool>) {
        return text == "true";
      } else if constexpr (std::is_same_v<T, std::string>) {
        return text;
      } else if constexpr (std::is_floating_point_v<T>) {
        value = static_cast<T>(std::stod(text, &used));
      } else if constexpr (std::is_unsigned_v<T>) {
        if (!text.empty() && text[0] == '-') throw std::invalid_argument("negative");
        value = static_cast<T>(std::stoull(text, &used));
      } else {
        value = static_cast<T>(std::stoll(text, &used));
      }
      if (used != text.size()) throw std::invalid_argument("trailing characters");
      return value;
    } catch (const std::logic_error&) {
      fail("option " + name + ": '" + text + "' is not a valid value");
    }
  }

  template <class T>
  static std::string show(const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      return value ? "on" : "off";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return value.empty() ? "none" : value;
    } else {
      std::string text = std::to_string(value);
      if constexpr (std::is_floating_point_v<T>) {  // 0.050000 -> 0.05
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.') text.pop_back();
      }
      return text;
    }
  }

  void print_help() const {
    std::printf("%s\n\n%s\n\nOptions:\n", program_.c_str(), description_.c_str());
    for (const auto& o : options_) {
      std::printf("  %-18s %s%s\n", (o.name + (o.flag ? "" : " V")).c_str(), o.help.c_str(),
                  o.flag ? "" : (" (default: " + o.default_text + ")").c_str());
    }
    std::printf("  %-18s %s\n", "--help", "print this help and exit");
  }

  std::string program_, description_;
  std::vector<Option> options_;
};

}  // namespace uinfo::cli
