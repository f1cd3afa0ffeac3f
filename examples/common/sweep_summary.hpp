// The learning-rate x batch-size sweep's summary, read back from its info.csv files (one per
// shard when the sweep was split): per configuration and decoder, the final information over
// seeds, the epoch of peak colour information, and the colour information at equal progress.
#pragma once

#include <uinfo/uinfo.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/csv_table.hpp"

namespace checkerboard {

// One configuration's summary over seeds.
struct Summary {
  double lr;
  long batch;
  std::string decoder;
  std::vector<double> final_colour{}, final_direction{}, final_accuracy{};
  std::vector<double> progress_colour{},
      progress_epoch{};                         // seeds that reached the target accuracy
  double peak_colour = -1e300, peak_epoch = 0;  // of the mean curve over seeds
};

namespace detail {
// Bits and task accuracy per label, at one epoch of one seed.
using Labels = std::map<std::string, std::pair<double, double>>;

// The label's point; a row missing means the file lost it (it was cut, or edited).
inline const std::pair<double, double>& point(const Labels& labels, const std::string& label,
                                              const std::string& where) {
  const auto found = labels.find(label);
  if (found == labels.end()) {
    throw uinfo::IoError("the sweep's rows have no '" + label + "' measurement for " + where +
                         "; expected one per label and epoch (is an info.csv truncated?)");
  }
  return found->second;
}
}  // namespace detail

// Reads the rows of info.csv files back and summarises each (lr, batch, decoder). Throws IoError
// for rows that a sweep of `epochs` epochs cannot have written.
inline std::vector<Summary> summarise(const std::vector<uinfo::csv::Table>& tables, int epochs,
                                      double target_accuracy) {
  using Key = std::tuple<double, long, std::string>;
  // per configuration, seed and epoch
  std::map<Key, std::map<std::uint64_t, std::map<double, detail::Labels>>> points;
  for (const auto& t : tables) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      const auto batch = static_cast<long>(t.whole(i, "batch", 1, 1L << 40));
      const Key key{t.number(i, "lr"), batch, t.text(i, "decoder")};
      points[key][t.whole(i, "seed", 0)][t.number(i, "epoch")][t.text(i, "label")] = {
          t.number(i, "bits"), t.number(i, "task_accuracy")};
    }
  }
  std::vector<Summary> summaries;
  for (const auto& [key, seeds] : points) {
    Summary s{.lr = std::get<0>(key), .batch = std::get<1>(key), .decoder = std::get<2>(key)};
    std::map<double, std::vector<double>> colour_by_epoch;
    for (const auto& [seed, epochs_of_seed] : seeds) {
      const std::string run = "seed " + std::to_string(seed) + " of lr " + uinfo::shortest(s.lr) +
                              ", batch " + std::to_string(s.batch) + ", decoder " +
                              uinfo::printable(s.decoder);
      const auto& last = epochs_of_seed.rbegin();
      if (last->first != epochs) {
        throw uinfo::IoError(run + " ends at epoch " + uinfo::shortest(last->first) +
                             "; expected " + std::to_string(epochs) + " (an interrupted shard?)");
      }
      const std::string at_end = run + " at epoch " + std::to_string(epochs);
      s.final_colour.push_back(detail::point(last->second, "colour", at_end).first);
      s.final_direction.push_back(detail::point(last->second, "direction", at_end).first);
      s.final_accuracy.push_back(detail::point(last->second, "colour", at_end).second);
      bool reached = false;
      for (const auto& [epoch, labels] : epochs_of_seed) {
        const auto& [colour, accuracy] =
            detail::point(labels, "colour", run + " at epoch " + uinfo::shortest(epoch));
        colour_by_epoch[epoch].push_back(colour);
        if (!reached && accuracy >= target_accuracy) {
          reached = true;
          s.progress_colour.push_back(colour);
          s.progress_epoch.push_back(epoch);
        }
      }
    }
    for (const auto& [epoch, values] : colour_by_epoch) {
      const double mean = uinfo::mean_and_deviation(values).mean;
      if (mean > s.peak_colour) {
        s.peak_colour = mean;
        s.peak_epoch = epoch;
      }
    }
    summaries.push_back(std::move(s));
  }
  return summaries;
}

}  // namespace checkerboard
