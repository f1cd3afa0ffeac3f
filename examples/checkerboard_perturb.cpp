// uinfo-checkerboard-perturb: Experiment 3, perturbing early training. The first K epochs are
// trained differently, then the standard regime trains for a fixed number of epochs, and the
// bottleneck is probed for colour and direction throughout. The perturbations:
//   slow_start    K epochs at a low learning rate and a large batch;
//   colour_first  K epochs trained to report the colour instead of the direction;
//   pretrained    start from a network another seed trained for K epochs on colour, with its own
//                 initialisation and trials, instead of a random initialisation.
// K = 0 is the unperturbed run, shared by every kind. The paper's claim: an early perturbation can
// leave task-irrelevant information (colour) in the final representation.
#include <uinfo/uinfo.hpp>

#include <algorithm>
#include <chrono>
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

namespace {

using checkerboard::Measurement;
using checkerboard::Phase;
using checkerboard::Task;

struct Settings {
  checkerboard::NetworkSettings network;
  uinfo::cli::Regime regime{.lr = 0.05, .batch = 32, .epochs = 40};  // the standard regime
  std::string ks = "0,1,2,5,10,20";
  std::string kinds = "slow_start,colour_first,pretrained";
  double slow_lr = 0.005;
  long slow_batch = 256;
  // Seeds differ a lot in what the bottleneck keeps (sd ~0.25 bits).
  uinfo::cli::Seeds seeds{.count = 10, .first = 1};
  uinfo::shards::Flags scale_out;
  uinfo::cli::Output output{.dir = "results/checkerboard-perturb"};
};

const char* const known_kinds[] = {"slow_start", "colour_first", "pretrained"};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> fields;
  std::stringstream in(text);
  for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
  return fields;
}

// The K values, or empty if one is not a whole number >= 0.
std::vector<int> parse_ks(const std::string& text) {
  std::vector<int> ks;
  for (const std::string& field : split(text)) {
    std::size_t used = 0;
    int k = -1;
    try {
      k = std::stoi(field, &used);
    } catch (const std::exception&) {
    }
    if (k < 0 || used != field.size()) return {};
    ks.push_back(k);
  }
  return ks;
}

struct Job {
  std::string kind;  // "none" for K = 0
  int k;
  std::uint64_t seed;
};

std::vector<Job> all_jobs(const Settings& s) {
  std::vector<Job> jobs;
  for (int i = 0; i < s.seeds.count; ++i) {
    const std::uint64_t seed = s.seeds.first + i;
    for (const int k : parse_ks(s.ks)) {
      if (k == 0) {
        jobs.push_back({"none", 0, seed});
        continue;
      }
      for (const std::string& kind : split(s.kinds)) jobs.push_back({kind, k, seed});
    }
  }
  return jobs;
}

// The seed whose network a `pretrained` run starts from: far from every seed of the run.
std::uint64_t donor_seed(std::uint64_t seed) {
  return seed + 1'000'000;
}

template <class Net>
std::vector<Measurement> run_job(const Settings& s, const Job& job,
                                 const std::function<void()>& epoch_done) {
  const checkerboard::Data data = checkerboard::make_data(s.network, job.seed);
  const Phase standard = checkerboard::phase_of(s.regime);
  std::vector<Phase> phases;
  Net net = checkerboard::make_network<Net>(s.network, job.seed);
  if (job.kind == "slow_start") {
    Phase slow = standard;
    slow.epochs = job.k;
    slow.lr = s.slow_lr;
    slow.batch = s.slow_batch;
    phases.push_back(slow);
  } else if (job.kind == "colour_first") {
    Phase colour = standard;
    colour.epochs = job.k;
    colour.task = Task::colour;
    phases.push_back(colour);
  } else if (job.kind == "pretrained") {
    const std::uint64_t donor = donor_seed(job.seed);
    const checkerboard::Data donor_data = checkerboard::make_data(s.network, donor);
    net = checkerboard::make_network<Net>(s.network, donor);
    Phase colour = standard;
    colour.epochs = job.k;
    colour.task = Task::colour;
    uinfo::Sgd sgd{
        {.lr = colour.lr, .momentum = colour.momentum, .weight_decay = colour.weight_decay}};
    uinfo::fit(net, sgd, uinfo::SoftmaxCrossEntropy{},
               donor_data.train.with_labels(donor_data.train.colour),
               {.epochs = colour.epochs, .batch_size = colour.batch, .rng = uinfo::Rng{donor}});
    net.for_each_parameter([](uinfo::Parameter<float>& p) { p.state = {}; });
  }
  phases.push_back(standard);
  auto probe =
      checkerboard::make_probe<checkerboard::BottleneckProbe<Net>>(s.network, data, job.seed);
  return checkerboard::train_and_probe(net, data, probe, phases, job.seed, {}, epoch_done);
}

