// GlobalAvgPool: the mean of each channel over all pixels of an HWC image, C x H x W -> C x 1 x 1.
#pragma once

#include <string>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/parameter_free.hpp"

namespace uinfo {

template <Scalar S, Shape In>
class GlobalAvgPoolLayer : public ParameterFreeLayer<S> {
  static_assert(In.size() > 0,
                "uinfo::GlobalAvgPool needs an image shape known at compile time; it cannot "
                "follow a layer whose size is dynamic");
  // One image as channels x pixels: HWC storage is exactly this column-major matrix.
  using Image = Eigen::Map<Eigen::Matrix<S, In.channels, Eigen::Dynamic>>;
  using ConstImage = Eigen::Map<const Eigen::Matrix<S, In.channels, Eigen::Dynamic>>;

 public:
  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Shape out_shape = flat_shape(In.channels);
  static constexpr Index out_size = In.channels;

  GlobalAvgPoolLayer(const Rng&, std::size_t, Index = in_size, Index = out_size) {}

  std::string name() const { return "GlobalAvgPool<" + to_string(In) + ">"; }

  void forward(ConstMatrixView<S> x, Mode) {
    auto y = this->output_.reshape(out_size, x.cols());
    for (Index b = 0; b < x.cols(); ++b) {
      y.col(b) = ConstImage(x.col(b).data(), In.channels, In.pixels()).rowwise().mean();
    }
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (!dx) return;
    for (Index b = 0; b < dy.cols(); ++b) {
      // A fixed-size share: broadcasting the expression itself would put it in a heap temporary.
      const Eigen::Matrix<S, In.channels, 1> share = dy.col(b) / static_cast<S>(In.pixels());
      Image(dx->col(b).data(), In.channels, In.pixels()).colwise() = share;
    }
  }
};

struct GlobalAvgPool {
  template <class S, Shape In>
  using shaped_layer = GlobalAvgPoolLayer<S, In>;
};

}  // namespace uinfo
