// Residual<Specs...>: a residual block (He et al. 2016), y = body(x) + shortcut(x), written as one
// layer of a Sequential's list. The body is the list Specs..., bound and checked as a network's
// layers are; the shortcut is x itself when the body keeps x's shape, else a projection, a 1x1
// convolution without bias (strided to the body's output size) followed by BatchNorm, as in
// ResNet's option B and torchvision. The block's output is the sum, before any activation, so a
// ResNet basic block is
//   Residual<Conv2d<32, 3, 2, 1, he_normal, Bias::none>, BatchNorm, Relu,
//            Conv2d<32, 3, 1, 1, he_normal, Bias::none>, BatchNorm>, Relu
// and net.output<K>() of the block is that sum, which can be probed like any layer's output.
//
// Inner layers count from 1 (0 would be the block's input), as a network's do, in the messages of
// their shape checks (residual_input_check), in layer<I>() and in the streams they initialise
// from (drawn from the block's own stream, so the block's seed fixes them). parameters() lists
// the body's parameters in order, then the projection's; engines() the inner layers' random
// engines. Backward with an optimizer's updates hands each inner layer its updates as Sequential
// does, so Dense layers in a block keep their fused update.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/timeline.hpp"
#include "uinfo/layers/batch_norm.hpp"
#include "uinfo/layers/conv2d.hpp"
#include "uinfo/net/sequential.hpp"

namespace uinfo {

template <class... Specs>
struct Residual;

namespace detail {

// A failed check names its values in this type's template arguments, which the compiler prints:
// residual_input_check<the block, inner layer index (from 1), declared input size, previous
// inner layer's output size (the block's input size for inner layer 1)>.
template <class Block, std::size_t InnerIndex, Index DeclaredInput, Index PreviousOutput>
struct residual_input_check {
  static_assert(DeclaredInput == inferred || DeclaredInput == PreviousOutput,
                "uinfo::Residual: an inner layer's declared input size differs from the previous "
                "inner layer's output size; see residual_input_check<block, inner layer index "
                "(from 1), declared input size, previous output size> in the instantiation above");
  static constexpr bool ok = true;
};

template <class Block>
struct in_residual_block {
  template <std::size_t InnerIndex, Index DeclaredInput, Index PreviousOutput>
  using input_check = residual_input_check<Block, InnerIndex, DeclaredInput, PreviousOutput>;
};

// residual_shortcut_check<the block, input channels, height, width, body output channels,
// height, width>: a projection shortcut strides a 1x1 convolution over the input, by the smallest
// stride that gives the body's output height (as a ResNet's block strides its first convolution),
// which must then give its width too.
template <class Block, Index InChannels, Index InHeight, Index InWidth, Index OutChannels,
          Index OutHeight, Index OutWidth>
struct residual_shortcut_check {
  static constexpr Index stride =
      OutHeight >= 1 ? std::max<Index>(1, (InHeight + OutHeight - 1) / OutHeight) : 1;
  static_assert(OutHeight >= 1 && OutWidth >= 1 && (InHeight - 1) / stride + 1 == OutHeight &&
                    (InWidth - 1) / stride + 1 == OutWidth,
                "uinfo::Residual: the body's output has a height and width that no strided 1x1 "
                "projection of the block's input gives; see residual_shortcut_check<block, input "
                "channels, height, width, body output channels, height, width> in the "
                "instantiation above");
  static constexpr bool ok = true;
};

// One std::array of everything in the given arrays, in order.
template <class T, std::size_t... N>
std::array<T, (N + ... + 0)> join_arrays(const std::array<T, N>&... parts) {
  std::array<T, (N + ... + 0)> all{};
  std::size_t next = 0;
  ((std::copy(parts.begin(), parts.end(), all.begin() + next), next += N), ...);
  return all;
}

// Whether a layer changes the timeline of its input (LastStep), or any layer of a tuple does.
template <class L>
constexpr bool changes_timeline = requires(const L& layer, const Timeline& time) {
  layer.output_timeline(time);
};
template <class... Layers>
constexpr bool any_changes_timeline(std::tuple<Layers...>*) {
  return (changes_timeline<Layers> || ...);
}

// A layer's random engines (see LeakyRnn::engines()), or none.
template <class L>
auto engines_of(L& layer) {
  if constexpr (requires { layer.engines(); }) {
    return layer.engines();
  } else {
    return std::array<Engine*, 0>{};
  }
}

}  // namespace detail

// The projection a shortcut takes when the body changes its input's shape.
template <Scalar S, Shape In, Shape Out, class Block>
class ResidualProjection {
  using Check = detail::residual_shortcut_check<Block, In.channels, In.height, In.width,
                                                Out.channels, Out.height, Out.width>;
  static_assert(Check::ok);

