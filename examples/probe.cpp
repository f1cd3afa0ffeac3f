// uinfo-probe: the usable information I_u(Z;Y) = H(Y) - L_CE of a representation exported from
// another framework as NumPy .npy files (samples x features, float32 or float64, C or Fortran
// order; integer labels). Prints one JSON object on stdout; optional estimators add k-fold
// cross-validation, a bootstrap interval, the per-sample PVI, the MDL online codelength, and the
// loss-data curve (CSV and PNG) with the finite-sample-corrected estimate.
// Bad input prints one line on stderr and exits with status 2.
#include <uinfo/version.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/command.hpp"
#include "common/outcome.hpp"
#include "common/plot.hpp"
#include "common/probing.hpp"
#include "common/record.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/data/npy.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/learning_curve.hpp"
#include "uinfo/info/mdl.hpp"
#include "uinfo/info/uncertainty.hpp"
#include "uinfo/info/usable_information.hpp"
#include "uinfo/train/csv.hpp"

namespace {

constexpr const char* program = "uinfo-probe";

struct Settings {
  std::string z_train, y_train, z_test, y_test;  // two splits given as files
  std::string z, y;                              // or one set, split here
  double test_fraction = 0.25;
  std::string decoder = "linear";
  std::string hidden = "64";
  std::vector<uinfo::Index> hidden_widths;  // parsed from `hidden`
  std::string width_choices;                // mlp: widths to choose from, like 16,64,256
  std::vector<uinfo::Index> width_list;     // parsed from `width_choices`
  std::string l2 = "auto";                  // linear: a penalty, or auto (chosen from the data)
  std::string l2_criterion = "auto";
  bool authors_split = false;
  bool correct = false;
  std::string curve;
  long cv = 0;
  int bootstrap = 0;
  double confidence = 0.95;
  std::string pvi;
  bool mdl = false;
  std::uint64_t seed = 0;
  long classes = 0;
  bool log_k = false;
  std::string preprocess = "auto";
  bool use_double = false;
};

template <class S>
struct Split {
  uinfo::Matrix<S> z_train, z_test;  // features x samples
  std::vector<uinfo::Label> y_train, y_test;
};

void require_input(bool ok, const std::string& message) {
  if (!ok) throw uinfo::InvalidArgument(message);
}

template <class S>
void require_one_label_per_sample(const uinfo::Matrix<S>& z, const std::vector<uinfo::Label>& y,
                                  const std::string& z_flag, const std::string& y_flag) {
  require_input(static_cast<std::size_t>(z.cols()) == y.size(),
                z_flag + " has " + std::to_string(z.cols()) + " samples (rows) but " + y_flag +
                    " has " + std::to_string(y.size()) + " labels; expected one label per sample");
}

// The samples at `indices`, in that order.
template <class S>
void take(const uinfo::Matrix<S>& z, const std::vector<uinfo::Label>& y,
          std::span<const uinfo::Index> indices, uinfo::Matrix<S>& z_out,
          std::vector<uinfo::Label>& y_out) {
  z_out.resize(z.rows(), std::ssize(indices));
  y_out.resize(indices.size());
  for (std::size_t j = 0; j < indices.size(); ++j) {
    z_out.col(static_cast<uinfo::Index>(j)) = z.col(indices[j]);
    y_out[j] = y[static_cast<std::size_t>(indices[j])];
  }
}

template <class S>
Split<S> load(const Settings& s) {
  Split<S> split;
  if (s.z.empty()) {
    split.z_train = uinfo::read_npy_matrix<S>(s.z_train);
    split.y_train = uinfo::read_npy_labels(s.y_train);
    split.z_test = uinfo::read_npy_matrix<S>(s.z_test);
    split.y_test = uinfo::read_npy_labels(s.y_test);
    require_one_label_per_sample(split.z_train, split.y_train, "--z-train", "--y-train");
    require_one_label_per_sample(split.z_test, split.y_test, "--z-test", "--y-test");
    require_input(split.z_train.rows() == split.z_test.rows(),
                  "--z-train has " + std::to_string(split.z_train.rows()) +
                      " features (columns) but --z-test has " +
                      std::to_string(split.z_test.rows()) + "; expected the same representation");
    return split;
  }
  const uinfo::Matrix<S> z = uinfo::read_npy_matrix<S>(s.z);
  const std::vector<uinfo::Label> y = uinfo::read_npy_labels(s.y);
  require_one_label_per_sample(z, y, "--z", "--y");
  const uinfo::Index n = z.cols();
  require_input(n >= 2, "--z has " + std::to_string(n) +
                            " samples; expected at least 2 to split into training and test");
  if (s.authors_split) {
    const uinfo::SampleSplit parts = uinfo::authors_split(n);
    take(z, y, parts.test, split.z_test, split.y_test);
    take(z, y, parts.train, split.z_train, split.y_train);
    return split;
  }
  // The seed's own stream, so the split does not correlate with the decoder's draws.
  std::vector<uinfo::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), uinfo::Index{0});
  uinfo::Rng{s.seed}.engine(uinfo::Stream::user).shuffle(std::span(order));
  const auto n_test = std::clamp<uinfo::Index>(
      static_cast<uinfo::Index>(std::llround(s.test_fraction * static_cast<double>(n))), 1, n - 1);
  const std::span<const uinfo::Index> all(order);
  take(z, y, all.first(static_cast<std::size_t>(n_test)), split.z_test, split.y_test);
  take(z, y, all.subspan(static_cast<std::size_t>(n_test)), split.z_train, split.y_train);
  return split;
}

