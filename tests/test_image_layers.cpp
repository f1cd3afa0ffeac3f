// Image layers: shapes through a Sequential, Conv2d, pooling, Flatten and BatchNorm against
// hand-computed examples and a direct convolution, gradient checks, and a small CNN that trains
// and round-trips through save and load.
#include <catch2/catch.hpp>

#include "scratch_dir.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "uinfo/uinfo.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

// The CNN of the brief: 1x28x28 -> 8x28x28 -> 8x14x14 -> 16x14x14 -> 16x7x7 -> 784 -> 10.
template <class S>
using Cnn = Sequential<S, ImageInput<1, 28, 28>, Conv2d<8, 3, 1, 1>, Relu, MaxPool2d<2>,
                       Conv2d<16, 3, 1, 1>, Relu, MaxPool2d<2>, Flatten, Dense<10>>;

static_assert(Cnn<float>::input_size == 784);
static_assert(Cnn<float>::layer_shape<0> == Shape{1, 28, 28});
static_assert(Cnn<float>::layer_shape<1> == Shape{8, 28, 28});
static_assert(Cnn<float>::layer_shape<2> == Shape{8, 28, 28});  // Relu keeps the image
static_assert(Cnn<float>::layer_shape<3> == Shape{8, 14, 14});
static_assert(Cnn<float>::layer_shape<4> == Shape{16, 14, 14});
static_assert(Cnn<float>::layer_shape<6> == Shape{16, 7, 7});
static_assert(Cnn<float>::layer_shape<7> == flat_shape(784));
static_assert(Cnn<float>::layer_type<8>::in_size == 784);
static_assert(Cnn<float>::output_size == 10);

// Stride, padding, non-square images, and the layers that keep a shape.
using Strided = Sequential<float, ImageInput<3, 9, 7>, Conv2d<4, 3, 2, 1>, Dropout<0.5>, Tanh,
                           AvgPool2d<3, 1>, BatchNorm, GlobalAvgPool, BatchNorm, Dense<2>>;
static_assert(Strided::layer_shape<1> == Shape{4, 5, 4});
static_assert(Strided::layer_shape<2> == Shape{4, 5, 4});
static_assert(Strided::layer_shape<4> == Shape{4, 3, 2});
static_assert(Strided::layer_shape<5> == Shape{4, 3, 2});
static_assert(Strided::layer_shape<6> == flat_shape(4));
// Flat networks bind activations exactly as before.
static_assert(std::is_same_v<Sequential<float, Input<3>, Relu>::layer_type<1>,
                             ElementwiseLayer<float, 3, Relu>>);

Matrix<double> random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::user);
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = engine.normal();
  return m;
}

template <class S>
ConstMatrixView<S> view(const Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}

// Runs a bound layer's backward pass and returns dx.
template <class L>
Matrix<double> input_gradient(L& layer, const Matrix<double>& x, const Matrix<double>& dy) {
  Matrix<double> dx(x.rows(), x.cols());
  MatrixView<double> dx_view(dx.data(), dx.rows(), dx.cols());
  layer.backward(view(x), view(dy), &dx_view);
  return dx;
}

// A single image layer on In, bound as a Sequential would bind it.
template <class Spec, Shape In>
using bound = typename Sequential<double, ImageInput<In.channels, In.height, In.width>,
                                  Spec>::template layer_type<1>;

// Conv2d<Out, Kernel, Stride, Padding> computed by the given algorithm rather than the one
// fastest_conv_algorithm picks, so that both run on the small shapes of these tests.
template <ConvAlgorithm Algorithm, Index Out, Index Kernel, Index Stride = 1, Index Padding = 0,
          Bias HasBias = Bias::learned>
struct ConvBy {
  template <class S, Shape In>
  using shaped_layer =
      Conv2dLayer<S, In, Out, Kernel, Stride, Padding, he_normal, HasBias, Algorithm>;
};

// Output channels that fill a vector of doubles, as the tiled products need.
constexpr Index lanes = static_cast<Index>(xsimd::batch<double>::size);

// Gradient-checks one spec on images of shape In and verifies that every trained parameter
// and every input entry was compared.
template <class Spec, Shape In>
void check_image_gradients(GradientCheckOptions options = {}) {
  using Net = Sequential<double, ImageInput<In.channels, In.height, In.width>, Spec>;
  const auto report = check_layer_gradients<Spec, In>(options);
  INFO(Net{Rng{options.seed}}.architecture()
       << " in " << (options.mode == Mode::train ? "train" : "eval") << " mode, batch "
       << options.batch);
  INFO("worst: " << report.worst << " (error " << report.max_error << ")");
  CHECK(report.checked == Net{Rng{options.seed}}.parameter_count() + In.size() * options.batch);
  REQUIRE(report.passed);
}

// Calls f(std::integral_constant<ConvAlgorithm, algorithm>{}) for each algorithm.
template <class F>
void for_each_conv_algorithm(F&& f) {
  f(std::integral_constant<ConvAlgorithm, ConvAlgorithm::direct>{});
  f(std::integral_constant<ConvAlgorithm, ConvAlgorithm::im2col>{});
}

std::string algorithm_name(ConvAlgorithm algorithm) {
  switch (algorithm) {
    case ConvAlgorithm::direct:
      return "direct";
    case ConvAlgorithm::im2col:
      return "im2col";
    case ConvAlgorithm::tiled:
      return "tiled";
  }
  return "unknown";
}

