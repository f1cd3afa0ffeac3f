// Dropout<Rate>: in training, zeroes each unit with probability Rate and scales the survivors by
// 1 / (1 - Rate) ("inverted dropout"), so evaluation is the identity. Masks come from the
// network's dropout stream, one engine per layer, so they are fixed by the seed.
#pragma once

#include <array>
#include <string>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/format.hpp"
#include "uinfo/core/real.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/parameter_free.hpp"
#include "uinfo/simd/elementwise.hpp"

namespace uinfo {

// Shape is the input's, passed through, so dropout can sit between image layers.
template <Scalar S, Index N, Real Rate, Shape SampleShape = flat_shape(N)>
class DropoutLayer : public ParameterFreeLayer<S> {
  static_assert(SampleShape.size() == N, "uinfo::DropoutLayer: the shape must hold N features");

 public:
  using scalar_type = S;
  static constexpr Index in_size = N;
  static constexpr Index out_size = N;
  static constexpr Shape out_shape = SampleShape;

  DropoutLayer(const Rng& rng, std::size_t layer_index, Index size = N, Index = N)
      : size_(require_positive_size(size, "Dropout")),
        engine_(rng.engine(Stream::dropout, layer_index)) {}

  std::string name() const {
    return "Dropout<" + size_name(SampleShape, size_) + "," + shortest(Rate.value) + ">";
  }

  void forward(ConstMatrixView<S> x, Mode mode) {
    auto y = this->output_.reshape(size_, x.cols());
    auto mask = mask_.reshape(size_, x.cols());
    if (mode == Mode::train) {
      const S keep_scale = S(1) / S(1 - Rate.value);
      for (Index i = 0; i < mask.size(); ++i) {
        mask.data()[i] = engine_.uniform<S>() < S(Rate.value) ? S(0) : keep_scale;
      }
    } else {
      mask.setOnes();
    }
    simd::zip(x.data(), mask.data(), y.data(), y.size(), [](auto v, auto m) { return v * m; });
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (!dx) return;
    const auto mask = mask_.view();
    simd::zip(dy.data(), mask.data(), dx->data(), dy.size(), [](auto g, auto m) { return g * m; });
  }

  // The mask stream, which a checkpoint saves so that training resumes with the same masks.
  std::array<Engine*, 1> engines() { return {&engine_}; }

 private:
  Index size_;
  Engine engine_;
  Buffer<S> mask_;  // the last forward pass's multipliers: 0, 1 / (1 - Rate), or 1 in evaluation
};

template <Real Rate>
struct Dropout {
  static_assert(Rate.value >= 0 && Rate.value < 1, "uinfo::Dropout<Rate>: Rate must lie in [0, 1)");
  template <class S, Shape In>
  using shaped_layer = DropoutLayer<S, In.size(), Rate, In>;
};

}  // namespace uinfo
