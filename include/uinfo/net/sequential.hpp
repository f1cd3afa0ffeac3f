// Sequential<Scalar, Specs...>: a network as a type, a flat list of layers read from input to
// output. Layer 0 is the Input; layer K's output can be read after any forward pass.
//
//   using Net = Sequential<float, Input<4>, Dense<64>, Relu, Dense<2>, Tanh, Dense<2>>;
//   Net net{Rng{seed}};
//   net.forward(x);              // x: 4 x batch
//   auto z = net.output<4>();    // the 2-unit tanh bottleneck, 2 x batch
//
// Sizes written as `dynamic` are given to the constructor, in order, e.g. a decoder for features
// whose number is read from a file:
//   Sequential<float, Input<dynamic>, Dense<dynamic>> decoder{Rng{seed}, {features, classes}};
//
// An image network starts with ImageInput<Channels, Height, Width>; every column of its batches
// is one image in HWC order (core/shape.hpp), and each layer is bound to its input's shape:
//   Sequential<float, ImageInput<1, 28, 28>, Conv2d<8, 3, 1, 1>, Relu, MaxPool2d<2>, Flatten,
//              Dense<10>>
//
// A batch of sequences runs with its Timeline (core/timeline.hpp): columns are time-major, so
// layers that act per column (a Dense readout) act at every step, and recurrent layers step
// through time:
//   Sequential<float, Input<4>, LeakyRnn<300>, Dense<2>> net{Rng{seed}};
//   net.forward(x, {.steps = 280, .trials = 20});   // x: 4 x (280 * 20)
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "uinfo/core/buffer.hpp"
#include "uinfo/core/concepts.hpp"
#include "uinfo/core/error.hpp"
#include "uinfo/core/timeline.hpp"
#include "uinfo/layers/input.hpp"

