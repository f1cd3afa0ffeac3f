// One full training step of the image experiments' convolutional networks (net/image_models.hpp),
// as in fit(): forward in training mode, softmax cross-entropy value and gradient, backward
// without the input gradient fused with SGD with momentum 0.9 (backward_and_step). The workload
// of the PyTorch peer (/work/shared/peers/torch_cnn.py): 8192 random U(0, 1) 1x28x28 images,
// uniform random labels over 10 classes, cycled through in consecutive batches. Subnormals are
// flushed, as fit() does. Items: images; GFLOP/s counts two per multiply-add of the convolutions
// and the classifier, forward and backward (weight gradients, and input gradients for every layer
// but the first).
#include <benchmark/benchmark.h>

#include <span>
#include <utility>

#include "bench_util.hpp"
#include "uinfo/core/denormals.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"
#include "uinfo/net/image_models.hpp"
#include "uinfo/optim/sgd.hpp"
#include "uinfo/train/fit.hpp"

namespace uinfo::bench {
namespace {

using Image = ImageInput<1, 28, 28>;
constexpr Index image_count = 8192;

// Multiply-adds per image of a 3x3 or 1x1 convolution (out pixels x out channels x patch).
constexpr double conv(double pixels, double out, double kernel, double in) {
  return pixels * out * kernel * kernel * in;
}
// The networks, with their forward multiply-adds per image and those of the first layer, whose
// input gradient training skips. 28x28 -> 14x14 -> 7x7.
struct AllCnn {
  using Net = models::AllCnn<float, Image>;
  static constexpr double forward = conv(784, 32, 3, 1) + conv(196, 32, 3, 32) +
                                    conv(196, 64, 3, 32) + conv(49, 64, 3, 64) +
                                    conv(49, 64, 3, 64) + conv(49, 64, 1, 64) + 64 * 10;
  static constexpr double first = conv(784, 32, 3, 1);
};
struct ResNet8 {
  using Net = models::ResNet8<float, Image>;
  static constexpr double forward = conv(784, 16, 3, 1) + 2 * conv(784, 16, 3, 16) +
                                    conv(196, 32, 3, 16) + conv(196, 32, 3, 32) +
                                    conv(196, 32, 1, 16) + conv(49, 64, 3, 32) +
                                    conv(49, 64, 3, 64) + conv(49, 64, 1, 32) + 64 * 10;
  static constexpr double first = conv(784, 16, 3, 1);
};

const Dataset<float>& random_images() {
  static const Dataset<float> data = [] {
    Dataset<float> d{random_matrix(Image::size, image_count, 0), {}};
    d.x = (d.x.array() * 0.25f + 0.5f).cwiseMax(0.f).cwiseMin(1.f);  // pixel-like values
    Engine engine = Rng{0}.engine(Stream::data);
    d.labels.resize(image_count);
    for (auto& label : d.labels) label = static_cast<Label>(engine.below(10));
    return d;
  }();
  return data;
}

template <class Model>
void BM_CnnTrainStep(benchmark::State& state) {
  using Net = typename Model::Net;
  const Index batch = state.range(0);
  const FlushDenormals flush(true);
  const Dataset<float>& data = random_images();
  const Index batches = image_count / batch;
  Net net{Rng{1}, {10}};
  Sgd sgd({.lr = 0.01, .momentum = 0.9});
  Buffer<float> output_gradient;
  Index next = 0;
  for (auto _ : state) {
    const Index start = next * batch;
    next = (next + 1) % batches;
    const auto output = net.forward(data.x.middleCols(start, batch), Mode::train);
    const auto labels =
        std::span(data.labels)
            .subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(batch));
    const float loss = SoftmaxCrossEntropy::value_and_gradient<float>(
        output, labels, output_gradient.reshape(output.rows(), batch));
    benchmark::DoNotOptimize(loss);
    backward_and_step(net, sgd, std::as_const(output_gradient).view());
  }
  const double multiply_adds = 3 * Model::forward - Model::first;
  set_rates(state, static_cast<double>(batch), 2 * multiply_adds * static_cast<double>(batch));
}

BENCHMARK_TEMPLATE(BM_CnnTrainStep, AllCnn)
    ->Name("BM_CnnTrainStep/allcnn_train")
    ->ArgName("batch")
    ->Arg(32)
    ->Arg(128)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_CnnTrainStep, ResNet8)
    ->Name("BM_CnnTrainStep/resnet8_train")
    ->ArgName("batch")
    ->Arg(32)
    ->Arg(128)
    ->UseRealTime();

}  // namespace
}  // namespace uinfo::bench

BENCHMARK_MAIN();
