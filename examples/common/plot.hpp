// Renders a PNG with gnuplot. The script is kept beside the figure (DIR/NAME.gp) so a person can
// restyle and re-run it; without gnuplot the run still succeeds and says how to get the figure.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace uinfo::plot {

// `script` draws into the terminal set here; returns whether the PNG was made.
inline bool render_png(const std::filesystem::path& png, const std::string& script,
                       int width = 1000, int height = 600) {
  const std::filesystem::path figure = std::filesystem::absolute(png);
  std::filesystem::path script_path = figure;
  script_path.replace_extension(".gp");
  {
    std::ofstream out(script_path);
    out << "set terminal pngcairo size " << width << "," << height
        << " enhanced font 'DejaVu Sans,11'\n"
        << "set output '" << figure.filename().string() << "'\n"
        << script;
  }
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "gnuplot not found: wrote %s but no PNG (apt-get install gnuplot-nox)\n",
                 script_path.string().c_str());
    return false;
  }
  const std::string command = "cd '" + figure.parent_path().string() + "' && gnuplot '" +
                              script_path.filename().string() + "'";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "gnuplot failed on %s\n", script_path.string().c_str());
    return false;
  }
  return true;
}

}  // namespace uinfo::plot
