// A progress bar on standard error for long runs: redrawn in place on a terminal, a line per
// 10% otherwise (so logs stay readable).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace uinfo {

class ProgressBar {
 public:
  ProgressBar(long total, std::string label, bool enabled = true)
      : total_(total > 0 ? total : 1),
        label_(std::move(label)),
        enabled_(enabled),
        terminal_(isatty(fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { finish(); }

  // Marks `units` more of the work done; `note` (e.g. the latest accuracy) is shown beside the bar.
  void advance(long units = 1, const std::string& note = "") {
    done_ = std::min(total_, done_ + units);
    if (!enabled_) return;
    const long percent = 100 * done_ / total_;
    if (terminal_) {
      draw(note, '\r');
    } else if (percent / 10 > last_decile_ || done_ == total_) {
      last_decile_ = percent / 10;
      draw(note, '\n');
    }
  }

  void finish() {
    if (enabled_ && terminal_ && !finished_) std::fputc('\n', stderr);
    finished_ = true;
  }

 private:
  // On a terminal, '\r' returns to the line's start to redraw it; in a log, each draw is a line.
  void draw(const std::string& note, char end) {
    constexpr long width = 30;
    const long filled = width * done_ / total_;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                            std::string(static_cast<std::size_t>(width - filled), '.');
    std::fprintf(stderr, "%s%s [%s] %3ld%% %6.1fs %s%s", end == '\r' ? "\r" : "", label_.c_str(),
                 bar.c_str(), 100 * done_ / total_, seconds, note.c_str(), end == '\n' ? "\n" : "");
    std::fflush(stderr);
  }

  long total_;
  long done_ = 0;
  long last_decile_ = -1;
  std::string label_;
  bool enabled_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace uinfo
