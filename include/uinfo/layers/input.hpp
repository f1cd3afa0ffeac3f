// Input<N>: layer 0 of every network. Copies the batch into its own buffer (so the input stays
// readable as "layer 0" and layer 1 never holds a reference to caller memory) and rejects
// batches of the wrong height or with non-finite values.
#pragma once

#include <array>
#include <string>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/rng.hpp"

namespace uinfo {

template <Scalar S, Index N>
class InputLayer {
 public:
  using scalar_type = S;
  static constexpr Index in_size = N;
  static constexpr Index out_size = N;

  InputLayer(const Rng&, std::size_t) {}

  static std::string name() { return "Input<" + std::to_string(N) + ">"; }

  void forward(ConstMatrixRef<S> x, Mode) {
    if (x.rows() != N) {
      throw InvalidArgument("uinfo: " + name() + " got a batch with " + std::to_string(x.rows()) +
                            " rows; expected " + std::to_string(N) +
                            " features per sample (samples are columns)");
    }
    if (x.cols() == 0)
      throw InvalidArgument("uinfo: " + name() + " got an empty batch (0 samples)");
    require_finite(x, "input batch");
    output_.reshape(N, x.cols()) = x;
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S>, MatrixView<S>*) {}

  ConstMatrixView<S> output() const { return output_.view(); }
  std::array<Parameter<S>*, 0> parameters() { return {}; }
  std::array<const Parameter<S>*, 0> parameters() const { return {}; }

 private:
  Buffer<S> output_;
};

template <Index N>
struct Input {
  static_assert(N > 0, "uinfo::Input<N>: the input size N must be positive");
  static constexpr Index size = N;
  template <class S, Index>
  using layer = InputLayer<S, N>;
};

}  // namespace uinfo
