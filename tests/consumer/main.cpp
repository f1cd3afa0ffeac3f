// Trains a tiny network through the installed headers; exits 0 when it learned XOR.
#include <uinfo/uinfo.hpp>

#include <cstdio>

int main() {
  using namespace uinfo;
  Engine engine = Rng{1}.engine(Stream::data);
  const auto data = make_xor<float>(512, 0.1, engine);
  Sequential<float, Input<2>, Dense<16>, Tanh, Dense<2>> net{Rng{1}};
  Sgd sgd{{.lr = 0.1, .momentum = 0.9}};
  fit(net, sgd, SoftmaxCrossEntropy{}, data, {.epochs = 20, .batch_size = 16});
  const double accuracy = evaluate(net, SoftmaxCrossEntropy{}, data).accuracy;
  std::printf("consumer: XOR accuracy %.3f with uinfo %s\n", accuracy, UINFO_VERSION_STRING);
  return accuracy > 0.95 ? 0 : 1;
}
