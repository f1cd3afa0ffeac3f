// Residual blocks: shapes and names, gradients of identity and projection shortcuts (images, flat
// features, through time), what a block exposes of its inner layers (parameters, engines,
// penalties, outputs), save and load, and the image models built from them.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

#include <string>
#include <type_traits>
#include <vector>

#include "uinfo/uinfo.hpp"

using namespace uinfo;

namespace {

template <Index Out, Index Kernel, Index Stride = 1>
using BareConv = Conv2d<Out, Kernel, Stride, Kernel / 2, he_normal, Bias::none>;

// Output channels that fill a vector of doubles, so that the tiled convolutions run.
constexpr Index lanes = static_cast<Index>(xsimd::batch<double>::size);

// A ResNet basic block on lanes x 5 x 5 images keeping the shape (identity shortcut), and one
// halving the image and doubling the channels (projection shortcut).
using IdentityBlock = Residual<BareConv<lanes, 3>, BatchNorm, Relu, BareConv<lanes, 3>, BatchNorm>;
using ProjectionBlock =
    Residual<BareConv<2 * lanes, 3, 2>, BatchNorm, Relu, BareConv<2 * lanes, 3>, BatchNorm>;

template <class Block>
using BlockNet = Sequential<double, ImageInput<lanes, 5, 5>, Block, Relu, GlobalAvgPool, Dense<3>>;

static_assert(BlockNet<IdentityBlock>::layer_type<1>::identity_shortcut);
static_assert(BlockNet<IdentityBlock>::layer_shape<1> == Shape{lanes, 5, 5});
static_assert(!BlockNet<ProjectionBlock>::layer_type<1>::identity_shortcut);
static_assert(BlockNet<ProjectionBlock>::layer_shape<1> == Shape{2 * lanes, 3, 3});
static_assert(BlockNet<ProjectionBlock>::layer_type<1>::layer_type<3>::out_shape ==
              Shape{2 * lanes, 3, 3});

template <class Net>
void require_gradients(const Net& net, GradientCheckOptions options = {}) {
  const auto report = check_gradients(net, options);
  INFO(net.architecture() << " in " << (options.mode == Mode::train ? "train" : "eval")
                          << " mode, batch " << options.batch);
  INFO("worst: " << report.worst << " (error " << report.max_error << ")");
  CHECK(report.checked == net.parameter_count() + net.layer_size(0) * options.batch *
                                                      std::max<Index>(options.steps, 1));
  REQUIRE(report.passed);
}

template <class N>
std::vector<Matrix<typename N::scalar_type>> values_of(const N& net) {
  std::vector<Matrix<typename N::scalar_type>> values;
  net.for_each_parameter([&](const auto& p) { values.push_back(p.value); });
  return values;
}

Matrix<float> random_images(Index features, Index count, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Matrix<float> x(features, count);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.uniform<float>();
  return x;
}

}  // namespace

TEST_CASE("a residual block names its body and its shortcut", "[residual]") {
  using Net = Sequential<float, ImageInput<2, 4, 4>, Residual<Conv2d<2, 3, 1, 1>, Relu>,
                         Residual<BareConv<3, 3, 2>, BatchNorm>>;
  CHECK(Net{Rng{1}}.architecture() ==
        "float: ImageInput<2,4,4> Residual<Conv2d<2x4x4,2,3,1,1>,Relu<2x4x4>> "
        "Residual<Conv2d<2x4x4,3,3,2,1,no bias>,BatchNorm<3x2x2>;"
        "shortcut=Conv2d<2x4x4,3,1,2,0,no bias>,BatchNorm<3x2x2>>");
  // The body's weights and biases, then the projection's weight and BatchNorm blocks.
  CHECK(Net{Rng{1}}.parameter_count() == (2 * 18 + 2) + (3 * 18 + 3 + 3) + (3 * 2 + 3 + 3));
}

