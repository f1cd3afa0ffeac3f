// Layer kernels: a Dense layer's and a Conv2d layer's forward and backward pass at several sizes
// and batch sizes, and every activation's forward and backward pass, vectorised (simd::map / zip)
// against scalar (map_scalar / zip_scalar).
#include <benchmark/benchmark.h>

#include <string>
#include <type_traits>

#include "bench_util.hpp"
#include "uinfo/layers/conv2d.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/leaky_relu.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/sigmoid.hpp"
#include "uinfo/layers/tanh.hpp"

namespace uinfo::bench {
namespace {

// Forward, then backward with the input gradient; range(0) is the batch size. Items: samples.
template <Index In, Index Out>
void BM_DenseForwardBackward(benchmark::State& state) {
  const Index batch = state.range(0);
  typename Dense<Out>::template layer<float, In> layer(Rng{1}, 1);
  const Matrix<float> x = random_matrix(In, batch, 2);
  const Matrix<float> dy = random_matrix(Out, batch, 3);
  Matrix<float> dx(In, batch);
  MatrixView<float> dx_view(dx.data(), In, batch);
  for (auto _ : state) {
    layer.forward(ConstMatrixView<float>(x.data(), In, batch), Mode::train);
    layer.backward(ConstMatrixView<float>(x.data(), In, batch),
                   ConstMatrixView<float>(dy.data(), Out, batch), &dx_view);
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  // Three products of Out x In x batch multiply-adds: W x, dy x^T, W^T dy.
  set_rates(state, static_cast<double>(batch), 6.0 * In * Out * static_cast<double>(batch));
}
BENCHMARK_TEMPLATE(BM_DenseForwardBackward, 4, 64)->ArgName("batch")->Arg(1)->Arg(32)->Arg(256);
BENCHMARK_TEMPLATE(BM_DenseForwardBackward, 64, 64)->ArgName("batch")->Arg(1)->Arg(32)->Arg(256);
BENCHMARK_TEMPLATE(BM_DenseForwardBackward, 784, 256)->ArgName("batch")->Arg(1)->Arg(32)->Arg(256);

// Conv2d<Out, Kernel, 1, Kernel / 2> on In x Size x Size images, by the algorithm Conv2d picks
// or the one given: forward, then backward with the input gradient; range(0) is the batch size.
// Items: images. GFLOP/s counts the three products, each 2 * Out * (Kernel^2 * In) * Size^2 *
// batch.
template <Index In, Index Size, Index Out, Index Kernel,
          ConvAlgorithm Algorithm = fastest_conv_algorithm<float>(In, Out, Kernel)>
void BM_Conv2dForwardBackward(benchmark::State& state) {
  constexpr Shape shape{In, Size, Size};
  using Layer =
      Conv2dLayer<float, shape, Out, Kernel, 1, Kernel / 2, he_normal, Bias::learned, Algorithm>;
  const Index batch = state.range(0);
  Layer layer(Rng{1}, 1);
  const Matrix<float> x = random_matrix(Layer::in_size, batch, 2);
  const Matrix<float> dy = random_matrix(Layer::out_size, batch, 3);
  Matrix<float> dx(Layer::in_size, batch);
  MatrixView<float> dx_view(dx.data(), Layer::in_size, batch);
  for (auto _ : state) {
    layer.forward(ConstMatrixView<float>(x.data(), Layer::in_size, batch), Mode::train);
    layer.backward(ConstMatrixView<float>(x.data(), Layer::in_size, batch),
                   ConstMatrixView<float>(dy.data(), Layer::out_size, batch), &dx_view);
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(Out * Kernel * Kernel * In * Size * Size);
  set_rates(state, static_cast<double>(batch), 6.0 * macs * static_cast<double>(batch));
}
// The two convolutions of the 1x28x28 CNN in the tests, and a wider one.
BENCHMARK_TEMPLATE(BM_Conv2dForwardBackward, 1, 28, 8, 3)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(32)
    ->Arg(256);
BENCHMARK_TEMPLATE(BM_Conv2dForwardBackward, 8, 14, 16, 3)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(32)
    ->Arg(256);
BENCHMARK_TEMPLATE(BM_Conv2dForwardBackward, 32, 16, 64, 3)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(32)
    ->Arg(128);

// Every algorithm at batch 32 on shapes around fastest_conv_algorithm's bound of 16 x 144 weights
// and on those of the image models (net/image_models.hpp), registered as
// BM_Conv2dForwardBackward<In, Size, Out, 3, algorithm>/batch:32; the tiled one where the output
// channels fill whole vectors.
template <Index In, Index Size, Index Out>
bool register_conv_algorithms() {
  const auto add = [](const char* algorithm, auto* run) {
    const std::string name = "BM_Conv2dForwardBackward<" + std::to_string(In) + ", " +
                             std::to_string(Size) + ", " + std::to_string(Out) + ", 3, " +
                             algorithm + ">";
    benchmark::RegisterBenchmark(name.c_str(), run)->ArgName("batch")->Arg(32);
  };
  add("direct", BM_Conv2dForwardBackward<In, Size, Out, 3, ConvAlgorithm::direct>);
  add("im2col", BM_Conv2dForwardBackward<In, Size, Out, 3, ConvAlgorithm::im2col>);
  if constexpr (Out % static_cast<Index>(xsimd::batch<float>::size) == 0) {
    add("tiled", BM_Conv2dForwardBackward<In, Size, Out, 3, ConvAlgorithm::tiled>);
  }
  return true;
}
// Weights: 16 x 72, 16 x 144 and 32 x 72, 32 x 144; then ResNet8's first stage and All-CNN's
// third layer.
const bool conv_algorithms_registered =
    register_conv_algorithms<8, 14, 16>() && register_conv_algorithms<16, 8, 16>() &&
    register_conv_algorithms<8, 16, 32>() && register_conv_algorithms<16, 16, 32>() &&
    register_conv_algorithms<16, 28, 16>() && register_conv_algorithms<32, 14, 64>();

// How an elementwise op runs: xsimd batches (what the layers use) or one element at a time.
struct Vectorised {
  static constexpr const char* name = "xsimd";
  template <class Op>
  static void map(const float* in, float* out, Index n, Op op) {
    simd::map(in, out, n, op);
  }
  template <class Op>
  static void zip(const float* a, const float* b, float* out, Index n, Op op) {
    simd::zip(a, b, out, n, op);
  }
};
struct ScalarLoop {
  static constexpr const char* name = "scalar";
  template <class Op>
  static void map(const float* in, float* out, Index n, Op op) {
    simd::map_scalar(in, out, n, op);
  }
  template <class Op>
  static void zip(const float* a, const float* b, float* out, Index n, Op op) {
    simd::zip_scalar(a, b, out, n, op);
  }
};

enum class Pass { forward, backward };

// The ops ElementwiseLayer applies: y = f(x) forward, dx = dy * f'(y) backward. range(0) is the
// side of a square batch (elements = side^2). Items: elements; bytes: arrays read and written.
template <class Fn, class Kernel, Pass P>
void BM_Activation(benchmark::State& state) {
  const Index n = state.range(0) * state.range(0);
  const auto forward = [](auto v) { return Fn::value(v); };
  const Matrix<float> x = random_matrix(n, 1, 4, 2.0);
  Matrix<float> y(n, 1);
  Kernel::map(x.data(), y.data(), n, forward);
  const Matrix<float> dy = random_matrix(n, 1, 5);
  Matrix<float> dx(n, 1);
  for (auto _ : state) {
    if constexpr (P == Pass::forward) {
      Kernel::map(x.data(), y.data(), n, forward);
    } else {
      Kernel::zip(y.data(), dy.data(), dx.data(), n,
                  [](auto out, auto grad) { return grad * Fn::derivative_from_output(out); });
    }
    benchmark::ClobberMemory();
  }
  const double arrays = P == Pass::forward ? 2 : 3;
  set_rates(state, static_cast<double>(n));
  state.SetBytesProcessed(
      state.iterations() *
      static_cast<std::int64_t>(arrays * static_cast<double>(n) * sizeof(float)));
}

// Registers BM_Activation/<Fn>/<pass>/<kernel>/256 for both passes and both kernels.
template <class Fn>
bool register_activation() {
  const auto add = []<class Kernel, Pass P>(Kernel, std::integral_constant<Pass, P>) {
    const std::string name = std::string("BM_Activation/") + Fn::name +
                             (P == Pass::forward ? "/forward/" : "/backward/") + Kernel::name;
    benchmark::RegisterBenchmark(name.c_str(), BM_Activation<Fn, Kernel, P>)->Arg(256);
  };
  add(Vectorised{}, std::integral_constant<Pass, Pass::forward>{});
  add(ScalarLoop{}, std::integral_constant<Pass, Pass::forward>{});
  add(Vectorised{}, std::integral_constant<Pass, Pass::backward>{});
  add(ScalarLoop{}, std::integral_constant<Pass, Pass::backward>{});
  return true;
}
const bool activations_registered = register_activation<Relu>() &&
                                    register_activation<LeakyRelu<>>() &&
                                    register_activation<Tanh>() && register_activation<Sigmoid>();

}  // namespace
}  // namespace uinfo::bench

BENCHMARK_MAIN();
