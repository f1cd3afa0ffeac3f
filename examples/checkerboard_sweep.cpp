// uinfo-checkerboard-sweep: Experiment 2, learning rate x batch size. Every configuration trains
// the checkerboard network on direction over several seeds, probing the bottleneck for colour and
// direction after every epoch. Per configuration it reports the final information (mean and sd
// over seeds), the epoch of peak colour information, the final task accuracy, and the colour
// information at equal training progress: the first epoch at which the validation accuracy reaches
// a fraction of the noise ceiling, since a slow configuration at a fixed epoch has simply not
// trained yet. The jobs scale out as shards.hpp and ranks.hpp say: over a Slurm job array
// (`--shard i/n` or `auto`, then `--merge`) or the ranks of an MPI run.
#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/checkerboard_runs.hpp"
#include "common/command.hpp"
#include "common/csv_table.hpp"
#include "common/outcome.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"
#include "common/ranks.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"
#include "common/shards.hpp"
#include "common/sweep_summary.hpp"

namespace {

using checkerboard::Summary;

struct Settings {
  checkerboard::NetworkSettings network;
  std::string lrs = "0.001,0.005,0.02,0.05,0.2";
  std::string batches = "8,32,128,512";
  uinfo::cli::Regime regime{.epochs = 40};  // its lr and batch are swept instead
  uinfo::cli::Seeds seeds{.count = 4, .first = 1};
  double progress = 0.95;  // equal progress: validation accuracy >= progress x ceiling accuracy
  uinfo::shards::Flags scale_out;
  uinfo::cli::Output output{.dir = "results/checkerboard-sweep"};
};

template <class T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> values;
  std::stringstream in(text);
  for (std::string field; std::getline(in, field, ',');) {
    std::istringstream parse(field);
    T value{};
    if (!(parse >> value) || !parse.eof() || value <= 0) return {};
    values.push_back(value);
  }
  return values;
}

struct Job {
  double lr;
  long batch;
  std::uint64_t seed;
};

std::vector<Job> all_jobs(const Settings& s) {
  std::vector<Job> jobs;
  for (const double lr : parse_list<double>(s.lrs))
    for (const long batch : parse_list<long>(s.batches))
      for (int i = 0; i < s.seeds.count; ++i) jobs.push_back({lr, batch, s.seeds.first + i});
  return jobs;
}

// A job's leading fields in info.csv, which name it there.
std::string job_key(const Job& job) {
  return uinfo::shortest(job.lr) + "," + std::to_string(job.batch) + "," + std::to_string(job.seed);
}

const std::vector<std::string> columns = uinfo::probing::measurement_columns({"lr", "batch"});

// Trains the jobs `remaining` names; rank 0 writes their rows to the journal in job order as they
// finish.
void run_jobs(const Settings& s, const uinfo::ranks::Ranks& ranks, const std::vector<Job>& jobs,
              const std::vector<std::size_t>& remaining, uinfo::journal::Journal* journal) {
  uinfo::ProgressBar bar(static_cast<long>(remaining.size()) * s.regime.epochs, "sweeping",
                         !s.output.quiet && ranks.leader());
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  checkerboard::with_network(s.network, [&]<class Net>() {
    const auto run = [&](std::size_t j) {
      const Job& job = jobs[remaining[j]];
      const checkerboard::Data data = checkerboard::make_data(s.network, job.seed);
      Net net = checkerboard::make_network<Net>(s.network, job.seed);
      auto probe =
          checkerboard::make_probe<checkerboard::BottleneckProbe<Net>>(s.network, data, job.seed);
      checkerboard::Phase phase = checkerboard::phase_of(s.regime);
      phase.lr = job.lr;
      phase.batch = job.batch;
      const checkerboard::Phase phases[] = {phase};
      return checkerboard::train_and_probe(net, data, probe, phases, job.seed, {}, epoch_done);
    };
    uinfo::ranks::for_each_job_in_order(
        ranks, remaining.size(), s.network.threads, run, [&](std::size_t j, const auto& rows) {
          const Job& job = jobs[remaining[j]];
          for (const auto& m : rows)
            uinfo::probing::write_measurement(journal->csv(), job.seed, m, job.lr, job.batch);
          journal->commit(job_key(job));
          if (ranks.distributed()) bar.advance(s.regime.epochs);  // the ranks' epochs are unseen
        });
  });
  bar.finish();
}

