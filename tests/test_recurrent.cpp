// Recurrent layers, sequences and training through time: gradients through time against central
// differences (masks, Dale's law, loss masks, padding, truncation), the constraints holding under
// training, determinism, and bad input.
#include <catch2/catch.hpp>

#include <uinfo/uinfo.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

using namespace uinfo;

namespace {

constexpr Index units = 6;

// Every recurrent layer's check: 3 trials of 5 steps, two of them shorter than the batch.
GradientCheckOptions through_time(Index steps = 5) {
  GradientCheckOptions options;
  options.batch = 3;
  options.steps = steps;
  options.lengths = {steps, steps - 2, 2};
  options.tolerance = 1e-6;
  return options;
}

template <class Net>
void require_gradients(const Net& net, const GradientCheckOptions& options) {
  const GradientCheckReport report = check_gradients(net, options);
  INFO(report.worst);
  CHECK(report.checked > 0);
  CHECK(report.passed);
}

// A sign per unit: the first two thirds excitatory.
Vector<double> dale_signs(Index n) {
  Vector<double> signs(n);
  for (Index i = 0; i < n; ++i) signs(i) = i < 2 * n / 3 ? 1 : -1;
  return signs;
}

// A random 0/1 mask with roughly `density` ones.
Matrix<double> random_mask(Index rows, Index cols, double density, std::uint64_t seed) {
  Engine engine{seed};
  Matrix<double> mask(rows, cols);
  for (Index i = 0; i < mask.size(); ++i) mask.data()[i] = engine.uniform() < density ? 1 : 0;
  return mask;
}

}  // namespace

TEST_CASE("leaky rate RNN gradients through time match central differences", "[recurrent]") {
  SECTION("ReLU rates, readout at every step") {
    using Net = Sequential<double, Input<3>, LeakyRnn<units>, Dense<2>>;
    Net net{Rng{1}};
    net.layer<1>().initial_state().value.setConstant(0.1);  // some units start active
    require_gradients(net, through_time());
  }
  SECTION("tanh and softplus rates, alpha 0.5") {
    Sequential<double, Input<3>, LeakyRnn<units, Tanh>, Dense<2>> tanh{Rng{2}};
    tanh.layer<1>().configure({.alpha = 0.5});
    require_gradients(tanh, through_time());
    Sequential<double, Input<3>, LeakyRnn<units, Softplus>, Dense<2>> softplus{Rng{3}};
    softplus.layer<1>().configure({.alpha = 0.5});
    require_gradients(softplus, through_time());
  }
  SECTION("Dale's law, positive inputs, connectivity masks, rate penalty") {
    for (const Positivity positivity : {Positivity::rectify, Positivity::absolute}) {
      Sequential<double, Input<3>, LeakyRnn<units>, Dense<2>> net{Rng{4}};
      auto& rnn = net.layer<1>();
      rnn.recurrent_weight().value = rnn.recurrent_weight().value.cwiseAbs();
      rnn.input_weight().value = rnn.input_weight().value.cwiseAbs();
      rnn.initial_state().value.setConstant(0.2);
      rnn.configure({.rate_l2 = 0.3,
                     .input_constraint = {positivity, {}},
                     .recurrent_constraint = {positivity, dale_signs(units)}});
      rnn.set_connectivity(random_mask(units, 3, 0.7, 5), random_mask(units, units, 0.5, 6));
      require_gradients(net, through_time());
    }
  }
  SECTION("the vanishing-gradient regulariser (the loss and Omega, whose gradient is partial)") {
    // Omega's own gradient holds the loss's gradients constant (as pycog does), so it is not the
    // derivative of the total: checked here with Omega's weight at 0 against a finite difference
    // of the loss, and below for its value.
    Sequential<double, Input<3>, LeakyRnn<units, Tanh>, Dense<2>> net{Rng{7}};
    net.layer<1>().configure({.vanishing_gradient = 0});
    require_gradients(net, through_time());
  }
  SECTION("recurrent and input noise: each evaluation draws the same noise") {
    Sequential<double, Input<3>, LeakyRnn<units, Tanh>, Dense<2>> net{Rng{8}};
    net.layer<1>().configure({.recurrent_noise = 0.1, .input_noise = {0, 0.1, 0.1}});
    require_gradients(net, through_time());
  }
}