// Gradient-checks Conv2d<Out, Kernel, Stride, Padding> on images of shape In by both algorithms.
template <Index Out, Index Kernel, Index Stride, Index Padding, Shape In>
void check_conv_gradients(GradientCheckOptions options = {}) {
  for_each_conv_algorithm([&](auto algorithm) {
    check_image_gradients<ConvBy<algorithm(), Out, Kernel, Stride, Padding>, In>(options);
  });
}

// The convolution from its definition, indexing HWC images by (h * W + w) * C + c and the weight
// by (kh * K + kw) * C + c.
Matrix<double> direct_convolution(const Matrix<double>& x, Shape in, const Matrix<double>& weight,
                                  const Matrix<double>& bias, Index kernel, Index stride,
                                  Index padding) {
  const Index out_channels = weight.rows();
  const Index out_height = (in.height + 2 * padding - kernel) / stride + 1;
  const Index out_width = (in.width + 2 * padding - kernel) / stride + 1;
  Matrix<double> y(out_channels * out_height * out_width, x.cols());
  for (Index b = 0; b < x.cols(); ++b) {
    for (Index oh = 0; oh < out_height; ++oh) {
      for (Index ow = 0; ow < out_width; ++ow) {
        for (Index o = 0; o < out_channels; ++o) {
          double sum = bias(o, 0);
          for (Index kh = 0; kh < kernel; ++kh) {
            for (Index kw = 0; kw < kernel; ++kw) {
              const Index h = oh * stride - padding + kh, w = ow * stride - padding + kw;
              if (h < 0 || h >= in.height || w < 0 || w >= in.width) continue;
              for (Index c = 0; c < in.channels; ++c) {
                sum += weight(o, (kh * kernel + kw) * in.channels + c) *
                       x((h * in.width + w) * in.channels + c, b);
              }
            }
          }
          y((oh * out_width + ow) * out_channels + o, b) = sum;
        }
      }
    }
  }
  return y;
}

// One layer of Conv2d<Out, Kernel, Stride, Padding> by `Algorithm` against direct_convolution.
template <ConvAlgorithm Algorithm, Index Out, Index Kernel, Index Stride, Index Padding, Shape In,
          Bias HasBias = Bias::learned>
void check_one_against_direct_convolution() {
  bound<ConvBy<Algorithm, Out, Kernel, Stride, Padding, HasBias>, In> layer(Rng{5}, 1);
  Matrix<double> bias = Matrix<double>::Zero(Out, 1);
  if constexpr (HasBias == Bias::learned) {
    layer.bias().value = random_matrix(Out, 1, 6);
    bias = layer.bias().value;
  }
  const Matrix<double> x = random_matrix(In.size(), 3, 7);
  layer.forward(view(x), Mode::eval);
  const Matrix<double> expected =
      direct_convolution(x, In, layer.weight().value, bias, Kernel, Stride, Padding);
  INFO(layer.name() << " " << algorithm_name(Algorithm));
  REQUIRE(layer.output().rows() == expected.rows());
  CHECK((Matrix<double>(layer.output()) - expected).cwiseAbs().maxCoeff() <= 1e-12);
}

// Conv2d<Out, Kernel, Stride, Padding> by the direct and im2col algorithms.
template <Index Out, Index Kernel, Index Stride, Index Padding, Shape In>
void check_against_direct_convolution() {
  for_each_conv_algorithm([&](auto algorithm) {
    check_one_against_direct_convolution<algorithm(), Out, Kernel, Stride, Padding, In>();
  });
}

// Two channels of a 4x4 image in HWC order: channel 0 holds h * 4 + w, channel 1 its negation.
Matrix<double> two_channel_ramp() {
  Matrix<double> x(32, 1);
  for (Index p = 0; p < 16; ++p) {
    x(2 * p, 0) = static_cast<double>(p);
    x(2 * p + 1, 0) = -static_cast<double>(p);
  }
  return x;
}

template <class N>
std::vector<Matrix<typename N::scalar_type>> values_of(const N& net) {
  std::vector<Matrix<typename N::scalar_type>> values;
  net.for_each_parameter([&](const auto& p) { values.push_back(p.value); });
  return values;
}