// Mean and sd, or NaN for a list that is empty (no seed reached the target).
std::pair<double, double> mean_sd(const std::vector<double>& values) {
  if (values.empty()) return {std::nan(""), std::nan("")};
  const auto [mean, deviation] = uinfo::mean_and_deviation(values);
  return {mean, deviation};
}

void write_summary(const std::vector<Summary>& summaries, const std::filesystem::path& dir) {
  uinfo::CsvWriter csv(dir / "summary.csv",
                       {"lr", "batch", "decoder", "seeds", "final_colour_bits", "final_colour_sd",
                        "final_direction_bits", "final_direction_sd", "final_task_accuracy",
                        "peak_colour_bits", "peak_colour_epoch", "seeds_at_progress",
                        "progress_epoch", "progress_colour_bits", "progress_colour_sd"});
  for (const Summary& s : summaries) {
    const auto [colour, colour_sd] = mean_sd(s.final_colour);
    const auto [direction, direction_sd] = mean_sd(s.final_direction);
    const auto [progress, progress_sd] = mean_sd(s.progress_colour);
    csv.row(s.lr, s.batch, s.decoder, s.final_colour.size(), colour, colour_sd, direction,
            direction_sd, mean_sd(s.final_accuracy).first, s.peak_colour, s.peak_epoch,
            s.progress_colour.size(), mean_sd(s.progress_epoch).first, progress, progress_sd);
  }
}

// Per configuration, keyed "lr/batch/decoder", for run.json.
uinfo::record::Json summary_json(const std::vector<Summary>& summaries) {
  uinfo::record::Json o = uinfo::record::Json::object();
  for (const Summary& s : summaries) {
    const auto [colour, colour_sd] = mean_sd(s.final_colour);
    const auto [progress, progress_sd] = mean_sd(s.progress_colour);
    o[uinfo::shortest(s.lr) + "/" + std::to_string(s.batch) + "/" + s.decoder] = {
        {"final_colour_bits", colour},
        {"final_colour_sd", colour_sd},
        {"final_direction_bits", mean_sd(s.final_direction).first},
        {"final_task_accuracy", mean_sd(s.final_accuracy).first},
        {"peak_colour_epoch", s.peak_epoch},
        {"seeds_at_progress", s.progress_colour.size()},
        {"progress_colour_bits", progress}};
  }
  return o;
}

void print_summary(const std::vector<Summary>& summaries, double target_accuracy) {
  std::printf("%-7s %5s %-7s %17s %17s %8s %10s %22s\n", "lr", "batch", "decoder", "final colour",
              "final direction", "accuracy", "peak epoch", "colour at progress");
  for (const Summary& s : summaries) {
    const auto [colour, colour_sd] = mean_sd(s.final_colour);
    const auto [direction, direction_sd] = mean_sd(s.final_direction);
    const auto [progress, progress_sd] = mean_sd(s.progress_colour);
    char at_progress[32] = "   not reached";
    if (!s.progress_colour.empty())
      std::snprintf(at_progress, sizeof at_progress, "%8.3f +- %5.3f", progress, progress_sd);
    std::printf("%-7g %5ld %-7s %8.3f +- %5.3f %8.3f +- %5.3f %8.3f %10g %s (%zu/%zu)\n", s.lr,
                s.batch, s.decoder.c_str(), colour, colour_sd, direction, direction_sd,
                mean_sd(s.final_accuracy).first, s.peak_epoch, at_progress,
                s.progress_colour.size(), s.final_colour.size());
  }
  std::printf("colour at progress: at the first epoch whose validation accuracy reached %.3f\n",
              target_accuracy);
}

