// uinfo: usable information in the representations of small neural networks while they train.
// Include this header for everything, or the headers of the parts you use.
#pragma once

#include "uinfo/version.hpp"

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/denormals.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/file.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/product.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

#include "uinfo/simd/elementwise.hpp"
#include "uinfo/simd/update.hpp"

#include "uinfo/layers/dense.hpp"
#include "uinfo/layers/dropout.hpp"
#include "uinfo/layers/elementwise.hpp"
#include "uinfo/layers/identity.hpp"
#include "uinfo/layers/init.hpp"
#include "uinfo/layers/input.hpp"
#include "uinfo/layers/leaky_relu.hpp"
#include "uinfo/layers/parameter_free.hpp"
#include "uinfo/layers/relu.hpp"
#include "uinfo/layers/sigmoid.hpp"
#include "uinfo/layers/tanh.hpp"

#include "uinfo/net/gradient_check.hpp"
#include "uinfo/net/parameter_vector.hpp"
#include "uinfo/net/sequential.hpp"
#include "uinfo/net/serialize.hpp"

#include "uinfo/loss/mse.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

#include "uinfo/optim/adam.hpp"
#include "uinfo/optim/common.hpp"
#include "uinfo/optim/lbfgs.hpp"
#include "uinfo/optim/schedule.hpp"
#include "uinfo/optim/sgd.hpp"

#include "uinfo/data/checkerboard.hpp"
#include "uinfo/data/dataset.hpp"
#include "uinfo/data/npy.hpp"
#include "uinfo/data/synthetic.hpp"

#include "uinfo/info/binning.hpp"
#include "uinfo/info/decoder.hpp"
#include "uinfo/info/entropy.hpp"
#include "uinfo/info/kde.hpp"
#include "uinfo/info/layer_probe.hpp"
#include "uinfo/info/knn.hpp"
#include "uinfo/info/mdl.hpp"
#include "uinfo/info/preprocess.hpp"
#include "uinfo/info/samples.hpp"
#include "uinfo/info/uncertainty.hpp"
#include "uinfo/info/usable_information.hpp"

#include "uinfo/train/callbacks.hpp"
#include "uinfo/train/csv.hpp"
#include "uinfo/train/evaluate.hpp"
#include "uinfo/train/fit.hpp"
#include "uinfo/train/metrics.hpp"
#include "uinfo/train/progress.hpp"
