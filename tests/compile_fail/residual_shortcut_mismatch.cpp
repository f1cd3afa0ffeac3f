// A residual body that turns a 5x5 image into 4x4 cannot be matched by a strided 1x1 projection
// of its input: must not compile, and the error must name the input's and the body's shapes.
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr uinfo::Index kernel = 2;
#else
constexpr uinfo::Index kernel = 3;
#endif

int main() {
  using Net = uinfo::Sequential<float, uinfo::ImageInput<3, 5, 5>,
                                uinfo::Residual<uinfo::Conv2d<4, kernel, 1, 0>, uinfo::Relu>,
                                uinfo::GlobalAvgPool, uinfo::Dense<2>>;
  Net net{uinfo::Rng{1}};
  return static_cast<int>(net.parameter_count() == 0);
}
