// uinfo-checkerboard-sweep: Experiment 2, learning rate x batch size. Every configuration trains
// the checkerboard network on direction over several seeds, probing the bottleneck for colour and
// direction after every epoch. Per configuration it reports the final information (mean and sd
// over seeds), the epoch of peak colour information, the final task accuracy, and the colour
// information at equal training progress: the first epoch at which the validation accuracy reaches
// a fraction of the noise ceiling, since a slow configuration at a fixed epoch has simply not
// trained yet. `--shard i/n` runs the i-th of n slices of the jobs (for a cluster's job array);
// `--merge` joins the slices' results.
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
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/checkerboard_runs.hpp"
#include "common/command.hpp"
#include "common/csv_table.hpp"
#include "common/parallel.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"
#include "common/record.hpp"
#include "common/regime.hpp"

namespace {

struct Settings {
  checkerboard::NetworkSettings network;
  std::string lrs = "0.001,0.005,0.02,0.05,0.2";
  std::string batches = "8,32,128,512";
  uinfo::cli::Regime regime{.epochs = 40};  // its lr and batch are swept instead
  uinfo::cli::Seeds seeds{.count = 4, .first = 1};
  double progress = 0.95;  // equal progress: validation accuracy >= progress x ceiling accuracy
  std::string shard = "1/1";
  bool merge = false;
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

// Shard i of n takes jobs i-1, i-1+n, ...: configurations of every speed land in every shard.
std::vector<Job> shard_jobs(const std::vector<Job>& jobs, int index, int count) {
  std::vector<Job> mine;
  for (std::size_t j = static_cast<std::size_t>(index - 1); j < jobs.size();
       j += static_cast<std::size_t>(count)) {
    mine.push_back(jobs[j]);
  }
  return mine;
}

const std::vector<std::string> columns = uinfo::probing::measurement_columns({"lr", "batch"});

// Trains every job, writing rows to DIR/info.csv in job order as the jobs finish.
void run_jobs(const Settings& s, const std::vector<Job>& jobs, const std::filesystem::path& dir) {
  uinfo::CsvWriter csv(dir / "info.csv", columns);
  uinfo::ProgressBar bar(static_cast<long>(jobs.size()) * s.regime.epochs, "sweeping",
                         !s.output.quiet);
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  checkerboard::with_network(s.network, [&]<class Net>() {
    uinfo::parallel::for_each_job_in_order(
        jobs.size(), s.network.threads,
        [&](std::size_t j) {
          const Job& job = jobs[j];
          const checkerboard::Data data = checkerboard::make_data(s.network, job.seed);
          Net net = checkerboard::make_network<Net>(s.network, job.seed);
          auto probe = checkerboard::make_probe<checkerboard::BottleneckProbe<Net>>(s.network, data,
                                                                                    job.seed);
          checkerboard::Phase phase = checkerboard::phase_of(s.regime);
          phase.lr = job.lr;
          phase.batch = job.batch;
          const checkerboard::Phase phases[] = {phase};
          return checkerboard::train_and_probe(net, data, probe, phases, job.seed, {}, epoch_done);
        },
        [&](std::size_t j, const auto& rows) {
          const Job& job = jobs[j];
          for (const auto& m : rows)
            uinfo::probing::write_measurement(csv, job.seed, m, job.lr, job.batch);
        });
  });
  bar.finish();
}

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

// Reads the rows of info.csv files back and summarises each (lr, batch, decoder).
std::vector<Summary> summarise(const std::vector<uinfo::csv::Table>& tables, int epochs,
                               double target_accuracy) {
  using Key = std::tuple<double, long, std::string>;
  // bits and task accuracy per (configuration, seed, epoch, label)
  std::map<Key,
           std::map<double, std::map<double, std::map<std::string, std::pair<double, double>>>>>
      points;
  for (const auto& t : tables) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      const Key key{t.number(i, "lr"), static_cast<long>(t.number(i, "batch")),
                    t.text(i, "decoder")};
      points[key][t.number(i, "seed")][t.number(i, "epoch")][t.text(i, "label")] = {
          t.number(i, "bits"), t.number(i, "task_accuracy")};
    }
  }
  std::vector<Summary> summaries;
  for (const auto& [key, seeds] : points) {
    Summary s{.lr = std::get<0>(key), .batch = std::get<1>(key), .decoder = std::get<2>(key)};
    std::map<double, std::vector<double>> colour_by_epoch;
    for (const auto& [seed, epochs_of_seed] : seeds) {
      const auto& last = epochs_of_seed.rbegin();
      if (last->first != epochs) {
        throw uinfo::IoError("seed " + uinfo::shortest(seed) + " of lr " + uinfo::shortest(s.lr) +
                             ", batch " + std::to_string(s.batch) + " ends at epoch " +
                             uinfo::shortest(last->first) + "; expected " + std::to_string(epochs) +
                             " (an interrupted shard?)");
      }
      s.final_colour.push_back(last->second.at("colour").first);
      s.final_direction.push_back(last->second.at("direction").first);
      s.final_accuracy.push_back(last->second.at("colour").second);
      bool reached = false;
      for (const auto& [epoch, labels] : epochs_of_seed) {
        colour_by_epoch[epoch].push_back(labels.at("colour").first);
        if (!reached && labels.at("colour").second >= target_accuracy) {
          reached = true;
          s.progress_colour.push_back(labels.at("colour").first);
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
    std::printf(
        "%-7g %5ld %-7s %8.3f +- %5.3f %8.3f +- %5.3f %8.3f %10g %8.3f +- %5.3f (%zu/%zu)\n", s.lr,
        s.batch, s.decoder.c_str(), colour, colour_sd, direction, direction_sd,
        mean_sd(s.final_accuracy).first, s.peak_epoch, progress, progress_sd,
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
    data << "# " << (panel == 0 ? "final colour bits" : "colour bits at equal progress") << '\n';
    for (const Summary& s : summaries) {
      if (s.decoder != decoder) continue;
      const auto x = std::find(lrs.begin(), lrs.end(), s.lr) - lrs.begin();
      const auto y = std::find(batches.begin(), batches.end(), s.batch) - batches.begin();
      const auto [mean, sd] = mean_sd(panel == 0 ? s.final_colour : s.progress_colour);
      data << x << ' ' << y << ' ' << mean << ' ' << sd << '\n';
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
    script +=
        "plot 'heatmap.dat' index " + std::to_string(panel) + " using 1:2:3 with image, '' index " +
        std::to_string(panel) +
        " using 1:2:($3 == $3 ? sprintf('%.2f\\n±%.2f', $3, $4) : 'not\\nreached') with labels "
        "font ',9'\n";
  }
  script += "unset multiplot\n";
  uinfo::plot::render_png(dir / "heatmap.png", script, 1300, 560);
}

// Joins the shards' info.csv into DIR/info.csv, checking that every shard of one split is there.
std::vector<uinfo::csv::Table> read_shards(const std::filesystem::path& dir) {
  const std::filesystem::path shards = dir / "shards";
  if (!std::filesystem::is_directory(shards)) {
    throw uinfo::IoError("no shards in '" + shards.string() +
                         "'; run with --shard i/n and the same --out first");
  }
  std::set<int> found;
  int count = 0;
  std::vector<uinfo::csv::Table> tables;
  for (const auto& entry : std::filesystem::directory_iterator(shards)) {
    int i = 0, n = 0;
    if (std::sscanf(entry.path().filename().c_str(), "%d-of-%d", &i, &n) != 2) continue;
    if (count != 0 && n != count) {
      throw uinfo::IoError("'" + shards.string() + "' mixes splits into " + std::to_string(count) +
                           " and " + std::to_string(n) + " shards");
    }
    count = n;
    found.insert(i);
    tables.emplace_back(entry.path() / "info.csv");
  }
  if (count == 0 || static_cast<int>(found.size()) != count) {
    std::string missing;
    for (int i = 1; i <= count; ++i)
      if (!found.count(i))
        missing.append(" ").append(std::to_string(i));  // GCC 12 -O3: no -Wrestrict
    throw uinfo::IoError("shards missing from '" + shards.string() +
                         "':" + (count ? missing : std::string(" all")));
  }
  uinfo::CsvWriter merged(dir / "info.csv", columns);
  for (const auto& t : tables)
    for (std::size_t i = 0; i < t.size(); ++i) merged.row_fields(t.row(i));
  return tables;
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
      "With --shard i/n only the i-th of n slices runs, into OUT/shards/i-of-n/; then --merge\n"
      "with the same OUT joins them and makes the summary and the figure."};
  checkerboard::add_options(command, s.network);
  command.setting("--lrs", s.lrs, "learning rates, comma-separated");
  command.setting("--batches", s.batches, "batch sizes, comma-separated");
  uinfo::cli::add_options(command, s.regime, uinfo::cli::Swept::lr_and_batch);
  uinfo::cli::add_options(command, s.seeds, "seeds per configuration");
  command.setting("--progress", s.progress,
                  "equal progress: the first epoch whose validation accuracy reaches this "
                  "fraction of the noise ceiling's accuracy");
  command.option("--shard", s.shard, "run the i-th of n slices of the jobs, written as i/n");
  command.option("--merge", s.merge, "join OUT/shards/*/info.csv, then summarise and plot");
  uinfo::cli::add_options(command, s.output);
  command.parse(argc, argv);
  checkerboard::check_options(command, s.network);
  if (parse_list<double>(s.lrs).empty() || parse_list<long>(s.batches).empty())
    command.fail("--lrs and --batches must be comma-separated positive numbers");
  uinfo::cli::check(command, s.regime, uinfo::cli::Swept::lr_and_batch);
  uinfo::cli::check(command, s.seeds);
  if (s.progress <= 0 || s.progress > 1) command.fail("--progress must lie in (0, 1]");
  int shard = 0, shards = 0;
  char end = 0;
  if (std::sscanf(s.shard.c_str(), "%d/%d%c", &shard, &shards, &end) != 2 || shards < 1 ||
      shard < 1 || shard > shards) {
    command.fail("--shard must be i/n with 1 <= i <= n, e.g. 3/8");
  }
  if (s.merge && shards != 1) command.fail("--merge joins the shards; give it without --shard");

  const std::filesystem::path out = s.output.dir;
  const auto ceiling = uinfo::checkerboard_ceiling(s.network.noise);
  const double target_accuracy = s.progress * ceiling.accuracy;
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto jobs = all_jobs(s);
  uinfo::record::Json record = command.record();
  record["shard"] = s.shard;
  try {
    std::vector<uinfo::csv::Table> tables;
    if (s.merge) {
      tables = read_shards(out);
    } else {
      const std::filesystem::path dir =
          shards == 1 ? out
                      : out / "shards" / (std::to_string(shard) + "-of-" + std::to_string(shards));
      std::filesystem::create_directories(dir);
      const auto mine = shard_jobs(jobs, shard, shards);
      run_jobs(s, mine, dir);
      if (shards > 1) {
        record["jobs"] = mine.size();
        record["wall_seconds"] = seconds();
        uinfo::record::write(record, dir / "run.json");
        std::printf("shard %d of %d: %zu jobs in %s/; merge with --merge --out %s\n", shard, shards,
                    mine.size(), dir.string().c_str(), out.string().c_str());
        return 0;
      }
      tables.emplace_back(out / "info.csv");
    }
    const auto summaries = summarise(tables, s.regime.epochs, target_accuracy);
    write_summary(summaries, out);
    plot_heatmap(summaries, ceiling.bits, out);
    print_summary(summaries, target_accuracy);
    record["noise_ceiling_bits"] = ceiling.bits;
    record["target_accuracy"] = target_accuracy;
    record["jobs"] = jobs.size();
    record["summary"] = summary_json(summaries);
    record["wall_seconds"] = seconds();
    uinfo::record::write(record, out / "run.json");
  } catch (const uinfo::Error& e) {
    std::fprintf(stderr, "uinfo-checkerboard-sweep: %s\n", e.what());
    return 1;
  }
  return 0;
}