const std::vector<std::string> columns = uinfo::probing::measurement_columns({"kind", "k"});

// Colour and direction information, task accuracy, per (kind, K, decoder) and seed: when the
// perturbation ends and at the end of training.
struct Outcome {
  std::vector<double> colour_after_perturbation{}, final_colour{}, final_direction{},
      final_accuracy{};
};
using Key = std::tuple<std::string, int, std::string>;

// A job's leading fields in info.csv, which name it there.
std::string job_key(const Job& job) {
  return job.kind + "," + std::to_string(job.k) + "," + std::to_string(job.seed);
}

// Trains the jobs `remaining` names; rank 0 writes their rows to the journal in job order as they
// finish.
void run_jobs(const Settings& s, const uinfo::ranks::Ranks& ranks, const std::vector<Job>& jobs,
              const std::vector<std::size_t>& remaining, uinfo::journal::Journal* journal) {
  const auto epochs = [&](const Job& job) {
    return s.regime.epochs + (job.kind == "slow_start" || job.kind == "colour_first" ? job.k : 0);
  };
  long total_epochs = 0;
  for (const std::size_t j : remaining) total_epochs += epochs(jobs[j]);
  uinfo::ProgressBar bar(total_epochs, "perturbing", !s.output.quiet && ranks.leader());
  std::mutex mutex;
  const std::function<void()> epoch_done = [&] {
    const std::lock_guard lock(mutex);
    bar.advance();
  };
  checkerboard::with_network(s.network, [&]<class Net>() {
    uinfo::ranks::for_each_job_in_order(
        ranks, remaining.size(), s.network.threads,
        [&](std::size_t j) { return run_job<Net>(s, jobs[remaining[j]], epoch_done); },
        [&](std::size_t j, const auto& rows) {
          const Job& job = jobs[remaining[j]];
          for (const Measurement& m : rows)
            uinfo::probing::write_measurement(journal->csv(), job.seed, m, job.kind, job.k);
          journal->commit(job_key(job));
          if (ranks.distributed()) bar.advance(epochs(job));  // the ranks' epochs are unseen
        });
  });
  bar.finish();
}

// The outcomes of the rows of info.csv, which hold each job's rows together, in job order.
std::map<Key, Outcome> outcomes_of(const uinfo::csv::Table& t) {
  // Each job's last probe, by its (kind, K, seed).
  std::map<std::tuple<std::string, std::string, std::string>, double> last;
  for (std::size_t i = 0; i < t.size(); ++i) {
    double& epoch = last[{t.text(i, "kind"), t.text(i, "k"), t.text(i, "seed")}];
    epoch = std::max(epoch, t.number(i, "epoch"));
  }
  std::map<Key, Outcome> outcomes;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::string kind = t.text(i, "kind"), label = t.text(i, "label");
    const int k = static_cast<int>(t.number(i, "k"));
    const double epoch = t.number(i, "epoch"), bits = t.number(i, "bits");
    Outcome& o = outcomes[{kind, k, t.text(i, "decoder")}];
    // A pretrained run's perturbation happened before its first probe (epoch 0).
    if (label == "colour" && epoch == (kind == "pretrained" ? 0.0 : k))
      o.colour_after_perturbation.push_back(bits);
    if (epoch != last.at({kind, t.text(i, "k"), t.text(i, "seed")})) continue;
    if (label == "colour") {
      o.final_colour.push_back(bits);
      o.final_accuracy.push_back(t.number(i, "task_accuracy"));
    } else {
      o.final_direction.push_back(bits);
    }
  }
  return outcomes;
}

