// What a layer is, stated once.
//
// A layer is written in two parts. The *spec* is what users list in a Sequential (`Dense<64>`,
// `Relu`): it knows neither the scalar type nor its input size. Sequential binds each spec to a
// concrete *layer* type through `Spec::template layer<Scalar, InputSize>`.
#pragma once

#include <concepts>
#include <cstddef>
#include <ranges>
#include <string>

#include "uinfo/core/parameter.hpp"
#include "uinfo/core/rng.hpp"
#include "uinfo/core/tensor.hpp"

namespace uinfo {

// A spec's input size when it is taken from the previous layer.
inline constexpr Index inferred = -1;

template <class Spec>
concept LayerSpec = requires {
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
// after a forward pass. `backward` receives the layer's input and the gradient of the loss with
// respect to its output; it writes the parameter gradients and, when `input_gradient` is not
// null, the gradient with respect to its input.
template <class L>
concept Layer = Scalar<typename L::scalar_type> &&
    std::constructible_from<L, const Rng&, std::size_t> &&  // (seed, layer index)
    requires(L& layer, const L& const_layer, ConstMatrixView<typename L::scalar_type> x,
             MatrixView<typename L::scalar_type>* input_gradient, Mode mode) {
  { L::in_size } -> std::convertible_to<Index>;
  { L::out_size } -> std::convertible_to<Index>;
  { L::name() } -> std::convertible_to<std::string>;
  layer.forward(x, mode);
  { const_layer.output() } -> std::same_as<ConstMatrixView<typename L::scalar_type>>;
  layer.backward(x, x, input_gradient);
  { *layer.parameters().begin() } -> std::same_as<Parameter<typename L::scalar_type>*&>;
  { *const_layer.parameters().begin() } -> std::same_as<const Parameter<typename L::scalar_type>*&>;
};

}  // namespace uinfo
