// The image experiments' runs (examples/common/fashion_runs.hpp, image_probe.hpp): the perturbation
// schedule, a new classifier between phases, what the probes read of convolutional layers, and the
// model table's refusals.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "common/fashion_runs.hpp"

using namespace uinfo;
using Catch::Contains;

namespace {

using Image = ImageInput<1, 28, 28>;
using Mlp = fashion::Mlp<Image>;

// 200 training and 2 x 50 probe images of noise, labels cycling over 10 classes, grouped as
// Fashion-MNIST's garment kinds.
fashion::Data noise_data() {
  fashion::Data data;
  data.shape = Image::shape;
  data.fine_classes = 10;
  data.coarse_classes = 3;
  Engine engine = Rng{4}.engine(Stream::user);
  const auto images = [&](Index count) {
    Matrix<float> x(784, count);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.uniform<float>();
    return x;
  };
  const auto fine = [](Index count) {
    std::vector<Label> labels(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<Label>(i % 10);
    return labels;
  };
  const auto& grouping = fashion_mnist_garment_kind();
  data.train_x = images(200);
  data.train_fine = fine(200);
  data.train_coarse = coarse_labels(data.train_fine, grouping);
  data.probe_train_x = images(50);
  data.probe_test_x = images(50);
  data.fine_train = data.fine_test = fine(50);
  data.coarse_train = data.coarse_test = coarse_labels(data.fine_train, grouping);
  data.held_out = {data.probe_test_x, data.coarse_test};
  data.held_out_fine = {data.probe_test_x, data.fine_test};
  return data;
}

const fashion::RunSettings settings{.width = 8,
                                    .regime = {.lr = 0.05, .batch = 32},
                                    .augment = false,
                                    .decoders = {DecoderFamily::linear},
                                    .decoder_l2 = 1e-3,
                                    .reading = {}};

}  // namespace

TEST_CASE("a perturbed run trains K epochs of the perturbation, then the coarse task",
          "[examples][perturb]") {
  using fashion::Labels;
  const auto fine = fashion::perturbation_phases("fine_first", 2, 3);
  REQUIRE(fine.size() == 2);
  CHECK((fine[0].epochs == 2 && fine[0].labels == Labels::fine && !fine[0].blurred));
  CHECK((fine[1].epochs == 3 && fine[1].labels == Labels::coarse && !fine[1].blurred));
  const auto blur = fashion::perturbation_phases("blur", 5, 3);
  REQUIRE(blur.size() == 2);
  CHECK((blur[0].epochs == 5 && blur[0].labels == Labels::coarse && blur[0].blurred));
  CHECK((blur[1].epochs == 3 && !blur[1].blurred));
  for (const auto& none : {fashion::perturbation_phases("none", 0, 3),
                           fashion::perturbation_phases("fine_first", 0, 3)}) {
    REQUIRE(none.size() == 1);
    CHECK((none[0].epochs == 3 && none[0].labels == Labels::coarse && !none[0].blurred));
  }
}

TEST_CASE("a run probes every epoch of every phase and the network's own task",
          "[examples][perturb]") {
  fashion::Data data = noise_data();
  const auto phases = fashion::perturbation_phases("fine_first", 2, 1);
  probing::Timing timing;
  const auto rows = fashion::train_and_probe<Mlp>(
      settings, data, 3, phases, {}, [] {}, timing);
  std::set<double> epochs;
  std::set<int> layers;
  for (const auto& m : rows) {
    epochs.insert(m.epoch);
    layers.insert(m.layer);
    // On the fine task the network answers 10 classes, on the coarse one 3: held-out accuracy of
    // an untrained guess is about 1/10 against about 1/3.
    if (m.epoch == 0) CHECK(m.task_accuracy < 0.3);
  }
  CHECK(epochs == std::set<double>{0, 1, 2, 3});
  CHECK(layers == std::set<int>{1, 2, 3});
  CHECK(rows.size() == 4 * 3 * 2);  // probe times x layers x labels
  CHECK(timing.total_seconds > 0);

  SECTION("a blurred phase needs the blurred images") {
    const auto blurred = fashion::perturbation_phases("blur", 1, 1);
    CHECK_THROWS_WITH(fashion::train_and_probe<Mlp>(
                          settings, data, 3, blurred, {}, [] {}, timing),
                      Contains("blur_training_images"));
    fashion::blur_training_images(data);
    CHECK(fashion::train_and_probe<Mlp>(
              settings, data, 3, blurred, {}, [] {}, timing)
              .size() == 3 * 3 * 2);
  }
}

TEST_CASE("a new classifier keeps every other parameter and starts as a fresh network's",
          "[examples][perturb]") {
  const Mlp::Net fine = Mlp::make(8, 10, 5);
  const Mlp::Net coarse = fashion::with_new_classifier<Mlp>(fine, 8, 3, 5);
  const Mlp::Net fresh = Mlp::make(8, 3, 5);
  std::vector<const Parameter<float>*> a, b, c;
  fine.for_each_parameter([&](const Parameter<float>& p) { a.push_back(&p); });
  coarse.for_each_parameter([&](const Parameter<float>& p) { b.push_back(&p); });
  fresh.for_each_parameter([&](const Parameter<float>& p) { c.push_back(&p); });
  REQUIRE(b.size() == a.size());
  for (std::size_t i = 0; i + 2 < a.size(); ++i) CHECK(b[i]->value == a[i]->value);
  CHECK(b[b.size() - 2]->value.rows() == 3);
  CHECK(b[b.size() - 2]->value == c[c.size() - 2]->value);
  CHECK(b.back()->value == c.back()->value);
}

TEST_CASE("probes read a convolutional layer's channel means, or its map where it is small",
          "[examples][probe]") {
  using Net = Sequential<float, ImageInput<2, 6, 6>, Conv2d<4, 3, 1, 1>, Relu, MaxPool2d<2>,
                         Flatten, Dense<3>>;
  Net net{Rng{1}};
  Engine engine = Rng{2}.engine(Stream::user);
  Matrix<float> x(72, 1203);  // more than two chunks of 500
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = engine.normal<float>();
  const Matrix<float> relu = [&] {
    net.forward(x);
    return Matrix<float>(net.output<2>());
  }();
  const Matrix<float> flat = net.output<4>();

  fashion::ProbedOutputs<Net, 2, 4> means(net, {});
  means.forward(x);
  REQUIRE(means.output<2>().rows() == 4);
  for (const Index j : {Index{0}, Index{777}, Index{1202}}) {
    const Eigen::Map<const Matrix<float>> image(relu.col(j).data(), 4, 36);
    CHECK((Matrix<float>(means.output<2>().col(j)) - image.rowwise().mean()).cwiseAbs().maxCoeff() <
          1e-6f);
  }
  CHECK(Matrix<float>(means.output<4>()) == flat);  // a flat layer is read as it is

  fashion::ProbedOutputs<Net, 2, 4> map(net, {.features = fashion::ProbeFeatures::map});
  map.forward(x);
  CHECK(Matrix<float>(map.output<2>()) == relu);
  fashion::ProbedOutputs<Net, 2, 4> limited(
      net, {.features = fashion::ProbeFeatures::map, .map_limit = 100});
  limited.forward(x);
  CHECK(limited.output<2>().rows() == 4);  // 144 values: above the limit, so averaged
}

TEST_CASE("the model table names what it has when asked for what it does not", "[examples]") {
  const auto name_of = []<class Model>() { return std::string(Model::name); };
  CHECK(fashion::with_model("resnet8", 2, Shape{3, 32, 32}, name_of) == "resnet8");
  CHECK(fashion::with_model("mlp", 1, Shape{1, 28, 28}, name_of) == "mlp");
  CHECK_THROWS_WITH(fashion::with_model("resnet8", 1, Shape{3, 64, 64}, name_of),
                    Contains("no model 'resnet8' widened 1x for 3x64x64 images") &&
                        Contains("on 1x28x28 or 3x32x32 images"));
  CHECK_THROWS_WITH(fashion::with_model("mlp", 2, Shape{1, 28, 28}, name_of),
                    Contains("mlp 1x only"));
  // A network built for Fashion-MNIST refuses CIFAR's images, saying what it expects.
  using Fashion = fashion::ResNet8<Image, 1>::Net;
  Fashion net = fashion::ResNet8<Image, 1>::make(0, 10, 1);
  CHECK_THROWS_WITH(net.forward(Matrix<float>::Zero(3072, 2)), Contains("ImageInput<1,28,28>") &&
                                                                   Contains("3072 rows") &&
                                                                   Contains("expected 784"));
}
