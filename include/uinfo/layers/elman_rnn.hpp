// ElmanRnn<Units, Activation = Tanh>: the plain recurrent layer of PyTorch's nn.RNN,
//   h_t = f(W_in u_t + b + W_rec h_{t-1}),  h_{-1} = 0,
// initialised as PyTorch does (every weight and the bias U(-1/sqrt(units), 1/sqrt(units))). It is
// LeakyRnn with alpha = 1 and the initial state fixed at 0, compiled without the leak: noise,
// constraints, masks and truncated BPTT work as there (leaky_rnn.hpp).
#pragma once

#include "uinfo/layers/leaky_rnn.hpp"
#include "uinfo/layers/tanh.hpp"

namespace uinfo {

template <Index Units, class Activation = Tanh, Index In = inferred>
struct ElmanRnn {
  static_assert(Units > 0, "uinfo::ElmanRnn<Units>: the number of units must be positive");
  static constexpr Index declared_input_size = In;
  template <class S, Index InputSize>
  using layer = RateRnnLayer<S, InputSize, Units, Activation, false>;
};

}  // namespace uinfo
