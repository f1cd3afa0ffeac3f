// fit(): learning, reproducibility, input validation, callbacks, and the CSV logs.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "uinfo/uinfo.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

using Mlp = Sequential<float, Input<2>, Dense<8>, Relu, Dense<2>>;
using Loss = SoftmaxCrossEntropy;

template <class Net>
std::vector<Matrix<typename Net::scalar_type>> weights_of(const Net& net) {
  std::vector<Matrix<typename Net::scalar_type>> values;
  net.for_each_parameter([&](const auto& p) { values.push_back(p.value); });
  return values;
}

// The XOR task: 2 features, 2 classes.
Dataset<float> xor_data(Index samples, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::data);
  return make_xor<float>(samples, 0.3, engine);
}

// Trains a fresh Net (initialised from init_seed) on XOR for two epochs; returns its weights.
template <class Net>
std::vector<Matrix<float>> train_xor(std::uint64_t init_seed, std::uint64_t shuffle_seed,
                                     bool shuffle = true, bool fuse_updates = true) {
  const Dataset<float> data = xor_data(200, 11);
  Net net{Rng{init_seed}};
  Sgd sgd({.lr = 0.05, .momentum = 0.9});
  fit(net, sgd, Loss{}, data,
      {.epochs = 2,
       .batch_size = 16,
       .rng = Rng{shuffle_seed},
       .shuffle = shuffle,
       .fuse_updates = fuse_updates});
  return weights_of(net);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

}  // namespace

TEST_CASE("fit learns XOR and a 3-class spiral to >= 97% held-out accuracy", "[train]") {
  SECTION("XOR") {
    // Corners +-1 with jitter 0.3: a sample crosses an axis with probability ~4e-4, so a good
    // classifier is ~99.9% accurate. Observed: 99.8% (other seeds: 99.5% to 100%).
    Engine engine = Rng{101}.engine(Stream::data);
    const auto train = make_xor<float>(1000, 0.3, engine);
    const auto test = make_xor<float>(1000, 0.3, engine);
    Sequential<float, Input<2>, Dense<8>, Tanh, Dense<2>> net{Rng{1}};
    Sgd sgd({.lr = 0.1, .momentum = 0.9});
    fit(net, sgd, Loss{}, train, {.epochs = 10, .batch_size = 32, .rng = Rng{1}});
    const Evaluation result = evaluate(net, Loss{}, test);
    CHECK(result.size == 1000);
    CHECK(result.accuracy >= 0.97);
  }
  SECTION("spiral") {
    // Arms 120 degrees apart with 0.2 rad of angular jitter. Observed: 99.8% (other seeds:
    // 98.8% to 99.9%).
    Engine engine = Rng{101}.engine(Stream::data);
    const auto train = make_spiral<float>(3000, 3, 0.2, engine);
    const auto test = make_spiral<float>(1000, 3, 0.2, engine);
    Sequential<float, Input<2>, Dense<64>, Relu, Dense<64>, Relu, Dense<3>> net{Rng{1}};
    Adam adam({.lr = 0.01});
    fit(net, adam, Loss{}, train, {.epochs = 30, .batch_size = 32, .rng = Rng{1}});
    CHECK(evaluate(net, Loss{}, test).accuracy >= 0.97);
  }
}