uinfo::MeanAndDeviation stats(const std::vector<double>& values) {
  return uinfo::mean_and_deviation(values);
}

// Writes summary.csv, prints it, and returns it for run.json.
uinfo::record::Json write_summary(const std::map<Key, Outcome>& outcomes,
                                  const std::filesystem::path& dir) {
  uinfo::record::Json summary = uinfo::record::Json::object();
  uinfo::CsvWriter csv(dir / "summary.csv",
                       {"kind", "k", "decoder", "seeds", "colour_after_perturbation_bits",
                        "colour_after_perturbation_sd", "final_colour_bits", "final_colour_sd",
                        "final_direction_bits", "final_direction_sd", "final_task_accuracy"});
  std::printf("%-13s %3s %-7s %24s %17s %17s %8s\n", "kind", "K", "decoder",
              "colour after perturbation", "final colour", "final direction", "accuracy");
  for (const auto& [key, o] : outcomes) {
    const auto& [kind, k, decoder] = key;
    const auto after = stats(o.colour_after_perturbation), colour = stats(o.final_colour),
               direction = stats(o.final_direction);
    const double accuracy = stats(o.final_accuracy).mean;
    csv.row(kind, k, decoder, o.final_colour.size(), after.mean, after.deviation, colour.mean,
            colour.deviation, direction.mean, direction.deviation, accuracy);
    std::printf("%-13s %3d %-7s %15.3f +- %5.3f %8.3f +- %5.3f %8.3f +- %5.3f %8.3f\n",
                kind.c_str(), k, decoder.c_str(), after.mean, after.deviation, colour.mean,
                colour.deviation, direction.mean, direction.deviation, accuracy);
    summary[kind + "/" + std::to_string(k) + "/" + decoder] = {
        {"colour_after_perturbation_bits", after.mean},
        {"final_colour_bits", colour.mean},
        {"final_colour_sd", colour.deviation},
        {"final_direction_bits", direction.mean},
        {"final_task_accuracy", accuracy}};
  }
  return summary;
}