// Both splits side by side, for the estimators that split one set themselves.
template <class S>
std::pair<uinfo::Matrix<S>, std::vector<uinfo::Label>> pooled(const Split<S>& split) {
  uinfo::Matrix<S> z(split.z_train.rows(), split.z_train.cols() + split.z_test.cols());
  z << split.z_train, split.z_test;
  std::vector<uinfo::Label> y = split.y_train;
  y.insert(y.end(), split.y_test.begin(), split.y_test.end());
  return {std::move(z), std::move(y)};
}

// The decoder's options with --preprocess applied ("auto" keeps the decoder's own default).
template <class Options>
Options with_preprocessing(Options options, const std::string& name) {
  if (name == "none") options.preprocess = uinfo::Preprocess::none;
  if (name == "standardize") options.preprocess = uinfo::Preprocess::standardize;
  if (name == "whiten") options.preprocess = uinfo::Preprocess::whiten;
  return options;
}

// The loss-data curve as a CSV (one row per fit) and a PNG beside it: every fit, the mean at each
// size, and the corrected estimate with its standard error; returns what the JSON says of it.
uinfo::record::Json write_curve(const std::string& file,
                                const uinfo::UsableInformationCurve& curve) {
  std::vector<double> sizes, means, errors;
  {
    uinfo::CsvWriter csv(file, {"n_train", "draw", "bits", "standard_error_bits", "ce_bits",
                                "h_bits", "l2", "l2_selection", "decoder"});
    for (const uinfo::CurvePoint& point : curve.points) {
      for (std::size_t d = 0; d < point.fits.size(); ++d) {
        const uinfo::UsableInformation& f = point.fits[d];
        csv.row(point.n_train, d, f.bits, f.standard_error_bits, f.ce_bits, f.h_bits, f.l2,
                f.l2_selection, f.decoder);
      }
      sizes.push_back(static_cast<double>(point.n_train));
      means.push_back(point.mean_bits);
      errors.push_back(point.standard_error_bits);
    }
  }
  std::filesystem::path png = file;
  png.replace_extension(".png");
  const auto& c = curve.corrected;
  const std::string low = uinfo::shortest(c.bits - c.standard_error_bits);
  const std::string high = uinfo::shortest(c.bits + c.standard_error_bits);
  const auto three_decimals = [](double bits) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", bits);
    return std::string(text);
  };
  std::string means_data;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    means_data += uinfo::shortest(sizes[i]) + "," + uinfo::shortest(means[i]) + "," +
                  uinfo::shortest(errors[i]) + "\n";  // the CSV's separator is gnuplot's here
  }
  const std::string script =
      "set datafile separator ','\nset key bottom right\nset grid\nset logscale x 2\n"
      "set xlabel 'decoder training samples'\nset ylabel 'usable information (bits)'\n"
      "set title 'uinfo-probe: " +
      curve.decoder +
      " decoder, estimate against training samples'\n"
      "$means << EOD\n" +
      means_data +
      "EOD\n"
      "set style fill transparent solid 0.15 noborder\n"
      "plot " +
      low + " with lines lc rgb '#2ca02c' dt 2 notitle, " + high +
      " with lines lc rgb '#2ca02c' dt 2 title 'corrected +- 1 s.e. (" + three_decimals(c.bits) +
      " bits)', '" + std::filesystem::path(file).filename().string() +
      "' skip 1 using 1:3 with points pt 7 ps 0.6 lc rgb '#999999' title 'each fit', "
      "$means using 1:2:3 with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'mean +- s.e.'\n";
  const bool drawn = uinfo::plot::render_png(png, script, 800, 500);
  return {{"csv", file},
          {"png", drawn ? png.string() : std::string()},
          {"n_train", sizes},
          {"mean_bits", means}};
}