TEST_CASE("training is bitwise reproducible from its seeds", "[train]") {
  const auto reference = train_xor<Mlp>(5, 6);
  CHECK(train_xor<Mlp>(5, 6) == reference);
  CHECK(train_xor<Mlp>(5, 7) != reference);  // another order of the minibatches
  CHECK(train_xor<Mlp>(8, 6) != reference);  // other initial weights

  // Updating during the backward pass changes nothing but the speed.
  CHECK(train_xor<Mlp>(5, 6, true, false) == reference);
  using Wide = Sequential<float, Input<2>, Dense<40>, Relu, Dense<2>>;  // a tiled layer
  CHECK(train_xor<Wide>(5, 6, true, false) == train_xor<Wide>(5, 6));

  // Without shuffling, the shuffle seed plays no part.
  CHECK(train_xor<Mlp>(5, 6, false) == train_xor<Mlp>(5, 7, false));

  SECTION("with dropout") {
    using WithDropout = Sequential<float, Input<2>, Dense<8>, Relu, Dropout<0.5>, Dense<2>>;
    using NoDropout = Sequential<float, Input<2>, Dense<8>, Relu, Dropout<0.0>, Dense<2>>;
    const auto dropped = train_xor<WithDropout>(5, 6);
    CHECK(train_xor<WithDropout>(5, 6) == dropped);
    // Same initial weights and order (the Dense layers sit at the same indices); only the masks
    // differ, so this shows that dropout was active.
    CHECK(train_xor<NoDropout>(5, 6) != dropped);
  }
}

TEST_CASE("fit rejects bad input with messages that say what and where", "[train]") {
  Mlp net{Rng{1}};
  Sgd sgd({.lr = 0.1});
  Dataset<float> data = xor_data(100, 3);
  const auto fit_with = [&](const Dataset<float>& train, Index batch_size = 32,
                            const Dataset<float>* validation = nullptr) {
    fit(net, sgd, Loss{}, train, {.batch_size = batch_size, .validation = validation});
  };
  const auto initial = weights_of(net);

  SECTION("non-finite features") {
    data.x(1, 17) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(fit_with(data), NonFiniteValue);
    CHECK_THROWS_WITH(fit_with(data), Contains("the training set") && Contains("a NaN") &&
                                          Contains("feature 1 of sample 17"));
    data.x(1, 17) = 0;
    data.x(0, 42) = -std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(fit_with(data),
                      Contains("an infinity") && Contains("feature 0 of sample 42"));
  }
  SECTION("labels out of range") {
    data.labels[7] = 2;
    CHECK_THROWS_AS(fit_with(data), InvalidArgument);
    CHECK_THROWS_WITH(fit_with(data), Contains("the training set labels") && Contains("label 2") &&
                                          Contains("sample 7") && Contains("2 classes"));
    data.labels[7] = 0;
    data.labels[3] = -1;
    CHECK_THROWS_WITH(fit_with(data), Contains("label -1 at sample 3"));
  }
  SECTION("an empty dataset") {
    const Dataset<float> empty{Matrix<float>(2, 0), {}};
    CHECK_THROWS_AS(fit_with(empty), InvalidArgument);
    CHECK_THROWS_WITH(fit_with(empty), Contains("the training set is empty"));
  }
  SECTION("a batch size of 0, negative epochs") {
    CHECK_THROWS_AS(fit_with(data, 0), InvalidArgument);
    CHECK_THROWS_WITH(fit_with(data, 0), Contains("batch_size is 0"));
    CHECK_THROWS_WITH(fit(net, sgd, Loss{}, data, {.epochs = -1}), Contains("epochs is -1"));
  }
  SECTION("a label count that differs from the sample count") {
    data.labels.pop_back();
    CHECK_THROWS_AS(fit_with(data), InvalidArgument);
    CHECK_THROWS_WITH(fit_with(data), Contains("100 samples but 99 labels"));
  }
  SECTION("the wrong number of features") {
    Dataset<float> wide{Matrix<float>::Zero(3, 100), data.labels};
    CHECK_THROWS_AS(fit_with(wide), InvalidArgument);
    CHECK_THROWS_WITH(fit_with(wide),
                      Contains("3 features per sample") && Contains("the network expects 2"));
  }
  SECTION("a bad validation set is named as such") {
    Dataset<float> validation = xor_data(50, 4);
    validation.labels[9] = 5;
    CHECK_THROWS_WITH(fit_with(data, 32, &validation),
                      Contains("the validation set labels") && Contains("label 5 at sample 9"));
  }
  // Validation happens before any step.
  CHECK(weights_of(net) == initial);
}

