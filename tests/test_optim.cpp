// Optimizer steps and learning-rate schedules against values worked out by hand from the formulas
// in the headers (PyTorch's torch.optim.SGD and torch.optim.Adam conventions).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/layers/batch_norm.hpp"
#include "uinfo/layers/conv2d.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/global_avg_pool.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/tanh.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/residual.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/optim/adam.hpp"
#include "uinfo/optim/common.hpp"
#include "uinfo/optim/schedule.hpp"
#include "uinfo/optim/sgd.hpp"
#include "uinfo/train/fit.hpp"

using namespace uinfo;

namespace {

// The smallest network with both kinds of block: weight w = (w0, w1) and bias b.
using Tiny = Sequential<double, Input<2>, Dense<1>>;

// The tiny network's three numbers (or their gradients), in the order w0, w1, b.
struct Triple {
  double w0, w1, b;
};

// Every hand computation below starts from these values and gradients, with lr = 0.1.
constexpr Triple start{1.0, -2.0, 0.5};
constexpr Triple first_gradient{0.5, -1.0, 2.0};
constexpr Triple second_gradient{-1.0, 0.25, 1.0};

void assign(Parameter<double>& weight, Parameter<double>& bias, bool gradient, Triple t) {
  auto& w = gradient ? weight.gradient : weight.value;
  auto& b = gradient ? bias.gradient : bias.value;
  w(0, 0) = t.w0;
  w(0, 1) = t.w1;
  b(0, 0) = t.b;
}

Tiny tiny_net() {
  Tiny net{Rng{1}};
  assign(net.layer<1>().weight(), net.layer<1>().bias(), false, start);
  return net;
}

void set_gradient(Tiny& net, Triple g) {
  assign(net.layer<1>().weight(), net.layer<1>().bias(), true, g);
}

// Double-precision results of a few operations on O(1) numbers: 1e-12 is ~1e4 ulp of headroom,
// and far below any difference a wrong formula makes.
Approx near(double expected) {
  return Approx(expected).epsilon(0).margin(1e-12);
}

void check_values(const Tiny& net, Triple expected) {
  const auto& w = net.layer<1>().weight().value;
  const auto& b = net.layer<1>().bias().value;
  CHECK(w(0, 0) == near(expected.w0));
  CHECK(w(0, 1) == near(expected.w1));
  CHECK(b(0, 0) == near(expected.b));
}

// Two steps from `start`, with first_gradient then second_gradient (unless given others).
template <class Optimizer>
void check_two_steps(Optimizer optimizer, Triple after_first, Triple after_second,
                     Triple gradient1 = first_gradient, Triple gradient2 = second_gradient) {
  Tiny net = tiny_net();
  set_gradient(net, gradient1);
  optimizer.step(net);
  {
    INFO("after the first step");
    check_values(net, after_first);
  }
  set_gradient(net, gradient2);
  optimizer.step(net);
  {
    INFO("after the second step");
    check_values(net, after_second);
  }
  net.for_each_parameter([](const Parameter<double>& p) { CHECK(p.state.steps == 2); });
}

}  // namespace

TEST_CASE("plain SGD: w -= lr * g", "[optim]") {
  // step 1: (1 - 0.1*0.5, -2 + 0.1*1, 0.5 - 0.1*2) = (0.95, -1.9, 0.3)
  // step 2: (0.95 + 0.1*1, -1.9 - 0.1*0.25, 0.3 - 0.1*1) = (1.05, -1.925, 0.2)
  check_two_steps(Sgd({.lr = 0.1}), {0.95, -1.9, 0.3}, {1.05, -1.925, 0.2});
}

