// What every probing experiment records, and when: one row per (probe time, layer, label,
// decoder), measured before the first step, at chosen fractions of the first epochs (where the
// representations move fast) and after every epoch.
#pragma once

#include <uinfo/uinfo.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/csv_table.hpp"

namespace uinfo::probing {

struct Measurement {
  double epoch;  // since training began, counting every phase
  int layer;     // hidden layer, from 1
  Index units;
  std::string label, decoder;
  UsableInformation info;
  double task_accuracy;  // of the network's output on its task, on held-out samples
  std::optional<FiniteSampleCorrection> corrected{};
};

// The decoder families a program's --decoder names: one family, or "both" (linear and mlp).
inline std::vector<DecoderFamily> decoder_families(const std::string& decoder) {
  if (decoder == "both") return {DecoderFamily::linear, DecoderFamily::mlp};
  return {decoder_family_named(decoder)};
}

inline constexpr const char* decoder_choices =
    "linear, mlp, both (linear and mlp), authors or authors-linear (Kleinman, Chandrasekaran & "
    "Kao's decoder protocol: slow)";

inline bool is_decoder_choice(const std::string& decoder) {
  try {
    decoder_families(decoder);
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

// --decoder-l2: "auto" (chosen from the data: empty) or a fixed penalty >= 0; nullopt inside an
// optional if the text is neither.
inline std::optional<std::optional<double>> decoder_l2_named(const std::string& text) {
  if (text == "auto") return std::optional<double>{};
  char* end = nullptr;
  const double l2 = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(l2 >= 0) || !std::isfinite(l2)) return std::nullopt;
  return std::optional<double>(l2);
}

// What info.csv records of a measurement, as JSON: how the ranks of an MPI run send them to rank
// 0 (ranks.hpp), in MessagePack, where a double keeps all its bits.
inline void to_json(nlohmann::json& json, const Measurement& m) {
  json = {{"epoch", m.epoch},
          {"layer", m.layer},
          {"units", m.units},
          {"label", m.label},
          {"decoder", m.decoder},
          {"bits", m.info.bits},
          {"standard_error_bits", m.info.standard_error_bits},
          {"accuracy", m.info.accuracy},
          {"h_bits", m.info.h_bits},
          {"n_train", m.info.n_train},
          {"n_test", m.info.n_test},
          {"iterations", m.info.iterations},
          {"task_accuracy", m.task_accuracy},
          {"l2", m.info.l2},
          {"l2_selection", m.info.l2_selection}};
  if (m.corrected) {
    json["corrected"] = {{"bits", m.corrected->bits},
                         {"standard_error_bits", m.corrected->standard_error_bits},
                         {"plain_bits", m.corrected->plain_bits},
                         {"excess_bits_times_n", m.corrected->excess_bits_times_n}};
  }
}

inline void from_json(const nlohmann::json& json, Measurement& m) {
  json.at("epoch").get_to(m.epoch);
  json.at("layer").get_to(m.layer);
  json.at("units").get_to(m.units);
  json.at("label").get_to(m.label);
  json.at("decoder").get_to(m.decoder);
  json.at("bits").get_to(m.info.bits);
  json.at("standard_error_bits").get_to(m.info.standard_error_bits);
  json.at("accuracy").get_to(m.info.accuracy);
  json.at("h_bits").get_to(m.info.h_bits);
  json.at("n_train").get_to(m.info.n_train);
  json.at("n_test").get_to(m.info.n_test);
  json.at("iterations").get_to(m.info.iterations);
  json.at("task_accuracy").get_to(m.task_accuracy);
  json.at("l2").get_to(m.info.l2);
  json.at("l2_selection").get_to(m.info.l2_selection);
  if (json.contains("corrected")) {
    const nlohmann::json& c = json.at("corrected");
    m.corrected = FiniteSampleCorrection{};
    c.at("bits").get_to(m.corrected->bits);
    c.at("standard_error_bits").get_to(m.corrected->standard_error_bits);
    c.at("plain_bits").get_to(m.corrected->plain_bits);
    c.at("excess_bits_times_n").get_to(m.corrected->excess_bits_times_n);
  }
}

// Wall time of probed runs and the part of it spent probing (forward passes of the probe samples,
// decoder fits), to show what probing costs beside training. Sums over runs.
struct Timing {
  double total_seconds = 0, probe_seconds = 0;

  Timing& operator+=(const Timing& other) {
    total_seconds += other.total_seconds;
    probe_seconds += other.probe_seconds;
    return *this;
  }
  double probe_share() const { return total_seconds > 0 ? probe_seconds / total_seconds : 0; }
};

// Runs f() and adds its wall time to `seconds`.
template <class F>
void add_wall_time(double& seconds, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Appends what `probe` measures in `net` now; `hidden_layer(index)` numbers the network's layer
// `index` as the experiment reports it.
template <class Probe, class Net, class Number>
void record(std::vector<Measurement>& rows, Probe& probe, Net& net, double epoch,
            double task_accuracy, Number hidden_layer) {
  for (ProbeMeasurement& m : probe.measure(net)) {
    rows.push_back({epoch, hidden_layer(m.layer), m.units, m.label, to_string(m.decoder),
                    std::move(m.info), task_accuracy, m.corrected});
  }
}

// fit() callbacks of one phase of a probed run: `measure(epoch)` after the steps that complete the
// fractional epochs listed in `early` (e.g. 0.125 for an eighth of the first epoch) and after every
// epoch, counting the `epochs_before` of earlier phases; `epoch_done()` after every epoch (for a
// progress bar). The caller measures at epoch 0 itself.
template <class Net>
class ProbeSchedule {
 public:
  ProbeSchedule(const std::function<void(double)>& measure, std::span<const double> early,
                int epochs_before, int epochs, Index steps_per_epoch,
                const std::function<void()>& epoch_done)
      : measure_(measure),
        epochs_before_(epochs_before),
        steps_(steps_per_epoch),
        epoch_done_(epoch_done) {
    for (const double e : early) {
      const double into = e - epochs_before;
      // Whole epochs are measured at the epoch's end anyway.
      if (into > 0 && into < epochs && into != static_cast<int>(into)) {
        early_steps_.push_back(static_cast<Index>(into * static_cast<double>(steps_)));
      }
    }
  }

  void on_step_end(const StepInfo& step, Net&) {
    const Index done = step.global_step + 1;
    if (std::find(early_steps_.begin(), early_steps_.end(), done) == early_steps_.end()) return;
    measure_(epochs_before_ + static_cast<double>(done) / static_cast<double>(steps_));
  }

  void on_epoch_end(const EpochRecord& record, Net&) {
    measure_(epochs_before_ + record.epoch + 1.0);
    epoch_done_();
  }

 private:
  const std::function<void(double)>& measure_;
  std::vector<Index> early_steps_;  // global steps within the phase after which to probe
  int epochs_before_;
  Index steps_;
  const std::function<void()>& epoch_done_;
};

// The columns write_measurement() fills, after the caller's own.
inline std::vector<std::string> measurement_columns(std::vector<std::string> leading) {
  for (const char* c :
       {"seed", "epoch", "layer", "units", "label", "decoder", "bits", "standard_error_bits",
        "accuracy", "h_bits", "n_train", "n_test", "iterations", "task_accuracy", "l2",
        "l2_selection", "corrected_bits", "corrected_standard_error_bits"}) {
    leading.emplace_back(c);
  }
  return leading;
}

template <class... Leading>
void write_measurement(CsvWriter& csv, std::uint64_t seed, const Measurement& m,
                       const Leading&... leading) {
  const auto corrected = [&](double FiniteSampleCorrection::*field) {
    return m.corrected ? shortest((*m.corrected).*field) : std::string();
  };
  csv.row(leading..., seed, m.epoch, m.layer, m.units, m.label, m.decoder, m.info.bits,
          m.info.standard_error_bits, m.info.accuracy, m.info.h_bits, m.info.n_train, m.info.n_test,
          m.info.iterations, m.task_accuracy, m.info.l2, m.info.l2_selection,
          corrected(&FiniteSampleCorrection::bits),
          corrected(&FiniteSampleCorrection::standard_error_bits));
}

// Row i of an info.csv that write_measurement() wrote, as it was before: every number it holds
// reads back to the same bits (shortest), and the correction's two terms the file does not hold
// are zero.
inline Measurement read_measurement(const csv::Table& t, std::size_t i) {
  Measurement m;
  const auto whole = [&](const char* column) {
    return static_cast<Index>(t.whole(i, column, 0, std::numeric_limits<Index>::max()));
  };
  m.epoch = t.number(i, "epoch");
  m.layer = static_cast<int>(t.whole(i, "layer", 0, std::numeric_limits<int>::max()));
  m.units = whole("units");
  m.label = t.text(i, "label");
  m.decoder = t.text(i, "decoder");
  m.info.bits = t.number(i, "bits");
  m.info.standard_error_bits = t.number(i, "standard_error_bits");
  m.info.accuracy = t.number(i, "accuracy");
  m.info.h_bits = t.number(i, "h_bits");
  m.info.n_train = whole("n_train");
  m.info.n_test = whole("n_test");
  m.info.iterations =
      static_cast<int>(t.whole(i, "iterations", 0, std::numeric_limits<int>::max()));
  m.task_accuracy = t.number(i, "task_accuracy");
  m.info.l2 = t.number(i, "l2");
  m.info.l2_selection = t.text(i, "l2_selection");
  if (!t.text(i, "corrected_bits").empty()) {
    m.corrected = FiniteSampleCorrection{};
    m.corrected->bits = t.number(i, "corrected_bits");
    m.corrected->standard_error_bits = t.number(i, "corrected_standard_error_bits");
  }
  return m;
}

}  // namespace uinfo::probing