namespace uinfo {

// Whether backward also computes the gradient with respect to the network's input. Training does
// not need it, and skipping it saves the first layer's largest product.
enum class InputGradient { compute, skip };

namespace detail {

template <class T>
struct is_input : std::false_type {};
template <Index N>
struct is_input<Input<N>> : std::true_type {};
template <Index Channels, Index Height, Index Width>
struct is_input<ImageInput<Channels, Height, Width>> : std::true_type {};

// A failed check names its values in this type's template arguments, which the compiler prints:
// layer_input_check<layer index, declared input size, previous layer's output size>.
template <std::size_t LayerIndex, Index DeclaredInput, Index PreviousOutput>
struct layer_input_check {
  // A dynamic previous size is checked when the network is constructed.
  static_assert(DeclaredInput == inferred || PreviousOutput == dynamic ||
                    DeclaredInput == PreviousOutput,
                "uinfo::Sequential: a layer's declared input size differs from the previous "
                "layer's output size; see layer_input_check<layer index, declared input size, "
                "previous layer's output size> in the instantiation above");
  static constexpr bool ok = true;
};

// layer_index_check<requested layer index, number of layers>.
template <std::size_t RequestedIndex, std::size_t LayerCount>
struct layer_index_check {
  static_assert(RequestedIndex < LayerCount,
                "uinfo::Sequential: layer index out of range (layers count from 0, the Input); "
                "see layer_index_check<requested index, number of layers> in the instantiation "
                "above");
  static constexpr bool ok = true;
};

// Where a layer is listed, for the messages of its checks: a network (Sequential), or a block
// inside one (see Residual), whose layers count from 1 after the block's input.
struct in_network {
  template <std::size_t LayerIndex, Index DeclaredInput, Index PreviousOutput>
  using input_check = layer_input_check<LayerIndex, DeclaredInput, PreviousOutput>;
};

// The layer a spec names after a layer of the given output shape: a shape-aware spec is bound to
// the shape, any other to the flat size (so Dense after an image layer sees C * H * W inputs).
template <class Spec, class S, Shape In>
struct bind_spec {
  using type = typename Spec::template layer<S, In.size()>;
};
template <ShapedLayerSpec Spec, class S, Shape In>
struct bind_spec<Spec, S, In> {
  using type = typename Spec::template shaped_layer<S, In>;
};

// The tuple of layers that Specs (layers K, K + 1, ... of the list `Where`) bind to, from an input
// of shape In.
template <class S, Shape In, std::size_t K, class Where, class... Specs>
struct bind_layers {
  using type = std::tuple<>;
};

template <class S, Shape In, std::size_t K, class Where, class Spec, class... Rest>
struct bind_layers<S, In, K, Where, Spec, Rest...> {
  static_assert(LayerSpec<Spec>,
                "uinfo::Sequential: a template argument is not a layer spec (it has no member "
                "template `layer<Scalar, InputSize>` or `shaped_layer<Scalar, InputShape>`)");
  static_assert(Where::template input_check<K, declared_input_size<Spec>(), In.size()>::ok);
  using layer = typename bind_spec<Spec, S, In>::type;
  static_assert(Layer<layer>, "uinfo::Sequential: the bound layer does not satisfy uinfo::Layer");
  using type = decltype(std::tuple_cat(
      std::declval<std::tuple<layer>>(),
      std::declval<typename bind_layers<S, output_shape<layer>(), K + 1, Where, Rest...>::type>()));
};

// How a list of layers calls each of its layers, shared by Sequential and the blocks inside it.

// A layer that takes a timeline (a recurrent layer) gets it; the others see columns.
template <class L>
void forward_layer(L& layer, ConstMatrixView<typename L::scalar_type> x, Mode mode,
                   const Timeline& time) {
  if constexpr (requires { layer.forward(x, mode, time); }) {
    layer.forward(x, mode, time);
  } else {
    layer.forward(x, mode);
  }
}

// A layer that changes the timeline (LastStep) says how; the others keep it.
template <class L>
Timeline output_timeline(const L& layer, const Timeline& time) {
  if constexpr (requires { layer.output_timeline(time); }) {
    return layer.output_timeline(time);
  } else {
    return time;
  }
}

// What a layer adds to the loss from its last passes (0 for most layers).
template <class L>
double layer_penalty(const L& layer) {
  if constexpr (requires { layer.penalty(); }) {
    return layer.penalty();
  } else {
    return 0;
  }
}

// What backward() passes for updates: none, only gradients.
struct NoUpdates {};

// One layer's backward pass, then its parameters' updates when fused: from inside the pass if
// the layer takes them, else from the gradients it wrote.
template <class L, class Updates>
void layer_backward(L& layer, ConstMatrixView<typename L::scalar_type> x,
                    ConstMatrixView<typename L::scalar_type> dy,
                    MatrixView<typename L::scalar_type>* dx, const Updates& updates) {
  if constexpr (std::is_same_v<Updates, NoUpdates>) {
    layer.backward(x, dy, dx);
  } else if constexpr (requires { layer.backward(x, dy, dx, updates); }) {
    layer.backward(x, dy, dx, updates);
  } else {
    layer.backward(x, dy, dx);
    for (auto* parameter : layer.parameters()) updates(*parameter);
  }
}

}  // namespace detail

template <Scalar S, class First, class... Rest>
class Sequential {
  static_assert(detail::is_input<First>::value,
                "uinfo::Sequential: the first layer must be uinfo::Input<N> or "
                "uinfo::ImageInput<Channels, Height, Width>, which fixes the input's shape");