TEST_CASE("SGD with coupled weight decay adds wd * w to the gradient", "[optim]") {
  // d = g + 0.1 w.  step 1: d = (0.5 + 0.1, -1 - 0.2, 2 + 0.05) = (0.6, -1.2, 2.05)
  //   w = (1 - 0.06, -2 + 0.12, 0.5 - 0.205) = (0.94, -1.88, 0.295)
  // step 2: d = (-1 + 0.094, 0.25 - 0.188, 1 + 0.0295) = (-0.906, 0.062, 1.0295)
  //   w = (0.94 + 0.0906, -1.88 - 0.0062, 0.295 - 0.10295) = (1.0306, -1.8862, 0.19205)
  check_two_steps(Sgd({.lr = 0.1, .weight_decay = 0.1}), {0.94, -1.88, 0.295},
                  {1.0306, -1.8862, 0.19205});
}

TEST_CASE("SGD momentum keeps a velocity v = mu v + g", "[optim]") {
  // step 1: v = g1, w -= 0.1 g1 -> (0.95, -1.9, 0.3)
  // step 2: v = 0.9 g1 + g2 = (0.45 - 1, -0.9 + 0.25, 1.8 + 1) = (-0.55, -0.65, 2.8)
  //   w = (0.95 + 0.055, -1.9 + 0.065, 0.3 - 0.28) = (1.005, -1.835, 0.02)
  check_two_steps(Sgd({.lr = 0.1, .momentum = 0.9}), {0.95, -1.9, 0.3}, {1.005, -1.835, 0.02});
}

TEST_CASE("Nesterov momentum steps along g + mu v", "[optim]") {
  // step 1: v = g1, step g1 + 0.9 g1 = 1.9 g1 = (0.95, -1.9, 3.8)
  //   w = (1 - 0.095, -2 + 0.19, 0.5 - 0.38) = (0.905, -1.81, 0.12)
  // step 2: v = (-0.55, -0.65, 2.8) as above; step g2 + 0.9 v = (-1 - 0.495, 0.25 - 0.585, 1
  // + 2.52)
  //   = (-1.495, -0.335, 3.52); w = (0.905 + 0.1495, -1.81 + 0.0335, 0.12 - 0.352)
  check_two_steps(Sgd({.lr = 0.1, .momentum = 0.9, .nesterov = true}), {0.905, -1.81, 0.12},
                  {1.0545, -1.7765, -0.232});
}

TEST_CASE("SGD decay with momentum: coupled decay enters the velocity, decoupled does not",
          "[optim]") {
  SECTION("coupled") {
    // step 1: d = (0.6, -1.2, 2.05) = v; w = (0.94, -1.88, 0.295)
    // step 2: d = (-0.906, 0.062, 1.0295); v = 0.9 (0.6, -1.2, 2.05) + d
    //   = (0.54 - 0.906, -1.08 + 0.062, 1.845 + 1.0295) = (-0.366, -1.018, 2.8745)
    //   w = (0.94 + 0.0366, -1.88 + 0.1018, 0.295 - 0.28745) = (0.9766, -1.7782, 0.00755)
    check_two_steps(Sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1}), {0.94, -1.88, 0.295},
                    {0.9766, -1.7782, 0.00755});
  }
  SECTION("decoupled") {
    // w = (1 - lr wd) w - lr v = 0.99 w - 0.1 v, with v = 0.9 v + g (no decay term).
    // step 1: v = g1; w = (0.99 - 0.05, -1.98 + 0.1, 0.495 - 0.2) = (0.94, -1.88, 0.295)
    // step 2: v = (-0.55, -0.65, 2.8); w = (0.9306 + 0.055, -1.8612 + 0.065, 0.29205 - 0.28)
    check_two_steps(
        Sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1, .decay = WeightDecay::decoupled}),
        {0.94, -1.88, 0.295}, {0.9856, -1.7962, 0.01205});
  }
  SECTION("without momentum the two coincide") {
    // (1 - lr wd) w - lr g = w - lr (g + wd w): the coupled numbers of the test above.
    check_two_steps(Sgd({.lr = 0.1, .weight_decay = 0.1, .decay = WeightDecay::decoupled}),
                    {0.94, -1.88, 0.295}, {1.0306, -1.8862, 0.19205});
  }
}