// Runs every requested estimator with fresh copies of the unfitted `prototype`.
template <class D>
uinfo::record::Json probe(const Settings& s, const Split<typename D::scalar_type>& split,
                          const D& prototype) {
  using S = typename D::scalar_type;
  const uinfo::UsableInformationOptions options{
      .classes = s.classes,
      .reference =
          s.log_k ? uinfo::EntropyReference::log_classes : uinfo::EntropyReference::train_marginal,
      .seed = s.seed};
  D decoder = prototype;
  const uinfo::UsableInformation info = uinfo::usable_information(
      split.z_train, split.y_train, split.z_test, split.y_test, decoder, options);

  uinfo::record::Json out = uinfo::record::header(program);
  out["bits"] = info.bits;
  out["nats"] = info.nats;
  out["h_bits"] = info.h_bits;
  out["ce_bits"] = info.ce_bits;
  out["accuracy"] = info.accuracy;
  out["standard_error_bits"] = info.standard_error_bits;
  out["train_ce_bits"] = info.train_ce_bits;
  out["n_train"] = info.n_train;
  out["n_test"] = info.n_test;
  out["features"] = split.z_train.rows();
  out["classes"] = info.classes;
  out["decoder"] = info.decoder;
  out["iterations"] = info.iterations;
  out["l2"] = info.l2;
  out["l2_selection"] = info.l2_selection;
  out["seed"] = s.seed;
  out["reference"] = s.log_k ? "log_classes" : "train_marginal";
  out["preprocess"] = s.preprocess;
  out["scalar"] = std::is_same_v<S, double> ? "float64" : "float32";
  if (!s.z.empty()) out["test_fraction"] = s.authors_split ? 0.75 : s.test_fraction;
  if (s.decoder == "mlp") out["kept_epoch"] = info.kept_epoch;
  if (s.decoder.starts_with("authors"))
    out["authors_bits"] = uinfo::authors_bits(info.ce_bits / uinfo::bits_per_nat);
  if (s.correct) {
    const auto curve = uinfo::usable_information_curve(split.z_train, split.y_train, split.z_test,
                                                       split.y_test, prototype, {.info = options});
    out["corrected"] = {{"bits", curve.corrected.bits},
                        {"standard_error_bits", curve.corrected.standard_error_bits},
                        {"plain_bits", curve.corrected.plain_bits}};
    if (!s.curve.empty()) out["curve"] = write_curve(s.curve, curve);
  }

  if (s.cv > 0 || s.mdl) {
    const auto [z, y] = pooled(split);
    if (s.cv > 0) {
      const auto cv = uinfo::cross_validated_usable_information(z, y, prototype, s.cv, options);
      std::vector<double> fold_bits;
      for (const auto& fold : cv.folds) fold_bits.push_back(fold.bits);
      out["cv"] = {{"k", s.cv},
                   {"mean_bits", cv.mean_bits},
                   {"standard_error_bits", cv.standard_error_bits},
                   {"fold_bits", fold_bits}};
    }
    if (s.mdl) {
      uinfo::MdlOptions mdl_options;
      mdl_options.classes = s.classes;
      mdl_options.seed = s.seed;
      const auto code = uinfo::mdl_codelength(z, y, prototype, mdl_options);
      out["mdl"] = {{"online_bits", code.online_bits},
                    {"uniform_bits", code.uniform_bits},
                    {"compression", code.compression},
                    {"n", code.n},
                    {"blocks", std::ssize(code.blocks)}};
    }
  }
  if (s.bootstrap > 0) {
    const auto interval = uinfo::bootstrap_interval(info, s.bootstrap, s.confidence, s.seed);
    out["bootstrap"] = {{"replicates", s.bootstrap},
                        {"confidence", interval.confidence},
                        {"low_bits", interval.lower_bits},
                        {"high_bits", interval.upper_bits},
                        {"sd_bits", interval.standard_deviation_bits}};
  }
  if (!s.pvi.empty()) {
    uinfo::write_npy(s.pvi, std::span<const double>(info.pointwise_bits));
    out["pvi"] = s.pvi;
  }
  return out;
}