TEST_CASE("a diverging learning rate throws Diverged naming the epoch and the rate", "[train]") {
  Dataset<float> data = xor_data(200, 3);
  data.x *= 1000.0f;  // unnormalised features
  const auto diverge = [&] {
    Mlp net{Rng{1}};
    Sgd sgd({.lr = 1e6});
    fit(net, sgd, Loss{}, data, {.epochs = 20, .batch_size = 32});
  };
  CHECK_THROWS_AS(diverge(), Diverged);
  CHECK_THROWS_WITH(diverge(),
                    Contains("diverged at epoch 0") && Contains("at learning rate 1e+06;"));
}

TEST_CASE("callbacks see every step and epoch, and can stop training", "[train]") {
  const Dataset<float> data = xor_data(100, 3);
  Mlp net{Rng{1}};
  Sgd sgd({.lr = 0.05});
  std::vector<StepInfo> steps;
  std::vector<EpochRecord> records;
  auto record_steps = on_step_end([&](const StepInfo& info, auto&) { steps.push_back(info); });
  auto record_epochs = on_epoch_end([&](const EpochRecord& r, auto&) { records.push_back(r); });

  SECTION("steps and epochs") {
    const auto history =
        fit(net, sgd, Loss{}, data, {.epochs = 2, .batch_size = 32}, record_steps, record_epochs);
    REQUIRE(steps.size() == 8);
    for (std::size_t i = 0; i < steps.size(); ++i) {
      INFO("step " << i);
      CHECK(steps[i].batch_size == (i % 4 == 3 ? 4 : 32));  // 100 = 32 + 32 + 32 + 4
      CHECK(steps[i].global_step == static_cast<Index>(i));
      CHECK(steps[i].step == static_cast<Index>(i % 4));
      CHECK(steps[i].epoch == static_cast<int>(i / 4));
      CHECK(std::isfinite(steps[i].loss));
      CHECK(steps[i].learning_rate == 0.05);
    }
    REQUIRE(history.size() == 2);
    REQUIRE(records.size() == 2);
    for (int e = 0; e < 2; ++e) {
      const EpochRecord& r = records[static_cast<std::size_t>(e)];
      CHECK(r.epoch == e);
      CHECK(history[static_cast<std::size_t>(e)].epoch == e);
      CHECK(history[static_cast<std::size_t>(e)].train_loss == r.train_loss);
      CHECK(std::isfinite(r.train_loss));
      CHECK(r.train_accuracy >= 0.0);
      CHECK(r.train_accuracy <= 1.0);
      CHECK(std::isnan(r.validation_loss));  // no validation set
      CHECK(std::isnan(r.validation_accuracy));
      CHECK(r.seconds >= 0.0);
      // The epoch's loss is the batch losses' mean weighted by batch size.
      double sum = 0;
      for (int s = 0; s < 4; ++s) {
        const StepInfo& info = steps[static_cast<std::size_t>(4 * e + s)];
        sum += info.loss * static_cast<double>(info.batch_size);
      }
      CHECK(r.train_loss == Approx(sum / 100).epsilon(1e-12));
    }
  }
  SECTION("validation fields are filled when a validation set is given") {
    const Dataset<float> validation = xor_data(70, 4);
    std::vector<Evaluation> evaluations;
    auto evaluate_myself = on_epoch_end([&](const EpochRecord&, Mlp& trained) {
      evaluations.push_back(evaluate(trained, Loss{}, validation, 32));
    });
    fit(net, sgd, Loss{}, data, {.epochs = 3, .batch_size = 32, .validation = &validation},
        record_epochs, evaluate_myself);
    REQUIRE(records.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      // The same computation on the same weights: equal to the last bit.
      CHECK(records[e].validation_loss == evaluations[e].loss);
      CHECK(records[e].validation_accuracy == evaluations[e].accuracy);
      CHECK(records[e].validation_accuracy >= 0.0);
    }
  }
  SECTION("the learning rate follows the schedule within an epoch") {
    // The clock reads epoch + step / 4: steps at 0, 0.25, 0.5, 0.75, then 1, 1.25, ...
    Sgd scheduled({.lr = Piecewise{{{0, 0.1}, {0.5, 0.05}, {1, 0.01}}}});
    const auto history = fit(net, scheduled, Loss{}, data, {.epochs = 2}, record_steps);
    const std::vector<double> expected = {0.1, 0.1, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01};
    REQUIRE(steps.size() == expected.size());
    for (std::size_t i = 0; i < steps.size(); ++i) CHECK(steps[i].learning_rate == expected[i]);
    CHECK(history[0].learning_rate == 0.05);  // at the epoch's last step
    CHECK(history[1].learning_rate == 0.01);
  }
  SECTION("Control::stop from on_step_end ends training after that step") {
    auto stop_at_5 = on_step_end([](const StepInfo& info, auto&) {
      return info.global_step == 5 ? Control::stop : Control::proceed;
    });
    const auto history = fit(net, sgd, Loss{}, data, {.epochs = 10, .batch_size = 32}, record_steps,
                             stop_at_5, record_epochs);
    CHECK(steps.size() == 6);      // global steps 0..5; every callback still saw the last step
    REQUIRE(history.size() == 2);  // the stopped epoch still gets its record
    CHECK(records.size() == 2);
    // The partial epoch's loss averages the two steps it ran.
    CHECK(history[1].train_loss == Approx((steps[4].loss + steps[5].loss) / 2).epsilon(1e-12));
  }
  SECTION("Control::stop from on_epoch_end ends training after that epoch") {
    auto stop_after_1 = on_epoch_end([](const EpochRecord& r, auto&) {
      return r.epoch == 1 ? Control::stop : Control::proceed;
    });
    const auto history =
        fit(net, sgd, Loss{}, data, {.epochs = 10, .batch_size = 32}, record_steps, stop_after_1);
    CHECK(history.size() == 2);
    CHECK(steps.size() == 8);
  }
}