// Ten classes of 28x28 images: a fixed random template per class plus noise.
Dataset<float> template_images(Index samples, std::uint64_t seed) {
  Engine engine = Rng{seed}.engine(Stream::data);
  Matrix<float> templates(784, 10);
  for (Index i = 0; i < templates.size(); ++i) templates.data()[i] = engine.normal<float>();
  Dataset<float> data{Matrix<float>(784, samples),
                      std::vector<Label>(static_cast<std::size_t>(samples))};
  for (Index j = 0; j < samples; ++j) {
    const auto label = static_cast<Label>(j % 10);
    data.labels[static_cast<std::size_t>(j)] = label;
    for (Index i = 0; i < 784; ++i) {
      data.x(i, j) = templates(i, label) + engine.normal<float>();
    }
  }
  return data;
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// --- Shapes and names --------------------------------------------------------------------------

TEST_CASE("image layers name their input shapes in the architecture", "[image]") {
  CHECK(Cnn<float>{Rng{1}}.architecture() ==
        "float: ImageInput<1,28,28> Conv2d<1x28x28,8,3,1,1> Relu<8x28x28> "
        "MaxPool2d<8x28x28,2,2> Conv2d<8x14x14,16,3,1,1> Relu<16x14x14> "
        "MaxPool2d<16x14x14,2,2> Flatten<784> Dense<10,784>");
  CHECK(Strided{Rng{1}}.architecture() ==
        "float: ImageInput<3,9,7> Conv2d<3x9x7,4,3,2,1> Dropout<4x5x4,0.5> Tanh<4x5x4> "
        "AvgPool2d<4x5x4,3,1> BatchNorm<4x3x2> GlobalAvgPool<4x3x2> BatchNorm<4> Dense<2,4>");
  CHECK(to_string(Shape{3, 9, 7}) == "3x9x7");
  // (8*9 + 8) + (16*72 + 16) + (10*784 + 10)
  CHECK(Cnn<float>{Rng{1}}.parameter_count() == 80 + 1168 + 7850);
}

TEST_CASE("an image input rejects a batch of the wrong size", "[image]") {
  Cnn<float> net{Rng{1}};
  CHECK_THROWS_WITH(net.forward(Matrix<float>::Zero(783, 2)), Contains("ImageInput<1,28,28>") &&
                                                                  Contains("783 rows") &&
                                                                  Contains("expected 784"));
}

// --- Conv2d ------------------------------------------------------------------------------------

TEST_CASE("Conv2d computes a hand-worked example", "[image]") {
  // The 3x3 image 1..9 (row by row), one channel.
  Matrix<double> x(9, 1);
  for (Index i = 0; i < 9; ++i) x(i, 0) = static_cast<double>(i + 1);

  SECTION("2x2 kernel, two output channels") {
    bound<Conv2d<2, 2>, Shape{1, 3, 3}> layer(Rng{1}, 1);
    // Rows are output channels, columns (kh, kw): [[1, 2], [3, 4]] and [[0, 0], [0, -1]].
    layer.weight().value << 1, 2, 3, 4, 0, 0, 0, -1;
    layer.bias().value << 0.5, 0;
    layer.forward(view(x), Mode::eval);
    // Window at (0, 0) covers 1 2 / 4 5: 1 + 4 + 12 + 20 = 37, and -5; and so on, HWC.
    Matrix<double> expected(8, 1);
    expected << 37.5, -5, 47.5, -6, 67.5, -8, 77.5, -9;
    CHECK(Matrix<double>(layer.output()) == expected);
  }
  SECTION("3x3 kernel of ones, stride 2, padding 1") {
    bound<Conv2d<1, 3, 2, 1>, Shape{1, 3, 3}> layer(Rng{1}, 1);
    layer.weight().value.setOnes();
    layer.forward(view(x), Mode::eval);
    // Windows centred on the corners: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
    Matrix<double> expected(4, 1);
    expected << 12, 16, 24, 28;
    CHECK(Matrix<double>(layer.output()) == expected);
  }
}

TEST_CASE("Conv2d matches a direct convolution", "[image]") {
  check_against_direct_convolution<3, 3, 1, 0, Shape{2, 5, 6}>();
  check_against_direct_convolution<3, 3, 1, 1, Shape{2, 5, 6}>();
  check_against_direct_convolution<4, 3, 2, 1, Shape{3, 9, 7}>();
  check_against_direct_convolution<2, 2, 2, 0, Shape{3, 4, 6}>();
  check_against_direct_convolution<2, 1, 1, 1, Shape{3, 2, 3}>();  // zero border
  check_against_direct_convolution<2, 3, 1, 2, Shape{1, 3, 4}>();
  check_against_direct_convolution<2, 2, 3, 3, Shape{2, 5, 8}>();  // windows wholly in padding
}

TEST_CASE("Conv2d gradients match finite differences", "[image]") {
  check_conv_gradients<2, 2, 1, 0, Shape{1, 3, 3}>();
  check_conv_gradients<3, 3, 1, 1, Shape{2, 5, 4}>();
  check_conv_gradients<2, 3, 2, 1, Shape{2, 5, 7}>();  // stride 2 and padding 1
  check_conv_gradients<2, 2, 2, 0, Shape{3, 4, 4}>();
  check_conv_gradients<3, 1, 1, 0, Shape{4, 3, 2}>();
  check_conv_gradients<2, 1, 1, 1, Shape{2, 2, 3}>();  // border windows only in padding
  check_conv_gradients<2, 2, 3, 3, Shape{2, 5, 8}>();  // stride above the kernel, wide padding
  GradientCheckOptions one;
  one.batch = 1;
  check_conv_gradients<2, 3, 2, 1, Shape{2, 5, 5}>(one);
}

TEST_CASE("Conv2d by tiled kernels matches a direct convolution", "[image]") {
  using enum ConvAlgorithm;
  // Input channels that fill vectors (vector input gradient) and a few (scalar input gradient).
  check_one_against_direct_convolution<tiled, lanes, 3, 1, 1, Shape{lanes, 5, 6}>();
  check_one_against_direct_convolution<tiled, 2 * lanes, 3, 1, 1, Shape{3, 7, 5}>();
  check_one_against_direct_convolution<tiled, lanes, 3, 2, 1, Shape{lanes, 7, 9}>();
  check_one_against_direct_convolution<tiled, lanes, 3, 2, 1, Shape{2, 6, 6}>();  // drops a row
  check_one_against_direct_convolution<tiled, lanes, 1, 2, 0, Shape{lanes, 6, 5}>();
  check_one_against_direct_convolution<tiled, lanes, 2, 3, 3, Shape{2, 5, 8}>();
  check_one_against_direct_convolution<tiled, lanes, 3, 1, 0, Shape{1, 4, 30}>();  // long rows
  check_one_against_direct_convolution<tiled, lanes, 3, 1, 1, Shape{lanes, 5, 6}, Bias::none>();
}

TEST_CASE("a strided window that overruns the padded input is dropped, as in PyTorch", "[image]") {
  // 6 + 2 - 3 = 5 is not a multiple of the stride: windows start at 0, 2 and 4 of the padded 8.
  using Net = Sequential<float, ImageInput<2, 6, 6>, Conv2d<3, 3, 2, 1>, MaxPool2d<2>>;
  static_assert(Net::layer_shape<1> == Shape{3, 3, 3});
  static_assert(Net::layer_shape<2> == Shape{3, 1, 1});
  static_assert(bound<Conv2d<16, 3, 2, 1>, Shape{16, 28, 28}>::out_shape == Shape{16, 14, 14});
  check_against_direct_convolution<2, 3, 2, 1, Shape{2, 6, 6}>();
  check_conv_gradients<2, 3, 2, 1, Shape{2, 6, 5}>();
}

TEST_CASE("Conv2d by tiled kernels: gradients match finite differences, with and without bias",
          "[image]") {
  using enum ConvAlgorithm;
  check_image_gradients<ConvBy<tiled, lanes, 3, 1, 1>, Shape{lanes, 4, 5}>();
  check_image_gradients<ConvBy<tiled, lanes, 3, 2, 1>, Shape{lanes, 5, 6}>();
  check_image_gradients<ConvBy<tiled, lanes, 1, 2, 0>, Shape{lanes, 5, 5}>();
  check_image_gradients<ConvBy<tiled, lanes, 2, 1, 0>, Shape{3, 4, 4}>();  // scalar dx
  check_image_gradients<ConvBy<tiled, lanes, 3, 1, 1, Bias::none>, Shape{lanes, 4, 5}>();
  check_image_gradients<ConvBy<tiled, lanes, 3, 2, 1, Bias::none>, Shape{2, 5, 5}>();
  // The other algorithms without bias.
  check_image_gradients<ConvBy<direct, 3, 3, 1, 1, Bias::none>, Shape{2, 4, 5}>();
  check_image_gradients<ConvBy<im2col, 3, 3, 2, 1, Bias::none>, Shape{2, 5, 5}>();
}

TEST_CASE("a convolution without bias has only its weight", "[image]") {
  using Net = Sequential<float, ImageInput<2, 5, 5>, Conv2d<4, 3, 1, 1, he_normal, Bias::none>>;
  const Net net{Rng{1}};
  CHECK(net.architecture() == "float: ImageInput<2,5,5> Conv2d<2x5x5,4,3,1,1,no bias>");
  CHECK(net.parameter_count() == 4 * 18);
  static_assert(std::tuple_size_v<decltype(net.layer<1>().parameters())> == 1);
}

TEST_CASE("Conv2d picks tiled kernels for whole vectors of outputs, else by filter size",
          "[image]") {
  using enum ConvAlgorithm;
  constexpr Index w = xsimd::batch<float>::size;
  static_assert(fastest_conv_algorithm<float>(1, w, 3) == tiled);
  static_assert(fastest_conv_algorithm<float>(32, 4 * w, 3) == tiled);
  static_assert(fastest_conv_algorithm<double>(1, lanes, 3) == tiled);
  // Otherwise weights out x (kernel^2 x in): 7 x 9 and 7 x 288 directly, 17 x 144 by im2col.
  static_assert(fastest_conv_algorithm<float>(1, 7, 3) == direct);
  static_assert(fastest_conv_algorithm<float>(32, 7, 3) == direct);
  static_assert(fastest_conv_algorithm<float>(16, 17, 3) == im2col);
  static_assert(Cnn<float>::layer_type<1>::block_images == 1);  // image by image
}

// Blocks change how the work is split, not what is computed: outputs and input gradients are
// those of each image on its own, bit for bit (each column's sums run in the same order), and the
// parameter gradients their sums, up to the order of the additions.
TEST_CASE("Conv2d over several blocks of images matches each image on its own", "[image]") {
  const auto check = [&](auto algorithm) {
    constexpr Index out = algorithm() == ConvAlgorithm::tiled ? lanes : 4;
    using Layer = bound<ConvBy<algorithm(), out, 3, 1, 1>, Shape{8, 10, 10}>;
    // Two whole blocks and a partial one.
    const Index batch = 2 * Layer::block_images + 1;
    INFO(algorithm_name(algorithm())
         << ", " << Layer::block_images << " images per block, batch " << batch);
    if (algorithm() != ConvAlgorithm::direct) CHECK(Layer::block_images > 1);
    Layer layer(Rng{3}, 1);
    layer.bias().value = random_matrix(out, 1, 4);
    const Matrix<double> x = random_matrix(Layer::in_size, batch, 5);
    const Matrix<double> dy = random_matrix(Layer::out_size, batch, 6);
    layer.forward(view(x), Mode::train);
    const Matrix<double> y = layer.output();
    const Matrix<double> dx = input_gradient(layer, x, dy);
    const Matrix<double> weight_gradient = layer.weight().gradient;
    const Matrix<double> bias_gradient = layer.bias().gradient;

    Matrix<double> weight_sum = Matrix<double>::Zero(out, 9 * 8);
    Matrix<double> bias_sum = Matrix<double>::Zero(out, 1);
    for (Index b = 0; b < batch; ++b) {
      const Matrix<double> image = x.col(b);
      layer.forward(view(image), Mode::train);
      CHECK(Matrix<double>(layer.output()) == y.col(b));
      CHECK(input_gradient(layer, image, Matrix<double>(dy.col(b))) == dx.col(b));
      weight_sum += layer.weight().gradient;
      bias_sum += layer.bias().gradient;
    }
    CHECK((weight_gradient - weight_sum).cwiseAbs().maxCoeff() <=
          1e-12 * weight_sum.cwiseAbs().maxCoeff());
    CHECK((bias_gradient - bias_sum).cwiseAbs().maxCoeff() <=
          1e-12 * bias_sum.cwiseAbs().maxCoeff());
  };
  for_each_conv_algorithm(check);
  check(std::integral_constant<ConvAlgorithm, ConvAlgorithm::tiled>{});
}

TEST_CASE("Conv2d initialises with fans of the kernel's extent", "[image]") {
  // 64 x 288 weights: He's sd is sqrt(2 / (3 * 3 * 32)); Glorot's fan-out is 3 * 3 * 64.
  // n = 18432 draws: the sample sd's relative standard error is 1 / sqrt(2n) = 0.5%.
  const bound<Conv2d<64, 3>, Shape{32, 5, 5}> he(Rng{3}, 1);
  const auto sd = [](const Matrix<double>& w) {
    return std::sqrt((w.array() - w.mean()).square().mean());
  };
  CHECK(sd(he.weight().value) == Approx(std::sqrt(2.0 / 288)).epsilon(0.025));
  const bound<Conv2d<64, 3, 1, 0, glorot_normal>, Shape{32, 5, 5}> glorot(Rng{3}, 1);
  CHECK(sd(glorot.weight().value) == Approx(std::sqrt(2.0 / (288 + 576))).epsilon(0.025));
  CHECK(he.bias().value.isZero(0.0));
}

// --- Pooling and Flatten -----------------------------------------------------------------------

TEST_CASE("pooling computes hand-worked examples per channel", "[image]") {
  const Matrix<double> x = two_channel_ramp();
  SECTION("MaxPool2d<2>") {
    bound<MaxPool2d<2>, Shape{2, 4, 4}> layer(Rng{1}, 1);
    layer.forward(view(x), Mode::eval);
    Matrix<double> expected(8, 1);
    expected << 5, 0, 7, -2, 13, -8, 15, -10;
    CHECK(Matrix<double>(layer.output()) == expected);
  }
  SECTION("MaxPool2d<3, 1>: overlapping windows") {
    bound<MaxPool2d<3, 1>, Shape{2, 4, 4}> layer(Rng{1}, 1);
    layer.forward(view(x), Mode::eval);
    Matrix<double> expected(8, 1);
    expected << 10, 0, 11, -1, 14, -4, 15, -5;
    CHECK(Matrix<double>(layer.output()) == expected);
  }
  SECTION("AvgPool2d<2>") {
    bound<AvgPool2d<2>, Shape{2, 4, 4}> layer(Rng{1}, 1);
    layer.forward(view(x), Mode::eval);
    Matrix<double> expected(8, 1);
    expected << 2.5, -2.5, 4.5, -4.5, 10.5, -10.5, 12.5, -12.5;
    CHECK(Matrix<double>(layer.output()) == expected);
  }
  SECTION("GlobalAvgPool") {
    bound<GlobalAvgPool, Shape{2, 4, 4}> layer(Rng{1}, 1);
    layer.forward(view(x), Mode::eval);
    CHECK(Matrix<double>(layer.output()) == Eigen::Vector2d(7.5, -7.5));
  }
}

TEST_CASE("max pooling sends the gradient to each window's maximum", "[image]") {
  // A 3x3 image whose maximum is in the centre, which all four 2x2 windows of stride 1 share.
  Matrix<double> x(9, 1);
  x << 1, 2, 3, 4, 9, 5, 6, 7, 8;
  bound<MaxPool2d<2, 1>, Shape{1, 3, 3}> layer(Rng{1}, 1);
  layer.forward(view(x), Mode::train);
  CHECK(Matrix<double>(layer.output()) == Eigen::Vector4d(9, 9, 9, 9));
  const Matrix<double> dx = input_gradient(layer, x, Eigen::Vector4d(1, 2, 4, 8));
  Matrix<double> expected = Matrix<double>::Zero(9, 1);
  expected(4, 0) = 15;
  CHECK(dx == expected);
}

TEST_CASE("pooling gradients match finite differences", "[image]") {
  check_image_gradients<MaxPool2d<2>, Shape{2, 4, 6}>();
  check_image_gradients<MaxPool2d<3, 1>, Shape{2, 5, 4}>();  // overlapping
  check_image_gradients<MaxPool2d<3, 2>, Shape{3, 5, 5}>();  // overlapping, stride 2
  check_image_gradients<AvgPool2d<2>, Shape{2, 4, 6}>();
  check_image_gradients<AvgPool2d<3, 1>, Shape{2, 5, 4}>();
  check_image_gradients<AvgPool2d<3, 2>, Shape{3, 5, 5}>();
  check_image_gradients<GlobalAvgPool, Shape{3, 2, 3}>();
  check_image_gradients<Flatten, Shape{2, 3, 3}>();
}

TEST_CASE("Flatten passes values and gradients through unchanged", "[image]") {
  const Matrix<double> x = random_matrix(18, 3, 1);
  bound<Flatten, Shape{2, 3, 3}> layer(Rng{1}, 1);
  static_assert(decltype(layer)::out_shape == flat_shape(18));
  layer.forward(view(x), Mode::train);
  CHECK(Matrix<double>(layer.output()) == x);
  const Matrix<double> dy = random_matrix(18, 3, 2);
  CHECK(input_gradient(layer, x, dy) == dy);
}

// --- BatchNorm ---------------------------------------------------------------------------------

TEST_CASE("BatchNorm normalises per feature, or per channel of an image", "[image]") {
  constexpr double eps = 1e-5;
  // Features (or channels) are rows of x read as channels x (pixels * batch).
  const auto check_normalised = [&](const Matrix<double>& rows, const Matrix<double>& out_rows) {
    for (Index c = 0; c < rows.rows(); ++c) {
      const double mean = rows.row(c).mean();
      const double variance = (rows.row(c).array() - mean).square().mean();
      const Matrix<double> expected = (rows.row(c).array() - mean) / std::sqrt(variance + eps);
      CHECK((out_rows.row(c) - expected).cwiseAbs().maxCoeff() <= 1e-12);
    }
  };
  SECTION("flat: 3 features, batch 5") {
    const Matrix<double> x = 3 * random_matrix(3, 5, 1).array() + 2;
    bound<BatchNorm, flat_shape(3)> layer(Rng{1}, 1);
    layer.forward(view(x), Mode::train);
    check_normalised(x, layer.output());
  }
  SECTION("image: 2 channels of 3x2 pixels, batch 1") {
    const Matrix<double> x = 3 * random_matrix(12, 1, 2).array() + 2;
    bound<BatchNorm, Shape{2, 3, 2}> layer(Rng{1}, 1);
    layer.forward(view(x), Mode::train);
    const Matrix<double> out = layer.output();
    check_normalised(Eigen::Map<const Matrix<double>>(x.data(), 2, 6),
                     Eigen::Map<const Matrix<double>>(out.data(), 2, 6));
  }
}

TEST_CASE("BatchNorm keeps PyTorch's running statistics and uses them in eval mode", "[image]") {
  const Matrix<double> x = 3 * random_matrix(12, 2, 3).array() + 2;  // 2 channels, 3 x 2 pixels
  const Eigen::Map<const Matrix<double>> rows(x.data(), 2, 12);
  bound<BatchNorm, Shape{2, 3, 2}> layer(Rng{1}, 1);
  layer.forward(view(x), Mode::train);
  layer.forward(view(x), Mode::train);
  // From mean 0 and variance 1, two steps of momentum 0.1 towards the batch's mean and unbiased
  // variance: 1 - 0.9^2 of the way.
  const Eigen::Vector2d mean = rows.rowwise().mean();
  const Eigen::Vector2d unbiased =
      (rows.colwise() - mean).rowwise().squaredNorm() / (rows.cols() - 1);
  const double moved = 1 - 0.9 * 0.9;
  CHECK((layer.running_mean().value.col(0) - moved * mean).cwiseAbs().maxCoeff() <= 1e-12);
  CHECK((layer.running_variance().value.col(0) -
         (Eigen::Vector2d::Ones() + moved * (unbiased - Eigen::Vector2d::Ones())))
            .cwiseAbs()
            .maxCoeff() <= 1e-12);

  // Eval mode: gamma * (x - running mean) / sqrt(running variance + eps) + beta, per channel.
  layer.gamma().value << 2, 0.5;
  layer.beta().value << -1, 1;
  const Matrix<double> statistics_before = layer.running_mean().value;
  layer.forward(view(x), Mode::eval);
  CHECK(layer.running_mean().value == statistics_before);
  const Matrix<double> out = layer.output();
  for (Index j = 0; j < 12; ++j) {
    for (Index c = 0; c < 2; ++c) {
      const double expected = layer.gamma().value(c, 0) *
                                  (rows(c, j) - layer.running_mean().value(c, 0)) /
                                  std::sqrt(layer.running_variance().value(c, 0) + 1e-5) +
                              layer.beta().value(c, 0);
      CHECK(out.data()[2 * j + c] == Approx(expected).epsilon(1e-12));
    }
  }
}

TEST_CASE("BatchNorm in train mode refuses a batch of one value per feature", "[image]") {
  Sequential<float, Input<4>, Dense<3>, BatchNorm> net{Rng{1}};
  const Matrix<float> one = Matrix<float>::Ones(4, 1);
  CHECK_THROWS_AS(net.forward(one, Mode::train), InvalidArgument);
  CHECK_THROWS_WITH(net.forward(one, Mode::train),
                    Contains("BatchNorm<3>") && Contains("batch of 1") &&
                        Contains("expected a batch of 2 or more") && Contains("Mode::eval"));
  CHECK_NOTHROW(net.forward(one, Mode::eval));
  CHECK_NOTHROW(net.forward(Matrix<float>::Ones(4, 2), Mode::train));
  // An image has a value per pixel: one image gives each channel enough values.
  Sequential<float, ImageInput<2, 2, 2>, BatchNorm> images{Rng{1}};
  CHECK_NOTHROW(images.forward(Matrix<float>::Random(8, 1), Mode::train));
}

TEST_CASE("fit joins a one-sample last batch to the one before it when BatchNorm needs two",
          "[image]") {
  Engine engine = Rng{3}.engine(Stream::data);
  const Dataset<float> data = make_xor<float>(33, 0.3, engine);  // 16 + 16 + 1
  std::vector<Index> sizes;
  auto record = on_step_end([&](const StepInfo& info, auto&) { sizes.push_back(info.batch_size); });
  std::vector<EpochRecord> history;

  SECTION("flat features: 16 + 17, every sample in every epoch") {
    Sequential<float, Input<2>, Dense<8>, BatchNorm, Relu, Dense<2>> net{Rng{1}};
    Sgd sgd({.lr = 0.1});
    std::vector<double> weighted;
    auto sum = on_step_end(
        [&](const StepInfo& info, auto&) { weighted.push_back(info.loss * info.batch_size); });
    REQUIRE_NOTHROW(history = fit(net, sgd, SoftmaxCrossEntropy{}, data,
                                  {.epochs = 3, .batch_size = 16}, record, sum));
    CHECK(sizes == std::vector<Index>{16, 17, 16, 17, 16, 17});
    for (std::size_t e = 0; e < 3; ++e) {
      CHECK(history[e].train_loss ==
            Approx((weighted[2 * e] + weighted[2 * e + 1]) / 33).epsilon(1e-12));
    }
    const Matrix<float> x = data.x;
    CHECK(net.forward(x, Mode::eval).allFinite());
  }
  SECTION("a network without BatchNorm keeps the one-sample batch") {
    Sequential<float, Input<2>, Dense<8>, Relu, Dense<2>> net{Rng{1}};
    Sgd sgd({.lr = 0.1});
    fit(net, sgd, SoftmaxCrossEntropy{}, data, {.epochs = 1, .batch_size = 16}, record);
    CHECK(sizes == std::vector<Index>{16, 16, 1});
  }
  SECTION("images give each channel several values even in a batch of one") {
    Sequential<float, ImageInput<1, 1, 2>, BatchNorm, Flatten, Dense<2>> net{Rng{1}};
    Sgd sgd({.lr = 0.1});
    fit(net, sgd, SoftmaxCrossEntropy{}, data, {.epochs = 1, .batch_size = 16}, record);
    CHECK(sizes == std::vector<Index>{16, 16, 1});
  }
  SECTION("batches of one, or a single sample, cannot train BatchNorm on flat features") {
    Sequential<float, Input<2>, Dense<8>, BatchNorm, Relu, Dense<2>> net{Rng{1}};
    Sgd sgd({.lr = 0.1});
    CHECK_THROWS_AS(fit(net, sgd, SoftmaxCrossEntropy{}, data, {.batch_size = 1}), InvalidArgument);
    CHECK_THROWS_WITH(fit(net, sgd, SoftmaxCrossEntropy{}, data, {.batch_size = 1}),
                      Contains("batch_size is 1 but the network needs 2 samples"));
    const Dataset<float> one{data.x.leftCols(1), {data.labels[0]}};
    CHECK_THROWS_WITH(fit(net, sgd, SoftmaxCrossEntropy{}, one, {.batch_size = 16}),
                      Contains("the training set has 1 sample but the network needs 2"));
  }
}

TEST_CASE("BatchNorm gradients match finite differences in both modes", "[image]") {
  GradientCheckOptions train;
  GradientCheckOptions eval;
  eval.mode = Mode::eval;
  for (const auto& options : {train, eval}) {
    check_image_gradients<BatchNorm, flat_shape(3)>(options);
    check_image_gradients<BatchNorm, Shape{2, 3, 3}>(options);
    GradientCheckOptions four = options;
    four.batch = 4;
    check_image_gradients<BatchNorm, flat_shape(9)>(four);
  }
  GradientCheckOptions one_image;
  one_image.batch = 1;
  check_image_gradients<BatchNorm, Shape{3, 2, 2}>(one_image);
}

TEST_CASE("BatchNorm after a layer sized at run time takes its size from the network", "[image]") {
  using Net = Sequential<double, Input<dynamic>, Dense<dynamic>, BatchNorm, Relu, Dense<2>>;
  const Net net{Rng{1}, {3, 5}};
  CHECK(net.architecture() == "double: Input<3> Dense<5,3> BatchNorm<5> Relu<5> Dense<2,5>");
  CHECK(net.layer<2>().running_mean().value.rows() == 5);
  const auto report = check_gradients(net);
  INFO(report.worst);
  CHECK(report.checked == (5 * 3 + 5) + (5 + 5) + (2 * 5 + 2) + 3 * 3);
  CHECK(report.passed);
}

TEST_CASE("gradients of a small CNN of every image layer match finite differences", "[image]") {
  using Net =
      Sequential<double, ImageInput<2, 7, 5>, Conv2d<3, 3, 1, 1>, BatchNorm, Relu, MaxPool2d<2, 1>,
                 Conv2d<4, 2, 2, 1>, Tanh, AvgPool2d<2, 1>, GlobalAvgPool, BatchNorm, Dense<3>>;
  static_assert(Net::layer_shape<4> == Shape{3, 6, 4});
  static_assert(Net::layer_shape<5> == Shape{4, 4, 3});
  static_assert(Net::layer_shape<7> == Shape{4, 3, 2});
  for (Index batch : {2, 5}) {
    GradientCheckOptions options;
    options.batch = batch;
    const auto report = check_gradients(Net{Rng{17}}, options);
    INFO("batch " << batch << ", worst: " << report.worst);
    CHECK(report.checked == Net{Rng{17}}.parameter_count() + 70 * batch);
    REQUIRE(report.passed);
  }
}

// --- Statistics are saved but never trained ----------------------------------------------------

TEST_CASE("optimizers, weight decay and parameter vectors pass statistics by", "[image]") {
  using Net = Sequential<float, ImageInput<2, 4, 4>, Conv2d<3, 3, 1, 1>, BatchNorm, Relu,
                         GlobalAvgPool, Dense<2>>;
  const Matrix<float> x = random_matrix(32, 6, 1).cast<float>();
  const Matrix<float> dy = random_matrix(2, 6, 2).cast<float>();
  const auto statistics = [](const Net& net) {
    std::vector<Matrix<float>> values;
    net.for_each_parameter([&](const Parameter<float>& p) {
      if (!p.trainable()) values.push_back(p.value);
    });
    return values;
  };
  const auto check_untouched = [&](auto optimizer) {
    Net net{Rng{3}};
    net.forward(x, Mode::train);
    net.backward(dy, InputGradient::skip);
    const auto before = statistics(net);
    REQUIRE(before.size() == 2);
    const Matrix<float> gamma = net.layer<2>().gamma().value;
    optimizer.step(net);
    CHECK(statistics(net) == before);
    CHECK(net.layer<2>().gamma().value != gamma);  // the trained scale did move
    net.for_each_parameter([](const Parameter<float>& p) {
      INFO(p.name());
      CHECK(p.state.steps == (p.trainable() ? 1 : 0));
      if (!p.trainable()) CHECK(p.state.moments[0].size() == 0);
    });
  };
  check_untouched(Sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1}));
  check_untouched(Sgd({.lr = 0.1, .weight_decay = 0.1, .decay = WeightDecay::decoupled}));
  check_untouched(Adam({.lr = 0.1, .weight_decay = 0.1}));

  const Net net{Rng{3}};
  Vector<double> flat;
  copy_parameters_to(net, flat);
  CHECK(flat.size() == net.parameter_count());
  CHECK(net.parameter_count() == (3 * 18 + 3) + (3 + 3) + (2 * 3 + 2));
}