// Two heat maps (final colour information; colour information at equal progress), one cell per
// configuration, for the linear decoder (or the first decoder present).
void plot_heatmap(const std::vector<Summary>& summaries, double ceiling_bits,
                  const std::filesystem::path& dir) {
  std::vector<double> lrs;
  std::vector<long> batches;
  for (const Summary& s : summaries) {
    if (std::find(lrs.begin(), lrs.end(), s.lr) == lrs.end()) lrs.push_back(s.lr);
    if (std::find(batches.begin(), batches.end(), s.batch) == batches.end())
      batches.push_back(s.batch);
  }
  std::sort(lrs.begin(), lrs.end());
  std::sort(batches.begin(), batches.end());
  const std::string decoder = summaries.front().decoder;
  std::ofstream data(dir / "heatmap.dat");
  for (const int panel : {0, 1}) {
    data << "# " << (panel == 0 ? "final colour bits" : "colour bits at equal progress")
         << ": lr index, batch index, mean, sd, seeds counted, seeds run\n";
    for (const Summary& s : summaries) {
      if (s.decoder != decoder) continue;
      const auto x = std::find(lrs.begin(), lrs.end(), s.lr) - lrs.begin();
      const auto y = std::find(batches.begin(), batches.end(), s.batch) - batches.begin();
      const auto& values = panel == 0 ? s.final_colour : s.progress_colour;
      const auto [mean, sd] = mean_sd(values);
      data << x << ' ' << y << ' ' << mean << ' ' << sd << ' ' << values.size() << ' '
           << s.final_colour.size() << '\n';
    }
    data << "\n\n";
  }
  data.close();
  std::string xtics = "set xtics (", ytics = "set ytics (";
  for (std::size_t i = 0; i < lrs.size(); ++i)
    xtics += std::string(i ? ", '" : "'") + uinfo::shortest(lrs[i]) + "' " + std::to_string(i);
  for (std::size_t i = 0; i < batches.size(); ++i)
    ytics += std::string(i ? ", '" : "'") + std::to_string(batches[i]) + "' " + std::to_string(i);
  std::string script = xtics + ")\n" + ytics + ")\n";
  script +=
      "set xlabel 'learning rate'\nset ylabel 'batch size'\nset cblabel 'bits'\n"
      "set cbrange [0:" +
      uinfo::shortest(ceiling_bits) +
      "]\nset palette defined (0 '#fff5eb', 0.5 '#fd8d3c', 1 '#7f2704')\n"
      "set key off\nset xrange [-0.5:" +
      std::to_string(lrs.size() - 0.5) +
      "]\nset yrange [-0.5:" + std::to_string(batches.size() - 0.5) + "]\n";
  script +=
      "set multiplot layout 1,2 title 'uinfo-checkerboard-sweep: colour information in the "
      "bottleneck (" +
      decoder + " decoder, mean over seeds)'\n";
  for (const int panel : {0, 1}) {
    script += std::string("set title '") +
              (panel == 0 ? "at the last epoch"
                          : "when validation accuracy first reaches the "
                            "target") +
              "'\n";
    // A cell no seed reached the target in is grey, labelled so (its mean would be NaN, which
    // gnuplot prints as "nan"); one some seeds missed says how many did.
    const std::string index = "'heatmap.dat' index " + std::to_string(panel);
    script += "plot " + index +
              " using 1:2:(0.5):(0.5):($5 > 0 ? $3 : 1/0) with boxxyerror fs solid noborder "
              "fc palette, \\\n  " +
              index +
              " using ($5 > 0 ? 1/0 : $1):2:(0.5):(0.5) with boxxyerror fs solid noborder "
              "fc rgb '#d9d9d9', \\\n  " +
              index +
              " using 1:2:($5 == 0 ? sprintf('not reached\\n(0 of %d seeds)', $6) : "
              "$5 < $6 ? sprintf('%.2f ±%.2f\\n(%d of %d seeds)', $3, $4, $5, $6) : "
              "sprintf('%.2f\\n±%.2f', $3, $4)) with labels font ',9'\n";
  }
  script += "unset multiplot\n";
  uinfo::plot::render_png(dir / "heatmap.png", script, 1300, 560);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Command command{
      "uinfo-checkerboard-sweep",
      "Experiment 2: learning rate x batch size. Trains the checkerboard network on direction\n"
      "for every configuration and seed, probing the bottleneck for colour and direction after\n"
      "every epoch. Writes OUT/info.csv, OUT/summary.csv (per configuration: final information,\n"
      "peak colour epoch, accuracy, colour at equal progress), OUT/run.json and OUT/heatmap.png.\n"
      "With --shard i/n (or auto, in a Slurm job array) only the i-th of n slices runs, into\n"
      "OUT/shards/i-of-n/; then --merge with the same OUT joins them and makes the summary and\n"
      "the figure. Under mpirun the ranks share the jobs and rank 0 writes the files."};
  checkerboard::add_options(command, s.network);
  command.setting("--lrs", s.lrs, "learning rates, comma-separated");
  command.setting("--batches", s.batches, "batch sizes, comma-separated");
  uinfo::cli::add_options(command, s.regime, uinfo::cli::Swept::lr_and_batch);
  uinfo::cli::add_options(command, s.seeds, "seeds per configuration");
  command.setting("--progress", s.progress,
                  "equal progress: the first epoch whose validation accuracy reaches this "
                  "fraction of the noise ceiling's accuracy");
  uinfo::shards::add_options(command, s.scale_out);
  uinfo::cli::add_options(command, s.output);
  uinfo::cli::add_resume_option(command, s.output);
  command.parse(argc, argv);
  checkerboard::check_options(command, s.network);
  if (parse_list<double>(s.lrs).empty() || parse_list<long>(s.batches).empty())
    command.fail("--lrs and --batches must be comma-separated positive numbers");
  uinfo::cli::check(command, s.regime, uinfo::cli::Swept::lr_and_batch);
  uinfo::cli::check(command, s.seeds);
  if (s.progress <= 0 || s.progress > 1) command.fail("--progress must lie in (0, 1]");
  const uinfo::shards::Shard shard = uinfo::shards::resolve(command, s.scale_out, s.output.resume);

  const std::filesystem::path out = s.output.dir;
  const auto ceiling = uinfo::checkerboard_ceiling(s.network.noise);
  const double target_accuracy = s.progress * ceiling.accuracy;
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto jobs = all_jobs(s);
  uinfo::record::Json record = command.record();
  try {
    const uinfo::ranks::Ranks ranks(argc, argv);
    std::vector<std::string> keys;
    for (const Job& job : jobs) keys.push_back(job_key(job));
    if (!uinfo::shards::run_part(ranks, shard, s.scale_out, s.output.resume, out, columns, 3, keys,
                                 record, seconds, [&](const auto& remaining, auto* journal) {
                                   run_jobs(s, ranks, jobs, remaining, journal);
                                 })) {
      return 0;
    }
    const auto summaries = checkerboard::summarise({uinfo::csv::Table(out / "info.csv")},
                                                   s.regime.epochs, target_accuracy);
    write_summary(summaries, out);
    plot_heatmap(summaries, ceiling.bits, out);
    print_summary(summaries, target_accuracy);
    record["noise_ceiling_bits"] = ceiling.bits;
    record["target_accuracy"] = target_accuracy;
    record["jobs"] = jobs.size();
    record["summary"] = summary_json(summaries);
    record["wall_seconds"] = seconds();
    uinfo::record::write(record, out / "run.json");
  } catch (...) {
    return uinfo::program::failed("uinfo-checkerboard-sweep");
  }
  return 0;
}
