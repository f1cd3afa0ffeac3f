// Input<N>: layer 0 of every network. Copies the batch into its own buffer (so the input stays
// readable as "layer 0" and layer 1 never holds a reference to caller memory) and rejects
// batches of the wrong height or with non-finite values (a rejected batch may have been partly
// copied: layer 0's output is then undefined until the next forward pass; no parameter changes).
// Input<dynamic> takes its size from the network's constructor. ImageInput<Channels, Height, Width>
// starts an image network: each column holds one image of Channels * Height * Width values in HWC
// order (core/shape.hpp).
#pragma once

#include <string>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/layers/parameter_free.hpp"
#include "uinfo/simd/elementwise.hpp"

namespace uinfo {

template <Scalar S, Index N, Shape Out = flat_shape(N)>
class InputLayer : public ParameterFreeLayer<S> {
  static_assert(Out.size() == N, "uinfo::InputLayer: the shape must hold N features");

 public:
  using scalar_type = S;
  static constexpr Index in_size = N;
  static constexpr Index out_size = N;
  static constexpr Shape out_shape = Out;

  InputLayer(const Rng&, std::size_t, Index = N, Index size = N)
      : size_(require_positive_size(size, "Input")) {}

  std::string name() const {
    if constexpr (Out == flat_shape(N)) {
      return "Input<" + std::to_string(size_) + ">";
    } else {
      return "ImageInput<" + std::to_string(Out.channels) + "," + std::to_string(Out.height) + "," +
             std::to_string(Out.width) + ">";
    }
  }

  void forward(ConstMatrixRef<S> x, Mode) {
    if (x.rows() != size_) {
      throw InvalidArgument("uinfo: " + name() + " got a batch with " + std::to_string(x.rows()) +
                            " rows; expected " + std::to_string(size_) +
                            " features per sample (samples are columns)");
    }
    if (x.cols() == 0)
      throw InvalidArgument("uinfo: " + name() + " got an empty batch (0 samples)");
    MatrixView<S> out = this->output_.reshape(size_, x.cols());
    bool finite = true;
    if (x.outerStride() == size_) {  // contiguous: one run, also when a column is short
      finite = simd::copy_finite(x.data(), out.data(), x.size());
    } else {
      for (Index j = 0; j < x.cols(); ++j) {
        finite = simd::copy_finite(x.col(j).data(), out.col(j).data(), size_) && finite;
      }
    }
    if (!finite) require_finite(x, "input batch");  // throws, naming the first bad value
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S>, MatrixView<S>*) {}

 private:
  Index size_;
};

template <Index N>
struct Input {
  static_assert(N > 0 || N == dynamic, "uinfo::Input<N>: the input size N must be positive");
  static constexpr Index size = N;
  static constexpr Shape shape = flat_shape(N);
  static constexpr bool sized_at_run_time = N == dynamic;
  template <class S, Index>
  using layer = InputLayer<S, N>;
};

template <Index Channels, Index Height, Index Width>
struct ImageInput {
  static_assert(Channels > 0 && Height > 0 && Width > 0,
                "uinfo::ImageInput<Channels, Height, Width>: every extent must be positive");
  static constexpr Shape shape{Channels, Height, Width};
  static constexpr Index size = shape.size();
  template <class S, Index>
  using layer = InputLayer<S, size, shape>;
};

}  // namespace uinfo