// Final colour information vs K per kind (mean +- sd over seeds; K = 0 is the unperturbed run),
// beside the colour information when the perturbation ends.
void plot(const Settings& s, const std::map<Key, Outcome>& outcomes, double ceiling_bits,
          const std::filesystem::path& dir) {
  const std::string decoder = std::get<2>(outcomes.begin()->first);
  std::ofstream data(dir / "perturb.dat");
  std::vector<std::string> kinds;
  for (const std::string& kind : split(s.kinds)) {
    kinds.push_back(kind);
    data << "# " << kind << ": k, final colour mean, sd, colour after perturbation mean, sd\n";
    std::map<int, const Outcome*> by_k;  // K = 0 is the shared unperturbed run
    for (const auto& [key, o] : outcomes) {
      const auto& [key_kind, k, key_decoder] = key;
      if (key_decoder == decoder && (key_kind == kind || key_kind == "none")) by_k[k] = &o;
    }
    for (const auto& [k, o] : by_k) {
      const auto colour = stats(o->final_colour), after = stats(o->colour_after_perturbation);
      data << k << ' ' << colour.mean << ' ' << colour.deviation << ' ' << after.mean << ' '
           << after.deviation << '\n';
    }
    data << "\n\n";
  }
  data.close();
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c"};
  std::string script =
      "set key below noenhanced\nset grid\nset xlabel 'K: perturbed epochs'\nset ylabel 'bits'\n"
      "set yrange [-0.05:" +
      uinfo::shortest(ceiling_bits + 0.1) + "]\nset offsets 1, 1, 0, 0\n";
  script +=
      "set multiplot layout 1,2 title 'uinfo-checkerboard-perturb: colour information in "
      "the bottleneck (" +
      decoder + " decoder; " + std::to_string(s.seeds.count) + " seeds, mean ± sd; then " +
      std::to_string(s.regime.epochs) + " epochs at lr " + uinfo::shortest(s.regime.lr) +
      ", batch " + std::to_string(s.regime.batch) + ")'\n";
  for (const int panel : {0, 1}) {
    script += std::string("set title '") +
              (panel == 0 ? "at the end of training" : "when the perturbation ends") + "'\n";
    script += "plot " + uinfo::shortest(ceiling_bits) +
              " with lines dt 2 lc rgb '#888888' title 'ceiling'";
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      // Each kind a little to the side, so that the error bars do not hide each other.
      const std::string shift = uinfo::shortest(0.25 * (static_cast<double>(i) - 1));
      const std::string using_columns = "($1 + " + shift + "):" + (panel == 0 ? "2:3" : "4:5");
      script += ", 'perturb.dat' index " + std::to_string(i) + " using " + using_columns +
                " with yerrorlines lw 2 pt 7 lc rgb '" + colours[i % 3] + "' title '" + kinds[i] +
                "'";
    }
    script += "\n";
  }
  script += "unset multiplot\n";
  uinfo::plot::render_png(dir / "perturb.png", script, 1300, 560);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Command command{
      "uinfo-checkerboard-perturb",
      "Experiment 3: trains the first K epochs differently (slow_start: low learning rate and\n"
      "large batch; colour_first: on the colour instead of the direction; pretrained: from a\n"
      "network another seed trained K epochs on colour), then the standard regime for --epochs,\n"
      "probing the bottleneck for colour and direction. Writes OUT/info.csv, OUT/summary.csv\n"
      "(final colour information per kind and K, mean and sd over seeds), OUT/run.json and\n"
      "OUT/perturb.png. With --shard i/n (or auto, in a Slurm job array) only the i-th of n\n"
      "slices of the jobs runs, into OUT/shards/i-of-n/; then --merge with the same OUT joins\n"
      "them. Under mpirun the ranks share the jobs and rank 0 writes the files."};
  checkerboard::add_options(command, s.network);
  uinfo::cli::add_options(command, s.regime);
  command.describe("--lr", "learning rate of the standard regime");
  command.describe("--batch", "batch size of the standard regime");
  command.describe("--epochs", "epochs of the standard regime, after the perturbation");
  command.setting("--ks", s.ks, "perturbed epochs K, comma-separated (0: the unperturbed run)");
  command.setting("--kinds", s.kinds, "perturbations: slow_start, colour_first, pretrained");
  command.setting("--slow-lr", s.slow_lr, "slow_start's learning rate");
  command.setting("--slow-batch", s.slow_batch, "slow_start's batch size");
  uinfo::cli::add_options(command, s.seeds, "seeds per (kind, K)");
  uinfo::shards::add_options(command, s.scale_out);
  uinfo::cli::add_options(command, s.output);
  uinfo::cli::add_resume_option(command, s.output);
  command.parse(argc, argv);
  checkerboard::check_options(command, s.network);
  uinfo::cli::check(command, s.regime);
  uinfo::cli::check(command, s.seeds);
  if (parse_ks(s.ks).empty()) command.fail("--ks must be comma-separated whole numbers >= 0");
  for (const std::string& kind : split(s.kinds)) {
    if (std::find(std::begin(known_kinds), std::end(known_kinds), kind) == std::end(known_kinds))
      command.fail("--kinds: unknown perturbation '" + kind +
                   "'; expected slow_start, colour_first or pretrained");
  }
  if (split(s.kinds).empty()) command.fail("--kinds must name at least one perturbation");
  if (s.slow_batch < 1 || !(s.slow_lr > 0))
    command.fail("--slow-batch must be at least 1, --slow-lr positive");

  const uinfo::shards::Shard shard = uinfo::shards::resolve(command, s.scale_out, s.output.resume);

  const std::filesystem::path out = s.output.dir;
  const auto ceiling = uinfo::checkerboard_ceiling(s.network.noise);
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
    const auto outcomes = outcomes_of(uinfo::csv::Table(out / "info.csv"));
    record["noise_ceiling_bits"] = ceiling.bits;
    record["jobs"] = jobs.size();
    record["summary"] = write_summary(outcomes, out);
    plot(s, outcomes, ceiling.bits, out);
    record["wall_seconds"] = seconds();
    uinfo::record::write(record, out / "run.json");
    std::printf("%.1f s; results in %s/\n", seconds(), out.string().c_str());
  } catch (...) {
    return uinfo::program::failed("uinfo-checkerboard-perturb");
  }
  return 0;
}