TEST_CASE("blocks with weight_decay = false are not decayed", "[optim]") {
  SECTION("exempt_biases_from_weight_decay clears only the bias flags") {
    Tiny net = tiny_net();
    exempt_biases_from_weight_decay(net);
    CHECK(net.layer<1>().weight().weight_decay);
    CHECK_FALSE(net.layer<1>().bias().weight_decay);

    // Weights as with coupled decay (0.94, -1.88), then (1.0306, -1.8862); the bias as plain
    // SGD: 0.3, then 0.2.
    Sgd sgd({.lr = 0.1, .weight_decay = 0.1});
    set_gradient(net, first_gradient);
    sgd.step(net);
    check_values(net, {0.94, -1.88, 0.3});
    set_gradient(net, second_gradient);
    sgd.step(net);
    check_values(net, {1.0306, -1.8862, 0.2});
  }
  SECTION("a weight block can be exempted too") {
    Tiny net = tiny_net();
    net.layer<1>().weight().weight_decay = false;
    // AdamW: the weights take plain Adam's first step (1 - 0.1*0.5/(0.5 + 1e-8), ...), the bias
    // is shrunk: 0.99*0.5 - 0.1*2/(2 + 1e-8) = 0.3950000005.
    Adam adam({.lr = 0.1, .weight_decay = 0.1, .decay = WeightDecay::decoupled});
    set_gradient(net, first_gradient);
    adam.step(net);
    check_values(net, {0.900000002, -1.900000001, 0.3950000005});
  }
}

TEST_CASE("clip_norm rescales the global gradient norm over all blocks", "[optim]") {
  // Step 1: g = (0, 3, 4) has global norm 5 > 1, so it is scaled by 1/5 to (0, 0.6, 0.8):
  //   w = (1, -2 - 0.06, 0.5 - 0.08) = (1, -2.06, 0.42).
  //   (Clipping each block alone would give (0, 1, 1) and w = (1, -2.1, 0.4).)
  // Step 2: g = (0.3, 0, 0.4) has norm 0.5 <= 1 and is used as is:
  //   w = (1 - 0.03, -2.06, 0.42 - 0.04) = (0.97, -2.06, 0.38).
  check_two_steps(Sgd({.lr = 0.1, .clip_norm = 1.0}), {1.0, -2.06, 0.42}, {0.97, -2.06, 0.38},
                  {0.0, 3.0, 4.0}, {0.3, 0.0, 0.4});

  Tiny net = tiny_net();
  set_gradient(net, {0.0, 3.0, 4.0});
  CHECK(gradient_norm(net) == near(5.0));
  CHECK(clip_factor(net, 1.0) == near(0.2));
  CHECK(clip_factor(net, 10.0) == 1.0);
  CHECK(clip_factor(net, 0.0) == 1.0);  // 0 turns clipping off

  SECTION("a non-finite gradient norm is divergence when clipping") {
    set_gradient(net, {0.0, std::numeric_limits<double>::infinity(), 4.0});
    Sgd sgd({.lr = 0.1, .clip_norm = 1.0});
    CHECK_THROWS_AS(sgd.step(net), Diverged);
    Adam adam({.lr = 0.1, .clip_norm = 1.0});
    CHECK_THROWS_AS(adam.step(net), Diverged);
  }
}

TEST_CASE("Adam: bias-corrected first and second moments", "[optim]") {
  // Step 1: m = 0.1 g, v = 0.001 g^2, so m^ = g and v^ = g^2: each number moves by
  //   0.1 g / (|g| + 1e-8), e.g. w0 = 1 - 0.1*0.5/(0.5 + 1e-8) = 0.900000002.
  // Step 2: m = 0.9*0.1 g1 + 0.1 g2, v = 0.999*0.001 g1^2 + 0.001 g2^2,
  //   m^ = m / (1 - 0.81), v^ = v / (1 - 0.998001), w -= 0.1 m^ / (sqrt(v^) + 1e-8):
  //   w0: m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975,
  //       m^ = -0.28947368, sqrt(v^) = 0.79068805 -> 0.900000002 + 0.036610352 = 0.93661035424
  //   w1: m = -0.09 + 0.025 = -0.065, v = 0.000999 + 0.0000625 = 0.0010615,
  //       m^ = -0.34210526, sqrt(v^) = 0.72870811 -> -1.900000001 + 0.046946816 = -1.85305318452
  //   b:  m = 0.18 + 0.1 = 0.28, v = 0.003996 + 0.001 = 0.004996,
  //       m^ = 1.47368421, sqrt(v^) = 1.58090152 -> 0.4000000005 - 0.093217963 = 0.30678203721
  check_two_steps(Adam({.lr = 0.1}), {0.900000002, -1.900000001, 0.4000000005},
                  {0.936610354240566, -1.85305318452346, 0.30678203720851});
}