template <class S>
uinfo::record::Json run(const Settings& s) {
  const Split<S> split = load<S>(s);
  for (const std::string& file : {s.pvi, s.curve}) {
    if (file.empty()) continue;
    const std::filesystem::path directory = std::filesystem::path(file).parent_path();
    uinfo::program::prepare_output_directory(directory.empty() ? "." : directory);
  }
  uinfo::program::running();
  if (s.decoder == "mlp") {
    using Mlp = uinfo::MlpDecoder<S>;
    return probe(s, split,
                 Mlp{with_preprocessing(typename Mlp::Options{.hidden = s.hidden_widths,
                                                              .width_choices = s.width_list},
                                        s.preprocess)});
  }
  if (s.decoder.starts_with("authors")) {
    using Authors = uinfo::AuthorsDecoder<S>;
    return probe(
        s, split,
        Authors{with_preprocessing(
            typename Authors::Options{.linear = s.decoder == "authors-linear"}, s.preprocess)});
  }
  using Linear = uinfo::LinearDecoder<S>;
  typename Linear::Options options{.l2 = *uinfo::probing::decoder_l2_named(s.l2)};
  if (s.l2_criterion == "evidence") options.search.choice = uinfo::L2Choice::evidence;
  if (s.l2_criterion == "loo") options.search.choice = uinfo::L2Choice::leave_one_out;
  if (s.l2_criterion == "cv") options.search.choice = uinfo::L2Choice::cross_validation;
  return probe(s, split, Linear{with_preprocessing(options, s.preprocess)});
}