TEST_CASE("Elman RNN and LastStep gradients match central differences", "[recurrent]") {
  Sequential<double, Input<3>, ElmanRnn<units>, LastStep, Dense<2>> net{Rng{9}};
  require_gradients(net, through_time());
  Sequential<double, Input<3>, ElmanRnn<units, Relu>, Dense<4>, Tanh, Dense<2>> readout{Rng{10}};
  readout.layer<1>().bias().value.setConstant(0.3);
  require_gradients(readout, through_time());
}

TEST_CASE("a one-step batch is a static batch", "[recurrent]") {
  using Net = Sequential<double, Input<3>, LeakyRnn<units, Tanh>, Dense<2>>;
  Net a{Rng{11}}, b{Rng{11}};
  Engine engine{3};
  Matrix<double> x(3, 4);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.normal();
  const Matrix<double> static_output = a.forward(x);
  const Matrix<double> timed_output = b.forward(x, Timeline{1, 4, {}, 0});
  CHECK(static_output == timed_output);
  require_gradients(a, GradientCheckOptions{});
}

TEST_CASE("padding never changes a gradient", "[recurrent]") {
  Engine engine{4};
  const Index steps = 6, trials = 3;
  const std::vector<Index> lengths{6, 3, 1};
  const Timeline time{steps, trials, lengths, 0};
  auto is_padding = [&](Index column) {
    return column / trials >= lengths[static_cast<std::size_t>(column % trials)];
  };
  Matrix<double> x(3, steps * trials), dy(2, steps * trials);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.normal();
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = engine.normal();
  for (Index j = 0; j < dy.cols(); ++j) {
    if (is_padding(j)) dy.col(j).setZero();  // what a masked loss gives
  }
  auto gradients = [&]<class Net>(Net net, const Matrix<double>& input,
                                  const Matrix<double>& output_gradient) {
    net.template layer<1>().configure({.recurrent_noise = 0.2});  // noise is drawn on padding too
    net.forward(input, time);
    net.backward(output_gradient);
    std::vector<Matrix<double>> g;
    net.for_each_parameter([&](const Parameter<double>& p) { g.push_back(p.gradient); });
    g.push_back(net.input_gradient());
    return g;
  };
  Matrix<double> x_padded = x, dy_padded = dy;
  for (Index j = 0; j < x.cols(); ++j) {
    if (!is_padding(j)) continue;
    x_padded.col(j).setConstant(100);
    dy_padded.col(j).setConstant(-50);
  }
  // Whatever the padding's inputs, with nothing scored there no gradient moves, and the input
  // gradient of padding is 0.
  using Net = Sequential<double, Input<3>, LeakyRnn<units, Tanh>, Dense<2>>;
  const auto reference = gradients(Net{Rng{12}}, x, dy);
  const auto padded = gradients(Net{Rng{12}}, x_padded, dy);
  for (std::size_t k = 0; k < reference.size(); ++k) CHECK(padded[k] == reference[k]);
  for (Index j = 0; j < x.cols(); ++j) {
    if (is_padding(j)) CHECK(reference.back().col(j).isZero());
  }
  // And the recurrent layer ignores an output gradient given on padding.
  using Bare = Sequential<double, Input<3>, LeakyRnn<units, Tanh>>;
  Matrix<double> rates_gradient(units, steps * trials), rates_gradient_padded;
  for (Index i = 0; i < rates_gradient.size(); ++i) rates_gradient.data()[i] = engine.normal();
  rates_gradient_padded = rates_gradient;
  for (Index j = 0; j < x.cols(); ++j) {
    if (is_padding(j)) rates_gradient.col(j).setZero();
  }
  CHECK(gradients(Bare{Rng{12}}, x, rates_gradient) ==
        gradients(Bare{Rng{12}}, x_padded, rates_gradient_padded));
}