TEST_CASE("Adam with coupled L2 puts wd * w into the moments", "[optim]") {
  // Step 1: d1 = g1 + 0.1 w = (0.6, -1.2, 2.05); each moves by 0.1 d1 / (|d1| + 1e-8):
  //   w = (1 - 0.1*0.6/(0.6 + 1e-8), ...) = (0.9000000016667, -1.9000000008333, 0.4000000004878)
  // Step 2: d2 = g2 + 0.1 w = (-1 + 0.09, 0.25 - 0.19, 1 + 0.04) = (-0.91, 0.06, 1.04), then the
  //   moments as for plain Adam with (d1, d2) in place of (g1, g2):
  //   w0: m = 0.054 - 0.091 = -0.037, v = 0.00035964 + 0.0008281 = 0.00118774,
  //       m^ = -0.19473684, sqrt(v^) = 0.77082234 -> 0.9000000016667 + 0.025263518 = 0.92526352
  //   w1: m = -0.108 + 0.006 = -0.102, v = 0.00143856 + 0.0000036 = 0.00144216,
  //       m^ = -0.53684211, sqrt(v^) = 0.84937667 -> -1.9000000008 + 0.063204244 = -1.83679576
  //   b:  m = 0.1845 + 0.104 = 0.2885, v = 0.0041983 + 0.0010816 = 0.0052799,
  //       m^ = 1.51842105, sqrt(v^) = 1.62519826 -> 0.4000000005 - 0.093429896 = 0.30657010
  check_two_steps(Adam({.lr = 0.1, .weight_decay = 0.1}),
                  {0.900000001666667, -1.90000000083333, 0.400000000487805},
                  {0.925263519445607, -1.83679575698944, 0.306570104544591});
}

TEST_CASE("AdamW shrinks the weights by (1 - lr wd) outside the moments", "[optim]") {
  // w = 0.99 w - (plain Adam's step, which the decay does not touch):
  // step 1: (0.99 - 0.099999998, -1.98 + 0.099999999, 0.495 - 0.0999999995)
  //   = (0.890000002, -1.880000001, 0.3950000005)
  // step 2: plain Adam's second step moves by (+0.036610352, +0.046946816, -0.093217963):
  //   (0.8811000020 + 0.0366103522, -1.8612000010 + 0.0469468165, 0.3910500005 - 0.0932179633)
  check_two_steps(Adam({.lr = 0.1, .weight_decay = 0.1, .decay = WeightDecay::decoupled}),
                  {0.890000002, -1.880000001, 0.3950000005},
                  {0.917710354220566, -1.81425318451346, 0.29783203720351});
}