TEST_CASE("residual blocks with identity and projection shortcuts match finite differences",
          "[residual]") {
  for (const Mode mode : {Mode::train, Mode::eval}) {
    GradientCheckOptions options;
    options.mode = mode;
    require_gradients(BlockNet<IdentityBlock>{Rng{3}}, options);
    require_gradients(BlockNet<ProjectionBlock>{Rng{4}}, options);
  }
  SECTION("a projection of the channels only, at stride 1") {
    using Block = Residual<BareConv<2 * lanes, 3>, BatchNorm>;
    static_assert(!BlockNet<Block>::layer_type<1>::identity_shortcut);
    require_gradients(BlockNet<Block>{Rng{5}});
  }
  SECTION("a network of blocks, one inside another, whose first layer is a block") {
    using Net = Sequential<double, ImageInput<lanes, 4, 4>,
                           Residual<Residual<BareConv<lanes, 3>, Relu>, BareConv<lanes, 1>>, Relu,
                           Residual<BareConv<lanes, 3, 2>, Tanh>, GlobalAvgPool, Dense<2>>;
    require_gradients(Net{Rng{6}});
  }
}

TEST_CASE("residual blocks of flat features, and through time", "[residual]") {
  SECTION("identity: Dense, Tanh, Dense") {
    require_gradients(
        Sequential<double, Input<6>, Residual<Dense<6>, Tanh, Dense<6>>, Dense<2>>{Rng{7}});
  }
  SECTION("projection: a 1x1 convolution of a flat input is a Dense layer without bias") {
    using Net = Sequential<double, Input<6>, Residual<Dense<4>, Tanh>, Dense<2>>;
    static_assert(Net::layer_shape<1> == flat_shape(4));
    require_gradients(Net{Rng{8}});
  }
  SECTION("a recurrent body gets the timeline, its penalty and its engines reach the network") {
    using Net = Sequential<double, Input<3>, Residual<LeakyRnn<3, Tanh>>, Dense<2>>;
    Net net{Rng{9}};
    auto& rnn = net.layer<1>().layer<1>();
    rnn.configure({.alpha = 0.5, .recurrent_noise = 0.1, .rate_l2 = 0.2});
    GradientCheckOptions options;
    options.steps = 4;
    options.batch = 2;
    require_gradients(net, options);

    const Matrix<double> x = Matrix<double>::Ones(3, 8);
    net.forward(x, Timeline{4, 2, {}, 0});
    CHECK(net.penalty() > 0);
    CHECK(net.penalty() == rnn.penalty());
    const auto engines = net.layer<1>().engines();
    static_assert(engines.size() == 1);
    CHECK(engines[0] == rnn.engines()[0]);
  }
}

TEST_CASE("a residual block lists its inner layers' parameters, the projection's last",
          "[residual]") {
  BlockNet<ProjectionBlock> net{Rng{2}};
  auto& block = net.layer<1>();
  const auto parameters = block.parameters();
  // Conv, BatchNorm (4), ReLU (none), conv, BatchNorm (4); projection conv, BatchNorm (4).
  static_assert(parameters.size() == 1 + 4 + 1 + 4 + 1 + 4);
  CHECK(parameters[0] == &block.layer<1>().weight());
  CHECK(parameters[5] == &block.layer<4>().weight());
  CHECK(parameters[10] == &block.projection().convolution().weight());
  std::size_t visited = 0;
  net.for_each_parameter([&](Parameter<double>&) { ++visited; });
  CHECK(visited == parameters.size() + 2);  // and the classifier's weight and bias
  static_assert(std::tuple_size_v<decltype(block.engines())> == 0);
}

TEST_CASE("inner layers initialise from the block's own streams", "[residual]") {
  using Net = Sequential<float, ImageInput<2, 4, 4>, BareConv<2, 3>, Residual<BareConv<2, 3>>>;
  const Net a{Rng{1}}, b{Rng{1}}, c{Rng{2}};
  CHECK(values_of(a) == values_of(b));
  CHECK(values_of(a) != values_of(c));
  // Layer 1 and the block's inner layer 1 draw from different streams.
  CHECK(a.layer<1>().weight().value != a.layer<2>().layer<1>().weight().value);
}

