// LastStep: each trial's last real step of a sequence batch (step length(b) - 1 of trial b), so
// that the layers after it see one column per trial: a classifier of whole sequences.
//   Sequential<float, Input<4>, ElmanRnn<100>, LastStep, Dense<2>>
// On a static batch (one step) it is the identity.
#pragma once

#include <string>
#include <vector>

#include "uinfo/core/concepts.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/core/timeline.hpp"
#include "uinfo/layers/parameter_free.hpp"

namespace uinfo {

template <Scalar S, Index N>
class LastStepLayer : public ParameterFreeLayer<S> {
 public:
  using scalar_type = S;
  static constexpr Index in_size = N;
  static constexpr Index out_size = N;

  LastStepLayer(const Rng&, std::size_t, Index size = N, Index = N)
      : size_(require_positive_size(size, "LastStep")) {}

  std::string name() const { return "LastStep<" + std::to_string(size_) + ">"; }

  void forward(ConstMatrixView<S> x, Mode mode) {
    forward(x, mode, Timeline::single_step(x.cols()));
  }

  void forward(ConstMatrixView<S> x, Mode, const Timeline& time) {
    columns_.resize(static_cast<std::size_t>(time.trials));  // within capacity once grown
    auto y = this->output_.reshape(size_, time.trials);
    for (Index b = 0; b < time.trials; ++b) {
      const Index column = (time.length(b) - 1) * time.trials + b;
      columns_[static_cast<std::size_t>(b)] = column;
      y.col(b) = x.col(column);
    }
  }

  Timeline output_timeline(const Timeline& time) const {
    return Timeline::single_step(time.trials);
  }

  void backward(ConstMatrixView<S>, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    if (!dx) return;
    dx->setZero();
    for (std::size_t b = 0; b < columns_.size(); ++b)
      dx->col(columns_[b]) = dy.col(static_cast<Index>(b));
  }

 private:
  Index size_;
  std::vector<Index> columns_;  // the input column each trial's output came from
};

struct LastStep {
  template <class S, Index InputSize>
  using layer = LastStepLayer<S, InputSize>;
};

}  // namespace uinfo