namespace {

// The float path over blocks longer than any SIMD width (74 weights, 37 biases), so that both
// the vector loop and the scalar tail run, against a double reference of the documented formulas.
using Wide = Sequential<float, Input<2>, Dense<37>>;

struct Reference {
  std::vector<double> w, m, v;
};

std::vector<double> as_doubles(const Matrix<float>& m) {
  return std::vector<double>(m.data(), m.data() + m.size());
}

void fill(Matrix<float>& m, Engine& engine) {
  // Magnitudes in [0.1, 1], random signs: no gradient is near 0, where Adam's eps would matter.
  for (Index i = 0; i < m.size(); ++i) {
    const double magnitude = engine.uniform(0.1, 1.0);
    m.data()[i] = static_cast<float>(engine.below(2) ? magnitude : -magnitude);
  }
}

// Runs two steps of `optimizer` on a Wide net and of `reference_step` on doubles, comparing after
// each step.
template <class Optimizer, class ReferenceStep>
void check_float_path(Optimizer optimizer, ReferenceStep reference_step) {
  Wide net{Rng{3}};
  Engine engine = Rng{4}.engine(Stream::user);
  std::vector<Reference> reference;
  net.for_each_parameter([&](Parameter<float>& p) {
    fill(p.value, engine);
    const auto n = static_cast<std::size_t>(p.size());
    reference.push_back({as_doubles(p.value), std::vector<double>(n), std::vector<double>(n)});
  });
  for (int t = 1; t <= 2; ++t) {
    std::size_t block = 0;
    net.for_each_parameter([&](Parameter<float>& p) {
      fill(p.gradient, engine);
      Reference& r = reference[block++];
      for (std::size_t i = 0; i < r.w.size(); ++i) {
        const double before = r.w[i];
        reference_step(r.w[i], static_cast<double>(p.gradient.data()[i]), r.m[i], r.v[i], t);
        // A step moves every number by > 0.008 (see the callers), so an element that the
        // vector loop or the tail skipped would fail the comparison below.
        if (t == 1) REQUIRE(std::abs(r.w[i] - before) > 0.008);
      }
    });
    optimizer.step(net);
    block = 0;
    net.for_each_parameter([&](const Parameter<float>& p) {
      const Reference& r = reference[block++];
      for (std::size_t i = 0; i < r.w.size(); ++i) {
        INFO("step " << t << ", block " << block - 1 << ", element " << i);
        // Each number is O(1) and comes from ~15 float operations, each rounding by at most
        // 2^-24 = 6e-8 relative, so the float result is within ~1e-6 of the double one;
        // 1e-5 leaves 10x headroom and is still 900x below a step.
        CHECK(p.value.data()[i] == Approx(r.w[i]).epsilon(0).margin(1e-5));
      }
    });
  }
}

}  // namespace

TEST_CASE("the float SIMD path agrees with a double reference on long blocks", "[optim]") {
  SECTION("SGD, momentum (the rule compiled without decay terms)") {
    // Step 1 moves w by 0.1 g, |g| >= 0.1: >= 0.01.
    const double lr = 0.1, mu = 0.9;
    check_float_path(Sgd({.lr = lr, .momentum = mu}),
                     [=](double& w, double g, double& v, double&, int) {
                       v = mu * v + g;
                       w -= lr * v;
                     });
  }
  SECTION("SGD, Nesterov momentum, coupled decay") {
    // Step 1 moves w by 0.1 (d + 0.9 d), |d| >= 0.1 - 0.01 (|g| >= 0.1, |w| <= 1): >= 0.017.
    const double lr = 0.1, mu = 0.9, wd = 0.01;
    check_float_path(Sgd({.lr = lr, .momentum = mu, .nesterov = true, .weight_decay = wd}),
                     [=](double& w, double g, double& v, double&, int) {
                       const double d = g + wd * w;
                       v = mu * v + d;
                       w -= lr * (d + mu * v);
                     });
  }
  SECTION("AdamW") {
    // Step 1 moves w by 0.01 g / (|g| + eps) less at most 0.001 |w| of decay: > 0.008.
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    check_float_path(Adam({.lr = lr, .weight_decay = wd, .decay = WeightDecay::decoupled}),
                     [=](double& w, double g, double& m, double& v, int t) {
                       m = b1 * m + (1 - b1) * g;
                       v = b2 * v + (1 - b2) * g * g;
                       const double m_hat = m / (1 - std::pow(b1, t)),
                                    v_hat = v / (1 - std::pow(b2, t));
                       w = (1 - lr * wd) * w - lr * m_hat / (std::sqrt(v_hat) + eps);
                     });
  }
}

