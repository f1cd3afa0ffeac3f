// A 5x5 kernel on a 4x4 image inside a residual block must not compile; the error names the
// window (input height and width, kernel, stride, padding) and, in the instantiation it comes
// from, the block and the inner layer's index (1).
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr uinfo::Index kernel = 5;
#else
constexpr uinfo::Index kernel = 3;
#endif

int main() {
  using Net = uinfo::Sequential<float, uinfo::ImageInput<2, 4, 4>,
                                uinfo::Residual<uinfo::Conv2d<2, kernel>, uinfo::Relu>,
                                uinfo::GlobalAvgPool, uinfo::Dense<2>>;
  Net net{uinfo::Rng{1}};
  return static_cast<int>(net.parameter_count() == 0);
}