namespace {
// A callback with every member, counting calls; it probes the hidden layer at each epoch's end.
struct Probe {
  Matrix<float> x = (Matrix<float>(2, 3) << 1, -1, 0.5, 2, 0, -0.5).finished();
  int begins = 0, step_ends = 0;
  std::vector<Matrix<float>> hidden, expected_hidden;

  void on_train_begin(Mlp&) {
    CHECK(step_ends == 0);
    ++begins;
  }
  void on_step_end(const StepInfo&, Mlp&) { ++step_ends; }
  Control on_epoch_end(const EpochRecord&, Mlp& net) {
    net.forward(x, Mode::eval);
    CHECK(Matrix<float>(net.output<0>()) == x);
    hidden.emplace_back(net.output<2>());  // after the Relu
    const auto& dense = net.layer<1>();
    expected_hidden.push_back(
        ((dense.weight().value * x).colwise() + dense.bias().value.col(0)).cwiseMax(0.0f));
    return Control::proceed;
  }
};
}  // namespace

TEST_CASE("a callback can run the network and read any layer's output", "[train]") {
  const Dataset<float> data = xor_data(100, 3);
  Mlp net{Rng{1}};
  Sgd sgd({.lr = 0.05});
  Probe probe;
  const auto history = fit(net, sgd, Loss{}, data, {.epochs = 3, .batch_size = 32}, probe);
  CHECK(history.size() == 3);
  CHECK(probe.begins == 1);
  CHECK(probe.step_ends == 12);
  REQUIRE(probe.hidden.size() == 3);
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(probe.hidden[e].rows() == 8);
    CHECK(probe.hidden[e].cols() == 3);
    // Eigen may sum the products in another order than the layer's GEMM: float rounding only.
    CHECK((probe.hidden[e] - probe.expected_hidden[e]).cwiseAbs().maxCoeff() < 1e-5f);
  }
  CHECK(probe.hidden[0] != probe.hidden[2]);  // the weights changed in between
}