namespace {

// 37 outputs are tiled with an overlapping last vector, 16 exactly, 3 by Eigen's product.
using FusedMlp = Sequential<float, Input<20>, Dense<37>, Relu, Dense<16>, Tanh, Dense<3>>;
// Dense layers inside residual blocks (identity shortcuts: a flat projection's BatchNorm would
// refuse batch 1), and convolutions and BatchNorm in blocks with identity and projection shortcuts.
using FusedResidualMlp = Sequential<float, Input<20>, Residual<Dense<37>, Relu, Dense<20>>, Tanh,
                                    Residual<Dense<20>>, Dense<3>>;
template <Index Out, Index Stride = 1>
using BareConv = Conv2d<Out, 3, Stride, 1, he_normal, Bias::none>;
using FusedResNet =
    Sequential<float, ImageInput<2, 6, 6>, Residual<BareConv<16>, BatchNorm, Relu, BareConv<16>>,
               Relu, Residual<BareConv<16>, BatchNorm>, Relu,
               Residual<BareConv<32, 2>, BatchNorm, Relu, BareConv<32>, BatchNorm>, GlobalAvgPool,
               Dense<3>>;

// Steps of `optimizer` on two copies of a network, one with backward() then step(), one with
// backward_and_step(), at several batch sizes; the weights and optimizer state must agree bit for
// bit.
template <class Optimizer, class Net = FusedMlp>
void check_fused_equals_separate(const Optimizer& options) {
  constexpr Index inputs = Net::input_size, classes = Net::output_size;
  Engine engine = Rng{9}.engine(Stream::user);
  for (const Index batch : {1, 5, 33}) {
    INFO("batch " << batch);
    Net separate{Rng{3}};
    Net fused = separate;
    Optimizer separate_optimizer = options, fused_optimizer = options;
    Buffer<float> gradient;
    for (int step = 0; step < 3; ++step) {
      Matrix<float> x(inputs, batch);
      for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(engine.normal());
      std::vector<Label> labels(static_cast<std::size_t>(batch));
      for (auto& label : labels) label = static_cast<Label>(engine.below(classes));
      for (Net* net : {&separate, &fused}) {
        const auto output = net->forward(x, Mode::train);
        SoftmaxCrossEntropy::value_and_gradient<float>(output, labels,
                                                       gradient.reshape(classes, batch));
        if (net == &separate) {
          net->backward(std::as_const(gradient).view(), InputGradient::skip);
          separate_optimizer.step(*net);
        } else {
          backward_and_step(*net, fused_optimizer, std::as_const(gradient).view());
        }
      }
    }
    std::vector<const Parameter<float>*> blocks;
    separate.for_each_parameter([&](const Parameter<float>& p) { blocks.push_back(&p); });
    std::size_t block = 0;
    fused.for_each_parameter([&](const Parameter<float>& p) {
      INFO("block " << block);
      const Parameter<float>& reference = *blocks[block++];
      CHECK(p.value == reference.value);
      CHECK(p.state.moments[0] == reference.state.moments[0]);
      CHECK(p.state.moments[1] == reference.state.moments[1]);
      CHECK(p.state.steps == reference.state.steps);
    });
  }
}

}  // namespace

TEST_CASE("an update fused into the backward pass gives the same weights bit for bit", "[optim]") {
  SECTION("SGD") {
    check_fused_equals_separate(Sgd({.lr = 0.1}));
  }
  SECTION("SGD, momentum (the rule compiled without decay terms)") {
    check_fused_equals_separate(Sgd({.lr = 0.1, .momentum = 0.9}));
  }
  SECTION("SGD, Nesterov momentum, coupled decay") {
    check_fused_equals_separate(
        Sgd({.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01}));
  }
  SECTION("SGD, momentum, decoupled decay") {
    check_fused_equals_separate(
        Sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .decay = WeightDecay::decoupled}));
  }
  SECTION("Adam") {
    check_fused_equals_separate(Adam({.lr = 0.01, .weight_decay = 0.01}));
  }
  SECTION("clipping, which backward_and_step does not fuse") {
    check_fused_equals_separate(Sgd({.lr = 0.1, .momentum = 0.9, .clip_norm = 0.5}));
  }
  SECTION("residual blocks of Dense layers, and of convolutions and BatchNorm") {
    check_fused_equals_separate<Sgd, FusedResidualMlp>(Sgd({.lr = 0.1, .momentum = 0.9}));
    check_fused_equals_separate<Adam, FusedResidualMlp>(Adam({.lr = 0.01, .weight_decay = 0.01}));
    check_fused_equals_separate<Sgd, FusedResNet>(Sgd({.lr = 0.1, .momentum = 0.9}));
  }
}