 public:
  using scalar_type = S;
  using specs_type = std::tuple<First, Rest...>;
  using layers_type =
      typename detail::bind_layers<S, First::shape, 0, detail::in_network, First, Rest...>::type;
  static constexpr std::size_t depth = 1 + sizeof...(Rest);  // layers, counting the Input
  template <std::size_t K>
  using layer_type = std::tuple_element_t<K, layers_type>;
  // Layer K's output shape: channels x height x width, or {size, 1, 1} for flat features.
  template <std::size_t K>
  static constexpr Shape layer_shape = output_shape<layer_type<K>>();
  // Compile-time sizes; `dynamic` where given at construction (see layer_size()).
  static constexpr Index input_size = First::size;
  static constexpr Index output_size = layer_type<depth - 1>::out_size;
  // How many sizes the constructor takes: one per Input<dynamic> or Dense<dynamic>.
  static constexpr std::size_t runtime_size_count =
      (sized_at_run_time<First>() + ... + sized_at_run_time<Rest>());
  using RuntimeSizes = std::array<Index, runtime_size_count>;

  // Layer K initialises from rng.engine(Stream::init, K) and drops out with Stream::dropout.
  explicit Sequential(const Rng& rng) requires(runtime_size_count == 0)
      : Sequential(rng, RuntimeSizes{}, 0) {}
  Sequential(const Rng& rng, const RuntimeSizes& sizes) requires(runtime_size_count > 0)
      : Sequential(rng, sizes, 0) {}

  // The number of outputs of layer k (k = 0: the input size), known at run time for every layer.
  Index layer_size(std::size_t k) const { return sizes_.at(k); }

  // Runs the network on a batch (input_size x batch); returns the last layer's output.
  ConstMatrixView<S> forward(ConstMatrixRef<S> x, Mode mode = Mode::eval) {
    input_time_.assign(Timeline::single_step(x.cols()));
    return run(x, mode);
  }

  // Runs the network on a batch of sequences (input_size x steps * trials, time-major; see
  // core/timeline.hpp). Layers that take a timeline (recurrent layers, LastStep) step through it;
  // the others act on every column at once.
  ConstMatrixView<S> forward(ConstMatrixRef<S> x, const Timeline& time, Mode mode = Mode::eval) {
    require_timeline(time, x.cols(), "uinfo::Sequential::forward");
    input_time_.assign(time);
    return run(x, mode);
  }

  // The timeline of layer K's output in the last forward pass: the input's, until a layer
  // collapses time (LastStep gives one step per trial).
  template <std::size_t K>
  Timeline timeline() const {
    static_assert(detail::layer_index_check<K, depth>::ok);
    Timeline time = input_time_.get();
    [&]<std::size_t... L>(std::index_sequence<L...>) {
      ((time = detail::output_timeline(std::get<L + 1>(layers_), time)), ...);
    }
    (std::make_index_sequence<(K < depth ? K : 0)>{});
    return time;
  }

  // Given d(loss)/d(output) for the last forward batch, fills every parameter's gradient and,
  // unless skipped, the input gradient.
  void backward(ConstMatrixRef<S> output_gradient, InputGradient input = InputGradient::compute) {
    backward(output_gradient, input, detail::NoUpdates{});
  }

  // backward() fused with an optimizer step: each layer's parameters are updated by `updates`
  // (an optimizer's Updates, see BlockUpdates in optim/common.hpp) as soon as the layer's
  // backward pass is done, while its gradients are still in cache; a layer that takes the
  // updates itself (Dense) feeds its weight gradient to them as it computes it, without storing
  // it. Every input gradient is computed before the weights it depends on change.
  template <class Updates>
  void backward(ConstMatrixRef<S> output_gradient, InputGradient input, const Updates& updates) {
    const Index batch = output().cols();  // fewer than the input's after LastStep
    const Index outputs = sizes_[depth - 1];
    if (output_gradient.rows() != outputs || output_gradient.cols() != batch) {
      throw InvalidArgument("uinfo::Sequential::backward: the output gradient is " +
                            std::to_string(output_gradient.rows()) + " x " +
                            std::to_string(output_gradient.cols()) + "; expected " +
                            std::to_string(outputs) + " x " + std::to_string(batch) +
                            " (outputs x columns of the last forward pass's output)");
    }
    has_input_gradient_ = input == InputGradient::compute;
    backward_from<depth - 1>(contiguous(output_gradient), updates);
  }

