// Layer 2 declares 10 inputs but layer 1 produces 64: must not compile, and the error must
// name the layer index and both sizes.
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr uinfo::Index declared_input = 10;
#else
constexpr uinfo::Index declared_input = 64;
#endif

int main() {
  using Net =
      uinfo::Sequential<float, uinfo::Input<4>, uinfo::Dense<64>, uinfo::Dense<3, declared_input>>;
  Net net{uinfo::Rng{1}};
  return static_cast<int>(net.parameter_count() == 0);
}
