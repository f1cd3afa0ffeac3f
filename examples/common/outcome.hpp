// How every program ends. Exit status 0: it did its work. 2: what it was given cannot be used: a
// flag or a combination of flags (command.hpp), an input file or a value in one, an output
// directory it cannot create or write in. 1: the run itself failed: training diverged, or a file
// could not be written part-way (a full disk). Either failure prints one line on stderr,
// "program: what is wrong".
//
// Whether a file that cannot be written is bad input or a failed run depends on when: before the
// program calls running() (it tries its output directory first), it is what the user gave; after,
// it is the run's failure.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "uinfo/core/error.hpp"
#include "uinfo/core/format.hpp"

namespace uinfo::program {

inline constexpr int bad_input = 2;
inline constexpr int run_failed = 1;

namespace detail {
inline bool running = false;
}

// Marks the end of the checks: from here on a file that cannot be written fails the run.
inline void running() {
  detail::running = true;
}

// Creates `dir` with its parents and tries a file in it: IoError if either fails, so that a run
// never trains for an hour before finding it cannot write its results.
inline void prepare_output_directory(const std::filesystem::path& dir) {
  const std::string where = "the output directory '" + printable(dir.string()) + "'";
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw IoError("cannot create " + where + ": " + error.message());
  const std::filesystem::path trial = dir / ".uinfo-write-test";
  errno = 0;
  if (!std::ofstream(trial)) {
    throw IoError("cannot write in " + where + ": " + (errno ? std::strerror(errno) : "?"));
  }
  std::filesystem::remove(trial, error);
}

// The exit status for the exception being handled, after one line on stderr; main's
// function-try-block ends with it:
//   int main(int argc, char** argv) try { ... } catch (...) { return program::failed(name); }
inline int failed(const char* program) {
  const auto fail = [&](const std::string& what, int status) {
    std::string line = what;
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';  // a message is one line (an architecture takes two)
    }
    std::fprintf(stderr, "%s: %s\n", program, line.c_str());
    return status;
  };
  const int writing = detail::running ? run_failed : bad_input;
  try {
    throw;
  } catch (const Diverged& e) {
    return fail(e.what(), run_failed);
  } catch (const IoError& e) {
    return fail(e.what(), writing);
  } catch (const Error& e) {  // a shape, a value or a label that is not usable
    return fail(e.what(), bad_input);
  } catch (const std::filesystem::filesystem_error& e) {
    return fail(e.what(), writing);
  } catch (const std::exception& e) {
    return fail("internal error: " + std::string(e.what()), run_failed);
  } catch (...) {
    return fail("internal error: an exception of unknown type", run_failed);
  }
}

}  // namespace uinfo::program