  // d(loss)/d(input) from the last backward pass, which must not have skipped it.
  ConstMatrixView<S> input_gradient() const {
    if (!has_input_gradient_) {
      throw InvalidArgument(
          "uinfo::Sequential::input_gradient: the last backward pass did not compute it "
          "(call backward with InputGradient::compute)");
    }
    return gradients_[1].view();  // where layer 1 writes its input gradient (K % 2 == 1)
  }

  template <std::size_t K>
  ConstMatrixView<S> output() const {
    static_assert(detail::layer_index_check<K, depth>::ok);
    return std::get<(K < depth ? K : 0)>(layers_).output();
  }
  ConstMatrixView<S> output() const { return output<depth - 1>(); }

  template <std::size_t K>
  auto& layer() {
    static_assert(detail::layer_index_check<K, depth>::ok);
    return std::get<(K < depth ? K : 0)>(layers_);
  }
  template <std::size_t K>
  const auto& layer() const {
    static_assert(detail::layer_index_check<K, depth>::ok);
    return std::get<(K < depth ? K : 0)>(layers_);
  }

  // Calls f(Parameter<S>&) for every parameter block, from the input side.
  template <class F>
  void for_each_parameter(F&& f) {
    std::apply([&](auto&... layers) { (visit_parameters(layers, f), ...); }, layers_);
  }
  template <class F>
  void for_each_parameter(F&& f) const {
    std::apply([&](const auto&... layers) { (visit_parameters(layers, f), ...); }, layers_);
  }

  // Calls f(Engine&) for every random engine a layer owns (a layer that has them lists them in
  // `engines()`, as Dropout does its mask stream), from the input side: what save() and
  // checkpoints keep beside the parameters so that training resumes bit for bit.
  template <class F>
  void for_each_engine(F&& f) {
    std::apply([&](auto&... layers) { (visit_engines(layers, f), ...); }, layers_);
  }
  // f(const Engine&); a layer need only define the non-const engines(), which changes nothing.
  template <class F>
  void for_each_engine(F&& f) const {
    const_cast<Sequential&>(*this).for_each_engine([&](const Engine& e) { f(e); });
  }

  // The number of trained values; statistics (BatchNorm's running mean and variance) are
  // visited by for_each_parameter and saved, but not counted here.
  Index parameter_count() const {
    Index count = 0;
    for_each_parameter([&](const Parameter<S>& p) { count += p.trainable() ? p.size() : 0; });
    return count;
  }

  // What the layers add to the loss from their last passes (a recurrent layer's rate penalty and
  // vanishing-gradient regulariser; see LeakyRnn): 0 for a network without such layers.
  double penalty() const {
    double sum = 0;
    std::apply([&](const auto&... layers) { ((sum += detail::layer_penalty(layers)), ...); },
               layers_);
    return sum;
  }

  // One line naming every layer with its sizes: what a saved file must match to be loaded.
  std::string architecture() const {
    std::string description = std::is_same_v<S, float> ? "float:" : "double:";
    std::apply([&](const auto&... layers) { ((description += " " + layers.name()), ...); },
               layers_);
    return description;
  }

 private:
  Sequential(const Rng& rng, const RuntimeSizes& runtime_sizes, int)
      : sizes_(layer_sizes(runtime_sizes)),
        layers_(make_layers(rng, std::make_index_sequence<depth>{})) {}

  template <std::size_t... K>
  layers_type make_layers(const Rng& rng, std::index_sequence<K...>) const {
    return layers_type{layer_type<K>(rng, K, sizes_[K ? K - 1 : 0], sizes_[K])...};
  }

