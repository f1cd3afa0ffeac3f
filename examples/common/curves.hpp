// Information curves over training, one per (decoder, label, hidden layer) and seed. Their mean
// over seeds goes to info_mean.csv and to the run record's summary; a gnuplot data file holds
// every seed's curve and the mean, so that a figure can draw the seeds thin and the mean thick.
#pragma once

#include <uinfo/uinfo.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/probing.hpp"
#include "common/record.hpp"

namespace uinfo::probing {

struct Row {
  std::uint64_t seed;
  Measurement m;
};

using Curve = std::tuple<std::string, std::string, int>;  // decoder, label, layer

// Every seed's bits at each probe time, per curve.
inline std::map<Curve, std::map<double, std::vector<double>>> by_curve(
    const std::vector<Row>& rows) {
  std::map<Curve, std::map<double, std::vector<double>>> curves;
  for (const Row& r : rows)
    curves[{r.m.decoder, r.m.label, r.m.layer}][r.m.epoch].push_back(r.m.info.bits);
  return curves;
}

// One curve's mean over seeds at its last probe, and the peak of that mean and when it came.
struct CurveSummary {
  double final_mean = 0, final_sd = 0, peak_mean = -1e300, peak_epoch = 0;
};

inline CurveSummary summary_of(const std::map<double, std::vector<double>>& points) {
  CurveSummary summary;
  for (const auto& [epoch, values] : points) {
    const auto [mean, sd] = mean_and_deviation(values);
    if (mean > summary.peak_mean) {
      summary.peak_mean = mean;
      summary.peak_epoch = epoch;
    }
    summary.final_mean = mean;
    summary.final_sd = sd;
  }
  return summary;
}

// Writes DIR/info_mean.csv (mean and deviation over seeds at each probe time, per curve) and
// returns each curve's summary, keyed "decoder/label/layerN".
inline record::Json summarise(const std::vector<Row>& rows, const std::filesystem::path& dir) {
  CsvWriter csv(dir / "info_mean.csv",
                {"epoch", "layer", "label", "decoder", "mean_bits", "sd_bits", "seeds"});
  record::Json summary = record::Json::object();
  for (const auto& [curve, points] : by_curve(rows)) {
    const auto& [decoder, label, layer] = curve;
    for (const auto& [epoch, values] : points) {
      const auto [mean, sd] = mean_and_deviation(values);
      csv.row(epoch, layer, label, decoder, mean, sd, values.size());
    }
    const CurveSummary s = summary_of(points);
    summary[decoder + "/" + label + "/layer" + std::to_string(layer)] = {
        {"final_bits_mean", s.final_mean},
        {"final_bits_sd", s.final_sd},
        {"peak_bits_mean", s.peak_mean},
        {"peak_epoch", s.peak_epoch}};
  }
  return summary;
}

// DIR/info_curves.dat: one gnuplot data block per (curve, seed), then one per curve with the mean
// and deviation over seeds; lines() names a curve's blocks in a plot command.
class CurveData {
 public:
  CurveData(const std::vector<Row>& rows, const std::filesystem::path& dir) {
    std::map<std::tuple<std::string, std::string, int, std::uint64_t>,
             std::vector<std::pair<double, double>>>
        seeds;
    for (const Row& r : rows)
      seeds[{r.m.decoder, r.m.label, r.m.layer, r.seed}].emplace_back(r.m.epoch, r.m.info.bits);
    std::ofstream data(dir / file);
    int block = 0;
    for (const auto& [key, points] : seeds) {
      const auto& [decoder, label, layer, seed] = key;
      data << "# " << decoder << ' ' << label << " layer " << layer << " seed " << seed << '\n';
      for (const auto& [epoch, bits] : points) data << epoch << ' ' << bits << '\n';
      data << "\n\n";
      seed_blocks_[{decoder, label, layer}].push_back(block++);
    }
    for (const auto& [curve, points] : by_curve(rows)) {
      data << "# mean " << std::get<0>(curve) << ' ' << std::get<1>(curve) << " layer "
           << std::get<2>(curve) << '\n';
      for (const auto& [epoch, values] : points) {
        const auto [mean, sd] = mean_and_deviation(values);
        data << epoch << ' ' << mean << ' ' << sd << '\n';
      }
      data << "\n\n";
      mean_block_[curve] = block++;
    }
  }

  // Plot elements drawing every seed's curve thin and the mean thick, in `colour`; the curve must
  // be one the rows held.
  std::string lines(const Curve& curve, const std::string& colour) const {
    std::string elements;
    for (const int b : seed_blocks_.at(curve)) elements += element(b, 1, colour) + ", ";
    return elements + element(mean_block_.at(curve), 4, colour);
  }

  static constexpr const char* file = "info_curves.dat";

 private:
  static std::string element(int block, int width, const std::string& colour) {
    return "'" + std::string(file) + "' index " + std::to_string(block) +
           " using 1:2 with lines lw " + std::to_string(width) + " lc rgb '" + colour + "'";
  }

  std::map<Curve, std::vector<int>> seed_blocks_;
  std::map<Curve, int> mean_block_;
};

}  // namespace uinfo::probing
