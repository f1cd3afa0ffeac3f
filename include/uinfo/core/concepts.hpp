// What a layer is, stated once.
//
// A layer is written in two parts. The *spec* is what users list in a Sequential (`Dense<64>`,
// `Relu`): it knows neither the scalar type nor its input size. Sequential binds each spec to a
// concrete *layer* type through `Spec::template shaped_layer<Scalar, InputShape>` if the spec
// needs the previous layer's image shape (convolutions, pooling, and the layers that keep a
// shape, such as activations), and otherwise through `Spec::template layer<Scalar, InputSize>`
// with the flat size.
#pragma once

#include <concepts>
#include <cstddef>
#include <ranges>
#include <string>

#include "uinfo/core/error.hpp"
#include "uinfo/core/parameter.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/shape.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

// A spec's input size when it is taken from the previous layer.
inline constexpr Index inferred = -1;

// A size given when the network is constructed rather than at compile time, for networks whose
// shape comes from data (a decoder for features read from a file): Input<dynamic>, Dense<dynamic>.
inline constexpr Index dynamic = 0;

// Whether a spec takes one of the network's run-time sizes (Input<dynamic>, Dense<dynamic>).
template <class Spec>
constexpr bool sized_at_run_time() {
  if constexpr (requires { Spec::sized_at_run_time; }) {
    return Spec::sized_at_run_time;
  } else {
    return false;
  }
}

// Throws unless a layer's run-time size is positive.
inline Index require_positive_size(Index size, const char* layer) {
  if (size <= 0) {
    throw InvalidArgument(std::string("uinfo: ") + layer + " needs a positive size, got " +
                          std::to_string(size) + " (a dynamic size must be given at construction)");
  }
  return size;
}

template <class Spec>
concept ShapedLayerSpec = requires {
  typename Spec::template shaped_layer<float, Shape{1, 1, 1}>;
};

template <class Spec>
concept LayerSpec = ShapedLayerSpec<Spec> || requires {
  typename Spec::template layer<float, 1>;
};

// The input size a spec declares, or `inferred`.
template <class Spec>
constexpr Index declared_input_size() {
  if constexpr (requires { Spec::declared_input_size; }) {
    return Spec::declared_input_size;
  } else {
    return inferred;
  }
}

// A bound layer: owns its parameters and its output buffer, so any layer's output can be read
// after a forward pass. It is constructed from (seed, layer index, input size, output size); the
// sizes are the run-time ones, equal to `in_size` and `out_size` unless those are `dynamic`.
// `backward` receives the layer's input and the gradient of the loss with respect to its output;
// it writes the parameter gradients and, when `input_gradient` is not null, the gradient with
// respect to its input. `name()` describes the layer with its run-time sizes.
template <class L>
concept Layer = Scalar<typename L::scalar_type> &&
    std::constructible_from<L, const Rng&, std::size_t, Index, Index> &&
    requires(L& layer, const L& const_layer, ConstMatrixView<typename L::scalar_type> x,
             MatrixView<typename L::scalar_type>* input_gradient, Mode mode) {
  { L::in_size } -> std::convertible_to<Index>;
  { L::out_size } -> std::convertible_to<Index>;
  { const_layer.name() } -> std::convertible_to<std::string>;
  layer.forward(x, mode);
  { const_layer.output() } -> std::same_as<ConstMatrixView<typename L::scalar_type>>;
  layer.backward(x, x, input_gradient);
  { *layer.parameters().begin() } -> std::same_as<Parameter<typename L::scalar_type>*&>;
  { *const_layer.parameters().begin() } -> std::same_as<const Parameter<typename L::scalar_type>*&>;
};

// A bound layer's output shape: its `static constexpr Shape out_shape` if it has one (image
// layers, and the layers that keep their input's shape), else out_size flat features.
template <class L>
constexpr Shape output_shape() {
  if constexpr (requires { L::out_shape; }) {
    static_assert(L::out_shape.size() == L::out_size,
                  "uinfo: a layer's out_shape must hold out_size features");
    return L::out_shape;
  } else {
    return flat_shape(L::out_size);
  }
}

}  // namespace uinfo