// --- A CNN end to end --------------------------------------------------------------------------

TEST_CASE("a small CNN trains and saves and loads bit for bit", "[image]") {
  const Dataset<float> train = template_images(300, 1);
  Cnn<float> net{Rng{2}};
  Sgd sgd({.lr = 0.003, .momentum = 0.9});
  const auto history =
      fit(net, sgd, SoftmaxCrossEntropy{}, train, {.epochs = 5, .batch_size = 32, .rng = Rng{3}});
  INFO("loss " << history.front().train_loss << " -> " << history.back().train_loss << ", accuracy "
               << history.back().train_accuracy);
  CHECK(history.front().train_loss > 1.0);
  CHECK(history.back().train_loss < 0.1 * history.front().train_loss);
  CHECK(history.back().train_accuracy > 0.95);

  const ScratchDir scratch("uinfo_cnn");
  save(net, scratch.path / "cnn.bin");
  Cnn<float> loaded{Rng{99}};
  load(loaded, scratch.path / "cnn.bin");
  CHECK(values_of(loaded) == values_of(net));
  const Matrix<float> batch = train.x.leftCols(17);
  CHECK(Matrix<float>(loaded.forward(batch)) == Matrix<float>(net.forward(batch)));
  save(loaded, scratch.path / "again.bin");
  CHECK(file_bytes(scratch.path / "again.bin") == file_bytes(scratch.path / "cnn.bin"));
}

TEST_CASE("BatchNorm's running statistics are saved and loaded", "[image]") {
  using Net = Sequential<float, ImageInput<1, 6, 6>, Conv2d<4, 3>, BatchNorm, Relu, Flatten,
                         BatchNorm, Dense<3>>;
  Net net{Rng{1}};
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    net.forward(random_matrix(36, 8, seed).cast<float>(), Mode::train);
  }
  CHECK(net.layer<2>().running_mean().value != Matrix<float>::Zero(4, 1));
  CHECK(net.layer<5>().running_variance().value != Matrix<float>::Ones(64, 1));

  const ScratchDir scratch("uinfo_batch_norm");
  save(net, scratch.path / "net.bin");
  Net loaded{Rng{1}};
  load(loaded, scratch.path / "net.bin");
  CHECK(values_of(loaded) == values_of(net));
  const Matrix<float> x = random_matrix(36, 5, 9).cast<float>();
  CHECK(Matrix<float>(loaded.forward(x, Mode::eval)) == Matrix<float>(net.forward(x, Mode::eval)));
}
