// Inner layer 2 of a residual block declares 10 inputs but inner layer 1 produces 8: must not
// compile, and the error must name the block, the inner layer's index and both sizes.
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr uinfo::Index declared_input = 10;
#else
constexpr uinfo::Index declared_input = 8;
#endif

int main() {
  using Net = uinfo::Sequential<float, uinfo::Input<8>,
                                uinfo::Residual<uinfo::Dense<8>, uinfo::Dense<8, declared_input>>,
                                uinfo::Dense<2>>;
  Net net{uinfo::Rng{1}};
  return static_cast<int>(net.parameter_count() == 0);
}
