// The convolutional networks of the image experiments, at a size one CPU core trains in minutes:
// the layer lists of the PyTorch peer (/work/shared/peers/torch_cnn.py), so that speed and results
// compare with it. Image is the input (ImageInput<1, 28, 28> for Fashion-MNIST, <3, 32, 32> for
// CIFAR); every convolution has Widen times the peer's channels; the output layer is sized at
// construction (the number of classes):
//   models::ResNet8<float, ImageInput<1, 28, 28>> net{Rng{seed}, {10}};
// Weights start as PyTorch's nn.Conv2d and nn.Linear do, U(-1/sqrt(fan-in), 1/sqrt(fan-in));
// biases start at zero (PyTorch draws them from the same range).
#pragma once

#include "uinfo/layers/batch_norm.hpp"
#include "uinfo/layers/conv2d.hpp"
#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/global_avg_pool.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/net/residual.hpp"
#include "uinfo/net/sequential.hpp"

namespace uinfo::models {

// A Kernel x Kernel convolution padded to keep the image size at stride 1 (kernel / 2), as
// PyTorch's layers are initialised.
template <Index Out, Index Kernel, Index Stride = 1, Bias HasBias = Bias::learned>
using TorchConv2d = Conv2d<Out, Kernel, Stride, Kernel / 2, lecun_uniform, HasBias>;

// The classifier: its outputs (the classes) are given to the network's constructor.
using Classifier = Dense<dynamic, inferred, lecun_uniform>;

// All-CNN (Springenberg et al. 2015), reduced: 3x3 convolutions of 32 and 64 channels, two of
// stride 2 in place of pooling, then 1x1 convolutions and a global average. The peer's last 1x1
// convolution to the classes runs after the average here, as a Dense layer: the same linear map
// (averaging commutes with it) and the same parameters, on 1 pixel instead of 49.
// Hidden layers to probe: the ReLUs, layers 2, 4, ..., 12.
template <Scalar S, class Image, Index Widen = 1>
using AllCnn = Sequential<S, Image, TorchConv2d<32 * Widen, 3>, Relu, TorchConv2d<32 * Widen, 3, 2>,
                          Relu, TorchConv2d<64 * Widen, 3>, Relu, TorchConv2d<64 * Widen, 3, 2>,
                          Relu, TorchConv2d<64 * Widen, 3>, Relu, TorchConv2d<64 * Widen, 1>, Relu,
                          GlobalAvgPool, Classifier>;

// ResNet's basic block (He et al. 2016): two 3x3 convolutions without bias, each followed by
// BatchNorm, the first strided; a 1x1 projection shortcut where the shape changes. The ReLU after
// the sum is the next layer of the network.
template <Index Channels, Index Stride>
using BasicBlock = Residual<TorchConv2d<Channels, 3, Stride, Bias::none>, BatchNorm, Relu,
                            TorchConv2d<Channels, 3, 1, Bias::none>, BatchNorm>;

// ResNet-8: a 3x3 stem of 16 channels, one basic block in each of three stages (16, 32, 64
// channels, the last two at stride 2), a global average and the classifier.
// Hidden layers to probe: the stem's ReLU and each block's, layers 3, 5, 7 and 9.
template <Scalar S, class Image, Index Widen = 1>
using ResNet8 = Sequential<S, Image, TorchConv2d<16 * Widen, 3, 1, Bias::none>, BatchNorm, Relu,
                           BasicBlock<16 * Widen, 1>, Relu, BasicBlock<32 * Widen, 2>, Relu,
                           BasicBlock<64 * Widen, 2>, Relu, GlobalAvgPool, Classifier>;

}  // namespace uinfo::models