  // Every layer's output size, from the compile-time sizes and the constructor's run-time ones.
  static std::array<Index, depth> layer_sizes(const RuntimeSizes& runtime_sizes) {
    std::array<Index, depth> sizes{};
    std::size_t next = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((sizes[K] = layer_output_size<K>(sizes[K ? K - 1 : 0], runtime_sizes, next)), ...);
    }
    (std::make_index_sequence<depth>{});
    return sizes;
  }

  // `input` is the previous layer's output size (unused for the Input itself).
  template <std::size_t K>
  static Index layer_output_size(Index input, const RuntimeSizes& runtime_sizes,
                                 std::size_t& next) {
    using Spec = std::tuple_element_t<K, specs_type>;
    constexpr Index declared = declared_input_size<Spec>();
    if (declared != inferred && declared != input) {
      throw InvalidArgument("uinfo::Sequential: layer " + std::to_string(K) + " declares " +
                            std::to_string(declared) + " inputs but layer " +
                            std::to_string(K - 1) + " has " + std::to_string(input) + " outputs");
    }
    if constexpr (sized_at_run_time<Spec>()) {
      const Index size = runtime_sizes[next++];
      if (size <= 0) {
        throw InvalidArgument("uinfo::Sequential: the run-time size of layer " + std::to_string(K) +
                              " is " + std::to_string(size) + "; expected a positive size");
      }
      return size;
    } else if constexpr (layer_type<K>::out_size != dynamic) {
      return layer_type<K>::out_size;
    } else {
      return input;  // a size-preserving layer after a dynamic one
    }
  }

  template <class L, class F>
  static void visit_parameters(L& layer, F& f) {
    for (auto* parameter : layer.parameters()) f(*parameter);
  }

  template <class L, class F>
  static void visit_engines(L& layer, F& f) {
    if constexpr (requires { layer.engines(); }) {
      for (auto* engine : layer.engines()) f(*engine);
    }
  }

  ConstMatrixView<S> run(ConstMatrixRef<S> x, Mode mode) {
    std::get<0>(layers_).forward(x, mode);
    forward_from<1>(mode, input_time_.get());
    return output();
  }

  template <std::size_t K>
  void forward_from(Mode mode, const Timeline& time) {
    if constexpr (K < depth) {
      auto& layer = std::get<K>(layers_);
      detail::forward_layer(layer, std::get<K - 1>(layers_).output(), mode, time);
      forward_from<K + 1>(mode, detail::output_timeline(layer, time));
    }
  }

  // Gradients travel back through two ping-pong buffers sized for the widest layer.
  template <std::size_t K, class Updates>
  void backward_from(ConstMatrixView<S> dy, const Updates& updates) {
    if constexpr (K > 0) {
      auto& current = std::get<K>(layers_);
      const auto x = std::get<K - 1>(layers_).output();
      if (K == 1 && !has_input_gradient_) {
        detail::layer_backward(current, x, dy, nullptr, updates);
        return;
      }
      MatrixView<S> dx = gradients_[K % 2].reshape(x.rows(), x.cols());
      detail::layer_backward(current, x, dy, &dx, updates);
      backward_from<K - 1>(ConstMatrixView<S>(dx.data(), dx.rows(), dx.cols()), updates);
    }
  }

  // A view of the caller's gradient, copied only if its columns are not contiguous.
  ConstMatrixView<S> contiguous(const ConstMatrixRef<S>& m) {
    if (m.outerStride() == m.rows()) return {m.data(), m.rows(), m.cols()};
    output_gradient_copy_.reshape(m.rows(), m.cols()) = m;
    return std::as_const(output_gradient_copy_).view();
  }

  std::array<Index, depth> sizes_;  // before layers_, which are built from it
  layers_type layers_;
  std::array<Buffer<S>, 2> gradients_;
  TimelineCopy input_time_;  // of the last forward pass
  Buffer<S> output_gradient_copy_;
  bool has_input_gradient_ = false;
};

}  // namespace uinfo