TEST_CASE("a residual block's output is the sum of its body and its shortcut", "[residual]") {
  using Net = Sequential<float, Input<4>, Residual<Dense<4>, Tanh>>;
  Net net{Rng{3}};
  const Matrix<float> x = random_images(4, 5, 4);
  net.forward(x);
  const auto& block = net.layer<1>();
  const Matrix<float> body = block.layer<2>().output();
  CHECK(Matrix<float>(net.output<1>()) == Matrix<float>(body + x));
}

TEST_CASE("the image models have the peer's layers and train", "[residual][models]") {
  using ResNet8 = models::ResNet8<float, ImageInput<1, 28, 28>>;
  using AllCnn = models::AllCnn<float, ImageInput<1, 28, 28>>;
  static_assert(ResNet8::layer_shape<3> == Shape{16, 28, 28});
  static_assert(ResNet8::layer_shape<5> == Shape{16, 28, 28});
  static_assert(ResNet8::layer_shape<7> == Shape{32, 14, 14});
  static_assert(ResNet8::layer_shape<9> == Shape{64, 7, 7});
  static_assert(AllCnn::layer_shape<4> == Shape{32, 14, 14});
  static_assert(AllCnn::layer_shape<8> == Shape{64, 7, 7});
  static_assert(AllCnn::layer_shape<12> == Shape{64, 7, 7});
  static_assert(models::ResNet8<float, ImageInput<3, 32, 32>>::layer_shape<9> == Shape{64, 8, 8});
  // PyTorch's counts for the peer's networks (sum of p.numel() over parameters()).
  CHECK(ResNet8{Rng{1}, {10}}.parameter_count() == 77754);
  CHECK(AllCnn{Rng{1}, {10}}.parameter_count() == 106730);
}

TEST_CASE("a small ResNet trains, and saves and loads bit for bit", "[residual]") {
  // Two classes of 8x8 images: a bright left or right half, under noise.
  using Net =
      Sequential<float, ImageInput<1, 8, 8>, BareConv<16, 3>, BatchNorm, Relu,
                 Residual<BareConv<16, 3>, BatchNorm, Relu, BareConv<16, 3>, BatchNorm>, Relu,
                 Residual<BareConv<32, 3, 2>, BatchNorm>, Relu, GlobalAvgPool, Dense<2>>;
  Dataset<float> train{random_images(64, 256, 5), std::vector<Label>(256)};
  for (Index j = 0; j < 256; ++j) {
    const Label label = static_cast<Label>(j % 2);
    train.labels[static_cast<std::size_t>(j)] = label;
    for (Index h = 0; h < 8; ++h) {
      for (Index w = 0; w < 4; ++w) train.x(h * 8 + w + 4 * label, j) += 1.5f;
    }
  }
  Net net{Rng{2}};
  Sgd sgd({.lr = 0.05, .momentum = 0.9});
  const auto history =
      fit(net, sgd, SoftmaxCrossEntropy{}, train, {.epochs = 6, .batch_size = 32, .rng = Rng{3}});
  INFO("loss " << history.front().train_loss << " -> " << history.back().train_loss);
  CHECK(history.back().train_loss < 0.3 * history.front().train_loss);
  CHECK(history.back().train_accuracy > 0.95);

  const ScratchDir scratch("uinfo_resnet");
  save(net, scratch.path / "resnet.bin");
  Net loaded{Rng{99}};
  load(loaded, scratch.path / "resnet.bin");
  CHECK(values_of(loaded) == values_of(net));
  const Matrix<float> batch = train.x.leftCols(9);
  CHECK(Matrix<float>(loaded.forward(batch)) == Matrix<float>(net.forward(batch)));
  // A network whose second block has an identity shortcut instead is another architecture.
  using Other =
      Sequential<float, ImageInput<1, 8, 8>, BareConv<16, 3>, BatchNorm, Relu,
                 Residual<BareConv<16, 3>, BatchNorm, Relu, BareConv<16, 3>, BatchNorm>, Relu,
                 Residual<BareConv<16, 3>, BatchNorm>, Relu, GlobalAvgPool, Dense<2>>;
  Other other{Rng{1}};
  CHECK_THROWS_AS(load(other, scratch.path / "resnet.bin"), IoError);
}
