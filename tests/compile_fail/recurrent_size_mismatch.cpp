// A recurrent layer declares 3 inputs per step but the input has 4: must not compile, and the
// error must name the layer index and both sizes.
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr uinfo::Index declared_input = 3;
#else
constexpr uinfo::Index declared_input = 4;
#endif

int main() {
  using Net = uinfo::Sequential<float, uinfo::Input<4>,
                                uinfo::LeakyRnn<100, uinfo::Relu, declared_input>, uinfo::Dense<2>>;
  Net net{uinfo::Rng{1}};
  return static_cast<int>(net.parameter_count() == 0);
}