TEST_CASE("truncated BPTT equals the gradients of windows started from the carried state",
          "[recurrent]") {
  // BPTT truncated to windows of k steps is the gradient of a loss in which the state at each
  // window's start is a constant. With alpha 1 and tanh rates that state is atanh(r), so the
  // second window can be run as a network of its own that starts there (x0), one per trial.
  using Net = Sequential<double, Input<2>, LeakyRnn<units, Tanh>, Dense<2>>;
  Engine engine{5};
  const Index steps = 8, trials = 2, k = 4;
  Matrix<double> x(2, steps * trials), dy(2, steps * trials);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.normal();
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = engine.normal();
  Net net{Rng{13}};
  net.layer<1>().configure({.alpha = 1});
  auto recurrent_gradient = [](Net& n, const Matrix<double>& input, const Matrix<double>& dout,
                               Timeline time) {
    n.forward(input, time);
    n.backward(dout);
    return Matrix<double>(n.layer<1>().recurrent_weight().gradient);
  };

  Net whole = net;
  const Matrix<double> truncated = recurrent_gradient(whole, x, dy, {steps, trials, {}, k});
  const Matrix<double> full = recurrent_gradient(whole, x, dy, {steps, trials, {}, 0});
  CHECK((full - truncated).norm() > 1e-6);  // truncation does cut something

  Net first = net;
  Matrix<double> sum = recurrent_gradient(first, x.leftCols(k * trials), dy.leftCols(k * trials),
                                          {k, trials, {}, 0});
  const Matrix<double> carried = first.output<1>().rightCols(trials);  // r at step k - 1
  for (Index b = 0; b < trials; ++b) {
    Net window = net;
    window.layer<1>().initial_state().value = carried.col(b).array().atanh().matrix();
    Matrix<double> xb(2, k), dyb(2, k);
    for (Index t = 0; t < k; ++t) {
      xb.col(t) = x.col((k + t) * trials + b);
      dyb.col(t) = dy.col((k + t) * trials + b);
    }
    sum += recurrent_gradient(window, xb, dyb, {k, 1, {}, 0});
  }
  CHECK((truncated - sum).norm() < 1e-9 * truncated.norm());
}

TEST_CASE("masked losses score only the masked entries", "[recurrent][loss]") {
  Engine engine{6};
  Matrix<double> z(2, 5), y(2, 5), mask(2, 5);
  for (Index i = 0; i < z.size(); ++i) {
    z.data()[i] = engine.normal();
    y.data()[i] = engine.normal();
    mask.data()[i] = i % 3 == 0 ? 0 : 1;
  }
  const MaskedTargets<double> targets{ConstMatrixView<double>(y.data(), 2, 5),
                                      ConstMatrixView<double>(mask.data(), 2, 5)};
  const double expected = ((z - y).array().square() * mask.array()).sum() / mask.sum();
  CHECK(MeanSquaredError::value<double>(z, targets) == Approx(expected).epsilon(1e-14));
  CHECK(check_loss_gradients(MeanSquaredError{}, z, targets).passed);
  Matrix<double> ones = Matrix<double>::Ones(2, 5);
  const MaskedTargets<double> all{ConstMatrixView<double>(y.data(), 2, 5),
                                  ConstMatrixView<double>(ones.data(), 2, 5)};
  CHECK(MeanSquaredError::value<double>(z, all) ==
        Approx(MeanSquaredError::value<double>(z, y)).epsilon(1e-14));

  const std::vector<Label> labels{0, 1, 1, 0, 1};
  const std::vector<double> column_mask{1, 0, 1, 1, 0};
  const MaskedLabels<double> masked{labels, column_mask};
  const std::vector<Label> kept{0, 1, 0};
  Matrix<double> kept_logits(2, 3);
  kept_logits << z.col(0), z.col(2), z.col(3);
  CHECK(SoftmaxCrossEntropy::value<double>(z, masked) ==
        Approx(SoftmaxCrossEntropy::value<double>(kept_logits, kept)).epsilon(1e-14));
  CHECK(check_loss_gradients(SoftmaxCrossEntropy{}, z, masked).passed);
}

TEST_CASE("LSTM gradients through time match central differences", "[recurrent]") {
  Sequential<double, Input<3>, Lstm<units>, Dense<2>> net{Rng{15}};
  require_gradients(net, through_time());
  Sequential<double, Input<3>, Lstm<units>, LastStep, Dense<2>> last{Rng{16}};
  require_gradients(last, through_time());
}

