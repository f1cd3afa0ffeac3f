// Fuzzes load() of saved networks, into a small MLP, a network with BatchNorm's statistics and
// Dropout's random stream, and the networks of the linear and MLP decoders, in float and double;
// and load_checkpoint() of fit()'s checkpoints, which embed a network.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "uinfo/uinfo.hpp"

namespace {

using namespace uinfo;

using Mlp = Sequential<float, Input<3>, Dense<4>, Relu, Dense<2>>;
using Normalised = Sequential<double, Input<3>, Dense<4>, BatchNorm, Tanh, Dropout<0.25>, Dense<2>>;

template <class Net>
void load_into(Net net, const std::filesystem::path& path) {
  fuzz::expect_clean([&] { load(net, path); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::InputFile file;
  const auto& path = file.write(data, size);
  const Rng rng{1};
  load_into(Mlp{rng}, path);
  load_into(Normalised{rng}, path);
  load_into(LinearDecoder<float>::Network{rng, {3, 2}}, path);
  load_into(MlpDecoder<double>::OneHidden{rng, {3, 4, 2}}, path);
  Normalised net{rng};
  Adam adam({.lr = 0.01});
  FitProgress progress;
  fuzz::expect_clean([&] { load_checkpoint(path, net, adam, progress); });
  return 0;
}