 public:
  // BatchNorm follows, so the convolution's initial scale does not matter; He's as Conv2d's.
  using Convolution = Conv2dLayer<S, In, Out.channels, 1, Check::stride, 0, he_normal, Bias::none>;
  using Normalization = BatchNormLayer<S, Out>;

  ResidualProjection(const Rng& rng, std::size_t first_index)
      : convolution_(rng, first_index), normalization_(rng, first_index + 1) {}

  std::string name() const { return convolution_.name() + "," + normalization_.name(); }

  void forward(ConstMatrixView<S> x, Mode mode) {
    convolution_.forward(x, mode);
    normalization_.forward(convolution_.output(), mode);
  }

  // Adds d(loss)/dx to *dx when it is given.
  template <class Updates>
  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx,
                const Updates& updates) {
    MatrixView<S> d_convolution = convolution_gradient_.reshape(Out.size(), x.cols());
    detail::layer_backward(normalization_, convolution_.output(), dy, &d_convolution, updates);
    const ConstMatrixView<S> d_out(d_convolution.data(), Out.size(), x.cols());
    if (!dx) {
      detail::layer_backward(convolution_, x, d_out, nullptr, updates);
      return;
    }
    MatrixView<S> d_input = input_gradient_.reshape(In.size(), x.cols());
    detail::layer_backward(convolution_, x, d_out, &d_input, updates);
    *dx += d_input;
  }

  ConstMatrixView<S> output() const { return normalization_.output(); }
  auto parameters() {
    return detail::join_arrays(convolution_.parameters(), normalization_.parameters());
  }
  auto parameters() const {
    return detail::join_arrays(convolution_.parameters(), normalization_.parameters());
  }

  Convolution& convolution() { return convolution_; }
  Normalization& normalization() { return normalization_; }
  const Convolution& convolution() const { return convolution_; }
  const Normalization& normalization() const { return normalization_; }

 private:
  Convolution convolution_;
  Normalization normalization_;
  Buffer<S> convolution_gradient_, input_gradient_;
};

template <Scalar S, Shape In, class... Specs>
class ResidualLayer {
  using Block = Residual<Specs...>;
  static_assert(In.size() > 0,
                "uinfo::Residual needs an input shape known at compile time; it cannot follow a "
                "layer whose size is dynamic");
  static_assert(!(sized_at_run_time<Specs>() || ...),
                "uinfo::Residual: inner layers take no run-time sizes (Dense<dynamic>)");
  using Body =
      typename detail::bind_layers<S, In, 1, detail::in_residual_block<Block>, Specs...>::type;
  static constexpr std::size_t count = sizeof...(Specs);

 public:
  // Inner layer I, counting from 1.
  template <std::size_t I>
  using layer_type = std::tuple_element_t<I - 1, Body>;

  using scalar_type = S;
  static constexpr Index in_size = In.size();
  static constexpr Shape out_shape = output_shape<layer_type<count>>();
  static constexpr Index out_size = out_shape.size();
  static constexpr bool identity_shortcut = out_shape == In;
  using Projection = std::conditional_t<identity_shortcut, std::tuple<>,
                                        ResidualProjection<S, In, out_shape, Block>>;

  static_assert(!detail::any_changes_timeline(static_cast<Body*>(nullptr)),
                "uinfo::Residual: an inner layer changes the timeline (LastStep), so its columns "
                "could not be added to the block's input");

  // Inner layers and the projection initialise from streams of the block's own seed, drawn from
  // its stream of the network.
  ResidualLayer(const Rng& rng, std::size_t layer_index, Index = in_size, Index = out_size)
      : ResidualLayer(Rng{rng.engine(Stream::init, layer_index)()},
                      std::make_index_sequence<count>{}) {}

  std::string name() const {
    std::string body;
    std::apply([&](const auto&... layers) { ((body += "," + layers.name()), ...); }, body_);
    const std::string shortcut = identity_shortcut ? "" : ";shortcut=" + projection_name();
    return "Residual<" + body.substr(1) + shortcut + ">";
  }