TEST_CASE("Omega, the vanishing-gradient regulariser, has pycog's value and W_rec gradient",
          "[recurrent]") {
  // Recomputed here from its definition, with d = dL/dx_t (the layer's drive gradient / alpha)
  // held constant: Omega(W) = mean over (t, b) of (|(1 - a) d + a (Wᵀ d) ⊙ f'|² / |d|² - 1)².
  using Net = Sequential<double, Input<3>, LeakyRnn<units, Tanh>, Dense<2>>;
  const double alpha = 0.3, weight = 2;
  Engine engine{7};
  const Index steps = 5, trials = 2;
  Matrix<double> x(3, steps * trials), dy(2, steps * trials);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.normal();
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = engine.normal();
  const Timeline time{steps, trials, {}, 0};

  Net plain{Rng{17}};
  plain.layer<1>().configure({.alpha = alpha});
  Net with_omega = plain;
  with_omega.layer<1>().configure({.alpha = alpha, .vanishing_gradient = weight});
  plain.forward(x, time);
  plain.backward(dy);
  with_omega.forward(x, time);
  with_omega.backward(dy);

  const auto& layer = plain.layer<1>();
  const Matrix<double> d = layer.drive_gradient() / alpha;
  const Matrix<double> slope = 1 - layer.output().array().square();
  auto omega = [&](const Matrix<double>& w) {
    double sum = 0;
    for (Index j = 0; j < d.cols(); ++j) {
      const Vector<double> u =
          (1 - alpha) * d.col(j) + (alpha * (w.transpose() * d.col(j))).cwiseProduct(slope.col(j));
      const double ratio = u.squaredNorm() / d.col(j).squaredNorm() - 1;
      sum += ratio * ratio;
    }
    return sum / static_cast<double>(d.cols());
  };
  const Matrix<double> w = layer.recurrent_weight().value;
  CHECK(with_omega.penalty() == Approx(weight * omega(w)).epsilon(1e-12));
  // Its gradient is what Omega adds to the recurrent weights' (nothing else changes).
  const Matrix<double> added =
      with_omega.layer<1>().recurrent_weight().gradient - layer.recurrent_weight().gradient;
  double worst = 0;
  for (Index i = 0; i < w.size(); ++i) {
    Matrix<double> up = w, down = w;
    up.data()[i] += 1e-6;
    down.data()[i] -= 1e-6;
    const double numeric = weight * (omega(up) - omega(down)) / 2e-6;
    worst = std::max(worst, std::abs(numeric - added.data()[i]) / std::max(1.0, std::abs(numeric)));
  }
  CHECK(worst < 1e-6);
  CHECK(with_omega.layer<1>().input_weight().gradient == layer.input_weight().gradient);
}

namespace {

// A perceptual decision: noisy evidence of a random sign for a random number of steps; the
// network must output the sign (two outputs, one-hot) during the last `report` steps, which alone
// are scored. Trials have different lengths.
struct EvidenceTask {
  Index min_steps = 8, max_steps = 14, report = 3;
  Index inputs() const { return 1; }
  Index outputs() const { return 2; }
  template <class S>
  void draw(Engine& engine, Index trials, SequenceBatch<S>& batch) const {
    batch.reset(1, 2, max_steps, trials);
    for (Index b = 0; b < trials; ++b) {
      const Index length =
          min_steps +
          static_cast<Index>(engine.below(static_cast<std::uint64_t>(max_steps - min_steps + 1)));
      const int sign = engine.uniform() < 0.5 ? -1 : 1;
      batch.lengths()[static_cast<std::size_t>(b)] = length;
      for (Index t = 0; t < length; ++t) {
        const Index column = batch.column(t, b);
        if (t < length - report)
          batch.x()(0, column) = static_cast<S>(0.6 * sign + engine.normal());
        if (t >= length - report) {
          batch.target_values()(sign > 0 ? 1 : 0, column) = 1;
          batch.mask().col(column).setOnes();
        }
      }
    }
  }
};

template <class Net>
double decision_accuracy(Net& net, const EvidenceTask& task, std::uint64_t seed) {
  Engine engine{seed};
  SequenceBatch<float> batch;
  task.draw(engine, 400, batch);
  const auto z = net.forward(batch.x(), batch.timeline());
  Index correct = 0;
  for (Index b = 0; b < batch.trials(); ++b) {
    const Index last = batch.column(batch.lengths()[static_cast<std::size_t>(b)] - 1, b);
    const bool says_positive = z(1, last) > z(0, last);
    correct += says_positive == (batch.target_values()(1, last) > 0);
  }
  return static_cast<double>(correct) / static_cast<double>(batch.trials());
}

using DaleNet = Sequential<float, Input<1>, LeakyRnn<30>, Dense<2>>;

DaleNet make_dale_net(std::uint64_t seed) {
  DaleNet net{Rng{seed}};
  auto& rnn = net.layer<1>();
  Vector<float> signs(30);
  for (Index i = 0; i < 30; ++i) signs(i) = i < 24 ? 1.0f : -1.0f;
  rnn.recurrent_weight().value = rnn.recurrent_weight().value.cwiseAbs() * 0.5f;
  rnn.input_weight().value = rnn.input_weight().value.cwiseAbs();
  rnn.configure({.alpha = 0.5,
                 .recurrent_noise = 0.05,
                 .input_constraint = {Positivity::rectify, {}},
                 .recurrent_constraint = {Positivity::rectify, signs}});
  Matrix<float> rec_mask = random_mask(30, 30, 0.5, 21).cast<float>();
  rnn.set_connectivity(Matrix<float>::Ones(30, 1), rec_mask);
  rnn.initial_state().value.setConstant(0.1f);
  return net;
}

}  // namespace

