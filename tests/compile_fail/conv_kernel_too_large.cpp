// A 5x5 kernel on a 4x4 image without padding must not compile, and the error must name the
// input's height and width, the kernel, the stride and the padding.
#include <uinfo/uinfo.hpp>

#ifdef UINFO_FAILTEST
constexpr uinfo::Index kernel = 5;
#else
constexpr uinfo::Index kernel = 3;
#endif

int main() {
  using Net = uinfo::Sequential<float, uinfo::ImageInput<2, 4, 4>, uinfo::Conv2d<3, kernel>,
                                uinfo::Flatten, uinfo::Dense<2>>;
  Net net{uinfo::Rng{1}};
  return static_cast<int>(net.parameter_count() == 0);
}