TEST_CASE("fit with MeanSquaredError learns a noiseless linear map", "[train]") {
  // y = A x + c for 3 inputs and 2 outputs; a single Dense layer can represent it exactly.
  Matrix<double> a(2, 3);
  a << 0.5, -1.0, 2.0, 1.5, 0.25, -0.75;
  Vector<double> c(2);
  c << 0.3, -0.2;
  Engine engine = Rng{9}.engine(Stream::data);
  RegressionDataset<double> data{Matrix<double>(3, 256), Matrix<double>()};
  for (Index i = 0; i < data.x.size(); ++i) data.x.data()[i] = engine.normal();
  data.targets = (a * data.x).colwise() + c;

  Sequential<double, Input<3>, Dense<2>> net{Rng{2}};
  Sgd sgd({.lr = 0.1, .momentum = 0.9});
  const auto history =
      fit(net, sgd, MeanSquaredError{}, data, {.epochs = 60, .batch_size = 32, .rng = Rng{3}});
  REQUIRE(history.size() == 60);
  CHECK(std::isnan(history.back().train_accuracy));  // regression has no accuracy
  // The initial loss is O(1) (targets have variance ~3); a converged fit leaves only rounding.
  CHECK(history.front().train_loss > 0.1);
  CHECK(history.back().train_loss < 1e-12);
  // Observed errors ~2e-10 (the fit converges geometrically): 1e-8 leaves 50x headroom.
  CHECK((net.layer<1>().weight().value - a).cwiseAbs().maxCoeff() < 1e-8);
  CHECK((net.layer<1>().bias().value.col(0) - c).cwiseAbs().maxCoeff() < 1e-8);
  CHECK(evaluate(net, MeanSquaredError{}, data).loss < 1e-12);
}

TEST_CASE("CsvWriter and EpochCsv write flushed rows", "[train]") {
  ScratchDir dir("uinfo_test_train_csv");

  SECTION("CsvWriter") {
    const auto path = dir.path / "log.csv";
    CsvWriter csv(path, {"epoch", "loss", "note"});
    csv.row(0, 0.5, "start");
    csv.row(1, 1.0 / 3, "x");
    // Readable while the writer is alive; numbers in the shortest form that reads back the same.
    CHECK(read_text(path) == "epoch,loss,note\n0,0.5,start\n1,0.3333333333333333,x\n");
    CHECK(std::stod("0.3333333333333333") == 1.0 / 3);
    CHECK_THROWS_AS(csv.row(2, 0.5), InvalidArgument);
    CHECK_THROWS_WITH(csv.row(2, 0.5, "a", "b"), Contains("4 fields for 3 columns"));
    CHECK(split(read_text(path), '\n').size() == 3);  // the bad rows wrote nothing
  }
  SECTION("EpochCsv") {
    const auto path = dir.path / "epochs.csv";
    EpochCsv log(path);
    const Dataset<float> data = xor_data(100, 3);
    Mlp net{Rng{1}};
    Sgd sgd({.lr = 0.05});
    const auto history = fit(net, sgd, Loss{}, data, {.epochs = 3}, log);
    const auto lines = split(read_text(path), '\n');
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] ==
          "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,learning_rate,"
          "seconds");
    for (std::size_t e = 0; e < 3; ++e) {
      const auto fields = split(lines[e + 1], ',');
      REQUIRE(fields.size() == 7);
      CHECK(fields[0] == std::to_string(e));
      CHECK(std::stod(fields[1]) == history[e].train_loss);
      CHECK(std::stod(fields[2]) == history[e].train_accuracy);
      CHECK(fields[3] == "nan");  // no validation set
      CHECK(std::stod(fields[5]) == 0.05);
    }
  }
  SECTION("an unwritable path") {
    const auto path = dir.path / "no_such_directory" / "log.csv";
    CHECK_THROWS_AS(CsvWriter(path, {"a"}), IoError);
    CHECK_THROWS_WITH(EpochCsv(path), Contains("cannot open") && Contains("no_such_directory"));
  }
}