TEST_CASE("a Dale's-law network learns a perceptual decision; signs and masks hold throughout",
          "[recurrent][train]") {
  const EvidenceTask task;
  DaleNet net = make_dale_net(3);
  const Matrix<float> mask = net.layer<1>().recurrent_weight().plastic;
  const double before = decision_accuracy(net, task, 99);
  Adam adam{{.lr = 0.01, .weight_decay = 1e-4}};
  Index checked = 0;
  const Index updates = fit_task(
      net, adam, MeanSquaredError{}, task,
      {.updates = 1500, .batch_size = 16, .rng = Rng{4}, .clip_norm = 1},
      every_n_updates(100, [&](const UpdateInfo&, DaleNet& n) {
        const auto& rnn = n.layer<1>();
        const Matrix<float> w = rnn.effective_recurrent_weight();
        for (Index j = 0; j < 30; ++j) {
          if (j < 24) CHECK(w.col(j).minCoeff() >= 0.0f);
          if (j >= 24) CHECK(w.col(j).maxCoeff() <= 0.0f);
        }
        // Absent connections are exactly zero, momentum and weight decay notwithstanding.
        CHECK((rnn.recurrent_weight().value.array() * (1 - mask.array())).cwiseAbs().maxCoeff() ==
              0.0f);
        ++checked;
      }));
  CHECK(updates == 1500);
  CHECK(checked == 15);
  const double after = decision_accuracy(net, task, 99);
  CHECK(before < 0.7);
  CHECK(after > 0.88);  // the ideal observer: about 0.95
}

TEST_CASE("training through time is bitwise reproducible from a seed", "[recurrent][train]") {
  const EvidenceTask task;
  auto train = [&] {
    DaleNet net = make_dale_net(5);
    Adam adam{{.lr = 0.01}};
    fit_task(net, adam, MeanSquaredError{}, task,
             {.updates = 50, .batch_size = 8, .rng = Rng{6}, .truncation = 4, .clip_norm = 1});
    std::vector<Matrix<float>> values;
    net.for_each_parameter([&](const Parameter<float>& p) { values.push_back(p.value); });
    return values;
  };
  CHECK(train() == train());
}