TEST_CASE("schedules give the documented rate at chosen epochs", "[schedule]") {
  const auto rate = [](const Schedule& s, double epoch) { return s(epoch); };

  const Schedule constant = Constant{0.3};
  CHECK(rate(constant, 0) == 0.3);
  CHECK(rate(constant, 123.5) == 0.3);
  CHECK(rate(Schedule(0.25), 7) == 0.25);  // a plain number is a constant schedule

  // 1.0 * 0.5^floor(epoch / 10)
  const Schedule step = StepDecay{.lr = 1.0, .every = 10, .gamma = 0.5};
  CHECK(rate(step, 0) == near(1.0));
  CHECK(rate(step, 9.99) == near(1.0));
  CHECK(rate(step, 10) == near(0.5));
  CHECK(rate(step, 25) == near(0.25));

  // 2 * 0.5^epoch
  const Schedule exponential = Exponential{.lr = 2.0, .gamma = 0.5};
  CHECK(rate(exponential, 0) == near(2.0));
  CHECK(rate(exponential, 1) == near(1.0));
  CHECK(rate(exponential, 3) == near(0.25));
  CHECK(rate(exponential, 0.5) == near(std::numbers::sqrt2));  // 2 * 0.5^0.5 = sqrt(2)

  // 0.1 + 0.45 (1 + cos(pi epoch / 10)), then 0.1
  const Schedule cosine = Cosine{.lr = 1.0, .epochs = 10, .min_lr = 0.1};
  CHECK(rate(cosine, 0) == near(1.0));
  CHECK(rate(cosine, 2.5) == near(0.1 + 0.45 * (1 + std::numbers::sqrt2 / 2)));  // cos(pi/4)
  CHECK(rate(cosine, 5) == near(0.55));                                          // cos(pi/2) = 0
  CHECK(rate(cosine, 10) == near(0.1));
  CHECK(rate(cosine, 30) == near(0.1));

  // factor 0.1 + 0.9 epoch / 5 for epoch < 5, times StepDecay 1.0 * 0.5^floor(epoch / 3)
  const Schedule warmup =
      Warmup{.epochs = 5, .after = StepDecay{.lr = 1.0, .every = 3, .gamma = 0.5}};
  CHECK(rate(warmup, 0) == near(0.1));
  CHECK(rate(warmup, 2.5) == near(0.55));      // 0.1 + 0.45
  CHECK(rate(warmup, 4) == near(0.82 * 0.5));  // (0.1 + 0.72) * 0.5^1
  CHECK(rate(warmup, 5) == near(0.5));         // warm: 0.5^1
  CHECK(rate(warmup, 6) == near(0.25));        // 0.5^2

  const Schedule piecewise = Piecewise{{{0, 0.005}, {10, 0.05}}};
  CHECK(rate(piecewise, 0) == 0.005);
  CHECK(rate(piecewise, 9.99) == 0.005);
  CHECK(rate(piecewise, 10) == 0.05);
  CHECK(rate(piecewise, 25) == 0.05);

  const Schedule custom = [](double epoch) { return 1.0 / (1.0 + epoch); };
  CHECK(rate(custom, 3) == near(0.25));
}