  void forward(ConstMatrixView<S> x, Mode mode) {
    forward(x, mode, Timeline::single_step(x.cols()));
  }
  // Inner layers that step through time (recurrent layers) get the batch's timeline.
  void forward(ConstMatrixView<S> x, Mode mode, const Timeline& time) {
    forward_body<1>(x, mode, time);
    MatrixView<S> y = output_.reshape(out_size, x.cols());
    if constexpr (identity_shortcut) {
      y.noalias() = last().output() + x;
    } else {
      projection_.forward(x, mode);
      y.noalias() = last().output() + projection_.output();
    }
  }

  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx) {
    backward(x, dy, dx, detail::NoUpdates{});
  }

  // The body's gradient reaches dx through inner layer 1, and the shortcut's is added to it.
  template <class Updates>
  void backward(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx,
                const Updates& updates) {
    backward_body<count>(x, dy, dx, updates);
    if constexpr (identity_shortcut) {
      if (dx) *dx += dy;
    } else {
      projection_.backward(x, dy, dx, updates);
    }
  }

  ConstMatrixView<S> output() const { return output_.view(); }

  auto parameters() { return all_parameters(*this); }
  auto parameters() const { return all_parameters(*this); }

  // The random engines of the inner layers that have any (Dropout's, a noisy recurrent layer's).
  auto engines() {
    return std::apply(
        [](auto&... layers) { return detail::join_arrays(detail::engines_of(layers)...); }, body_);
  }

  // What the inner layers add to the loss (a recurrent layer's penalties).
  double penalty() const {
    double sum = 0;
    std::apply([&](const auto&... layers) { ((sum += detail::layer_penalty(layers)), ...); },
               body_);
    return sum;
  }

  template <std::size_t I>
  auto& layer() {
    static_assert(I >= 1 && I <= count, "uinfo::Residual::layer<I>: inner layers count from 1");
    return std::get<I - 1>(body_);
  }
  template <std::size_t I>
  const auto& layer() const {
    static_assert(I >= 1 && I <= count, "uinfo::Residual::layer<I>: inner layers count from 1");
    return std::get<I - 1>(body_);
  }
  Projection& projection() requires(!identity_shortcut) { return projection_; }
  const Projection& projection() const requires(!identity_shortcut) { return projection_; }

 private:
  template <std::size_t... I>
  ResidualLayer(const Rng& inner, std::index_sequence<I...>)
      : body_(layer_type<I + 1>(inner, I + 1, layer_type<I + 1>::in_size,
                                layer_type<I + 1>::out_size)...),
        projection_(make_projection(inner)) {}

  static Projection make_projection(const Rng& inner) {
    if constexpr (identity_shortcut) {
      return {};
    } else {
      return Projection(inner, count + 1);
    }
  }

  const auto& last() const { return std::get<count - 1>(body_); }

  std::string projection_name() const {
    if constexpr (identity_shortcut) {
      return "";
    } else {
      return projection_.name();
    }
  }

  // Inner layer I's input: the block's input for the first.
  template <std::size_t I>
  ConstMatrixView<S> inner_input(ConstMatrixView<S> x) const {
    if constexpr (I == 1) {
      return x;
    } else {
      return std::get<I - 2>(body_).output();
    }
  }

  template <std::size_t I>
  void forward_body(ConstMatrixView<S> x, Mode mode, const Timeline& time) {
    if constexpr (I <= count) {
      detail::forward_layer(std::get<I - 1>(body_), inner_input<I>(x), mode, time);
      forward_body<I + 1>(x, mode, time);
    }
  }

  // Gradients travel back through two ping-pong buffers; inner layer 1 writes dx.
  template <std::size_t I, class Updates>
  void backward_body(ConstMatrixView<S> x, ConstMatrixView<S> dy, MatrixView<S>* dx,
                     const Updates& updates) {
    auto& current = std::get<I - 1>(body_);
    const ConstMatrixView<S> input = inner_input<I>(x);
    if constexpr (I == 1) {
      detail::layer_backward(current, input, dy, dx, updates);
    } else {
      MatrixView<S> d_input = gradients_[I % 2].reshape(input.rows(), input.cols());
      detail::layer_backward(current, input, dy, &d_input, updates);
      backward_body<I - 1>(x, ConstMatrixView<S>(d_input.data(), d_input.rows(), d_input.cols()),
                           dx, updates);
    }
  }

  template <class Self>
  static auto all_parameters(Self& self) {
    auto body = std::apply(
        [](auto&... layers) { return detail::join_arrays(layers.parameters()...); }, self.body_);
    if constexpr (identity_shortcut) {
      return body;
    } else {
      return detail::join_arrays(body, self.projection_.parameters());
    }
  }

  Body body_;
  [[no_unique_address]] Projection projection_;
  Buffer<S> output_;
  std::array<Buffer<S>, 2> gradients_;
};

template <class... Specs>
struct Residual {
  static_assert(sizeof...(Specs) > 0, "uinfo::Residual needs at least one inner layer");
  template <class S, Shape In>
  using shaped_layer = ResidualLayer<S, In, Specs...>;
};

}  // namespace uinfo