TEST_CASE("bad sequence input is an exception that says what and where", "[recurrent]") {
  using Net = Sequential<double, Input<3>, LeakyRnn<units>, Dense<2>>;
  Net net{Rng{1}};
  Matrix<double> x = Matrix<double>::Zero(3, 12);
  auto message_of = [&](auto f) {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    } catch (const NonFiniteValue& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(message_of([&] {
               net.forward(x, Timeline{5, 3, {}, 0});
             }),
             Contains("12 columns but the timeline 5 steps x 3 trials"));
  const std::vector<Index> two_lengths{4, 4};
  CHECK_THAT(message_of([&] {
               net.forward(x, Timeline{4, 3, two_lengths, 0});
             }),
             Contains("2 trial lengths for 3 trials"));
  const std::vector<Index> empty_trial{4, 0, 2};
  CHECK_THAT(message_of([&] {
               net.forward(x, Timeline{4, 3, empty_trial, 0});
             }),
             Contains("trial 1 has length 0"));
  Matrix<double> wide = Matrix<double>::Zero(4, 12);
  CHECK_THAT(message_of([&] {
               net.forward(wide, Timeline{4, 3, {}, 0});
             }),
             Contains("expected 3 features"));
  x(1, 7) = std::nan("");
  CHECK_THAT(message_of([&] {
               net.forward(x, Timeline{4, 3, {}, 0});
             }),
             Contains("a NaN at feature 1 of sample 7"));
  CHECK_THAT(message_of([&] { net.layer<1>().set_connectivity(Matrix<double>::Ones(3, 3), {}); }),
             Contains("the input mask is 3 x 3; expected 6 x 3"));
  CHECK_THAT(message_of([&] { net.layer<1>().configure({.alpha = 1.5}); }),
             Contains("alpha = dt / tau is 1.5"));
  CHECK_THAT(
      message_of([&] {
        net.layer<1>().configure({.recurrent_constraint = {Positivity::none, dale_signs(units)}});
      }),
      Contains("need a positivity"));
  CHECK_THAT(message_of([&] { net.layer<1>().configure({.input_noise = {0.1}}); }),
             Contains("1 input noise levels for 3 inputs"));

  SequenceBatch<double> batch;
  batch.reset(3, 2, 4, 2);
  batch.lengths()[1] = 2;
  batch.mask().col(batch.column(3, 1)).setOnes();
  CHECK_THAT(message_of([&] { batch.validate(3, 2, "the batch"); }),
             Contains("scores step 3 of trial 1, beyond its length 2"));
  const Matrix<double> bad_mask = Matrix<double>::Ones(2, 5);
  const Matrix<double> values = Matrix<double>::Zero(2, 6);
  CHECK_THAT(message_of([&] {
               MeanSquaredError::value<double>(
                   Matrix<double>::Zero(2, 6),
                   MaskedTargets<double>{ConstMatrixView<double>(values.data(), 2, 6),
                                         ConstMatrixView<double>(bad_mask.data(), 2, 5)});
             }),
             Contains("the loss mask is 2 x 5; expected 2 x 6"));
}

TEST_CASE("save and load carry a recurrent network's connectivity and noise stream",
          "[recurrent][serialize]") {
  using Net = Sequential<float, Input<4>, LeakyRnn<300>, Dense<2>>;
  const MultiAreaCircuit circuit({});
  auto make = [&](std::uint64_t seed) {
    Net net{Rng{seed}};
    Engine init = Rng{seed}.engine(Stream::user);
    circuit.build(net.layer<1>(), net.layer<2>(), init);
    net.layer<1>().configure([&] {
      auto options = net.layer<1>().options();
      options.recurrent_noise = 0.05;
      return options;
    }());
    return net;
  };
  Net original = make(1);
  Matrix<float> x = Matrix<float>::Ones(4, 10 * 2);
  original.forward(x, Timeline{10, 2, {}, 0});  // moves the noise stream
  const auto path = std::filesystem::temp_directory_path() / "uinfo_test_recurrent_save.uinfo";
  save(original, path);
  Net restored{Rng{9}};  // other weights, no connectivity, another noise stream
  restored.layer<1>().configure(original.layer<1>().options());
  restored.layer<2>().constrain(original.layer<2>().constraint());
  load(restored, path);
  std::filesystem::remove(path);
  CHECK(restored.layer<1>().recurrent_weight().plastic ==
        original.layer<1>().recurrent_weight().plastic);
  CHECK(restored.layer<2>().weight().plastic == original.layer<2>().weight().plastic);
  const Matrix<float> a = original.forward(x, Timeline{10, 2, {}, 0});
  const Matrix<float> b = restored.forward(x, Timeline{10, 2, {}, 0});
  CHECK(a == b);  // the same weights and the same noise, bit for bit
}

TEST_CASE("LeakyRnn<dynamic> takes its units when the network is built", "[recurrent]") {
  using Net = Sequential<double, Input<3>, LeakyRnn<dynamic>, Dense<2>>;
  Net net{Rng{2}, {7}};
  CHECK(net.layer_size(1) == 7);
  CHECK(net.layer<1>().units() == 7);
  CHECK(net.layer<2>().weight().value.cols() == 7);
  net.layer<1>().initial_state().value.setConstant(0.1);  // off ReLU's kink at 0
  require_gradients(net, through_time());
  CHECK_THROWS_WITH((Net{Rng{2}, {0}}), Catch::Contains("expected a positive size"));
}