TEST_CASE("an optimizer's learning rate follows set_epoch", "[schedule][optim]") {
  Sgd sgd({.lr = Piecewise{{{0, 0.005}, {10, 0.05}}}});
  CHECK(sgd.learning_rate() == 0.005);
  sgd.set_epoch(9.99);
  CHECK(sgd.epoch() == 9.99);
  CHECK(sgd.learning_rate() == 0.005);
  sgd.set_epoch(10);
  CHECK(sgd.learning_rate() == 0.05);

  // The step uses the current rate: w0 = 1 - 0.05*0.5 = 0.975, w1 = -2 + 0.05 = -1.95,
  // b = 0.5 - 0.05*2 = 0.4.
  Tiny net = tiny_net();
  set_gradient(net, first_gradient);
  sgd.step(net);
  check_values(net, {0.975, -1.95, 0.4});

  Adam adam({.lr = Exponential{.lr = 0.1, .gamma = 0.5}});
  CHECK(adam.learning_rate() == near(0.1));
  adam.set_epoch(2);
  CHECK(adam.learning_rate() == near(0.025));
}

TEST_CASE("invalid optimizer options and schedules throw InvalidArgument", "[optim][schedule]") {
  CHECK_THROWS_AS(Sgd({.lr = -0.1}), InvalidArgument);
  CHECK_THROWS_AS(Sgd({.lr = std::numeric_limits<double>::quiet_NaN()}), InvalidArgument);
  CHECK_THROWS_AS(Sgd({.lr = 0.1, .momentum = 1.0}), InvalidArgument);
  CHECK_THROWS_AS(Sgd({.lr = 0.1, .momentum = -0.5}), InvalidArgument);
  CHECK_THROWS_WITH(Sgd({.lr = 0.1, .nesterov = true}), Catch::Contains("Nesterov"));
  CHECK_THROWS_AS(Sgd({.lr = 0.1, .nesterov = true}), InvalidArgument);
  CHECK_THROWS_AS(Sgd({.lr = 0.1, .weight_decay = -1}), InvalidArgument);
  CHECK_THROWS_AS(Sgd({.lr = 0.1, .clip_norm = -1}), InvalidArgument);
  CHECK_NOTHROW(Sgd({.lr = 0.0, .momentum = 0.99, .nesterov = true}));

  CHECK_THROWS_AS(Adam({.lr = -1e-3}), InvalidArgument);
  CHECK_THROWS_AS(Adam({.lr = 1e-3, .beta1 = 1.0}), InvalidArgument);
  CHECK_THROWS_AS(Adam({.lr = 1e-3, .beta2 = 1.0}), InvalidArgument);
  CHECK_THROWS_AS(Adam({.lr = 1e-3, .epsilon = 0}), InvalidArgument);
  CHECK_THROWS_AS(Adam({.lr = 1e-3, .weight_decay = -0.1}), InvalidArgument);

  using Pieces = std::vector<std::pair<double, double>>;
  CHECK_THROWS_WITH(Schedule(Piecewise{Pieces{{1, 0.1}, {5, 0.01}}}),
                    Catch::Contains("start at epoch 0"));
  CHECK_THROWS_AS(Schedule(Piecewise{Pieces{}}), InvalidArgument);
  CHECK_THROWS_WITH(Schedule(Piecewise{Pieces{{0, 0.1}, {5, 0.01}, {5, 0.001}}}),
                    Catch::Contains("increasing"));
  CHECK_THROWS_AS(Schedule(Piecewise{Pieces{{0, 0.1}, {5, 0.01}, {3, 0.001}}}), InvalidArgument);
  CHECK_THROWS_AS(Schedule(Piecewise{Pieces{{0, 0.1}, {5, -0.01}}}), InvalidArgument);

  // A schedule that turns negative later throws when the optimizer reaches that epoch.
  CHECK_THROWS_AS(Schedule([](double) { return -1.0; }), InvalidArgument);
  Sgd sgd({.lr = [](double epoch) { return 0.1 - 0.1 * epoch; }});
  CHECK_NOTHROW(sgd.set_epoch(0.5));
  CHECK_THROWS_AS(sgd.set_epoch(2), InvalidArgument);
}
