// Reading layer 7 of a 5-layer network (layers 0..4) must not compile, and the error must name
// the requested index and the layer count.
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr std::size_t probed_layer = 7;
#else
constexpr std::size_t probed_layer = 4;
#endif

int main() {
  using Net = uinfo::Sequential<float, uinfo::Input<2>, uinfo::Dense<4>, uinfo::Relu,
                                uinfo::Dense<2>, uinfo::Tanh>;
  Net net{uinfo::Rng{1}};
  net.forward(uinfo::Matrix<float>::Ones(2, 3));
  return static_cast<int>(net.output<probed_layer>().cols() != 3);
}