// "64" or "64,32": positive widths, at most `most` of them; empty if the text is not that.
std::vector<uinfo::Index> parse_widths(const std::string& text, std::size_t most = 2) {
  std::vector<uinfo::Index> widths;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma - start);
    if (part.empty() || part.size() > 6 ||
        part.find_first_not_of("0123456789") != std::string::npos) {
      return {};
    }
    widths.push_back(std::stol(part));
    if (widths.back() < 1) return {};
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return widths.size() <= most ? widths : std::vector<uinfo::Index>{};
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  uinfo::cli::Command command{
      program,
      "Measures the usable information I_u(Z;Y) = H(Y) - L_CE of a representation Z about labels\n"
      "Y: a decoder is fitted to the training split and its held-out cross-entropy L_CE is\n"
      "subtracted from H(Y), the cross-entropy of the training labels' marginal on the test\n"
      "labels. Representations are NumPy .npy arrays of shape (samples, features), float32 or\n"
      "float64, C or Fortran order; labels are 1-D integer arrays (int32 or int64) of classes\n"
      "0, 1, 2, ... Give a training and a test split (--z-train, --y-train, --z-test, --y-test),\n"
      "or one set to split here (--z, --y, --test-fraction).\n"
      "Prints one JSON object on stdout (bits, nats, h_bits, ce_bits, accuracy, ...; all in bits\n"
      "unless named nats), with a key per extra estimator requested. Exit status 0 on success,\n"
      "2 on bad input (one line on stderr says what is wrong), 1 on any other failure.\n\n"
      "Example:\n"
      "  uinfo-probe --z-train z_train.npy --y-train y_train.npy --z-test z_test.npy \\\n"
      "              --y-test y_test.npy --decoder mlp --hidden 64 --bootstrap 1000"};
  command.setting("--z-train", s.z_train, "training representation, (samples, features) .npy");
  command.setting("--y-train", s.y_train, "training labels, 1-D integer .npy");
  command.setting("--z-test", s.z_test, "test representation, (samples, features) .npy");
  command.setting("--y-test", s.y_test, "test labels, 1-D integer .npy");
  command.setting("--z", s.z, "one representation to split (instead of --z-train/--z-test)");
  command.setting("--y", s.y, "its labels");
  command.setting(
      "--test-fraction", s.test_fraction,
      "with --z: the share in (0, 1) of samples, shuffled by --seed, held out for testing");
  command.setting("--decoder", s.decoder,
                  "linear (multinomial logistic regression by L-BFGS), mlp (ReLU MLP by Adam with "
                  "early stopping), authors or authors-linear (Kleinman, Chandrasekaran & Kao's "
                  "decoder protocol: MLP 64-64-64, dropout, 3000 full-batch SGD steps, raw "
                  "features)");
  command.setting("--l2", s.l2,
                  "linear: the L2 penalty on whitened features, or auto: chosen from the training "
                  "split (reported as l2 and l2_selection)");
  command.setting("--l2-criterion", s.l2_criterion,
                  "linear with --l2 auto: evidence (two classes), loo (approximate leave-one-out, "
                  "two classes), cv (5-fold), or auto (evidence for two classes, cv otherwise)");
  command.setting("--hidden", s.hidden, "mlp: hidden widths, one or two, like 64 or 64,32");
  command.setting("--width-choices", s.width_choices,
                  "mlp: widths to choose from by the validation loss, like 16,64,256 (every "
                  "hidden layer takes the same); empty: --hidden");
  command.setting("--correct", s.correct,
                  "also the finite-sample-corrected estimate: the loss-data curve extrapolated to "
                  "unlimited training samples, with its standard error");
  command.option("--curve", s.curve,
                 "write the loss-data curve to this CSV (one row per fit at 1/8, 1/4, 1/2 and all "
                 "of the training split, 3 draws per size) and a PNG beside it; implies --correct");
  command.setting("--authors-split", s.authors_split,
                  "with --z: split 25% training / 75% test as the authors did (scikit-learn's "
                  "train_test_split(test_size=0.75, random_state=42)) instead of --test-fraction");
  command.setting("--cv", s.cv,
                  "also k-fold cross-validation over all samples (both splits pooled); 0: off");
  command.setting("--bootstrap", s.bootstrap,
                  "also a percentile bootstrap interval from this many resamples of the test "
                  "samples' PVI; 0: off");
  command.setting("--confidence", s.confidence, "the bootstrap interval's confidence level");
  command.option("--pvi", s.pvi,
                 "write each test sample's pointwise V-information (bits, float64, 1-D) to this "
                 ".npy; its mean is bits");
  command.setting("--mdl", s.mdl,
                  "also the MDL online codelength of all samples' labels (both splits pooled)");
  command.setting("--seed", s.seed,
                  "fixes the --z split, the decoder, folds, resamples and MDL order");
  command.setting("--classes", s.classes, "number of classes K; 0: 1 + the largest label");
  command.setting("--log-k", s.log_k,
                  "use H(Y) = log2 K (balanced classes) instead of the training labels' marginal");
  command.setting(
      "--preprocess", s.preprocess,
      "how features are scaled, with the training split's statistics: none, standardize "
      "(per feature), whiten (decorrelate and scale), or auto (the decoder's default: "
      "whiten for linear, standardize for mlp)");
  command.setting("--double", s.use_double, "compute in float64 (default: float32)");
  command.parse(argc, argv);
  // The curve is drawn from the corrected estimate's fits; the record says so, for --config.
  if (!s.curve.empty()) s.correct = true;

  const bool two_files =
      !s.z_train.empty() || !s.y_train.empty() || !s.z_test.empty() || !s.y_test.empty();
  const bool one_file = !s.z.empty() || !s.y.empty();
  if (two_files && one_file) {
    command.fail("give either --z-train/--y-train/--z-test/--y-test or --z/--y, not both");
  }
  if (one_file) {
    if (s.z.empty()) command.fail("--y needs --z (see --help)");
    if (s.y.empty()) command.fail("--z needs --y (see --help)");
    if (!(s.test_fraction > 0 && s.test_fraction < 1)) {
      command.fail("--test-fraction must lie in (0, 1)");
    }
  } else {
    std::string missing;
    for (const auto& [flag, value] : {std::pair{"--z-train", &s.z_train},
                                      {"--y-train", &s.y_train},
                                      {"--z-test", &s.z_test},
                                      {"--y-test", &s.y_test}}) {
      if (value->empty()) missing += (missing.empty() ? "" : ", ") + std::string(flag);
    }
    if (!missing.empty()) {
      command.fail("missing " + missing + " (or give --z, --y and --test-fraction; see --help)");
    }
  }
  if (s.preprocess != "auto" && s.preprocess != "none" && s.preprocess != "standardize" &&
      s.preprocess != "whiten") {
    command.fail("unknown --preprocess '" + s.preprocess +
                 "'; expected auto, none, standardize or whiten");
  }
  if (s.decoder != "linear" && s.decoder != "mlp" && s.decoder != "authors" &&
      s.decoder != "authors-linear") {
    command.fail("unknown --decoder '" + s.decoder +
                 "'; expected linear, mlp, authors or authors-linear");
  }
  if (!uinfo::probing::decoder_l2_named(s.l2))
    command.fail("--l2 '" + s.l2 + "' must be auto or a penalty >= 0");
  if (s.l2_criterion != "auto" && s.l2_criterion != "evidence" && s.l2_criterion != "loo" &&
      s.l2_criterion != "cv") {
    command.fail("unknown --l2-criterion '" + s.l2_criterion +
                 "'; expected auto, evidence, loo or cv");
  }
  if (!s.width_choices.empty()) {
    s.width_list = parse_widths(s.width_choices, 16);
    if (s.width_list.empty()) {
      command.fail("--width-choices '" + s.width_choices +
                   "' must list positive widths, like 16,64,256");
    }
  }
  if (s.authors_split && !one_file) command.fail("--authors-split splits --z/--y (see --help)");
  s.hidden_widths = parse_widths(s.hidden);
  if (s.hidden_widths.empty()) {
    command.fail("--hidden '" + s.hidden +
                 "' must be one or two positive widths, like 64 or 64,32");
  }
  if (s.cv < 0 || s.cv == 1) command.fail("--cv must be 0 (off) or at least 2 folds");
  if (s.bootstrap < 0) command.fail("--bootstrap must be 0 (off) or a number of resamples");
  if (!(s.confidence > 0 && s.confidence < 1)) command.fail("--confidence must lie in (0, 1)");
  if (s.classes < 0) command.fail("--classes must be 0 (from the labels) or a number of classes");

  try {
    uinfo::record::Json out = s.use_double ? run<double>(s) : run<float>(s);
    out.update(command.provenance());  // so that --config can repeat this run
    std::printf("%s\n", uinfo::record::text(out).c_str());
    return 0;
  } catch (...) {
    return uinfo::program::failed(program);
  }
}
